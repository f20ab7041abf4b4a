package dev.bloodbank.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.Bloodbank;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;

/** The health indicator on Boot 4's API ({@code org.springframework.boot.health.contributor}). */
class Boot4HealthTest {

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
  void boot3HealthApiIsAbsent() {
    assertThat(
            getClass()
                .getClassLoader()
                .getResource("org/springframework/boot/actuate/health/HealthIndicator.class"))
        .isNull();
  }
}
