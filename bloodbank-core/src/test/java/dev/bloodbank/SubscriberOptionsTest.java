package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bloodbank.internal.LogSafe;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Defaults, range checks, patterns and queue names of {@link SubscriberOptions}. */
class SubscriberOptionsTest {

  @Test
  void defaultsAreTheDocumentedConstants() {
    SubscriberOptions o = SubscriberOptions.builder("a.#").build();
    assertThat(o.patterns()).containsExactly("a.#");
    assertThat(o.queueName()).isNull();
    assertThat(o.prefetch()).isEqualTo(SubscriberOptions.DEFAULT_PREFETCH).isEqualTo(10);
    assertThat(o.concurrency()).isEqualTo(SubscriberOptions.DEFAULT_CONCURRENCY).isEqualTo(1);
    assertThat(o.maxAttempts()).isEqualTo(SubscriberOptions.DEFAULT_MAX_ATTEMPTS).isEqualTo(3);
    assertThat(o.retryDelays()).isEqualTo(SubscriberOptions.DEFAULT_RETRY_DELAYS);
    assertThat(o.queueType()).isEqualTo(QueueType.CLASSIC);
    assertThat(o.deliveryLimit()).isEqualTo(SubscriberOptions.DEFAULT_DELIVERY_LIMIT);
    assertThat(o.shutdownTimeout()).isEqualTo(SubscriberOptions.DEFAULT_SHUTDOWN_TIMEOUT);
    assertThat(o.temporary()).isFalse();
  }

  @Test
  void acknowledgementGroupsFollowThePrefetchUnlessSet() {
    assertThat(SubscriberOptions.builder("a.#").build().ackBatchSize()).isEqualTo(5);
    assertThat(SubscriberOptions.builder("a.#").prefetch(1).build().ackBatchSize()).isEqualTo(1);
    SubscriberOptions set = SubscriberOptions.builder("a.#").ackBatchSize(1).build();
    assertThat(set.ackBatchSize()).isEqualTo(1);
    // The default keeps following the prefetch through mutate(); a set value stays.
    SubscriberOptions following = SubscriberOptions.builder("a.#").build();
    assertThat(following.mutate().prefetch(4).build().ackBatchSize()).isEqualTo(2);
    assertThat(set.mutate().prefetch(100).build().ackBatchSize()).isEqualTo(1);
    assertThatThrownBy(() -> SubscriberOptions.builder("a.#").prefetch(4).ackBatchSize(5).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "ackBatchSize (5) must not exceed the prefetch (4): the broker stops delivering at the"
                + " prefetch");
    assertThatThrownBy(() -> SubscriberOptions.builder("a.#").ackBatchSize(-1))
        .hasMessage("ackBatchSize must be between 0 and 65535, was -1");
  }

  @Test
  void buildNeedsAPattern() {
    assertThatThrownBy(() -> SubscriberOptions.builder().build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least one routing-key pattern");
  }

  @ParameterizedTest
  @ValueSource(strings = {"#", "*", "fireflies.#", "*.transcript.*", "a-b_c.D9.#.x", "a.*.#"})
  void validPatterns(String pattern) {
    assertThat(SubscriberOptions.builder(pattern).build().patterns()).containsExactly(pattern);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", ".", "a..b", ".a", "a.", "a b", "a.#x", "a*", "a/b", "ü.b", "a\nb"})
  void invalidPatternsAreNamed(String pattern) {
    assertThatThrownBy(() -> SubscriberOptions.builder(pattern))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("routing-key pattern '" + LogSafe.escape(pattern) + "'")
        .hasMessageNotContaining("\n");
  }

  @Test
  void patternOver255BytesIsRejected() {
    String ok = "a".repeat(255);
    assertThat(SubscriberOptions.builder(ok).build().patterns()).containsExactly(ok);
    assertThatThrownBy(() -> SubscriberOptions.builder("a".repeat(256)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("255 bytes");
  }

  static Stream<Arguments> outOfRange() {
    return Stream.of(
        bad(b -> b.prefetch(0), "prefetch must be between 1 and 65535, was 0"),
        bad(b -> b.prefetch(65536), "prefetch must be between 1 and 65535, was 65536"),
        bad(b -> b.concurrency(0), "concurrency must be between 1 and 1024, was 0"),
        bad(b -> b.concurrency(1025), "concurrency must be between 1 and 1024, was 1025"),
        bad(b -> b.maxAttempts(0), "maxAttempts must be between 1 and 100, was 0"),
        bad(b -> b.maxAttempts(101), "maxAttempts must be between 1 and 100, was 101"),
        bad(b -> b.deliveryLimit(0), "deliveryLimit must be between 1 and 1000, was 0"),
        bad(b -> b.deliveryLimit(1001), "deliveryLimit must be between 1 and 1000, was 1001"),
        bad(
            b -> b.shutdownTimeout(Duration.ofSeconds(-1)),
            "shutdownTimeout must not be negative, was PT-1S"),
        bad(b -> b.retryDelays(List.of()), "retryDelays must hold 1 to 10 delays, held 0"),
        bad(
            b -> b.retryDelays(Collections.nCopies(11, Duration.ofSeconds(1))),
            "retryDelays must hold 1 to 10 delays, held 11"),
        bad(
            b -> b.retryDelays(List.of(Duration.ofSeconds(1), Duration.ZERO)),
            "retry delay must be positive, was PT0S"),
        bad(
            b -> b.retryDelays(List.of(Duration.ofHours(25))),
            "retry delay must be 1 ms to 24 h, was PT25H"),
        bad(
            b -> b.retryDelays(List.of(Duration.ofNanos(500_000))),
            "retry delay must be 1 ms to 24 h, was PT0.0005S"),
        bad(
            b -> b.queueName("amq.mine"),
            "queueName 'amq.mine' must not start with the reserved 'amq.'"),
        bad(
            b -> b.queueName("q".repeat(236)),
            "queueName must be at most 235 bytes (room for '.retry.<millis>'), was 236"),
        bad(b -> b.queueName("  "), "queueName must not be blank"));
  }

  private static Arguments bad(Consumer<SubscriberOptions.Builder> setter, String message) {
    return Arguments.of(setter, message);
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("outOfRange")
  void setterRejectsOutOfRangeShowingValueAndRange(
      Consumer<SubscriberOptions.Builder> setter, String message) {
    SubscriberOptions.Builder b = SubscriberOptions.builder("a.b");
    assertThatThrownBy(() -> setter.accept(b))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(message);
    assertThat(b.build().toString()).isEqualTo(SubscriberOptions.builder("a.b").build().toString());
  }

  @Test
  void boundariesAreAccepted() {
    SubscriberOptions o =
        SubscriberOptions.builder("a")
            .prefetch(65535)
            .concurrency(1024)
            .maxAttempts(100)
            .deliveryLimit(1000)
            .shutdownTimeout(Duration.ZERO)
            .retryDelays(Collections.nCopies(10, Duration.ofHours(24)))
            .queueName("q".repeat(235))
            .build();
    assertThat(o.prefetch()).isEqualTo(65535);
    assertThat(o.shutdownTimeout()).isZero();
    assertThat(o.retryDelays()).hasSize(10);
    assertThat(o.queueNameFor("svc")).hasSize(235);
  }

  @Test
  void defaultQueueName() {
    assertThat(SubscriberOptions.builder("fireflies.#").build().queueNameFor("svc"))
        .isEqualTo("svc_fireflies.all_queue");
    assertThat(SubscriberOptions.builder("*.transcript.*").build().queueNameFor("svc"))
        .isEqualTo("svc_any.transcript.any_queue");
    assertThat(SubscriberOptions.builder("a.#", "b.*", "c").build().queueNameFor("svc"))
        .isEqualTo("svc_a.all_b.any_c_queue");
    assertThat(SubscriberOptions.builder("#").build().queueNameFor("my svc/é"))
        .isEqualTo("my_svc___all_queue");
    assertThat(SubscriberOptions.builder("#").queueName("explicit").build().queueNameFor("svc"))
        .isEqualTo("explicit");
  }

  @Test
  void longDefaultQueueNamesAreShortenedDistinctlyLeavingRoomForSuffixes() {
    List<String> names = new ArrayList<>();
    for (String last : List.of("x", "y")) {
      String pattern = "w".repeat(200) + "." + "v".repeat(50) + "." + last;
      String name = SubscriberOptions.builder(pattern).build().queueNameFor("svc");
      assertThat(name.getBytes(StandardCharsets.UTF_8).length)
          .isLessThanOrEqualTo(SubscriberOptions.MAX_QUEUE_NAME_BYTES - 20);
      assertThat(name).startsWith("svc_www");
      assertThat(SubscriberOptions.builder(pattern).build().queueNameFor("svc")).isEqualTo(name);
      names.add(name);
    }
    assertThat(names.get(0)).isNotEqualTo(names.get(1));
  }

  @Test
  void retryDelayRepeatsTheLast() {
    SubscriberOptions o =
        SubscriberOptions.builder("a")
            .retryDelays(List.of(Duration.ofMillis(10), Duration.ofMillis(20)))
            .build();
    assertThat(o.retryDelay(1)).isEqualTo(Duration.ofMillis(10));
    assertThat(o.retryDelay(2)).isEqualTo(Duration.ofMillis(20));
    assertThat(o.retryDelay(3)).isEqualTo(Duration.ofMillis(20));
    assertThat(o.retryDelay(100)).isEqualTo(Duration.ofMillis(20));
    assertThat(o.retryDelay(0)).isEqualTo(Duration.ofMillis(10));
    SubscriberOptions d = SubscriberOptions.builder("a").build();
    assertThat(d.retryDelay(5)).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void retryDelaysAreCopied() {
    List<Duration> delays = new ArrayList<>(List.of(Duration.ofSeconds(1)));
    SubscriberOptions o = SubscriberOptions.builder("a").retryDelays(delays).build();
    delays.add(Duration.ofSeconds(2));
    assertThat(o.retryDelays()).containsExactly(Duration.ofSeconds(1));
  }

  @Test
  void temporaryMeansOneAttempt() {
    SubscriberOptions o = SubscriberOptions.builder("a").temporary().build();
    assertThat(o.temporary()).isTrue();
    assertThat(o.maxAttempts()).isEqualTo(1);
  }

  @Test
  void mutateRoundTripsAndCopies() {
    SubscriberOptions o =
        SubscriberOptions.builder("a.#", "b.*")
            .queueName("q1")
            .prefetch(3)
            .concurrency(4)
            .maxAttempts(5)
            .retryDelays(List.of(Duration.ofMillis(7)))
            .queueType(QueueType.QUORUM)
            .deliveryLimit(9)
            .shutdownTimeout(Duration.ofSeconds(2))
            .build();
    SubscriberOptions copy = o.mutate().build();
    assertThat(copy.patterns()).containsExactly("a.#", "b.*");
    assertThat(copy.queueName()).isEqualTo("q1");
    assertThat(copy.prefetch()).isEqualTo(3);
    assertThat(copy.concurrency()).isEqualTo(4);
    assertThat(copy.maxAttempts()).isEqualTo(5);
    assertThat(copy.retryDelays()).containsExactly(Duration.ofMillis(7));
    assertThat(copy.queueType()).isEqualTo(QueueType.QUORUM);
    assertThat(copy.deliveryLimit()).isEqualTo(9);
    assertThat(copy.shutdownTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(copy.temporary()).isFalse();
    assertThat(copy.toString()).isEqualTo(o.toString());

    SubscriberOptions more = o.mutate().pattern("c").build();
    assertThat(more.patterns()).containsExactly("a.#", "b.*", "c");
    assertThat(o.patterns()).containsExactly("a.#", "b.*");
    assertThat(SubscriberOptions.builder("t").temporary().build().mutate().build().temporary())
        .isTrue();
  }

  @Test
  void nullsAreRejected() {
    assertThatThrownBy(() -> SubscriberOptions.builder((String) null))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> SubscriberOptions.builder("a").queueType(null))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> SubscriberOptions.builder("a").shutdownTimeout(null))
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void partitionsAreOffByDefaultAndCheckedAgainstTheOtherSettings() {
    assertThat(SubscriberOptions.builder("a").build().partitions()).isZero();
    SubscriberOptions p = SubscriberOptions.builder("a").partitions(8).build();
    assertThat(p.partitions()).isEqualTo(8);
    assertThat(p.mutate().build().partitions()).isEqualTo(8);
    assertThat(p.toString()).contains("partitions=8");
    assertThatThrownBy(() -> SubscriberOptions.builder("a").partitions(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("partitions must be 0 to 256, was -1");
    assertThatThrownBy(() -> SubscriberOptions.builder("a").partitions(257))
        .hasMessageContaining("was 257");
    assertThatThrownBy(() -> SubscriberOptions.builder("a").partitions(4).concurrency(2).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("concurrency 1, was 2");
    assertThatThrownBy(() -> SubscriberOptions.builder("a").partitions(4).temporary().build())
        .hasMessageContaining("not temporary()");
  }
}
