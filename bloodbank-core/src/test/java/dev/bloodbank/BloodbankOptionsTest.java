package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.bloodbank.validation.ValidationMode;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Defaults, URI parsing, environment variables and password hygiene of {@link BloodbankOptions}.
 */
class BloodbankOptionsTest {
  private static final String SECRET = "s3cr3t-Pa55";

  @Test
  void defaults() {
    BloodbankOptions o = BloodbankOptions.defaults();
    assertThat(o.addresses())
        .containsExactly(
            new BloodbankOptions.Address(
                BloodbankOptions.DEFAULT_HOST, BloodbankOptions.DEFAULT_PORT));
    assertThat(o.virtualHost()).isEqualTo("/");
    assertThat(o.username()).isEqualTo(BloodbankOptions.DEFAULT_USERNAME).isEqualTo("guest");
    assertThat(o.password()).isEqualTo("guest");
    assertThat(o.tls()).isFalse();
    assertThat(o.sslContext()).isNull();
    assertThat(o.hostnameVerification()).isTrue();
    assertThat(o.exchange()).isEqualTo(BloodbankOptions.DEFAULT_EXCHANGE);
    assertThat(o.serviceName()).isEqualTo(BloodbankOptions.DEFAULT_SERVICE_NAME);
    assertThat(o.heartbeat()).isEqualTo(BloodbankOptions.DEFAULT_HEARTBEAT);
    assertThat(o.connectionTimeout()).isEqualTo(BloodbankOptions.DEFAULT_CONNECTION_TIMEOUT);
    assertThat(o.recoveryInterval()).isEqualTo(BloodbankOptions.DEFAULT_RECOVERY_INTERVAL);
    assertThat(o.decodeLimits().toString()).isEqualTo(DecodeLimits.defaults().toString());
    assertThat(o.validation()).isEqualTo(ValidationMode.STRICT);
    assertThat(o.correlation()).isNull();
    assertThat(o.correlationTracker()).isNull();
  }

  @Test
  void tlsWithoutAddressDefaultsToPort5671() {
    assertThat(BloodbankOptions.builder().tls(true).build().addresses())
        .containsExactly(new BloodbankOptions.Address("localhost", 5671));
  }

  // ---- uri() -------------------------------------------------------------------------------

  static Stream<Arguments> uris() {
    return Stream.of(
        // uri, addresses, user, password, vhost, tls
        Arguments.of(
            "amqp://bob:pw@rabbit.example:5673/prod",
            List.of("rabbit.example:5673"),
            "bob",
            "pw",
            "prod",
            false),
        Arguments.of("amqp://rabbit", List.of("rabbit:5672"), "guest", "guest", "/", false),
        Arguments.of("amqps://rabbit", List.of("rabbit:5671"), "guest", "guest", "/", true),
        Arguments.of("AMQPS://rabbit:6000/", List.of("rabbit:6000"), "guest", "guest", "/", true),
        Arguments.of("amqp://rabbit/", List.of("rabbit:5672"), "guest", "guest", "/", false),
        Arguments.of("amqp://rabbit/%2f", List.of("rabbit:5672"), "guest", "guest", "/", false),
        Arguments.of(
            "amqp://rabbit/%2Fprod", List.of("rabbit:5672"), "guest", "guest", "/prod", false),
        Arguments.of("amqp://alice@rabbit", List.of("rabbit:5672"), "alice", "guest", "/", false),
        Arguments.of(
            "amqp://us%40er:p%3Ass%2Fw%40rd%25@rabbit/v%20h",
            List.of("rabbit:5672"), "us@er", "p:ss/w@rd%", "v h", false),
        Arguments.of("amqp://u:a+b@rabbit", List.of("rabbit:5672"), "u", "a+b", "/", false),
        Arguments.of(
            "amqp://u:p@h1:5673/v, amqp://h2 ,amqp://x:y@h3:5674/other,",
            List.of("h1:5673", "h2:5672", "h3:5674"),
            "u",
            "p",
            "v",
            false),
        Arguments.of(
            "amqps://u:p@h1,amqps://h2", List.of("h1:5671", "h2:5671"), "u", "p", "/", true));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("uris")
  void uriParsing(
      String uri, List<String> addresses, String user, String password, String vhost, boolean tls) {
    BloodbankOptions o = BloodbankOptions.builder().uri(uri).build();
    assertThat(o.addresses()).extracting(BloodbankOptions.Address::toString).isEqualTo(addresses);
    assertThat(o.username()).isEqualTo(user);
    assertThat(o.password()).isEqualTo(password);
    assertThat(o.virtualHost()).isEqualTo(vhost);
    assertThat(o.tls()).isEqualTo(tls);
  }

  static Stream<Arguments> malformedUris() {
    return Stream.of(
        // uri, password that must not show, text the message must contain
        Arguments.of("http://bob:" + SECRET + "@rabbit/", SECRET, "amqp://"),
        Arguments.of("amqp://bob:" + SECRET + "@/", SECRET, "no host"),
        Arguments.of("amqp://bob:" + SECRET + "@rab bit/", SECRET, "malformed"),
        Arguments.of("amqp://bob:" + SECRET + "@rabbit:port/", SECRET, "bob"),
        Arguments.of("amqp://bob:" + SECRET + "@rabbit/%zz", SECRET, "bob"),
        // an unencoded '/' in the password is a common mistake; still never show the password
        Arguments.of("amqp://bob:pa/ss" + SECRET + "@rabbit/", "pa/ss" + SECRET, "bob"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedUris")
  void malformedUriIsNamedWithoutItsPassword(String uri, String password, String expected) {
    Throwable t = catchThrowable(() -> BloodbankOptions.builder().uri(uri));
    assertThat(t).isInstanceOf(IllegalArgumentException.class);
    assertThat(t.getMessage()).contains(expected).contains("bob").doesNotContain(password);
    assertNoPasswordInChain(t, password);
  }

  @Test
  void noUriAtAll() {
    assertThatThrownBy(() -> BloodbankOptions.builder().uri(" , "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no AMQP URI");
  }

  @Test
  void portOutOfRangeShowsValueAndRange() {
    assertThatThrownBy(() -> BloodbankOptions.builder().uri("amqp://rabbit:70000"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("70000")
        .hasMessageContaining("65535");
  }

  // ---- fromEnvironment(Map) ------------------------------------------------------------------

  @Test
  void emptyEnvironmentGivesDefaults() {
    assertThat(BloodbankOptions.fromEnvironment(Map.of()).toString())
        .isEqualTo(BloodbankOptions.defaults().toString());
  }

  @Test
  void environmentVariables() {
    BloodbankOptions o =
        BloodbankOptions.fromEnvironment(
            Map.of(
                "RABBIT_URL", " amqp://svc:" + SECRET + "@mq1:5673/bus ",
                "RABBITMQ_URL", "amqp://other@elsewhere",
                "BLOODBANK_EXCHANGE", "my.exchange",
                "EXCHANGE_NAME", "ignored.exchange",
                "BLOODBANK_SERVICE_NAME", "svc-a",
                "BLOODBANK_HEARTBEAT_SECONDS", " 7 ",
                "BLOODBANK_VALIDATION", "Permissive",
                "UNRELATED", "x"));
    assertThat(o.addresses()).containsExactly(new BloodbankOptions.Address("mq1", 5673));
    assertThat(o.username()).isEqualTo("svc");
    assertThat(o.password()).isEqualTo(SECRET);
    assertThat(o.virtualHost()).isEqualTo("bus");
    assertThat(o.exchange()).isEqualTo("my.exchange");
    assertThat(o.serviceName()).isEqualTo("svc-a");
    assertThat(o.heartbeat()).isEqualTo(Duration.ofSeconds(7));
    assertThat(o.validation()).isEqualTo(ValidationMode.PERMISSIVE);
    assertThat(o.correlation()).isNull();
  }

  @Test
  void fallbackVariableNames() {
    BloodbankOptions o =
        BloodbankOptions.fromEnvironment(
            Map.of(
                "RABBIT_URL", "  ",
                "RABBITMQ_URL", "amqps://mq2",
                "EXCHANGE_NAME", "legacy.exchange"));
    assertThat(o.addresses()).containsExactly(new BloodbankOptions.Address("mq2", 5671));
    assertThat(o.tls()).isTrue();
    assertThat(o.exchange()).isEqualTo("legacy.exchange");
  }

  @Test
  void malformedUrlNamesTheVariableAndNotThePassword() {
    Throwable t =
        catchThrowable(
            () ->
                BloodbankOptions.fromEnvironment(
                    Map.of("RABBIT_URL", "amqp://svc:" + SECRET + "@mq 1/")));
    assertThat(t).isInstanceOf(IllegalArgumentException.class);
    assertThat(t.getMessage()).startsWith("RABBIT_URL").doesNotContain(SECRET);
    assertNoPasswordInChain(t, SECRET);
  }

  @Test
  void malformedFallbackUrlNamesTheVariableThatHoldsIt() {
    Map<String, String> env = new HashMap<>();
    env.put("RABBIT_URL", ""); // set but empty, as in a docker-compose file with a blank value
    env.put("RABBITMQ_URL", "http://mq");
    assertThatThrownBy(() -> BloodbankOptions.fromEnvironment(env))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("RABBITMQ_URL");
  }

  @ParameterizedTest
  @ValueSource(strings = {"abc", "1.5", "-1", "70000"})
  void badHeartbeatNamesTheVariableAndValue(String value) {
    assertThatThrownBy(
            () -> BloodbankOptions.fromEnvironment(Map.of("BLOODBANK_HEARTBEAT_SECONDS", value)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("BLOODBANK_HEARTBEAT_SECONDS")
        .hasMessageContaining(value);
  }

  @Test
  void badValidationNamesTheVariable() {
    assertThatThrownBy(
            () -> BloodbankOptions.fromEnvironment(Map.of("BLOODBANK_VALIDATION", "loose")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("BLOODBANK_VALIDATION")
        .hasMessageContaining("loose");
  }

  // ---- password hygiene, mutate, setters ----------------------------------------------------

  @Test
  void toStringNeverShowsAPassword() {
    BloodbankOptions o =
        BloodbankOptions.fromEnvironment(
            Map.of(
                "RABBIT_URL", "amqp://svc:" + SECRET + "@mq1/",
                "REDIS_URL", "redis://:redis-" + SECRET + "@redis1:6379/0"));
    assertThat(o.correlation()).isNotNull();
    assertThat(o.toString()).contains("svc").contains("mq1").doesNotContain(SECRET);
    assertThat(BloodbankOptions.builder().credentials("u", SECRET).build().toString())
        .doesNotContain(SECRET);
  }

  @Test
  void mutateRoundTrips() {
    BloodbankOptions o =
        BloodbankOptions.builder()
            .uri("amqps://u:" + SECRET + "@h1:1111/vh,amqps://h2:2222")
            .hostnameVerification(false)
            .exchange("ex")
            .serviceName("svc")
            .heartbeat(Duration.ofSeconds(3))
            .connectionTimeout(Duration.ofMillis(1500))
            .recoveryInterval(Duration.ofMillis(700))
            .decodeLimits(DecodeLimits.builder().maxNestingDepth(9).build())
            .validation(ValidationMode.SKIP)
            .build();
    BloodbankOptions copy = o.mutate().build();
    assertThat(copy.addresses()).isEqualTo(o.addresses());
    assertThat(copy.virtualHost()).isEqualTo("vh");
    assertThat(copy.username()).isEqualTo("u");
    assertThat(copy.password()).isEqualTo(SECRET);
    assertThat(copy.tls()).isTrue();
    assertThat(copy.hostnameVerification()).isFalse();
    assertThat(copy.exchange()).isEqualTo("ex");
    assertThat(copy.serviceName()).isEqualTo("svc");
    assertThat(copy.heartbeat()).isEqualTo(Duration.ofSeconds(3));
    assertThat(copy.connectionTimeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(copy.recoveryInterval()).isEqualTo(Duration.ofMillis(700));
    assertThat(copy.decodeLimits()).isSameAs(o.decodeLimits());
    assertThat(copy.validation()).isEqualTo(ValidationMode.SKIP);
    assertThat(copy.toString()).isEqualTo(o.toString());

    BloodbankOptions changed = o.mutate().exchange("other").address("h9", 9).build();
    assertThat(changed.exchange()).isEqualTo("other");
    assertThat(changed.addresses()).extracting(Object::toString).containsExactly("h9:9");
    assertThat(o.exchange()).isEqualTo("ex");
    assertThat(o.addresses()).hasSize(2);
  }

  @Test
  void settersRejectBadValuesShowingValueAndRange() {
    BloodbankOptions.Builder b = BloodbankOptions.builder();
    assertThatThrownBy(() -> b.heartbeat(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("heartbeat")
        .hasMessageContaining("PT-1S");
    assertThatThrownBy(() -> b.heartbeat(Duration.ofSeconds(65536)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("65535")
        .hasMessageContaining("65536");
    assertThatThrownBy(() -> b.connectionTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("connectionTimeout")
        .hasMessageContaining("positive")
        .hasMessageContaining("PT0S");
    assertThatThrownBy(() -> b.recoveryInterval(Duration.ofMillis(-5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("recoveryInterval")
        .hasMessageContaining("-0.005");
    assertThatThrownBy(() -> b.address("h", 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port must be between 1 and 65535, was 0");
    assertThatThrownBy(() -> b.addresses(List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least one");
    assertThatThrownBy(() -> b.exchange(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("exchange");
    assertThatThrownBy(() -> b.serviceName(""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("serviceName");
    assertThatThrownBy(() -> b.credentials("u", null)).isInstanceOf(NullPointerException.class);
    assertThat(b.heartbeat(Duration.ZERO).build().heartbeat()).isZero();
    // Sent in whole seconds: a sub-second heartbeat would silently become the broker's.
    assertThatThrownBy(() -> b.heartbeat(Duration.ofMillis(500)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("whole seconds")
        .hasMessageContaining("500 ms");
  }

  private static void assertNoPasswordInChain(Throwable t, String password) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      assertThat(String.valueOf(c.getMessage()))
          .as("message of %s in the cause chain", c.getClass().getName())
          .doesNotContain(password);
    }
  }
}
