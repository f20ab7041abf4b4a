package dev.bloodbank.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.AgentContext;
import dev.bloodbank.AgentType;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Publisher;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.Source;
import dev.bloodbank.TriggerType;
import dev.bloodbank.validation.ValidationMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Publishes the prompts and responses of one {@code bb wrap} session as {@code agent.thread.prompt}
 * and {@code agent.thread.response}, without ever waiting on the broker: failures are counted and
 * reported once, by {@link #close}.
 *
 * <p>Called on the transcript thread only; not thread-safe otherwise.
 */
final class WrapEvents implements Transcript.Listener, AutoCloseable {
  /** How long {@link #close} waits for outstanding confirms. */
  static final Duration DRAIN = Duration.ofSeconds(10);

  private final Bb bb;
  private final UUID session = UUID.randomUUID();
  private final String provider;
  private final @Nullable String model;
  private final @Nullable String project;
  private final String workingDir;
  private final AgentContext agent;

  private @Nullable Bloodbank bus;
  private @Nullable Publisher publisher;
  private @Nullable String connectError;
  private boolean connected;
  private @Nullable UUID promptId;
  private long promptNanos;
  private final List<CompletableFuture<?>> pending = new ArrayList<>();
  private final AtomicInteger failed = new AtomicInteger();
  private volatile @Nullable String firstFailure;
  private int total;

  WrapEvents(
      Bb bb, String provider, @Nullable String model, @Nullable String project, String workingDir) {
    this.bb = bb;
    this.provider = provider;
    this.model = model;
    this.project = project;
    this.workingDir = workingDir;
    this.agent =
        AgentContext.builder(AgentType.of(provider)).withInstanceId(session.toString()).build();
  }

  UUID session() {
    return session;
  }

  /** Connects once; a failure is remembered and every event then counts as not published. */
  void connect() {
    if (connected) {
      return;
    }
    connected = true;
    try {
      bus = bb.connect(ValidationMode.STRICT);
      publisher = bus.publisher(PublisherOptions.builder().build());
    } catch (RuntimeException e) {
      connectError = String.valueOf(e.getMessage());
    }
  }

  @Override
  public void prompt(String text) {
    ObjectNode p = bb.codec().objectMapper().createObjectNode();
    p.put("provider", provider);
    p.put("model", model);
    p.put("prompt", text);
    p.put("project", project);
    p.put("working_dir", workingDir);
    p.put("session_id", session.toString());
    EventEnvelope<ObjectNode> e = envelope("agent.thread.prompt", p, TriggerType.MANUAL).build();
    promptId = e.eventId();
    promptNanos = System.nanoTime();
    publish(e);
  }

  @Override
  public void response(String text, boolean truncated) {
    UUID parent = promptId;
    if (parent == null) {
      return;
    }
    ObjectNode p = bb.codec().objectMapper().createObjectNode();
    p.put("provider", provider);
    p.put("prompt_id", parent.toString());
    p.put("response", text);
    p.put("model", model);
    p.put("duration_ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - promptNanos));
    p.put("session_id", session.toString());
    if (truncated) {
      p.put("truncated", true);
    }
    publish(
        envelope("agent.thread.response", p, TriggerType.AGENT).withCorrelationId(parent).build());
  }

  private EventEnvelope.Builder<ObjectNode> envelope(
      String type, ObjectNode payload, TriggerType trigger) {
    return EventEnvelope.builder(type, payload)
        .withSource(
            Source.local("bb").withType(trigger).withMeta(Map.of("session_id", session.toString())))
        .withAgentContext(agent);
  }

  private void publish(EventEnvelope<ObjectNode> e) {
    total++;
    connect();
    Publisher p = publisher;
    if (p == null) {
      failed.incrementAndGet();
      return;
    }
    try {
      pending.add(
          p.publish(e)
              .whenComplete(
                  (ok, error) -> {
                    if (error != null) {
                      failed.incrementAndGet();
                      if (firstFailure == null) {
                        firstFailure = String.valueOf(error.getMessage());
                      }
                    }
                  }));
    } catch (RuntimeException ex) {
      failed.incrementAndGet();
      if (firstFailure == null) {
        firstFailure = String.valueOf(ex.getMessage());
      }
    }
  }

  /**
   * Waits at most {@link #DRAIN} for the confirms, closes the connection, and returns a one-line
   * warning when some events were not published, else null.
   */
  @Nullable String finish() {
    try {
      CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
          .get(DRAIN.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      // counted below: whatever is not done now is not published
    }
    int notDone = 0;
    for (CompletableFuture<?> f : pending) {
      if (!f.isDone()) {
        notDone++;
      }
    }
    close();
    int lost = failed.get() + notDone;
    if (lost == 0) {
      return null;
    }
    String why = connectError != null ? connectError : firstFailure;
    return "bb: wrap: "
        + lost
        + " of "
        + total
        + " events not published"
        + (why == null ? " (no confirm in " + DRAIN.toSeconds() + " s)" : ": " + why);
  }

  @Override
  public void close() {
    try {
      if (publisher != null) {
        publisher.close();
      }
      if (bus != null) {
        bus.close();
      }
    } catch (Exception e) {
      // closing after the program ended: nothing left to report
    }
  }
}
