package dev.bloodbank;

import java.time.Duration;
import java.util.Objects;

/** Argument checks shared by the options builders; messages show the bad value and the range. */
final class Config {
  private Config() {}

  static int atLeast(String name, int value, int min) {
    if (value < min) {
      throw new IllegalArgumentException(
          String.format("%s must be at least %d, was %d", name, min, value));
    }
    return value;
  }

  static int inRange(String name, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          String.format("%s must be between %d and %d, was %d", name, min, max, value));
    }
    return value;
  }

  static Duration positive(String name, Duration value) {
    Objects.requireNonNull(value, name);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, was " + value);
    }
    return value;
  }

  static Duration notNegative(String name, Duration value) {
    Objects.requireNonNull(value, name);
    if (value.isNegative()) {
      throw new IllegalArgumentException(name + " must not be negative, was " + value);
    }
    return value;
  }

  static String notBlank(String name, String value) {
    Objects.requireNonNull(value, name);
    if (value.isBlank()) {
      throw new IllegalArgumentException(name + " must not be blank");
    }
    return value;
  }
}
