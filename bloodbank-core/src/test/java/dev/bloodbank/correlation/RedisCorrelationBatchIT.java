package dev.bloodbank.correlation;

import static dev.bloodbank.correlation.RedisExtension.Redis.forward;
import static dev.bloodbank.correlation.RedisExtension.Redis.reverse;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bloodbank.BloodbankException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Recordings made while a script call is in flight go together in the next call: each with the
 * writes and outcome it would have alone.
 */
@ExtendWith(RedisExtension.class)
class RedisCorrelationBatchIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void aBurstIsWrittenInFewerCallsWithEveryLinkInThePythonLayout(RedisExtension.Redis redis)
      throws Exception {
    RedisCorrelationTrackerIT.RoundTrips calls =
        new RedisCorrelationTrackerIT.RoundTrips("EVALSHA", "EVAL");
    CorrelationTracker t =
        redis.closeLater(new RedisCorrelationTracker(redis.options().build(), List.of(calls)));
    UUID warm = redis.id();
    t.addCorrelation(warm, List.of(redis.id()), Map.of()).get(5, TimeUnit.SECONDS);
    calls.reset();

    int n = 2000;
    Map<UUID, List<UUID>> links = new LinkedHashMap<>();
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      UUID child = redis.id();
      List<UUID> parents = i % 3 == 0 ? List.of(redis.id(), redis.id()) : List.of(redis.id());
      links.put(child, parents);
      all.add(t.addCorrelation(child, parents, Map.of("event_type", "burst", "i", i)));
    }
    CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);

    assertThat(calls.commands()).isLessThan(n / 2);
    for (Map.Entry<UUID, List<UUID>> e : links.entrySet()) {
      UUID child = e.getKey();
      Map<String, String> hash = redis.sync().hgetall(forward(child));
      assertThat(hash).containsOnlyKeys("parent_ids", "timestamp", "metadata");
      List<String> expected = e.getValue().stream().map(UUID::toString).toList();
      assertThat(JSON.readValue(hash.get("parent_ids"), List.class)).isEqualTo(expected);
      assertThat(hash.get("timestamp"))
          .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}\\+00:00");
      assertThat(JSON.readTree(hash.get("metadata")).get("event_type").asText()).isEqualTo("burst");
      assertThat(redis.sync().ttl(forward(child))).isPositive();
      for (UUID p : e.getValue()) {
        assertThat(redis.sync().smembers(reverse(p))).containsExactly(child.toString());
        assertThat(redis.sync().ttl(reverse(p))).isPositive();
      }
    }
  }

  @Test
  void oneBadRecordingFailsAloneAndTheSameChildTwiceMerges(RedisExtension.Redis redis)
      throws Exception {
    CorrelationTracker t = redis.tracker();
    UUID blocked = redis.id();
    redis.sync().lpush(forward(blocked), "not a hash");
    // Keep a call in flight so that the rest wait and go together in the next one.
    List<CompletableFuture<Void>> before = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      before.add(t.addCorrelation(redis.id(), List.of(redis.id()), Map.of()));
    }
    UUID child = redis.id(), p1 = redis.id(), p2 = redis.id(), p3 = redis.id();
    UUID other = redis.id(), otherParent = redis.id();
    CompletableFuture<Void> first = t.addCorrelation(child, List.of(p1, p2), Map.of("n", 1));
    CompletableFuture<Void> bad = t.addCorrelation(blocked, List.of(redis.id()), Map.of());
    CompletableFuture<Void> second = t.addCorrelation(child, List.of(p2, p3), Map.of("n", 2));
    CompletableFuture<Void> fine = t.addCorrelation(other, List.of(otherParent), Map.of());

    first.get(5, TimeUnit.SECONDS);
    second.get(5, TimeUnit.SECONDS);
    fine.get(5, TimeUnit.SECONDS);
    for (CompletableFuture<Void> f : before) {
      f.get(5, TimeUnit.SECONDS);
    }
    try {
      bad.get(5, TimeUnit.SECONDS);
      throw new AssertionError("a list at the forward key must fail its recording");
    } catch (ExecutionException e) {
      assertThat(e.getCause())
          .isInstanceOf(BloodbankException.class)
          .hasMessageContaining("cannot record the parents of " + blocked)
          .hasMessageContaining("WRONGTYPE");
    }
    assertThat(redis.sync().type(forward(blocked))).isEqualTo("list");
    assertThat(t.parents(child).get(5, TimeUnit.SECONDS)).containsExactly(p1, p2, p3);
    assertThat(JSON.readTree(redis.sync().hget(forward(child), "metadata")).get("n").asInt())
        .isEqualTo(2);
    assertThat(t.children(p2).get(5, TimeUnit.SECONDS)).containsExactly(child);
    assertThat(t.parents(other).get(5, TimeUnit.SECONDS)).containsExactly(otherParent);
  }

  @Test
  void aParentKeyOfAnotherTypeFailsOnlyTheRecordingsWithThatParent(RedisExtension.Redis redis)
      throws Exception {
    CorrelationTracker t = redis.tracker();
    UUID blockedParent = redis.id(), fineParent = redis.id();
    redis.sync().lpush(reverse(blockedParent), "not a set");
    List<CompletableFuture<Void>> before = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      before.add(t.addCorrelation(redis.id(), List.of(redis.id()), Map.of()));
    }
    UUID c1 = redis.id(), c2 = redis.id(), c3 = redis.id();
    CompletableFuture<Void> onlyBlocked = t.addCorrelation(c1, List.of(blockedParent), Map.of());
    CompletableFuture<Void> both =
        t.addCorrelation(c2, List.of(fineParent, blockedParent), Map.of());
    CompletableFuture<Void> fine = t.addCorrelation(c3, List.of(fineParent), Map.of());

    fine.get(5, TimeUnit.SECONDS);
    for (CompletableFuture<Void> f : before) {
      f.get(5, TimeUnit.SECONDS);
    }
    for (CompletableFuture<Void> f : List.of(onlyBlocked, both)) {
      try {
        f.get(5, TimeUnit.SECONDS);
        throw new AssertionError("a list at a parent's reverse key must fail the recording");
      } catch (ExecutionException e) {
        assertThat(e.getCause()).isInstanceOf(BloodbankException.class);
        assertThat(e.getCause()).hasMessageContaining("WRONGTYPE");
      }
    }
    assertThat(redis.sync().type(reverse(blockedParent))).isEqualTo("list");
    assertThat(t.children(fineParent).get(5, TimeUnit.SECONDS)).contains(c3);
    assertThat(t.parents(c3).get(5, TimeUnit.SECONDS)).containsExactly(fineParent);
  }

  @Test
  void aClosedTrackerFailsWhatIsStillWaiting(RedisExtension.Redis redis) throws Exception {
    CorrelationTracker t = redis.tracker();
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      all.add(t.addCorrelation(redis.id(), List.of(redis.id()), Map.of()));
    }
    t.close();
    for (CompletableFuture<Void> f : all) {
      // Every recording ends: written, or failed by the close.
      try {
        f.get(5, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        assertThat(e.getCause()).isInstanceOf(BloodbankException.class);
      }
    }
  }

  @Test
  void helpersWriteWhatJacksonAndTheFormatterWrite() throws Exception {
    List<String> ids = List.of(UUID.randomUUID().toString(), UUID.randomUUID().toString());
    assertThat(RedisCorrelationTracker.jsonList(ids)).isEqualTo(JSON.writeValueAsString(ids));
    assertThat(RedisCorrelationTracker.jsonList(List.of())).isEqualTo("[]");
    for (Instant i :
        List.of(
            Instant.parse("2026-01-27T10:00:00Z"),
            Instant.parse("2026-01-27T10:00:00.123456789Z"),
            Instant.parse("0001-01-01T00:00:00.000001Z"),
            Instant.parse("9999-12-31T23:59:59.999999Z"),
            Instant.parse("+10000-01-01T00:00:00Z"),
            Instant.now())) {
      assertThat(RedisCorrelationTracker.timestamp(i))
          .isEqualTo(RedisCorrelationTracker.TIMESTAMP.format(i));
    }
  }
}
