package dev.bloodbank.test;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.correlation.CorrelationGraph;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;
import org.assertj.core.api.AbstractAssert;
import org.assertj.core.api.ListAssert;

/**
 * AssertJ assertions on a {@link TestBus}. Each one that expects something to happen waits for it,
 * checking every 10 ms, at most the bus's {@link TestBus#timeout()} (or {@link #within(Duration)}),
 * then fails naming what it saw instead. Assertions that something did <em>not</em> happen check
 * the moment they are called: wait for something that comes after it first. Not thread-safe.
 */
public final class BusAssert extends AbstractAssert<BusAssert, TestBus> {
  private Duration timeout;

  BusAssert(TestBus bus) {
    super(bus, BusAssert.class);
    this.timeout = bus.timeout();
  }

  /**
   * Waits at most this long in the assertions that follow. Default: the bus's timeout.
   *
   * @param timeout positive
   * @return this
   */
  public BusAssert within(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, was " + timeout);
    }
    this.timeout = timeout;
    return this;
  }

  /**
   * Waits until at least one event of this type was published.
   *
   * @param eventType the exact event type
   * @return assertions on the events of that type published so far
   */
  public ListAssert<EventEnvelope<JsonNode>> published(String eventType) {
    return published(eventType, -1);
  }

  /**
   * Waits until {@code count} events of this type were published, and fails if there are more.
   *
   * @param eventType the exact event type
   * @param count how many
   * @return assertions on those events
   */
  public ListAssert<EventEnvelope<JsonNode>> published(String eventType, int count) {
    return awaitList(
        "published",
        eventType,
        count,
        () -> actual.published(eventType),
        () -> types(actual.published(), EventEnvelope::eventType));
  }

  /**
   * Waits until at least one event of this type was published, and reads the payloads as {@code
   * payloadType}.
   *
   * @param eventType the exact event type
   * @param payloadType the payload class
   * @param <T> the payload type
   * @return assertions on the typed events
   */
  public <T> ListAssert<EventEnvelope<T>> published(String eventType, Class<T> payloadType) {
    published(eventType, -1);
    return new ListAssert<>(actual.published(eventType, payloadType))
        .as("events '%s' published", eventType);
  }

  /**
   * Waits until a subscriber handled at least one event of this type successfully.
   *
   * @param eventType the exact event type
   * @return assertions on the events of that type handled so far
   */
  public ListAssert<EventEnvelope<JsonNode>> consumed(String eventType) {
    return consumed(eventType, -1);
  }

  /**
   * Waits until subscribers handled {@code count} events of this type successfully, and fails if
   * there are more (an event handled by two subscribers counts twice).
   *
   * @param eventType the exact event type
   * @param count how many
   * @return assertions on those events
   */
  public ListAssert<EventEnvelope<JsonNode>> consumed(String eventType, int count) {
    return awaitList(
        "consumed",
        eventType,
        count,
        () -> actual.consumed(eventType),
        () -> types(actual.consumed(), EventEnvelope::eventType));
  }

  /**
   * Waits until at least one message of this event type reached a dead-letter queue.
   *
   * @param eventType the exact event type
   * @return assertions on the dead letters of that type so far
   */
  public ListAssert<DeadLetter> deadLettered(String eventType) {
    return deadLettered(eventType, -1);
  }

  /**
   * Waits until {@code count} messages of this event type reached a dead-letter queue, and fails if
   * there are more.
   *
   * @param eventType the exact event type
   * @param count how many
   * @return assertions on those dead letters
   */
  public ListAssert<DeadLetter> deadLettered(String eventType, int count) {
    return awaitList(
        "dead-lettered",
        eventType,
        count,
        () -> actual.deadLettered(eventType),
        () -> types(actual.deadLettered(), DeadLetter::eventType));
  }

  /**
   * Checks that no event of this type has been published, now.
   *
   * @param eventType the exact event type
   * @return this
   */
  public BusAssert hasNotPublished(String eventType) {
    isNotNull();
    List<EventEnvelope<JsonNode>> found = actual.published(eventType);
    if (!found.isEmpty()) {
      failWithMessage(
          "expected no event '%s' to be published, but %d were: %s",
          eventType, found.size(), ids(found));
    }
    return this;
  }

  /**
   * Checks that no message has reached a dead-letter queue, now.
   *
   * @return this
   */
  public BusAssert hasNoDeadLetters() {
    isNotNull();
    List<DeadLetter> found = actual.deadLettered();
    if (!found.isEmpty()) {
      List<String> why = new ArrayList<>();
      for (DeadLetter d : found) {
        why.add(d.eventType() + " (" + d.reason() + ": " + d.errorMessage() + ")");
      }
      failWithMessage("expected no dead letters, but found %d: %s", found.size(), why);
    }
    return this;
  }

  /**
   * Waits until the causation tracker records {@code child} as a direct child of {@code parent}
   * (links are recorded once the child's publish is confirmed).
   *
   * @param parent the cause
   * @param child the effect
   * @return this
   */
  public BusAssert hasCausationLink(UUID parent, UUID child) {
    isNotNull();
    boolean ok =
        waitFor(
            () ->
                actual
                    .causation(parent)
                    .edges()
                    .contains(new CorrelationGraph.Edge(parent, child)));
    if (!ok) {
      failWithMessage(
          "expected %s to be caused by %s within %s, but the graph below %s has edges %s",
          child, parent, timeout, parent, actual.causation(parent).edges());
    }
    return this;
  }

  /**
   * Waits until {@code descendant} appears anywhere in the causation graph below {@code root}.
   *
   * @param root the first cause
   * @param descendant an event caused, directly or not, by it
   * @return this
   */
  public BusAssert hasDescendant(UUID root, UUID descendant) {
    isNotNull();
    boolean ok = waitFor(() -> actual.causation(root).nodes().contains(descendant));
    if (!ok) {
      failWithMessage(
          "expected %s below %s in the causation graph within %s, but found only %s",
          descendant, root, timeout, actual.causation(root).nodes());
    }
    return this;
  }

  // ---- plumbing ------------------------------------------------------------------------

  private <E> ListAssert<E> awaitList(
      String what,
      String eventType,
      int count,
      Supplier<List<E>> read,
      Supplier<Set<String>> seen) {
    isNotNull();
    Objects.requireNonNull(eventType, "eventType");
    int atLeast = count < 0 ? 1 : count;
    boolean ok = waitFor(() -> read.get().size() >= atLeast);
    List<E> found = read.get();
    if (!ok) {
      failWithMessage(
          "expected %s event '%s' to be %s within %s, but found %d; event types %s so far: %s",
          count < 0 ? "an" : count + " x",
          eventType,
          what,
          timeout,
          found.size(),
          what,
          seen.get());
    }
    if (count >= 0 && found.size() != count) {
      failWithMessage(
          "expected %d event(s) '%s' to be %s, but found %d", count, eventType, what, found.size());
    }
    return new ListAssert<>(found).as("events '%s' %s", eventType, what);
  }

  private boolean waitFor(Supplier<Boolean> condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.get()) {
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return condition.get();
      }
    }
    return true;
  }

  private static <E> Set<String> types(List<E> items, Function<E, String> type) {
    Set<String> out = new LinkedHashSet<>();
    for (E e : items) {
      out.add(type.apply(e));
    }
    return out;
  }

  private static List<UUID> ids(List<EventEnvelope<JsonNode>> events) {
    List<UUID> out = new ArrayList<>();
    for (EventEnvelope<JsonNode> e : events) {
      out.add(e.eventId());
    }
    return out;
  }
}
