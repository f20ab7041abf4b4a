package dev.bloodbank.fault;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * The reliability suite's summary (issue #9): one row per scenario with the events it sent, how
 * many accepted events were lost, how many arrived more than once (same id), and the result. Tests
 * count with {@link #events}; outcomes come from JUnit. Registered as a JUnit Platform listener
 * (META-INF/services), it prints the table when the run ends and writes it to {@code
 * target/reliability-<it|unit>.md}. Tests written before the suite map to scenarios here; new ones
 * carry {@link Scenario}.
 */
public final class ReliabilityReport implements TestExecutionListener {
  static final String[] TITLES = {
    "",
    "close_all_connections during 20,000 confirmed publishes",
    "stop_app 10 s mid-publish, durable publish",
    "publisher started while the broker is down, durable publish",
    "proxy blackhole: dead peer within two heartbeats",
    "unroutable event with mandatory",
    "disk alarm: publishes time out, blocked in health",
    "queue redeclared with other arguments",
    "event over the size limit",
    "consumer killed before ack: redelivered, effect once",
    "poison message dead-lettered after N attempts",
    "slow consumer: at most prefetch unacked",
    "Redis killed, paused, restarted while tracking",
    "WAL writer SIGKILLed 1,000 times",
    "flipped bit in a WAL record",
    "disk full / fsync error on append",
    "WAL owner-only; world-readable refused",
    "bad input: depth, size, digits, duplicates, @class, UTF-8, content type, fields",
    "schema-invalid event dead-lettered with violations",
    "TLS: trusted, untrusted, hostname mismatch",
    "wrong password: clear error, password nowhere",
    "control characters escaped in logs",
    "fuzzing the envelope decoder",
    "soak: 30 min, 2,000 events/s, connection kills",
    "memory alarm under load: calls return, futures settle, close bounded, none lost",
    "continuations that publish and wait, more than callback threads",
    "close() racing subscribe, publish, durable publishers, commands: nothing left open",
    "two command processors, redeliveries mid-execution: each command runs once",
    "hostile attempts header, expiration and user id on incoming events",
    "no test disturbs the shared RabbitMQ and Redis",
    "WAL backlog recovered and drained with a 256 MB heap",
    "cluster: quorum leader's node SIGKILLed during 20,000 confirmed events",
    "cluster: rolling restart of all three RabbitMQ nodes under load",
    "cluster: quorum leader's node paused past net_ticktime (partitioned) and resumed",
    "cluster: Redis Cluster master SIGKILLed during tracking and command claims",
    "cluster: Sentinel master SIGKILLed during tracking and command claims",
    "cluster: partitioned consumption, the active instance leaves; per-key order kept"
  };

  /** Tests written before this suite, by "SimpleClassName#method", and what they cover. */
  static final Map<String, int[]> EXISTING =
      Map.ofEntries(
          Map.entry(
              "PublishSubscribeIT#unroutableMandatoryPublishFailsNamingExchangeAndKey",
              new int[] {5}),
          Map.entry("AmqpSemanticsIT#mandatoryUnroutableIsReturnedBeforeItsConfirm", new int[] {5}),
          Map.entry(
              "SubscriberIT#redeclaringAQueueWithOtherArgumentsNamesQueueAndArgumentAndTheBusGoesOn",
              new int[] {7}),
          Map.entry("PublishSubscribeIT#oversizeEventIsRejectedBeforeSending", new int[] {8}),
          Map.entry(
              "PublishSubscribeIT#poisonMessageIsDeadLetteredWithMetadataWhileLaterOnesArrive",
              new int[] {10}),
          Map.entry("SubscriberIT#prefetchBoundsTheUnacknowledgedDeliveries", new int[] {11}),
          Map.entry(
              "CorrelationRecorderIT#killedConnectionAndPausedWritesNeverBlockAndRecordingResumes",
              new int[] {12}),
          Map.entry(
              "CorrelationRecorderIT#redisGoneAndBackMidLoopNeverBlocksAndRecordingResumes",
              new int[] {12}),
          Map.entry("WalCrashIT#everyAcknowledgedAppendSurvivesSigkill", new int[] {13}),
          Map.entry(
              "DecodeLimitsTest#tenThousandLevelsAreRejectedWithoutOverflowingTheStack",
              new int[] {17}),
          Map.entry("DecodeLimitsTest#aTwoThousandDigitNumberIsRejected", new int[] {17}),
          Map.entry("EventCodecTest#duplicateKeysAreRejectedAtAnyDepth", new int[] {17}),
          Map.entry("EventCodecTest#typeHintsNeverInstantiateAClass", new int[] {17}),
          Map.entry("EventCodecTest#invalidUtf8InAStringIsRejected", new int[] {17}),
          Map.entry("EventCodecTest#isRejectedWithThePointerOfTheField", new int[] {17}),
          Map.entry("SubscriberIT#nonJsonContentTypeIsDeadLetteredUnread", new int[] {17}),
          Map.entry(
              "ValidationIT#subscriberDeadLettersInvalidEventsWithTheViolations", new int[] {18}),
          Map.entry("RecoveryIT#wrongPasswordIsAClearAuthenticationError", new int[] {20}),
          Map.entry("RecoveryIT#noPublishFutureStaysPendingAcrossAConnectionClose", new int[] {1}));

  private static final Map<Integer, Row> ROWS = new ConcurrentHashMap<>();

  /** One scenario's line. */
  private static final class Row {
    final List<String> tests = new ArrayList<>();
    long events;
    long lost;
    long duplicated;
    boolean counted;
    int passed;
    int failed;
    int skipped;
  }

  /**
   * Adds a test's counts to a scenario's row.
   *
   * @param scenario 1 to 30
   * @param events events the test published (or appended)
   * @param lost accepted events never consumed
   * @param duplicated events consumed more than once (same id)
   */
  public static void events(int scenario, long events, long lost, long duplicated) {
    Row r = ROWS.computeIfAbsent(scenario, k -> new Row());
    synchronized (r) {
      r.events += events;
      r.lost += lost;
      r.duplicated += duplicated;
      r.counted = true;
    }
  }

  @Override
  public void executionSkipped(TestIdentifier id, String reason) {
    outcome(id, null, true);
  }

  @Override
  public void executionFinished(TestIdentifier id, TestExecutionResult result) {
    outcome(id, result, false);
  }

  private static void outcome(TestIdentifier id, TestExecutionResult result, boolean skipped) {
    if (!id.isTest() && !skipped) {
      return;
    }
    if (!(id.getSource().orElse(null) instanceof MethodSource m)) {
      return;
    }
    String simple = m.getClassName().substring(m.getClassName().lastIndexOf('.') + 1);
    if (simple.indexOf('$') > 0) {
      simple = simple.substring(0, simple.indexOf('$')); // a @Nested class: its outer test
    }
    int[] scenarios = EXISTING.get(simple + "#" + m.getMethodName());
    try {
      Method method = m.getJavaMethod();
      Scenario s = method.getAnnotation(Scenario.class);
      if (s != null) {
        scenarios = s.value();
      }
    } catch (RuntimeException e) {
      // not loadable: the mapping above decides
    }
    if (scenarios == null) {
      return;
    }
    for (int n : scenarios) {
      Row r = ROWS.computeIfAbsent(n, k -> new Row());
      synchronized (r) {
        String name = simple + "#" + m.getMethodName();
        if (!r.tests.contains(name)) {
          r.tests.add(name);
        }
        if (skipped) {
          r.skipped++;
        } else if (result.getStatus() == TestExecutionResult.Status.SUCCESSFUL) {
          r.passed++;
        } else if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
          r.skipped++;
        } else {
          r.failed++;
        }
      }
    }
  }

  @Override
  public void testPlanExecutionFinished(TestPlan plan) {
    if (ROWS.isEmpty()) {
      return;
    }
    String table = table();
    System.out.println();
    System.out.println(table);
    boolean it = false;
    for (Row r : ROWS.values()) {
      it |= r.tests.stream().anyMatch(t -> t.contains("IT#"));
    }
    try {
      Path out = Path.of("target", "reliability-" + (it ? "it" : "unit") + ".md");
      Files.createDirectories(out.getParent());
      Files.writeString(out, table, StandardCharsets.UTF_8);
    } catch (IOException e) {
      System.out.println("could not write the reliability summary: " + e);
    }
  }

  /** The table in Markdown. */
  static String table() {
    StringBuilder b = new StringBuilder();
    b.append("Reliability summary (issue #9)\n\n");
    b.append("| # | scenario | events | lost | duplicated | result | tests |\n");
    b.append("|---|---|---:|---:|---:|---|---|\n");
    for (Map.Entry<Integer, Row> e : new TreeMap<>(ROWS).entrySet()) {
      Row r = e.getValue();
      synchronized (r) {
        String result =
            r.failed > 0
                ? "FAIL"
                : r.passed > 0 ? (r.skipped > 0 ? "pass (some disabled)" : "pass") : "disabled";
        if (r.counted && r.lost > 0) {
          result = "FAIL (lost)";
        }
        int n = e.getKey();
        b.append("| ")
            .append(n)
            .append(" | ")
            .append(n < TITLES.length ? TITLES[n] : "")
            .append(" | ")
            .append(r.counted ? Long.toString(r.events) : "-")
            .append(" | ")
            .append(r.counted ? Long.toString(r.lost) : "-")
            .append(" | ")
            .append(r.counted ? Long.toString(r.duplicated) : "-")
            .append(" | ")
            .append(result)
            .append(" | ")
            .append(String.join(", ", r.tests))
            .append(" |\n");
      }
    }
    return b.toString();
  }
}
