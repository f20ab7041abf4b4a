package dev.bloodbank.command;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankException;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Source;
import dev.bloodbank.Subscriber;
import dev.bloodbank.SubscriberOptions;
import dev.bloodbank.internal.IdleScheduler;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Sends commands and awaits their results.
 *
 * <p>Listens on a temporary queue for {@code command.completed} and {@code command.failed} and
 * completes each send's future from the event correlated to it: with the result, exceptionally with
 * {@link CommandFailedException} after the last attempt failed, or with a {@link
 * java.util.concurrent.TimeoutException} when nothing answers in time. Futures complete on the
 * bus's callback executor, never on the reply subscriber's delivery thread; a timeout is counted
 * from the call and handed over by the client's own timer ({@code bloodbank-command-timeout-N},
 * alive only while sends wait). Thread-safe.
 */
public final class CommandClient implements AutoCloseable {
  private static final AtomicInteger CLIENTS = new AtomicInteger();

  private final Bloodbank bus;
  private final Subscriber replies;
  private final Map<UUID, Pending> pending = new ConcurrentHashMap<>();
  private final ScheduledThreadPoolExecutor timeouts;

  /** A sent command waiting for its answer. */
  private record Pending(
      CompletableFuture<?> result,
      String type,
      Function<EventEnvelope<JsonNode>, Boolean> answer) {}

  private CommandClient(Bloodbank bus) {
    this.bus = bus;
    this.timeouts = IdleScheduler.create("bloodbank-command-timeout", CLIENTS);
    this.replies =
        bus.subscribe(
            SubscriberOptions.builder(CommandManager.COMPLETED, CommandManager.FAILED)
                .temporary()
                .build(),
            this::onReply);
  }

  /**
   * Creates a client on a bus.
   *
   * @param bus the bus
   * @return the client; close it when done
   */
  public static CommandClient create(Bloodbank bus) {
    return new CommandClient(Objects.requireNonNull(bus, "bus"));
  }

  private void onReply(EventEnvelope<JsonNode> event) {
    for (UUID id : event.correlationIds()) {
      Pending waiter = pending.get(id);
      if (waiter != null && waiter.answer().apply(event)) {
        pending.remove(id);
      }
    }
  }

  /**
   * Sends a command and awaits its result.
   *
   * @param commandType the command's event type
   * @param payload the command payload
   * @param resultType the class of the result
   * @param timeout how long to wait for the answer
   * @param <R> the result type
   * @return a future completed with the result, or exceptionally
   */
  public <R> CompletableFuture<R> send(
      String commandType, Object payload, Class<R> resultType, Duration timeout) {
    EventEnvelope<Object> command;
    try {
      command =
          EventEnvelope.builder(commandType, payload)
              .withSource(Source.local(bus.options().serviceName()))
              .build();
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(e);
    }
    return send(command, resultType, timeout);
  }

  /**
   * Sends a prepared command envelope and awaits its result.
   *
   * @param command the command event
   * @param resultType the class of the result
   * @param timeout how long to wait for the answer
   * @param <R> the result type
   * @return a future completed with the result, or exceptionally
   */
  public <R> CompletableFuture<R> send(
      EventEnvelope<?> command, Class<R> resultType, Duration timeout) {
    Objects.requireNonNull(command, "command");
    Objects.requireNonNull(resultType, "resultType");
    Objects.requireNonNull(timeout, "timeout");
    CompletableFuture<R> result = new CompletableFuture<>();
    UUID id = command.eventId();
    pending.put(
        id,
        new Pending(
            result, command.eventType(), reply -> answer(reply, command, resultType, result)));
    result.whenComplete((r, t) -> pending.remove(id));
    // The clock starts before the publish call, which may wait for room; the timer thread only
    // hands the timeout over, and the timer forgets it once the answer came.
    String type = command.eventType();
    ScheduledFuture<?> timer;
    try {
      timer =
          timeouts.schedule(
              () ->
                  fail(
                      result,
                      new TimeoutException(
                          "no answer to command " + id + " (" + type + ") within " + timeout)),
              timeout.toNanos(),
              TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      pending.remove(id);
      return CompletableFuture.failedFuture(closedBeforeAnswer(id, type));
    }
    result.whenComplete((r, t) -> timer.cancel(false));
    try {
      bus.publisher()
          .publish(command)
          .whenComplete(
              (sent, t) -> {
                if (t != null) {
                  result.completeExceptionally(t);
                }
              });
    } catch (RuntimeException e) {
      result.completeExceptionally(e);
    }
    return result;
  }

  /** Runs a completion on the bus's callback executor, or here once the bus refuses (closed). */
  private void callback(Runnable task) {
    try {
      bus.callbackExecutor().execute(task);
    } catch (RejectedExecutionException e) {
      task.run();
    }
  }

  private <R> boolean answer(
      EventEnvelope<JsonNode> reply,
      EventEnvelope<?> command,
      Class<R> resultType,
      CompletableFuture<R> result) {
    JsonNode p = reply.payload();
    if (reply.eventType().equals(CommandManager.COMPLETED)) {
      try {
        JsonNode value = p.get("result");
        R r =
            value == null || value.isNull()
                ? null
                : bus.codec().objectMapper().treeToValue(value, resultType);
        // Off the reply subscriber's delivery thread: a continuation that sends another command
        // and waits for it would otherwise wait for a reply this thread is meant to deliver.
        callback(() -> result.complete(r));
      } catch (JsonProcessingException e) {
        fail(
            result,
            new BloodbankException(
                "result of command "
                    + command.eventId()
                    + " does not fit "
                    + resultType.getName()
                    + ": "
                    + e.getOriginalMessage(),
                e));
      }
      return true;
    }
    if (p.path("is_final").asBoolean(false)) {
      fail(
          result,
          new CommandFailedException(
              command.eventId(),
              command.eventType(),
              p.path("error_class").asText("?"),
              p.path("error_message").isNull() ? null : p.path("error_message").asText(),
              p.path("attempt").asInt(0)));
      return true;
    }
    return false;
  }

  private void fail(CompletableFuture<?> result, Throwable failure) {
    callback(() -> result.completeExceptionally(failure));
  }

  private static BloodbankException closedBeforeAnswer(UUID id, String type) {
    return new BloodbankException(
        "the command client was closed before the answer to command " + id + " (" + type + ")");
  }

  /** Stops listening; sends still waiting for their answer fail at once. Idempotent. */
  @Override
  public void close() {
    try {
      replies.close();
    } finally {
      timeouts.shutdownNow();
      for (UUID id : pending.keySet()) {
        Pending waiter = pending.remove(id);
        if (waiter != null) {
          fail(waiter.result(), closedBeforeAnswer(id, waiter.type()));
        }
      }
    }
  }
}
