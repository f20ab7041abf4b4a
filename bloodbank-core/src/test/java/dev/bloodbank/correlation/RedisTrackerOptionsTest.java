package dev.bloodbank.correlation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RedisTrackerOptionsTest {
  @Test
  void defaults() {
    RedisTrackerOptions o = RedisTrackerOptions.defaults();
    assertThat(o.uri()).isEqualTo(RedisTrackerOptions.DEFAULT_URI);
    assertThat(o.ttl()).isEqualTo(Duration.ofDays(30));
    assertThat(o.commandTimeout()).isEqualTo(RedisTrackerOptions.DEFAULT_COMMAND_TIMEOUT);
    assertThat(o.requestQueueSize()).isEqualTo(RedisTrackerOptions.DEFAULT_REQUEST_QUEUE_SIZE);
    assertThat(o.cluster()).isFalse();
  }

  @Test
  void fromEnvironmentPrefersRedisUrl() {
    RedisTrackerOptions o =
        RedisTrackerOptions.fromEnvironment(
            Map.of(
                "REDIS_URL",
                "rediss://:s3cret@cache:6380/2",
                "REDIS_HOST",
                "ignored",
                "CORRELATION_TTL_DAYS",
                "7"));
    assertThat(o.uri()).isEqualTo("rediss://:s3cret@cache:6380/2");
    assertThat(o.ttl()).isEqualTo(Duration.ofDays(7));
    assertThat(o.toString()).doesNotContain("s3cret").contains("****");
  }

  @Test
  void fromEnvironmentBuildsTheUriFromParts() {
    RedisTrackerOptions o =
        RedisTrackerOptions.fromEnvironment(
            Map.of(
                "REDIS_HOST",
                "db",
                "REDIS_PORT",
                "6390",
                "REDIS_DB",
                "3",
                "REDIS_PASSWORD",
                "p@ss:w/rd",
                "REDIS_CLUSTER",
                "true"));
    assertThat(o.uri()).isEqualTo("redis://:p%40ss%3Aw%2Frd@db:6390/3");
    assertThat(o.cluster()).isTrue();
    assertThat(o.toString()).doesNotContain("p%40ss");
  }

  @Test
  void badValuesNameTheVariableOrSetting() {
    assertThatThrownBy(() -> RedisTrackerOptions.fromEnvironment(Map.of("REDIS_PORT", "http")))
        .hasMessageContaining("REDIS_PORT")
        .hasMessageContaining("http");
    assertThatThrownBy(() -> RedisTrackerOptions.fromEnvironment(Map.of("REDIS_PORT", "70000")))
        .hasMessageContaining("between 1 and 65535, was 70000");
    assertThatThrownBy(() -> RedisTrackerOptions.builder().uri("http://user:pw@x"))
        .hasMessageContaining("redis://")
        .hasMessageNotContaining("pw");
    assertThatThrownBy(() -> RedisTrackerOptions.builder().requestQueueSize(1))
        .hasMessage("requestQueueSize must be between 16 and 1000000, was 1");
    assertThatThrownBy(() -> RedisTrackerOptions.builder().ttl(Duration.ZERO))
        .hasMessageContaining("ttl must be between");
  }
}
