package dev.bloodbank.fault;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** Marks a test as covering scenarios of the reliability suite (issue #9), for the summary. */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Scenario {
  /** The scenario numbers, 1 to 30, and 31 to 36 for the clusters of issue #23. */
  int[] value();
}
