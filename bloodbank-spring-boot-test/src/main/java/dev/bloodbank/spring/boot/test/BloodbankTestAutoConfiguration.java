package dev.bloodbank.spring.boot.test;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.spring.boot.BloodbankAutoConfiguration;
import dev.bloodbank.test.TestBus;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * The bus of a {@link BloodbankSliceTest}: a {@link TestBus} on its own embedded broker, built from
 * the context's {@link BloodbankOptions} (so the {@code bloodbank.*} properties and customizers
 * apply) with an in-memory causation tracker. Runs before {@link BloodbankAutoConfiguration}, whose
 * {@code Bloodbank} bean then backs off.
 *
 * @since 0.2.0
 */
@AutoConfiguration(before = BloodbankAutoConfiguration.class)
public class BloodbankTestAutoConfiguration {
  /** Created by Spring. */
  public BloodbankTestAutoConfiguration() {}

  /**
   * The test bus, closed with the context.
   *
   * @param options the options the auto-configuration built
   * @return the test bus
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public TestBus bloodbankTestBus(BloodbankOptions options) {
    return TestBus.start(
        defaults -> {
          // TestBus's own in-memory tracker: the builder has no getter, its options do.
          CorrelationTracker tracker = defaults.build().correlationTracker();
          BloodbankOptions.Builder b = options.mutate();
          if (tracker != null) {
            b.correlationTracker(tracker);
          }
          return b;
        },
        TestBus.DEFAULT_TIMEOUT);
  }

  /**
   * The test bus's {@link Bloodbank}; the test bus closes it.
   *
   * @param testBus the test bus
   * @return the bus
   */
  @Bean(destroyMethod = "")
  @ConditionalOnMissingBean
  public Bloodbank bloodbank(TestBus testBus) {
    return testBus.bloodbank();
  }
}
