package dev.bloodbank.command;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankException;
import dev.bloodbank.DeliveryInfo;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.EventIds;
import dev.bloodbank.Publisher;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.Source;
import dev.bloodbank.internal.BusObserver;
import dev.bloodbank.internal.IdleScheduler;
import dev.bloodbank.internal.LogContext;
import dev.bloodbank.registry.EventDefinition;
import dev.bloodbank.validation.ValidationMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executes one command event: rehydrates its payload through the registry, runs it if it is an
 * {@link Invokable}, publishes its side effects and a {@code command.completed} event only after it
 * succeeded, and on failure runs its rollback and publishes {@code command.failed}.
 *
 * <p>Each command runs under a claim in the {@link ProcessedCommands} store, renewed while it runs
 * (on the manager's own {@code bloodbank-command-lease-N} thread, which exists only while commands
 * run): a second delivery of a command that is running elsewhere waits for its outcome instead of
 * running it again.
 *
 * <p>Thread-safe; shared by a processor's workers. Close it to release its publisher and thread.
 */
public final class CommandManager implements AutoCloseable {
  /** Event type of the event published when a command completed. */
  public static final String COMPLETED = "command.completed";

  /** Event type of the event published when an attempt at a command failed. */
  public static final String FAILED = "command.failed";

  private static final Logger LOG = LoggerFactory.getLogger(CommandManager.class);

  /** What {@link #handle} did. */
  public enum Outcome {
    /** The command ran and its side effects were confirmed by the broker. */
    EXECUTED,
    /** The command had completed before (a redelivery); it was not run again. */
    ALREADY_COMPLETED
  }

  private static final AtomicInteger LEASE_THREADS = new AtomicInteger();
  private static final long CLAIM_POLL_MILLIS = 100;
  private static final int UNAVAILABLE_TRIES = 3;

  private final BusObserver observer;
  private final Bloodbank bus;
  private final ProcessedCommands processed;
  private final Duration commandTimeout;
  private final Duration claimLease;
  private final Publisher outcomes;
  private final Source source;
  private final ScheduledExecutorService leases;
  private final java.util.concurrent.Executor renewals;

  /**
   * Creates a manager.
   *
   * @param bus the bus to publish on; its registry maps command types to classes
   * @param processed where completed commands are remembered
   * @param commandTimeout how long after it was sent a command must be done (its deadline)
   */
  public CommandManager(Bloodbank bus, ProcessedCommands processed, Duration commandTimeout) {
    this(bus, processed, commandTimeout, CommandProcessorOptions.DEFAULT_CLAIM_LEASE);
  }

  /**
   * Creates a manager.
   *
   * @param bus the bus to publish on; its registry maps command types to classes
   * @param processed where completed and running commands are remembered; not closed by the manager
   * @param commandTimeout how long after it was sent a command must be done (its deadline)
   * @param claimLease how long a claim on a running command holds without renewal
   * @since 0.2.0
   */
  public CommandManager(
      Bloodbank bus, ProcessedCommands processed, Duration commandTimeout, Duration claimLease) {
    this.bus = Objects.requireNonNull(bus, "bus");
    this.processed = Objects.requireNonNull(processed, "processed");
    this.commandTimeout = Objects.requireNonNull(commandTimeout, "commandTimeout");
    this.claimLease = Objects.requireNonNull(claimLease, "claimLease");
    // Outcome events are the processor's own; they need no catalog on the classpath.
    this.outcomes =
        bus.publisher(PublisherOptions.builder().validation(ValidationMode.PERMISSIVE).build());
    this.source = Source.local(bus.options().serviceName());
    this.renewals = bus.callbackExecutor();
    this.observer = BusObserver.of(bus.options().observability(), bus.registry()::contains);
    // The thread exists only while commands run: renewals are cancelled when each one ends.
    this.leases = IdleScheduler.create("bloodbank-command-lease", LEASE_THREADS);
  }

  /**
   * Executes a command and returns once its side effects are confirmed by the broker.
   *
   * @param command the command event, payload untyped
   * @param delivery its delivery (attempt number)
   * @return what was done
   * @throws Exception the command's own failure (after rollback and the failure event), or a {@link
   *     BloodbankException} when the event is not an executable command or its side effects could
   *     not be published; the subscriber's retry policy then applies
   */
  public Outcome handle(EventEnvelope<JsonNode> command, DeliveryInfo delivery) throws Exception {
    // Its side effects' publishes happen inside this observation: their spans are its children.
    BusObserver.Command observed = BusObserver.commandQuietly(observer, command);
    boolean logContext = bus.options().logContext();
    // Usually inside the delivery's handler, whose keys come back afterwards.
    LogContext.Saved outer = null;
    if (logContext) {
      outer = LogContext.save();
      List<java.util.UUID> parents = command.correlationIds();
      LogContext.put(
          command.eventId().toString(),
          command.eventType(),
          parents.isEmpty() ? null : parents.get(0).toString(),
          observed.traceId());
    }
    String outcome = "failed";
    Throwable error = null;
    try {
      Outcome done = execute(command, delivery);
      outcome = done == Outcome.ALREADY_COMPLETED ? "duplicate" : "completed";
      return done;
    } catch (Exception | Error e) {
      error = e;
      throw e;
    } finally {
      if (logContext) {
        LogContext.restore(outer);
      }
      BusObserver.endQuietly(observed, outcome, error);
    }
  }

  private Outcome execute(EventEnvelope<JsonNode> command, DeliveryInfo delivery) throws Exception {
    EventDefinition def = bus.registry().require(command.eventType());
    Class<?> type = def.payloadClass();
    if (!def.command() || type == null || !Invokable.class.isAssignableFrom(type)) {
      throw new BloodbankException(
          "event type '"
              + command.eventType()
              + "' is not an executable command: "
              + (!def.command()
                  ? "the catalog does not mark it as a command"
                  : "its payload class "
                      + (type == null ? "is missing" : type.getName())
                      + " does not implement Invokable; bind one with registry().bind(type, class)"));
    }
    ProcessedCommands.Claim claim = claim(command);
    if (claim.status() == ProcessedCommands.Claim.Status.COMPLETED) {
      LOG.debug("command {} completed before; acknowledging without running it", command.eventId());
      return Outcome.ALREADY_COMPLETED;
    }
    long renewEvery = Math.max(1, claimLease.toMillis() / 3);
    ScheduledFuture<?> renewal = null;
    boolean done = false;
    try {
      // The lease thread only hands each renewal over: a store that answers slowly for one command
      // must not make the claims of the others lapse.
      renewal =
          leases.scheduleWithFixedDelay(
              () -> renewals.execute(() -> renew(claim)),
              renewEvery,
              renewEvery,
              TimeUnit.MILLISECONDS);
      Outcome outcome = execute(command, delivery, type);
      processed.complete(claim);
      done = true;
      return outcome;
    } finally {
      if (renewal != null) {
        renewal.cancel(false);
      }
      if (!done) {
        processed.release(claim);
      }
    }
  }

  /**
   * Claims the command, waiting while another processor holds it, so that a redelivery of a running
   * command ends as {@code ALREADY_COMPLETED} or runs only once the other attempt failed or died.
   * Waits until the command's own deadline (sent + command timeout), at least one lease.
   */
  private ProcessedCommands.Claim claim(EventEnvelope<JsonNode> command)
      throws InterruptedException {
    long untilDeadline =
        Duration.between(java.time.Instant.now(), command.timestamp().plus(commandTimeout))
            .toNanos();
    long deadline =
        System.nanoTime()
            + Math.max(claimLease.toNanos() + TimeUnit.SECONDS.toNanos(1), untilDeadline);
    long pause = CLAIM_POLL_MILLIS;
    int unavailable = 0;
    while (true) {
      ProcessedCommands.Claim c = processed.claim(command.eventId(), claimLease);
      if (c.status() == ProcessedCommands.Claim.Status.UNAVAILABLE
          && ++unavailable < UNAVAILABLE_TRIES) {
        // A store coming up (a cluster node's first connection) answers a moment later.
        Thread.sleep(CLAIM_POLL_MILLIS);
        continue;
      }
      if (c.status() != ProcessedCommands.Claim.Status.HELD) {
        return c;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new BloodbankException(
            "command "
                + command.eventId()
                + " ("
                + command.eventType()
                + ") is still being executed by another processor past its deadline (command"
                + " timeout "
                + commandTimeout
                + "); it is tried again later");
      }
      LOG.debug("command {} is running elsewhere; waiting for its outcome", command.eventId());
      Thread.sleep(pause);
      pause = Math.min(pause * 2, 1000);
    }
  }

  private void renew(ProcessedCommands.Claim claim) {
    try {
      if (!processed.renew(claim, claimLease)) {
        LOG.warn(
            "the claim on command {} lapsed while it ran; another processor may run it too",
            claim.commandId());
      }
    } catch (RuntimeException e) {
      LOG.warn("renewing the claim on command {} failed: {}", claim.commandId(), e.toString());
    }
  }

  private Outcome execute(EventEnvelope<JsonNode> command, DeliveryInfo delivery, Class<?> type)
      throws Exception {
    Invokable<?> invokable = (Invokable<?>) bus.codec().convertPayload(command, type).payload();
    CommandContext context =
        new CommandContext(
            command.eventId(),
            command.eventType(),
            command.source().app(),
            command.agentContext(),
            command.timestamp(),
            command.timestamp().plus(commandTimeout),
            delivery.attempt());
    EventCollector collector = new EventCollector(command.eventId(), source);
    long started = System.nanoTime();
    Object result;
    try {
      result = invokable.execute(context, collector);
    } catch (Exception e) {
      try {
        invokable.rollback(context);
      } catch (Exception rollbackFailure) {
        LOG.warn(
            "rollback of command {} ({}) failed: {}",
            command.eventId(),
            command.eventType(),
            rollbackFailure.toString());
      }
      publishFailure(context, e, delivery.isLastAttempt());
      throw e;
    }
    // The result is turned into JSON before anything is sent, so a result that cannot be
    // serialized fails the attempt with no side effect on its way.
    JsonNode resultJson;
    try {
      resultJson = result == null ? null : bus.codec().objectMapper().valueToTree(result);
    } catch (IllegalArgumentException e) {
      BloodbankException failure =
          new BloodbankException(
              "result of command " + command.eventId() + " cannot be serialized: " + e.getMessage(),
              e);
      publishFailure(context, failure, delivery.isLastAttempt());
      throw failure;
    }
    List<CompletableFuture<?>> sends = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    for (EventEnvelope<?> e : collector.events()) {
      sends.add(sideEffects().publish(e));
      ids.add(e.eventId().toString());
    }
    Map<String, Object> completed = new LinkedHashMap<>();
    completed.put("command_type", command.eventType());
    completed.put("command_id", command.eventId().toString());
    completed.put("result", resultJson);
    completed.put("side_effect_ids", ids);
    completed.put("duration_ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    try {
      // Side effects first: the result is announced only once they are all confirmed.
      await(sends, command);
      await(
          List.of(outcomes.publish(outcome(COMPLETED, command, "completed", completed))), command);
    } catch (BloodbankException e) {
      // Re-running publishes the same side-effect ids, so consumers drop what did arrive.
      publishFailure(context, e, delivery.isLastAttempt());
      throw e;
    }
    return Outcome.EXECUTED;
  }

  /** The bus's shared publisher, fetched per command: it is recreated if someone closed it. */
  private Publisher sideEffects() {
    return bus.publisher();
  }

  private void publishFailure(CommandContext context, Exception e, boolean isFinal) {
    Map<String, Object> failed = new LinkedHashMap<>();
    failed.put("command_type", context.commandType());
    failed.put("command_id", context.commandId().toString());
    failed.put("error_class", e.getClass().getName());
    failed.put("error_message", e.getMessage());
    failed.put("attempt", context.attempt());
    failed.put("is_final", isFinal);
    try {
      outcomes
          .publish(
              EventEnvelope.builder(FAILED, (Object) failed)
                  .withEventId(EventIds.uuid5(context.commandId(), "failed:" + context.attempt()))
                  .withCorrelationId(context.commandId())
                  .withSource(source)
                  .build())
          .get(outcomes.options().maxPublishTime().toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException ex) {
      LOG.warn("could not publish command.failed for {}: {}", context.commandId(), ex.toString());
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
  }

  private EventEnvelope<Object> outcome(
      String type, EventEnvelope<?> command, String name, Map<String, Object> payload) {
    return EventEnvelope.builder(type, (Object) payload)
        .withEventId(EventIds.uuid5(command.eventId(), name))
        .withCorrelationId(command.eventId())
        .withSource(source)
        .build();
  }

  private void await(List<CompletableFuture<?>> sends, EventEnvelope<?> command)
      throws InterruptedException {
    // Publish futures always complete within this; the bound only guards against a bug.
    Duration bound =
        sideEffects().options().maxPublishTime().plus(outcomes.options().maxPublishTime());
    try {
      CompletableFuture.allOf(sends.toArray(new CompletableFuture<?>[0]))
          .get(bound.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new BloodbankException(
          "side effects of command "
              + command.eventId()
              + " ("
              + command.eventType()
              + ") had no outcome within "
              + bound,
          e);
    } catch (ExecutionException e) {
      throw new BloodbankException(
          "side effects of command "
              + command.eventId()
              + " ("
              + command.eventType()
              + ") were not all confirmed: "
              + e.getCause().getMessage(),
          e.getCause());
    }
  }

  /** Closes the publisher of outcome events and the lease thread. Idempotent. */
  @Override
  public void close() {
    leases.shutdownNow();
    outcomes.close();
  }
}
