/**
 * Schema evolution: whether a new version of an event's JSON Schema is compatible with the earlier
 * ones (issue #21).
 *
 * <p>{@link dev.bloodbank.evolution.SchemaCompatibility} decides, for a {@link
 * dev.bloodbank.evolution.CompatibilityLevel}, whether every instance one schema accepts is
 * accepted by the other, and explains each {@link dev.bloodbank.evolution.Incompatibility} with a
 * rule name and the JSON pointer of the instance value it is about. The rule table is in {@code
 * docs/schema-evolution.md}. Verdicts of "compatible" are sound: a change the checker cannot reason
 * about is reported as {@code unsupported-change}, never passed.
 *
 * @since 0.2.0
 */
@NullMarked
package dev.bloodbank.evolution;

import org.jspecify.annotations.NullMarked;
