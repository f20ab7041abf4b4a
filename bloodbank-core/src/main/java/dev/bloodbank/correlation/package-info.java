/**
 * The causation graph: which event caused which, kept in Redis in the layout the Python services
 * use, with an in-memory implementation for tests and for running without Redis.
 *
 * <p>Entry points: {@link dev.bloodbank.correlation.CorrelationTracker#redis} with {@link
 * dev.bloodbank.correlation.RedisTrackerOptions}, {@link
 * dev.bloodbank.correlation.CorrelationTracker#inMemory()}, and for publishers {@link
 * dev.bloodbank.correlation.CorrelationRecorder}, which never blocks nor fails a publish.
 *
 * <h2>Redis keys</h2>
 *
 * Shared with the Python services, every key living for the configured TTL (30 days by default),
 * refreshed on each write:
 *
 * <ul>
 *   <li>{@code bloodbank:correlation:forward:<child id>}: a hash with the fields {@code parent_ids}
 *       (a JSON list of id strings), {@code timestamp} (ISO-8601 UTC, as Python's {@code
 *       datetime.now(timezone.utc).isoformat()} writes it: {@code
 *       2026-01-27T10:00:00.123456+00:00}) and {@code metadata} (a JSON object).
 *   <li>{@code bloodbank:correlation:reverse:<parent id>}: a set of child ids.
 * </ul>
 *
 * Ids are lower-case UUID strings. Recording a child again merges its parents (first-seen order)
 * and replaces timestamp and metadata, atomically, with a Lua script. A forward key that an older
 * Python version wrote as a JSON string ({@code {"parent_event_ids": [...], "created_at": ...,
 * "metadata": {...}}}) is read as well, and becomes a hash, its parents kept, when the child is
 * recorded again.
 *
 * <h2>Futures</h2>
 *
 * Every future completes, within about the command timeout per round trip. Callbacks attached with
 * {@code thenApply} and the like may run on the Redis client's I/O thread: do not block in them
 * (use the {@code *Async} variants with an executor for slow work).
 */
@NullMarked
package dev.bloodbank.correlation;

import org.jspecify.annotations.NullMarked;
