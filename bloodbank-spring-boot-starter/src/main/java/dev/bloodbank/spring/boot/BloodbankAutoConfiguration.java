package dev.bloodbank.spring.boot;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.Publisher;
import dev.bloodbank.command.CommandClient;
import dev.bloodbank.command.CommandProcessor;
import dev.bloodbank.command.CommandProcessorOptions;
import dev.bloodbank.command.Invokable;
import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.observability.BloodbankObservability;
import dev.bloodbank.registry.EventRegistry;
import dev.bloodbank.wal.DurablePublisher;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.LazyInitializationExcludeFilter;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Lazy;
import org.springframework.context.annotation.Primary;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.Environment;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;

/**
 * Auto-configuration of Bloodbank: the {@link BloodbankOptions} from the {@code bloodbank.*}
 * properties over the SDK's environment variables, the {@link Bloodbank} bus (closed with the
 * context: listeners drain, publishers wait for their confirms, write-ahead logs close), its shared
 * {@link Publisher}, its {@link EventRegistry}, its {@link CorrelationTracker} when causation is
 * tracked, the {@link BloodbankListener} methods, the command processor ({@code
 * bloodbank.commands.enabled=true}) and client, and with Actuator the {@code bloodbank} health
 * indicator and the bus's meters and observations.
 *
 * <p>Each bean backs off when the application defines its own of the same type. Exclude this class
 * (or set {@code bloodbank.enabled=false}) to leave Bloodbank out of the context.
 *
 * @since 0.2.0
 */
@AutoConfiguration(
    afterName = {
      // The registries the bus's meters go to, on Boot 3.5 and on Boot 4.
      "org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration",
      "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
      "org.springframework.boot.actuate.autoconfigure.observation.ObservationAutoConfiguration",
      "org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration",
      "org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration"
    })
@ConditionalOnClass(Bloodbank.class)
@ConditionalOnProperty(prefix = "bloodbank", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(BloodbankProperties.class)
public class BloodbankAutoConfiguration {
  private static final Logger LOG = LoggerFactory.getLogger(BloodbankAutoConfiguration.class);

  /** Created by Spring. */
  public BloodbankAutoConfiguration() {}

  /**
   * The bus's options: environment variables, then {@code bloodbank.*} properties, then each {@link
   * BloodbankOptionsCustomizer} in order.
   *
   * @param properties the bound properties
   * @param environment the Spring environment (its system environment and application name)
   * @param sslBundles Boot's SSL bundles, for {@code bloodbank.ssl.bundle}
   * @param customizers the customizers
   * @return the options
   */
  @Bean
  @ConditionalOnMissingBean
  public BloodbankOptions bloodbankOptions(
      BloodbankProperties properties,
      Environment environment,
      ObjectProvider<SslBundles> sslBundles,
      ObjectProvider<BloodbankOptionsCustomizer> customizers) {
    BloodbankOptions options =
        OptionsFactory.build(
            properties,
            environmentVariables(environment),
            environment.getProperty("spring.application.name"),
            sslBundles.getIfAvailable(),
            customizers.orderedStream().toList());
    LOG.debug("Bloodbank options: {}", options);
    return options;
  }

  /**
   * The bus, closed with the context within {@link BloodbankOptions#shutdownTimeout()}.
   *
   * @param options the options
   * @return the connected bus
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public Bloodbank bloodbank(BloodbankOptions options) {
    return Bloodbank.connect(options);
  }

  /**
   * The bus's shared publisher ({@link Bloodbank#publisher()}); the bus closes it. Your own {@link
   * DurablePublisher} beans stand beside it (this one is {@code @Primary}, so a plain {@code
   * Publisher} injection still gets it); a plain {@code Publisher} bean of yours replaces it.
   *
   * @param bus the bus
   * @return the publisher
   */
  @Bean(destroyMethod = "")
  @Primary
  @ConditionalOnMissingBean(value = Publisher.class, ignored = DurablePublisher.class)
  public Publisher bloodbankPublisher(Bloodbank bus) {
    if (bus.isConnected() || !bus.options().lazyConnect()) {
      return bus.publisher();
    }
    // A lazily connecting bus has no publisher until it is connected; the bean asks for the
    // shared one at each call, so that the context starts without the broker.
    return (Publisher)
        Proxy.newProxyInstance(
            Publisher.class.getClassLoader(),
            new Class<?>[] {Publisher.class},
            (proxy, method, args) -> {
              if (method.getDeclaringClass() == Object.class) {
                return switch (method.getName()) {
                  case "equals" -> proxy == args[0];
                  case "hashCode" -> System.identityHashCode(proxy);
                  default -> "Publisher(shared, of " + bus.options().serviceName() + ")";
                };
              }
              try {
                return method.invoke(bus.publisher(), args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  /**
   * The bus's event registry ({@link Bloodbank#registry()}).
   *
   * @param bus the bus
   * @return the registry
   */
  @Bean
  @ConditionalOnMissingBean
  public EventRegistry bloodbankEventRegistry(Bloodbank bus) {
    return bus.registry();
  }

  /**
   * The bus's causation tracker, when it tracks causation; otherwise the bean is absent for {@code
   * Optional<CorrelationTracker>} and {@code ObjectProvider} injection points. The bus closes it.
   *
   * @param bus the bus
   * @return the tracker, or null
   */
  @Bean(destroyMethod = "")
  @ConditionalOnMissingBean
  public @Nullable CorrelationTracker bloodbankCorrelationTracker(Bloodbank bus) {
    return bus.correlationTracker().orElse(null);
  }

  /**
   * Finds, checks, starts and stops the {@link BloodbankListener} methods.
   *
   * @param environment for {@code bloodbank.listener.auto-startup}
   * @return the registrar
   */
  @Bean
  static BloodbankListenerRegistrar bloodbankListeners(Environment environment) {
    return new BloodbankListenerRegistrar(
        environment.getProperty("bloodbank.listener.auto-startup", Boolean.class, true));
  }

  /**
   * Keeps beans with {@link BloodbankListener} methods eager under {@code
   * spring.main.lazy-initialization}: a listener bean nobody injects would otherwise never be made,
   * and its events never consumed.
   *
   * @return the filter
   */
  @Bean
  static LazyInitializationExcludeFilter bloodbankListenersNotLazy() {
    return (name, definition, type) -> BloodbankListenerRegistrar.hasListeners(type);
  }

  /**
   * The {@link CommandClient}, made on first use (it listens on a temporary queue).
   *
   * @param bus the bus
   * @return the client, closed with the context
   */
  @Bean(destroyMethod = "close")
  @Lazy
  @ConditionalOnMissingBean
  public CommandClient bloodbankCommandClient(Bloodbank bus) {
    return CommandClient.create(bus);
  }

  /** The system environment variables, as the context sees them (tests may replace them). */
  static Map<String, String> environmentVariables(Environment environment) {
    if (environment instanceof ConfigurableEnvironment configurable) {
      PropertySource<?> source =
          configurable
              .getPropertySources()
              .get(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME);
      if (source != null && source.getSource() instanceof Map<?, ?> map) {
        Map<String, String> out = new HashMap<>();
        map.forEach(
            (k, v) -> {
              if (k instanceof String key && v instanceof String value) {
                out.put(key, value);
              }
            });
        return out;
      }
    }
    return System.getenv();
  }

  /**
   * The command processor: binds the Invokable classes of {@code bloodbank.commands.*} and of the
   * context's Invokable beans, then consumes the registry's command types.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnProperty(prefix = "bloodbank.commands", name = "enabled", havingValue = "true")
  static class Commands {
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    CommandProcessor bloodbankCommandProcessor(
        Bloodbank bus, BloodbankProperties properties, ConfigurableListableBeanFactory beans) {
      BloodbankProperties.Commands c = properties.getCommands();
      List<Class<?>> bySuperclass = new ArrayList<>(c.getInvokables());
      for (String name : beans.getBeanNamesForType(Invokable.class, true, false)) {
        Class<?> type = beans.getType(name);
        if (type == null || type.isInterface()) {
          throw new IllegalStateException(
              "Invokable bean '"
                  + name
                  + "' is declared as "
                  + (type == null ? "an unknown type" : type.getName())
                  + ", so its command type cannot be found before it is made; declare its @Bean"
                  + " method with the concrete Invokable class as return type");
        }
        if (type != null && !bySuperclass.contains(type) && !c.getBindings().containsValue(type)) {
          bySuperclass.add(type);
        }
      }
      Map<String, Class<?>> bound =
          CommandBindings.bind(bus.registry(), c.getBindings(), bySuperclass);
      CommandProcessorOptions.Builder o = CommandProcessorOptions.builder();
      if (c.isSharedWithPython()) {
        o.sharedWithPython();
      }
      if (!c.getCommandTypes().isEmpty()) {
        o.commandTypes(c.getCommandTypes().toArray(new String[0]));
      }
      if (c.getQueueName() != null) {
        o.queueName(c.getQueueName());
      }
      if (c.getConcurrency() != null) {
        o.concurrency(c.getConcurrency());
      }
      if (c.getMaxAttempts() != null || !c.getRetryDelays().isEmpty()) {
        o.retries(
            c.getMaxAttempts() != null
                ? c.getMaxAttempts()
                : CommandProcessorOptions.DEFAULT_MAX_ATTEMPTS,
            c.getRetryDelays().isEmpty()
                ? CommandProcessorOptions.defaults().retryDelays()
                : c.getRetryDelays());
      }
      if (c.getCommandTimeout() != null) {
        o.commandTimeout(c.getCommandTimeout());
      }
      if (c.getClaimLease() != null) {
        o.claimLease(c.getClaimLease());
      }
      LOG.debug("Bloodbank commands bound: {}", bound);
      return CommandProcessor.start(bus, o.build());
    }
  }

  /** The context's Micrometer registries into the bus's options. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "io.micrometer.core.instrument.MeterRegistry")
  @ConditionalOnProperty(
      prefix = "bloodbank.observability",
      name = "enabled",
      matchIfMissing = true)
  static class Observability {
    @Bean
    @Order(Ordered.HIGHEST_PRECEDENCE)
    BloodbankOptionsCustomizer bloodbankObservabilityCustomizer(
        ObjectProvider<MeterRegistry> meters,
        ObjectProvider<ObservationRegistry> observations,
        BloodbankProperties properties) {
      return options -> {
        MeterRegistry meterRegistry = meters.getIfUnique();
        ObservationRegistry observationRegistry = observations.getIfUnique();
        if (meterRegistry == null && observationRegistry == null) {
          return;
        }
        BloodbankObservability.Builder b =
            BloodbankObservability.builder()
                .amqpClientMetrics(properties.getObservability().isAmqpClientMetrics());
        if (meterRegistry != null) {
          b.meterRegistry(meterRegistry);
        }
        if (observationRegistry != null) {
          b.observationRegistry(observationRegistry);
        }
        options.observability(b.build());
      };
    }
  }

  /** The {@code bloodbank} health indicator on Spring Boot 3.5. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.actuate.health.HealthIndicator")
  @ConditionalOnProperty(
      prefix = "management.health.bloodbank",
      name = "enabled",
      matchIfMissing = true)
  static class Boot3Health {
    @Bean
    @ConditionalOnMissingBean(name = "bloodbankHealthIndicator")
    Boot3HealthIndicator bloodbankHealthIndicator(
        Bloodbank bus,
        ListableBeanFactory beans,
        ObjectProvider<BloodbankListenerRegistrar> listeners) {
      return new Boot3HealthIndicator(
          new BloodbankHealthCheck(
              bus, BloodbankHealthCheck.madeDurablePublishers(beans), listeners));
    }
  }

  /** The {@code bloodbank} health indicator on Spring Boot 4. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
  @ConditionalOnProperty(
      prefix = "management.health.bloodbank",
      name = "enabled",
      matchIfMissing = true)
  static class Boot4Health {
    @Bean
    @ConditionalOnMissingBean(name = "bloodbankHealthIndicator")
    Boot4HealthIndicator bloodbankHealthIndicator(
        Bloodbank bus,
        ListableBeanFactory beans,
        ObjectProvider<BloodbankListenerRegistrar> listeners) {
      return new Boot4HealthIndicator(
          new BloodbankHealthCheck(
              bus, BloodbankHealthCheck.madeDurablePublishers(beans), listeners));
    }
  }
}
