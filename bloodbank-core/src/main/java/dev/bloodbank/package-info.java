/**
 * Bloodbank for Java: the event envelope, publisher and subscriber of the Bloodbank event bus.
 *
 * <p>Start with {@link dev.bloodbank.Bloodbank#connect(BloodbankOptions)}; it owns the broker
 * connection and hands out {@link dev.bloodbank.Publisher}s and {@link dev.bloodbank.Subscriber}s.
 * Events travel as {@link dev.bloodbank.EventEnvelope}s, encoded by {@link
 * dev.bloodbank.EventCodec} in the JSON shape the Python Bloodbank services use.
 *
 * <h2 id="threads">Threads</h2>
 *
 * <p>Each bus owns these threads; what runs where, and what may block there:
 *
 * <table>
 *   <caption>The threads of a bus</caption>
 *   <tr><th>thread</th><th>runs</th><th>may block</th></tr>
 *   <tr>
 *     <td>{@code bloodbank-timer}</td>
 *     <td>deadlines only: confirm timeouts, sends held while the broker blocks, stuck writes,
 *         delayed hand-offs to the I/O pool</td>
 *     <td>never; it does no I/O and runs no application code</td>
 *   </tr>
 *   <tr>
 *     <td>{@code bloodbank-io-N}</td>
 *     <td>publish retries, held sends, channel opens, lazy connects, grouped acknowledgements,
 *         durable-publisher outcomes, closing</td>
 *     <td>for a bounded time (a broker reply, a disk write); a thread is added whenever all are
 *         busy</td>
 *   </tr>
 *   <tr>
 *     <td>{@code bloodbank-callbacks-N}, or {@link BloodbankOptions#callbackExecutor()}</td>
 *     <td>completions of publish futures and command results: your continuations</td>
 *     <td>yes; the bus's own pool adds a thread whenever all are busy, so a continuation that
 *         waits for another publish never stalls the completion it waits for</td>
 *   </tr>
 *   <tr>
 *     <td>{@code bloodbank-<queue>-N}, or the consuming connection's dispatch thread when
 *         {@link SubscriberOptions#concurrency()} is 1</td>
 *     <td>your {@link EventHandler}s</td>
 *     <td>yes, up to the subscriber's shutdown timeout at close</td>
 *   </tr>
 *   <tr>
 *     <td>the consuming connection's dispatch threads ({@code bloodbank-amqp-consume-N})</td>
 *     <td>the handlers of {@linkplain Bloodbank#replay replays}, one event at a time per replay</td>
 *     <td>yes, up to the replay's shutdown timeout at close; the stream waits meanwhile</td>
 *   </tr>
 *   <tr>
 *     <td>amqp-client's threads of the publishing connection</td>
 *     <td>reading confirms and returns</td>
 *     <td>never; Bloodbank hands everything on at once</td>
 *   </tr>
 *   <tr>
 *     <td>{@code bloodbank-wal-send-N}, {@code bloodbank-wal-flush}</td>
 *     <td>a durable publisher's hand-off to the broker; the log's group fsyncs</td>
 *     <td>the send thread never waits for the broker; the flush thread waits for the disk</td>
 *   </tr>
 * </table>
 *
 * <p>Calling {@link Publisher#publishAndWait} on a thread Bloodbank needs to complete publishes
 * (the timer, the I/O pool, the publishing connection's) fails at once with an {@link
 * IllegalStateException} instead of waiting on itself.
 *
 * <p>While the broker blocks publishing (a memory or disk alarm, see {@link
 * Bloodbank#blockedReason()}), nothing is written to its socket: sends are held and fail with
 * {@link PublishException.Kind#TIMED_OUT} once their attempts' confirm timeouts pass, so publishes
 * "time out while the broker is fine" when it is in fact refusing to read. A write already stuck in
 * the socket for longer than a confirm timeout is released by closing the publishing connection,
 * which then recovers by itself. While the publishing connection is down and recovering by itself,
 * sends are held the same way and go out once it is back; one held through its confirm timeout
 * fails that attempt with {@link PublishException.Kind#CONNECTION_LOST}.
 *
 * <p>Everything in this package is non-null unless marked {@code @Nullable}.
 */
@NullMarked
package dev.bloodbank;

import org.jspecify.annotations.NullMarked;
