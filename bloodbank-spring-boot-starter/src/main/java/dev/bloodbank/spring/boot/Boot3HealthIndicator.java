package dev.bloodbank.spring.boot;

import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;

/** The {@code bloodbank} health indicator on Spring Boot 3.5 ({@code actuate.health}). */
final class Boot3HealthIndicator implements HealthIndicator {
  private final BloodbankHealthCheck check;

  Boot3HealthIndicator(BloodbankHealthCheck check) {
    this.check = check;
  }

  @Override
  public Health health() {
    BloodbankHealthCheck.Result r = check.check();
    return (r.up() ? Health.up() : Health.down()).withDetails(r.details()).build();
  }
}
