package dev.bloodbank;

import dev.bloodbank.registry.EventRegistry;
import dev.bloodbank.validation.EventValidator;
import dev.bloodbank.validation.SchemaValidationException;
import dev.bloodbank.validation.ValidationMode;
import java.util.Map;

/**
 * The exceptions a publish can fail with, made as the publisher makes them, for unit tests outside
 * this package (their constructors are package-private).
 */
public final class PublishFailures {
  private PublishFailures() {}

  /** The broker nacked the event. */
  public static PublishException nacked() {
    return PublishException.newNacked("ex", "a.b", 1);
  }

  /** No confirm within the timeout. */
  public static PublishException timedOut() {
    return PublishException.newTimedOut("ex", "a.b", 1, 1000);
  }

  /** The connection went away before the confirm. */
  public static PublishException connectionLost() {
    return PublishException.newConnectionLost("ex", "a.b", 1, null);
  }

  /** The publisher was closed. */
  public static PublishException closed() {
    return PublishException.newClosed("ex", "a.b");
  }

  /** No queue was bound for a mandatory publish. */
  public static UnroutableEventException unroutable() {
    return new UnroutableEventException("ex", "a.b", 312, "NO_ROUTE");
  }

  /** Bigger than the publisher's limit. */
  public static EventTooLargeException tooLarge() {
    return new EventTooLargeException("a.b", 2048, 1024);
  }

  /** Refused by schema validation: an event type no catalog knows, in strict mode. */
  public static SchemaValidationException invalid() {
    try {
      EventValidator.create(EventRegistry.empty())
          .validate(EventEnvelope.builder("a.b", Map.of()).build(), ValidationMode.STRICT);
    } catch (SchemaValidationException e) {
      return e;
    }
    throw new AssertionError("strict validation let an unknown event type through");
  }
}
