package dev.bloodbank;

import org.jspecify.annotations.Nullable;

/**
 * Hooks the publisher calls around each event: validation before, causation tracking after.
 *
 * <p>Internal; used by {@link Bloodbank} to plug in the validator and the correlation recorder.
 */
interface EventInterceptor {
  /**
   * Called before encoding; throwing stops the publish and fails its future.
   *
   * @return the envelope to encode: the same event, possibly with its payload already turned into
   *     the JSON tree that was validated, so it is not serialized twice
   */
  EventEnvelope<?> beforeSend(EventEnvelope<?> envelope);

  /** Called once the outcome is known; must not block or throw. */
  void afterSend(EventEnvelope<?> envelope, @Nullable Throwable failure);
}
