package dev.bloodbank.correlation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisCredentials;
import io.lettuce.core.RedisURI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RedisTrackerOptionsTest {
  private static RedisCredentials credentials(RedisURI u) {
    return u.getCredentialsProvider().resolveCredentials().block();
  }

  @Test
  void defaults() {
    RedisTrackerOptions o = RedisTrackerOptions.defaults();
    assertThat(o.uri()).isEqualTo("redis://127.0.0.1:6379/0");
    assertThat(o.cluster()).isFalse();
    assertThat(o.clientName()).isEqualTo("bloodbank-correlation");
    assertThat(o.ttl()).isEqualTo(Duration.ofDays(30));
    assertThat(o.commandTimeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(o.requestQueueSize()).isEqualTo(8192);
    assertThat(o.maxNodes()).isEqualTo(10_000);
    assertThat(o.maxDepth()).isEqualTo(CorrelationTracker.DEFAULT_MAX_DEPTH);
    assertThat(o.maxPendingRecordings()).isEqualTo(5000);
    RedisURI u = o.redisUris().get(0);
    assertThat(u.getTimeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(u.getClientName()).isEqualTo("bloodbank-correlation");
  }

  @Test
  void mutateKeepsEveryValue() {
    RedisTrackerOptions o =
        RedisTrackerOptions.builder()
            .uri("rediss://:pw@cache:6380/2")
            .clientName("svc")
            .ttl(Duration.ofDays(7))
            .commandTimeout(Duration.ofMillis(250))
            .requestQueueSize(64)
            .maxNodes(5)
            .maxDepth(4)
            .maxPendingRecordings(9)
            .build();
    RedisTrackerOptions copy = o.mutate().build();
    assertThat(copy).hasToString(o.toString());
    assertThat(copy.uri()).isEqualTo(o.uri());
    assertThat(o.mutate().maxNodes(6).build().maxNodes()).isEqualTo(6);
    assertThat(o.maxNodes()).isEqualTo(5);
  }

  @Test
  void fromEnvironmentPrefersRedisUrl() {
    RedisTrackerOptions o =
        RedisTrackerOptions.fromEnvironment(
            Map.of(
                "REDIS_URL", "rediss://:s3cret@cache:6380/2",
                "REDIS_HOST", "ignored",
                "CORRELATION_TTL_DAYS", "7"));
    assertThat(o.uri()).isEqualTo("rediss://:s3cret@cache:6380/2");
    assertThat(o.ttl()).isEqualTo(Duration.ofDays(7));
    assertThat(o.redisUris().get(0).isSsl()).isTrue();
    assertThat(o.toString()).doesNotContain("s3cret").contains("rediss://:****@cache:6380/2");
  }

  @Test
  void fromEnvironmentBuildsTheUriFromPartsThatLettuceDecodes() {
    RedisTrackerOptions o =
        RedisTrackerOptions.fromEnvironment(
            Map.of(
                "REDIS_HOST", "db",
                "REDIS_PORT", "6390",
                "REDIS_DB", "3",
                "REDIS_USERNAME", "svc",
                "REDIS_PASSWORD", "p@ss:w/rd +x"));
    assertThat(o.uri()).isEqualTo("redis://svc:p%40ss%3Aw%2Frd%20%2Bx@db:6390/3");
    RedisURI u = o.redisUris().get(0);
    assertThat(u.getHost()).isEqualTo("db");
    assertThat(u.getPort()).isEqualTo(6390);
    assertThat(u.getDatabase()).isEqualTo(3);
    assertThat(credentials(u).getUsername()).isEqualTo("svc");
    assertThat(new String(credentials(u).getPassword())).isEqualTo("p@ss:w/rd +x");
    assertThat(o.toString()).doesNotContain("p%40ss").contains("redis://svc:****@db:6390/3");
  }

  @Test
  void fromEnvironmentDefaultsAndIpv6() {
    assertThat(RedisTrackerOptions.fromEnvironment(Map.of()).uri())
        .isEqualTo("redis://127.0.0.1:6379/0");
    assertThat(RedisTrackerOptions.fromEnvironment(Map.of("REDIS_HOST", "::1")).uri())
        .isEqualTo("redis://[::1]:6379/0");
    assertThat(RedisTrackerOptions.fromEnvironment(Map.of("REDIS_URL", "  ")).uri())
        .isEqualTo(RedisTrackerOptions.DEFAULT_URI);
  }

  @Test
  void clusterSeedsFromEnvironment() {
    RedisTrackerOptions o =
        RedisTrackerOptions.fromEnvironment(
            Map.of("REDIS_URL", "redis://:pw@node1:7000,node2:7001", "REDIS_CLUSTER", "TRUE"));
    assertThat(o.cluster()).isTrue();
    List<RedisURI> seeds = o.redisUris();
    assertThat(seeds).extracting(RedisURI::getHost).containsExactly("node1", "node2");
    assertThat(seeds).extracting(RedisURI::getPort).containsExactly(7000, 7001);
    assertThat(new String(credentials(seeds.get(1)).getPassword())).isEqualTo("pw");

    RedisTrackerOptions full =
        RedisTrackerOptions.builder()
            .uri("rediss://:a@n1:7000,rediss://:b@n2:7001")
            .cluster(true)
            .build();
    assertThat(full.redisUris()).allSatisfy(u -> assertThat(u.isSsl()).isTrue());
    assertThat(full.toString()).contains("rediss://:****@n1:7000,rediss://:****@n2:7001");
  }

  @Test
  void sentinelUri() {
    RedisTrackerOptions o =
        RedisTrackerOptions.builder()
            .uri("redis-sentinel://:pw@s1:26379,s2:26380/1#mymaster")
            .build();
    RedisURI u = o.redisUris().get(0);
    assertThat(u.getSentinelMasterId()).isEqualTo("mymaster");
    assertThat(u.getSentinels()).hasSize(2);
    assertThat(u.getDatabase()).isEqualTo(1);
    assertThat(o.toString()).contains("redis-sentinel://:****@s1:26379,s2:26380/1#mymaster");
  }

  static Stream<Arguments> redactions() {
    return Stream.of(
        Arguments.of("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        Arguments.of("redis://:pw@h:1/0", "redis://:****@h:1/0"),
        Arguments.of("redis://user:pw@h", "redis://user:****@h"),
        Arguments.of("redis://pw@h", "redis://****@h"),
        Arguments.of("redis://:p@ss/w,rd@h:1", "redis://:****@h:1"),
        Arguments.of("rediss://:a@n1,redis://u:b@n2", "rediss://:****@n1,redis://u:****@n2"));
  }

  @ParameterizedTest
  @MethodSource("redactions")
  void redactMasksEveryPassword(String uri, String redacted) {
    assertThat(RedisTrackerOptions.redact(uri)).isEqualTo(redacted);
  }

  @Test
  void badEnvironmentNamesTheVariable() {
    assertThatThrownBy(() -> RedisTrackerOptions.fromEnvironment(Map.of("REDIS_PORT", "http")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("REDIS_PORT must be a whole number between 1 and 65535, was 'http'");
    assertThatThrownBy(() -> RedisTrackerOptions.fromEnvironment(Map.of("REDIS_PORT", "70000")))
        .hasMessage("REDIS_PORT must be between 1 and 65535, was 70000");
    assertThatThrownBy(() -> RedisTrackerOptions.fromEnvironment(Map.of("REDIS_DB", "-1")))
        .hasMessage("REDIS_DB must be between 0 and 1000000, was -1");
    assertThatThrownBy(
            () -> RedisTrackerOptions.fromEnvironment(Map.of("CORRELATION_TTL_DAYS", "0")))
        .hasMessage("CORRELATION_TTL_DAYS must be between 1 and 3650, was 0");
    assertThatThrownBy(() -> RedisTrackerOptions.fromEnvironment(Map.of("REDIS_CLUSTER", "yes")))
        .hasMessage("REDIS_CLUSTER must be true or false, was 'yes'");
    assertThatThrownBy(
            () -> RedisTrackerOptions.fromEnvironment(Map.of("REDIS_URL", "http://u:s3cret@h")))
        .hasMessageStartingWith("REDIS_URL: ")
        .hasMessageContaining("must start with redis://")
        .hasMessageNotContaining("s3cret");
    assertThatThrownBy(
            () -> RedisTrackerOptions.fromEnvironment(Map.of("REDIS_URL", "redis://:s3cret@h:1 2")))
        .hasMessageStartingWith("REDIS_URL: malformed Redis URI 'redis://:****@h:1 2'")
        .hasMessageNotContaining("s3cret");
  }

  @Test
  void malformedUrisAreRejectedAtBuildWithoutThePassword() {
    for (String bad :
        List.of(
            "redis://:s3cret@h:99999",
            "redis://:s3cret@h:1/abc",
            "redis://:s3cret@",
            "redis://:s3cret@h:1 2")) {
      assertThatThrownBy(() -> RedisTrackerOptions.builder().uri(bad).build())
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("malformed Redis URI")
          .hasMessageNotContaining("s3cret")
          .hasNoCause();
    }
    assertThatThrownBy(() -> RedisTrackerOptions.builder().uri("redis://a:1,b:2").build())
        .hasMessageContaining("need cluster(true)");
    assertThatThrownBy(
            () ->
                RedisTrackerOptions.builder()
                    .uri("redis-sentinel://s1:26379#m")
                    .cluster(true)
                    .build())
        .hasMessageContaining("cluster mode needs redis:// or rediss:// seeds");
  }

  @Test
  void settersRejectOutOfRangeValuesNamingTheRange() {
    RedisTrackerOptions.Builder b = RedisTrackerOptions.builder();
    assertThatThrownBy(() -> b.requestQueueSize(1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("requestQueueSize must be between 16 and 1000000, was 1");
    assertThatThrownBy(() -> b.maxNodes(0))
        .hasMessage("maxNodes must be between 1 and 1000000, was 0");
    assertThatThrownBy(() -> b.maxDepth(0))
        .hasMessage("maxDepth must be between 1 and 10000, was 0");
    assertThatThrownBy(() -> b.maxPendingRecordings(0))
        .hasMessage("maxPendingRecordings must be between 1 and 1000000, was 0");
    assertThatThrownBy(() -> b.ttl(Duration.ZERO))
        .hasMessage("ttl must be between 1 s and 3650 days, was PT0S");
    assertThatThrownBy(() -> b.ttl(Duration.ofDays(3651)))
        .hasMessage("ttl must be between 1 s and 3650 days, was PT87624H");
    assertThatThrownBy(() -> b.commandTimeout(Duration.ZERO))
        .hasMessage("commandTimeout must be between 1 ms and 1 min, was PT0S");
    assertThatThrownBy(() -> b.clientName("has space"))
        .hasMessage(
            "clientName must be 1 to 64 characters from A-Z a-z 0-9 . _ : -, was 'has space'");
    assertThatThrownBy(() -> b.uri(null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void toStringNeverShowsThePassword() {
    RedisTrackerOptions o =
        RedisTrackerOptions.builder().uri("redis://admin:hunter2@redis.internal:6379/0").build();
    assertThat(o.toString())
        .doesNotContain("hunter2")
        .contains("redis://admin:****@redis.internal:6379/0")
        .contains("ttl=PT720H");
  }
}
