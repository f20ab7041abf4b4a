/**
 * Bloodbank for Java: the event envelope, publisher and subscriber of the Bloodbank event bus.
 *
 * <p>Start with {@link dev.bloodbank.Bloodbank#connect(BloodbankOptions)}; it owns the broker
 * connection and hands out {@link dev.bloodbank.Publisher}s and {@link dev.bloodbank.Subscriber}s.
 * Events travel as {@link dev.bloodbank.EventEnvelope}s, encoded by {@link
 * dev.bloodbank.EventCodec} in the JSON shape the Python Bloodbank services use.
 *
 * <p>Everything in this package is non-null unless marked {@code @Nullable}.
 */
@NullMarked
package dev.bloodbank;

import org.jspecify.annotations.NullMarked;
