package dev.bloodbank.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.Publisher;
import dev.bloodbank.Transport;
import dev.bloodbank.command.CommandClient;
import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.registry.EventRegistry;
import dev.bloodbank.validation.ValidationMode;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/** Every property and every conditional bean of {@link BloodbankAutoConfiguration}. */
class BloodbankAutoConfigurationTest {

  /** Embedded transport and no environment variables of the machine. */
  static ApplicationContextRunner runner() {
    return runner(Map.of());
  }

  static ApplicationContextRunner runner(Map<String, Object> env) {
    return new ApplicationContextRunner()
        .withInitializer(
            ctx ->
                ctx.getEnvironment()
                    .getPropertySources()
                    .replace(
                        StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                        new SystemEnvironmentPropertySource(
                            StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, env)))
        .withPropertyValues("bloodbank.transport=embedded")
        .withConfiguration(AutoConfigurations.of(BloodbankAutoConfiguration.class));
  }

  @Test
  void busPublisherRegistryAndClientAreBeans() {
    runner()
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              Bloodbank bus = ctx.getBean(Bloodbank.class);
              assertThat(bus.options().transport().isEmbedded()).isTrue();
              assertThat(ctx.getBean(Publisher.class)).isSameAs(bus.publisher());
              assertThat(ctx.getBean(EventRegistry.class)).isSameAs(bus.registry());
              assertThat(ctx.getBean(BloodbankOptions.class)).isSameAs(bus.options());
              assertThat(ctx).hasSingleBean(CommandClient.class);
              // No tracking configured: no tracker bean for Optional injection points.
              assertThat(ctx.getBeanProvider(CorrelationTracker.class).getIfAvailable()).isNull();
            });
  }

  @Test
  void busIsClosedWithTheContext() {
    Bloodbank[] bus = new Bloodbank[1];
    runner().run(ctx -> bus[0] = ctx.getBean(Bloodbank.class));
    assertThat(bus[0].isOpen()).isFalse();
  }

  @Test
  void trackerIsABeanWhenCausationIsTracked() {
    CorrelationTracker tracker = CorrelationTracker.inMemory();
    runner()
        .withBean(BloodbankOptionsCustomizer.class, () -> o -> o.correlationTracker(tracker))
        .withUserConfiguration(NeedsOptionalTracker.class)
        .run(
            ctx -> {
              assertThat(ctx.getBean(CorrelationTracker.class)).isSameAs(tracker);
              assertThat(ctx.getBean(NeedsOptionalTracker.class).tracker).contains(tracker);
            });
  }

  @Configuration(proxyBeanMethods = false)
  static class NeedsOptionalTracker {
    @Autowired Optional<CorrelationTracker> tracker;
  }

  @Test
  void beansOfTheApplicationWin() {
    runner()
        .withUserConfiguration(OwnBus.class)
        .run(
            ctx -> {
              assertThat(ctx).hasSingleBean(Bloodbank.class);
              assertThat(ctx.getBean(Bloodbank.class).options().serviceName()).isEqualTo("own");
              assertThat(ctx).getBean("bloodbank").isNull();
            });
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnBus {
    @Bean(destroyMethod = "close")
    Bloodbank ownBus() {
      return Bloodbank.connect(
          BloodbankOptions.builder().serviceName("own").transport(Transport.embedded()).build());
    }
  }

  @Test
  void ownOptionsBeanIsUsed() {
    runner()
        .withBean(
            BloodbankOptions.class,
            () ->
                BloodbankOptions.builder()
                    .serviceName("given")
                    .transport(Transport.embedded())
                    .build())
        .run(
            ctx ->
                assertThat(ctx.getBean(Bloodbank.class).options().serviceName())
                    .isEqualTo("given"));
  }

  @Test
  void disabledLeavesBloodbankOut() {
    runner()
        .withPropertyValues("bloodbank.enabled=false")
        .run(ctx -> assertThat(ctx).doesNotHaveBean(Bloodbank.class));
  }

  static Stream<Arguments> properties() {
    return Stream.of(
        prop(
            "bloodbank.uri=amqp://u:p%40ss@rabbit:5673/v1",
            o ->
                o.addresses().toString()
                    + " "
                    + o.username()
                    + " "
                    + o.password()
                    + " "
                    + o.virtualHost(),
            "[rabbit:5673] u p@ss v1"),
        prop("bloodbank.uri=amqps://rabbit", BloodbankOptions::tls, true),
        prop("bloodbank.addresses=a:1,b", o -> o.addresses().toString(), "[a:1, b:5672]"),
        prop("bloodbank.virtual-host=/vh", BloodbankOptions::virtualHost, "/vh"),
        prop("bloodbank.username=alice", BloodbankOptions::username, "alice"),
        prop("bloodbank.password=secret", BloodbankOptions::password, "secret"),
        prop("bloodbank.tls=true", BloodbankOptions::tls, true),
        prop(
            "bloodbank.hostname-verification=false", BloodbankOptions::hostnameVerification, false),
        prop("bloodbank.exchange=my.exchange", BloodbankOptions::exchange, "my.exchange"),
        prop("bloodbank.service-name=indexer", BloodbankOptions::serviceName, "indexer"),
        prop("bloodbank.environment=prod", BloodbankOptions::environment, "prod"),
        prop("bloodbank.heartbeat=7s", BloodbankOptions::heartbeat, Duration.ofSeconds(7)),
        // A bare number is seconds, as the SDK's BLOODBANK_HEARTBEAT_SECONDS.
        prop("bloodbank.heartbeat=30", BloodbankOptions::heartbeat, Duration.ofSeconds(30)),
        prop(
            "bloodbank.connection-timeout=3s",
            BloodbankOptions::connectionTimeout,
            Duration.ofSeconds(3)),
        prop(
            "bloodbank.recovery-interval=250ms",
            BloodbankOptions::recoveryInterval,
            Duration.ofMillis(250)),
        prop("bloodbank.lazy-connect=true", BloodbankOptions::lazyConnect, true),
        prop(
            "bloodbank.shutdown-timeout=4s",
            BloodbankOptions::shutdownTimeout,
            Duration.ofSeconds(4)),
        prop(
            "bloodbank.validation=permissive",
            BloodbankOptions::validation,
            ValidationMode.PERMISSIVE),
        prop("bloodbank.log-context=false", BloodbankOptions::logContext, false),
        prop(
            "bloodbank.decode-limits.max-document-bytes=1000",
            o -> o.decodeLimits().maxDocumentBytes(),
            1000),
        prop(
            "bloodbank.decode-limits.max-nesting-depth=9",
            o -> o.decodeLimits().maxNestingDepth(),
            9),
        prop(
            "bloodbank.decode-limits.max-string-length=99",
            o -> o.decodeLimits().maxStringLength(),
            99),
        prop(
            "bloodbank.decode-limits.max-number-length=12",
            o -> o.decodeLimits().maxNumberLength(),
            12),
        prop(
            "bloodbank.decode-limits.max-name-length=33",
            o -> o.decodeLimits().maxNameLength(),
            33),
        prop(
            "bloodbank.correlation.uri=redis://cache:6380/2",
            o -> o.correlation().uri(),
            "redis://cache:6380/2"),
        prop(
            "bloodbank.correlation.enabled=true",
            o -> o.correlation().uri(),
            "redis://127.0.0.1:6379/0"),
        prop("bloodbank.correlation.cluster=true", o -> o.correlation() == null, true),
        prop("bloodbank.correlation.ttl=2d", o -> o.correlation() == null, true));
  }

  static Stream<Arguments> correlationProperties() {
    return Stream.of(
        prop("bloodbank.correlation.cluster=true", o -> o.correlation().cluster(), true),
        prop("bloodbank.correlation.client-name=me", o -> o.correlation().clientName(), "me"),
        prop("bloodbank.correlation.ttl=2d", o -> o.correlation().ttl(), Duration.ofDays(2)),
        prop(
            "bloodbank.correlation.command-timeout=2s",
            o -> o.correlation().commandTimeout(),
            Duration.ofSeconds(2)),
        prop(
            "bloodbank.correlation.request-queue-size=77",
            o -> o.correlation().requestQueueSize(),
            77),
        prop("bloodbank.correlation.max-nodes=55", o -> o.correlation().maxNodes(), 55),
        prop("bloodbank.correlation.max-depth=4", o -> o.correlation().maxDepth(), 4),
        prop(
            "bloodbank.correlation.max-pending-recordings=66",
            o -> o.correlation().maxPendingRecordings(),
            66));
  }

  private static Arguments prop(
      String property, Function<BloodbankOptions, Object> read, Object expected) {
    return Arguments.of(property, read, expected);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("properties")
  void eachPropertySetsItsOption(
      String property, Function<BloodbankOptions, Object> read, Object expected) {
    // The options bean alone: a bus with TLS or Redis settings would try to use them.
    new ApplicationContextRunner()
        .withPropertyValues(property, "bloodbank.use-environment-variables=false")
        .withUserConfiguration(OptionsOnly.class)
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              assertThat(read.apply(ctx.getBean(BloodbankOptions.class))).isEqualTo(expected);
            });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("correlationProperties")
  void eachCorrelationPropertySetsItsOption(
      String property, Function<BloodbankOptions, Object> read, Object expected) {
    new ApplicationContextRunner()
        .withPropertyValues(
            property,
            "bloodbank.correlation.enabled=true",
            "bloodbank.use-environment-variables=false")
        .withUserConfiguration(OptionsOnly.class)
        .run(
            ctx -> assertThat(read.apply(ctx.getBean(BloodbankOptions.class))).isEqualTo(expected));
  }

  /** The options bean of the auto-configuration, without the bus. */
  @Configuration(proxyBeanMethods = false)
  @org.springframework.boot.context.properties.EnableConfigurationProperties(
      BloodbankProperties.class)
  static class OptionsOnly {
    @Bean
    BloodbankOptions options(
        BloodbankProperties properties,
        org.springframework.core.env.Environment environment,
        org.springframework.beans.factory.ObjectProvider<org.springframework.boot.ssl.SslBundles>
            ssl,
        org.springframework.beans.factory.ObjectProvider<BloodbankOptionsCustomizer> customizers) {
      return new BloodbankAutoConfiguration()
          .bloodbankOptions(properties, environment, ssl, customizers);
    }
  }

  @Test
  void transportDefaultsToAmqp() {
    new ApplicationContextRunner()
        .withUserConfiguration(OptionsOnly.class)
        .run(
            ctx ->
                assertThat(ctx.getBean(BloodbankOptions.class).transport().isEmbedded()).isFalse());
  }

  @Test
  void environmentVariablesApplyBeneathTheProperties() {
    Map<String, Object> env =
        Map.of(
            "RABBIT_URL", "amqp://envuser:envpass@envhost:5679/envvh",
            "SERVICE_NAME", "env-service",
            "EXCHANGE_NAME", "env.exchange",
            "REDIS_URL", "redis://envredis:6390/1");
    runner(env)
        .run(
            ctx -> {
              BloodbankOptions o = ctx.getBean(BloodbankOptions.class);
              assertThat(o.addresses()).hasToString("[envhost:5679]");
              assertThat(o.username()).isEqualTo("envuser");
              assertThat(o.serviceName()).isEqualTo("env-service");
              assertThat(o.exchange()).isEqualTo("env.exchange");
              assertThat(o.correlation().uri()).isEqualTo("redis://envredis:6390/1");
            });
    new ApplicationContextRunner()
        .withInitializer(
            ctx ->
                ctx.getEnvironment()
                    .getPropertySources()
                    .replace(
                        StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                        new SystemEnvironmentPropertySource(
                            StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, env)))
        .withUserConfiguration(OptionsOnly.class)
        .withPropertyValues(
            "bloodbank.uri=amqp://prop:pp@prophost:5680/",
            "bloodbank.service-name=prop-service",
            "bloodbank.exchange=prop.exchange",
            "bloodbank.correlation.enabled=false")
        .run(
            ctx -> {
              BloodbankOptions o = ctx.getBean(BloodbankOptions.class);
              assertThat(o.addresses()).hasToString("[prophost:5680]");
              assertThat(o.username()).isEqualTo("prop");
              assertThat(o.serviceName()).isEqualTo("prop-service");
              assertThat(o.exchange()).isEqualTo("prop.exchange");
              assertThat(o.correlation()).isNull();
            });
  }

  @Test
  void environmentVariablesCanBeIgnored() {
    runner(Map.of("SERVICE_NAME", "env-service"))
        .withPropertyValues("bloodbank.use-environment-variables=false")
        .run(
            ctx ->
                assertThat(ctx.getBean(BloodbankOptions.class).serviceName())
                    .isEqualTo(BloodbankOptions.DEFAULT_SERVICE_NAME));
  }

  @Test
  void applicationNameIsTheServiceNameUnlessTheEnvironmentNamesOne() {
    runner()
        .withPropertyValues("spring.application.name=transcript-indexer")
        .run(
            ctx ->
                assertThat(ctx.getBean(BloodbankOptions.class).serviceName())
                    .isEqualTo("transcript-indexer"));
    runner(Map.of("SERVICE_NAME", "env-service"))
        .withPropertyValues("spring.application.name=transcript-indexer")
        .run(
            ctx ->
                assertThat(ctx.getBean(BloodbankOptions.class).serviceName())
                    .isEqualTo("env-service"));
  }

  @Test
  void customizersRunAfterThePropertiesInOrder() {
    runner()
        .withPropertyValues("bloodbank.exchange=from.property")
        .withBean("second", BloodbankOptionsCustomizer.class, () -> new Second())
        .withBean("first", BloodbankOptionsCustomizer.class, () -> new First())
        .run(
            ctx ->
                assertThat(ctx.getBean(BloodbankOptions.class).exchange())
                    .isEqualTo("from.property.first.second"));
  }

  @org.springframework.core.annotation.Order(1)
  static final class First implements BloodbankOptionsCustomizer {
    @Override
    public void customize(BloodbankOptions.Builder options) {
      options.exchange(options.build().exchange() + ".first");
    }
  }

  @org.springframework.core.annotation.Order(2)
  static final class Second implements BloodbankOptionsCustomizer {
    @Override
    public void customize(BloodbankOptions.Builder options) {
      options.exchange(options.build().exchange() + ".second");
    }
  }

  @Test
  void badPropertyValueFailsStartupNamingIt() {
    runner()
        .withPropertyValues("bloodbank.addresses=host:notaport")
        .run(
            ctx ->
                assertThat(ctx)
                    .getFailure()
                    .hasStackTraceContaining("bloodbank.addresses entry 'host:notaport'"));
  }

  @Test
  void unknownSslBundleFailsStartupNamingIt() {
    runner()
        .withConfiguration(AutoConfigurations.of(SslAutoConfiguration.class))
        .withPropertyValues("bloodbank.ssl.bundle=missing")
        .run(ctx -> assertThat(ctx).getFailure().rootCause().hasMessageContaining("missing"));
  }

  @Test
  void contextMeterRegistryGetsTheBusMeters() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    runner()
        .withBean(MeterRegistry.class, () -> registry)
        .run(
            ctx -> {
              BloodbankOptions o = ctx.getBean(BloodbankOptions.class);
              assertThat(o.observability()).isNotNull();
              assertThat(o.observability().meterRegistry()).isSameAs(registry);
              assertThat(o.observability().amqpClientMetrics()).isTrue();
              assertThat(registry.getMeters())
                  .anySatisfy(m -> assertThat(m.getId().getName()).startsWith("bloodbank."));
            });
    runner()
        .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withPropertyValues("bloodbank.observability.amqp-client-metrics=false")
        .run(
            ctx ->
                assertThat(ctx.getBean(BloodbankOptions.class).observability().amqpClientMetrics())
                    .isFalse());
    runner()
        .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withPropertyValues("bloodbank.observability.enabled=false")
        .run(ctx -> assertThat(ctx.getBean(BloodbankOptions.class).observability()).isNull());
  }

  @Test
  void noRegistryNoObservability() {
    runner().run(ctx -> assertThat(ctx.getBean(BloodbankOptions.class).observability()).isNull());
  }

  /**
   * A user's durable publisher, as the README's health section suggests; a mock, since the embedded
   * transport keeps nothing on disk and only the bean conditions are under test here.
   */
  static class DurableConfig {
    @Bean(destroyMethod = "")
    dev.bloodbank.wal.DurablePublisher durable() {
      return org.mockito.Mockito.mock(dev.bloodbank.wal.DurablePublisher.class);
    }
  }

  @Test
  void aDurablePublisherBeanStandsBesideTheSharedPublisher() {
    runner()
        .withUserConfiguration(DurableConfig.class)
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              assertThat(ctx.getBeansOfType(dev.bloodbank.Publisher.class)).hasSize(2);
              assertThat(ctx.getBean(dev.bloodbank.Publisher.class))
                  .isSameAs(ctx.getBean(dev.bloodbank.Bloodbank.class).publisher())
                  .isNotInstanceOf(dev.bloodbank.wal.DurablePublisher.class);
            });
  }

  @Test
  void aSubSecondHeartbeatIsRefusedByName() {
    runner()
        .withPropertyValues("bloodbank.heartbeat=500ms")
        .run(
            ctx ->
                assertThat(ctx)
                    .getFailure()
                    .hasStackTraceContaining("heartbeat is in whole seconds")
                    .hasStackTraceContaining("500 ms"));
  }
}
