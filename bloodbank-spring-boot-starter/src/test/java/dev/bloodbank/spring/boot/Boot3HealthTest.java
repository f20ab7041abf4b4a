package dev.bloodbank.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.Bloodbank;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;

/** The health indicator on Boot 3.5's API (the Boot 4 module has its own). */
class Boot3HealthTest {

  @Test
  void upWithDetailsWhileConnectedDownOnceClosed() {
    BloodbankAutoConfigurationTest.runner()
        .run(
            ctx -> {
              HealthIndicator indicator =
                  ctx.getBean("bloodbankHealthIndicator", HealthIndicator.class);
              Health health = indicator.health();
              assertThat(health.getStatus()).isEqualTo(Status.UP);
              assertThat(health.getDetails()).containsKeys("broker", "redis", "wal", "reasons");
              assertThat(health.getDetails().get("broker").toString()).contains("connected=true");
              assertThat(health.getDetails().get("redis").toString()).contains("configured=false");

              ctx.getBean(Bloodbank.class).close();
              Health closed = indicator.health();
              assertThat(closed.getStatus()).isEqualTo(Status.DOWN);
              assertThat(closed.getDetails().get("reasons").toString()).contains("bus closed");
            });
  }

  @Test
  void downWhileTheBrokerIsUnreachable() {
    BloodbankListenerTest.unreachable()
        .run(
            ctx -> {
              Health health =
                  ctx.getBean("bloodbankHealthIndicator", HealthIndicator.class).health();
              assertThat(health.getStatus()).isEqualTo(Status.DOWN);
              assertThat(health.getDetails().get("reasons").toString())
                  .contains("broker unreachable");
            });
  }

  @Test
  void canBeTurnedOff() {
    BloodbankAutoConfigurationTest.runner()
        .withPropertyValues("management.health.bloodbank.enabled=false")
        .run(ctx -> assertThat(ctx).doesNotHaveBean("bloodbankHealthIndicator"));
  }
}
