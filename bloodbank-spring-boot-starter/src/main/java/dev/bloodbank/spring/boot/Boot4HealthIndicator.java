package dev.bloodbank.spring.boot;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/** The {@code bloodbank} health indicator on Spring Boot 4 ({@code health.contributor}). */
final class Boot4HealthIndicator implements HealthIndicator {
  private final BloodbankHealthCheck check;

  Boot4HealthIndicator(BloodbankHealthCheck check) {
    this.check = check;
  }

  @Override
  public Health health() {
    BloodbankHealthCheck.Result r = check.check();
    return (r.up() ? Health.up() : Health.down()).withDetails(r.details()).build();
  }
}
