package dev.bloodbank.test;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.embedded.EmbeddedBroker;
import java.time.Duration;
import java.util.Objects;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A JUnit 5 extension that gives each test its own {@link TestBus}: a {@link Bloodbank} on a fresh
 * {@link EmbeddedBroker}, closed after the test. Test and lifecycle methods get it by declaring a
 * parameter of type {@link TestBus}, {@link Bloodbank} (the same bus) or {@link EmbeddedBroker}.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final BloodbankTestExtension BUS =
 *     BloodbankTestExtension.builder()
 *         .options(o -> o.serviceName("orders").validation(ValidationMode.PERMISSIVE))
 *         .timeout(Duration.ofSeconds(2))
 *         .build();
 * }</pre>
 *
 * <p>{@code @ExtendWith(BloodbankTestExtension.class)} or {@link BloodbankTest} use the defaults.
 * Immutable and thread-safe; tests may run in parallel, each with its own broker.
 */
public final class BloodbankTestExtension
    implements BeforeEachCallback, AfterEachCallback, ParameterResolver {
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(BloodbankTestExtension.class);

  private final UnaryOperator<BloodbankOptions.Builder> options;
  private final Duration timeout;

  /** An extension with the defaults of {@link TestBus#start()}. */
  public BloodbankTestExtension() {
    this(UnaryOperator.identity(), TestBus.DEFAULT_TIMEOUT);
  }

  private BloodbankTestExtension(
      UnaryOperator<BloodbankOptions.Builder> options, Duration timeout) {
    this.options = options;
    this.timeout = timeout;
  }

  /**
   * Returns a builder for a configured extension.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    bus(context);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    TestBus bus = context.getStore(NS).remove(TestBus.class, TestBus.class);
    if (bus != null) {
      bus.close();
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == TestBus.class || type == Bloodbank.class || type == EmbeddedBroker.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    TestBus bus = bus(context);
    Class<?> type = parameter.getParameter().getType();
    if (type == Bloodbank.class) {
      return bus.bloodbank();
    }
    if (type == EmbeddedBroker.class) {
      return bus.broker();
    }
    return bus;
  }

  private TestBus bus(ExtensionContext context) {
    ExtensionContext.Store store = context.getStore(NS);
    TestBus bus = store.get(TestBus.class, TestBus.class);
    if (bus == null) {
      bus = TestBus.start(options, timeout);
      store.put(TestBus.class, bus);
    }
    return bus;
  }

  /** Builds a {@link BloodbankTestExtension}. Not thread-safe. */
  public static final class Builder {
    private UnaryOperator<BloodbankOptions.Builder> options = UnaryOperator.identity();
    private Duration timeout = TestBus.DEFAULT_TIMEOUT;

    private Builder() {}

    /**
     * Changes the bus options. Default: none, i.e. service name {@value
     * TestBus#DEFAULT_SERVICE_NAME}, {@code STRICT} validation, an in-memory causation tracker. The
     * transport is always the test's embedded broker.
     *
     * @param options applied to the defaults for each test
     * @return this builder
     */
    public Builder options(UnaryOperator<BloodbankOptions.Builder> options) {
      this.options = Objects.requireNonNull(options, "options");
      return this;
    }

    /**
     * Sets the bound of every wait of {@link TestBus} and {@link BusAssert}. Default: 5 s.
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder timeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("timeout must be positive, was " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /**
     * Builds the extension.
     *
     * @return the extension
     */
    public BloodbankTestExtension build() {
      return new BloodbankTestExtension(options, timeout);
    }
  }
}
