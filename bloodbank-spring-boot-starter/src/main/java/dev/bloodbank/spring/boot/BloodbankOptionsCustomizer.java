package dev.bloodbank.spring.boot;

import dev.bloodbank.BloodbankOptions;

/**
 * Changes the {@link BloodbankOptions} the auto-configuration builds, after the environment
 * variables and the {@code bloodbank.*} properties are applied: for the settings a property cannot
 * carry, such as a {@link BloodbankOptions.Builder#callbackExecutor callback executor}, {@link
 * BloodbankOptions.Builder#sslContext an SSLContext} or {@link
 * BloodbankOptions.Builder#correlationTracker a tracker object}.
 *
 * <p>Declare one or more as beans; they run in {@link org.springframework.core.annotation.Order}
 * order. Called once, while the context starts, on the thread that creates the bus.
 *
 * @since 0.2.0
 */
@FunctionalInterface
public interface BloodbankOptionsCustomizer {
  /**
   * Changes the options.
   *
   * @param options the builder, holding what the environment and the properties set
   */
  void customize(BloodbankOptions.Builder options);
}
