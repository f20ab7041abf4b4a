/**
 * Metrics, traces and log context for the bus, with Micrometer.
 *
 * <p>Entry point: {@link dev.bloodbank.observability.BloodbankObservability}, given to {@link
 * dev.bloodbank.BloodbankOptions.Builder#observability}. Micrometer is an optional dependency:
 * without an observability configured the bus never loads a Micrometer class, and the application
 * brings {@code micrometer-core} (and a registry, and for traces a tracing bridge) itself.
 *
 * <p>Every metric, observation, span attribute and log key is listed in {@code
 * docs/observability.md}; the names are constants of {@link
 * dev.bloodbank.observability.BloodbankObservability}.
 */
@NullMarked
package dev.bloodbank.observability;

import org.jspecify.annotations.NullMarked;
