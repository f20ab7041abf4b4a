package dev.bloodbank.spring.boot;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.core.annotation.AliasFor;

/**
 * Makes a bean method a Bloodbank subscriber, started once the application context is refreshed and
 * drained first when it closes.
 *
 * <p>The method takes one of:
 *
 * <ul>
 *   <li>the payload, e.g. {@code void on(TranscriptUpload upload)};
 *   <li>the envelope, e.g. {@code void on(EventEnvelope<TranscriptUpload> event)}; a raw or
 *       wildcard {@code EventEnvelope} gets the payload as a Jackson {@code JsonNode};
 *   <li>either of these followed by {@link dev.bloodbank.DeliveryInfo} (attempt number, redelivery
 *       flag).
 * </ul>
 *
 * Returning normally acknowledges the event. Anything the method throws fails the attempt: the
 * event is retried after the subscriber's backoff and dead-lettered once {@link #maxAttempts()} are
 * used up, exactly as with {@link dev.bloodbank.Bloodbank#subscribe}. A method with the wrong
 * parameters, or without patterns, fails the context's startup with a message naming the bean and
 * the method. Patterns and the queue name may hold {@code ${...}} placeholders.
 *
 * <pre>{@code
 * @BloodbankListener(patterns = "fireflies.transcript.*", maxAttempts = 5)
 * void onTranscript(EventEnvelope<TranscriptUpload> event) { ... }
 * }</pre>
 *
 * @since 0.2.0
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.ANNOTATION_TYPE})
public @interface BloodbankListener {
  /**
   * Routing-key patterns the queue is bound with ({@code *} one word, {@code #} any); alias of
   * {@link #patterns()}.
   *
   * @return the patterns
   */
  @AliasFor("patterns")
  String[] value() default {};

  /**
   * Routing-key patterns the queue is bound with ({@code *} one word, {@code #} any). Required.
   *
   * @return the patterns
   */
  @AliasFor("value")
  String[] patterns() default {};

  /**
   * Queue name. Default (empty): {@code <service>_<patterns>_queue}, see {@link
   * dev.bloodbank.SubscriberOptions#queueNameFor(String, String)}.
   *
   * @return the queue name, or empty for the default
   */
  String queue() default "";

  /**
   * Handler threads. Default (0): {@value dev.bloodbank.SubscriberOptions#DEFAULT_CONCURRENCY}.
   * Above 1, the method must be thread-safe.
   *
   * @return the concurrency, or 0 for the default
   */
  int concurrency() default 0;

  /**
   * Unacknowledged deliveries at once. Default (0): {@value
   * dev.bloodbank.SubscriberOptions#DEFAULT_PREFETCH}, raised to the concurrency when lower.
   *
   * @return the prefetch, or 0 for the default
   */
  int prefetch() default 0;

  /**
   * Attempts before an event is dead-lettered. Default (0): {@value
   * dev.bloodbank.SubscriberOptions#DEFAULT_MAX_ATTEMPTS}.
   *
   * @return the attempts, or 0 for the default
   */
  int maxAttempts() default 0;

  /**
   * Delays before each retry, the last one repeating, in Spring Boot's duration format ({@code
   * 500ms}, {@code 5s}, {@code PT1M}). Default (empty): 1 s, 5 s, 30 s.
   *
   * @return the delays, or empty for the default
   */
  String[] retryDelays() default {};

  /**
   * Whether the queue is temporary (exclusive, auto-deleted, server-named): for a listener that
   * only wants events while this instance runs. Default: false, a durable queue.
   *
   * @return true for a temporary queue
   */
  boolean temporary() default false;
}
