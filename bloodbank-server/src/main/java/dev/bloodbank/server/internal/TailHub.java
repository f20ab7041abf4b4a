package dev.bloodbank.server.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Subscriber;
import dev.bloodbank.SubscriberOptions;
import dev.bloodbank.internal.LogSafe;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live tail: one temporary queue per distinct pattern, shared by every client tailing it, and
 * for each client a bounded buffer drained by its own writer thread. The bus's consumer only ever
 * offers to buffers, so a slow client can never slow the bus: when its buffer is full it is
 * dropped, with a last notice saying why. Thread-safe.
 */
final class TailHub implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TailHub.class);

  /** The most events one write takes to a client. */
  static final int MAX_BATCH = 256;

  /**
   * How long a writer that woke for an event waits for more before writing. Without it, a busy feed
   * wakes every client's writer once per event (100 clients at 2,000 events/s: 200,000 wake-ups and
   * writes a second, more than two cores do); with it, each client gets at most one write per
   * linger, and a live tail is 20 ms later at most.
   */
  static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  /** How often an idle writer sends a keep-alive, so vanished clients are noticed. */
  static final long KEEPALIVE_SECONDS = 15;

  /** Where a client's events go; every method may block (it writes to the client's socket). */
  interface Sink {
    /** Sends one event; false when the client is gone. */
    boolean send(Frame event);

    /**
     * Sends events that queued up while the last write went out, in order; false when the client is
     * gone. One write and flush for all of them where the transport allows.
     */
    default boolean sendAll(List<Frame> events) {
      for (Frame e : events) {
        if (!send(e)) {
          return false;
        }
      }
      return true;
    }

    /** Sends a keep-alive; false when the client is gone. */
    boolean keepAlive();

    /** Says the client is subscribed, before any event; false when the client is gone. */
    boolean ready();

    /** Sends the last notice, then ends the stream. */
    void end(String reason);
  }

  private final Bloodbank bus;
  private final int buffer;
  private final int maxClients;
  private final int maxPatterns;
  private final Map<String, Feed> feeds = new HashMap<>();
  private final AtomicLong ids = new AtomicLong();
  // Counted without the hub's lock: the bus's consumer drops clients and must never wait for it.
  private final java.util.concurrent.atomic.AtomicInteger clients =
      new java.util.concurrent.atomic.AtomicInteger();
  private boolean closed;

  TailHub(Bloodbank bus, int buffer, int maxClients, int maxPatterns) {
    this.bus = bus;
    this.buffer = buffer;
    this.maxClients = maxClients;
    this.maxPatterns = maxPatterns;
  }

  /**
   * Starts tailing for one client; the returned client's writer runs until the sink reports the
   * client gone, the client falls behind, or the hub closes.
   *
   * @throws ApiError 400 for a bad pattern, 503 at the limits of clients or patterns
   */
  Client open(String pattern, Sink sink) {
    checkPattern(pattern);
    Client c;
    synchronized (this) {
      if (closed) {
        throw ApiError.unavailable("shutting_down", "the server is shutting down");
      }
      if (clients.get() >= maxClients) {
        throw ApiError.unavailable(
            "too_many_tail_clients", "the server already has " + maxClients + " live-tail clients");
      }
      Feed feed = feeds.get(pattern);
      if (feed == null) {
        if (feeds.size() >= maxPatterns) {
          throw ApiError.unavailable(
              "too_many_tail_patterns",
              "the server already tails "
                  + maxPatterns
                  + " distinct patterns; use one of them or a broader one");
        }
        feed = new Feed(pattern);
        feeds.put(pattern, feed);
        feed.start();
      }
      clients.incrementAndGet();
      c = new Client(ids.incrementAndGet(), feed, sink);
      feed.clients.add(c);
    }
    c.start();
    return c;
  }

  /**
   * Answers early, before a stream's headers go out, whether {@link #open} would refuse: a bad
   * pattern, a closed hub, or a limit reached. {@code open} checks again (clients arriving together
   * all pass here).
   */
  synchronized void check(String pattern) {
    checkPattern(pattern);
    if (closed) {
      throw ApiError.unavailable("shutting_down", "the server is shutting down");
    }
    if (clients.get() >= maxClients) {
      throw ApiError.unavailable(
          "too_many_tail_clients", "the server already has " + maxClients + " live-tail clients");
    }
    if (!feeds.containsKey(pattern) && feeds.size() >= maxPatterns) {
      throw ApiError.unavailable(
          "too_many_tail_patterns",
          "the server already tails "
              + maxPatterns
              + " distinct patterns; use one of them or a broader one");
    }
  }

  static void checkPattern(String pattern) {
    try {
      // The core's own rules for a binding pattern (words, * and #, length in bytes).
      SubscriberOptions.builder(pattern).temporary().build();
    } catch (IllegalArgumentException e) {
      throw ApiError.badRequest(
          "pattern '"
              + LogSafe.escape(pattern)
              + "' is not a valid binding pattern: "
              + e.getMessage());
    }
  }

  /** Takes a client off its feed: no more events are offered to it. Lock-free. */
  private void detach(Client c) {
    if (c.feed.clients.remove(c)) {
      clients.decrementAndGet();
    }
  }

  /** Deletes a feed's queue once its last client has gone; on a writer thread, never the bus's. */
  private void release(Feed feed) {
    synchronized (this) {
      if (closed || !feed.clients.isEmpty() || feeds.get(feed.pattern) != feed) {
        return;
      }
      feeds.remove(feed.pattern);
    }
    feed.stop();
  }

  /** Clients tailing now. */
  int clientCount() {
    return clients.get();
  }

  /** Ends every client with a last notice and deletes the queues. */
  @Override
  public void close() {
    Map<String, Feed> all;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      all = new HashMap<>(feeds);
      feeds.clear();
    }
    for (Feed f : all.values()) {
      f.stop();
      for (Client c : f.clients) {
        c.drop("the server is shutting down");
      }
    }
  }

  /** An event as the tail sends it, encoded once for every client that gets it. Immutable. */
  static final class Frame {
    final String eventId;
    final String json;
    private volatile byte @Nullable [] sse;

    Frame(String eventId, String json) {
      this.eventId = eventId;
      this.json = json;
    }

    /** The Server-Sent Events frame: {@code event: event}, the id, the envelope on one line. */
    byte[] sse() {
      byte[] b = sse;
      if (b == null) {
        b =
            ("event: event\nid: " + eventId + "\ndata: " + json + "\n\n")
                .getBytes(StandardCharsets.UTF_8);
        sse = b; // a race only encodes twice
      }
      return b;
    }
  }

  /** One pattern's queue on the broker and the clients reading it. */
  private final class Feed {
    final String pattern;
    final Set<Client> clients = new CopyOnWriteArraySet<>();
    private @Nullable Subscriber subscriber;

    Feed(String pattern) {
      this.pattern = pattern;
    }

    void start() {
      try {
        subscriber =
            bus.subscribe(SubscriberOptions.builder(pattern).temporary().build(), this::deliver);
      } catch (IllegalArgumentException e) {
        feeds.remove(pattern);
        throw ApiError.badRequest(
            "cannot tail '" + LogSafe.escape(pattern) + "': " + e.getMessage());
      } catch (RuntimeException e) {
        feeds.remove(pattern);
        throw ApiError.unavailable(
            "broker_unreachable",
            "cannot tail '" + LogSafe.escape(pattern) + "': " + e.getMessage());
      }
    }

    private void deliver(EventEnvelope<JsonNode> event) {
      Frame frame =
          new Frame(
              event.eventId().toString(),
              new String(bus.codec().encode(event), StandardCharsets.UTF_8));
      for (Client c : clients) {
        c.offer(frame);
      }
    }

    void stop() {
      Subscriber s = subscriber;
      if (s != null) {
        try {
          s.close();
        } catch (RuntimeException e) {
          LOG.debug("closing the tail of {}: {}", pattern, e.toString());
        }
      }
    }
  }

  /** One client: its buffer and its writer thread. */
  final class Client {
    private final long id;
    private final Feed feed;
    private final Sink sink;
    private final BlockingQueue<Frame> queue = new ArrayBlockingQueue<>(buffer);
    private final List<Frame> batch = new ArrayList<>();
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile @Nullable String dropReason;
    private final Thread writer;

    Client(long id, Feed feed, Sink sink) {
      this.id = id;
      this.feed = feed;
      this.sink = sink;
      this.writer = new Thread(this::run, "bloodbank-tail-" + id);
      writer.setDaemon(true);
    }

    void start() {
      writer.start();
    }

    void offer(Frame frame) {
      if (dropReason == null && !queue.offer(frame)) {
        drop(
            "this client fell "
                + buffer
                + " events behind (slow reader); reconnect to tail again from now");
      }
    }

    /**
     * Ends this client: no more events are offered, and its writer sends the notice after what it
     * is writing now. A write in progress is not interrupted (that would break the stream before
     * the notice): a client that never reads again is cut off by the idle timeout.
     */
    void drop(String reason) {
      synchronized (this) {
        if (dropReason != null) {
          return;
        }
        dropReason = reason;
        if (!writing) {
          writer.interrupt();
        }
      }
      queue.clear(); // what it will never be sent is not kept
      detach(this);
    }

    /** Ends this client quietly (it disconnected). */
    void disconnected() {
      drop("");
    }

    private boolean writing;

    private void run() {
      try {
        if (!sink.ready()) {
          drop("");
        }
        while (dropReason == null) {
          Frame e;
          try {
            e = queue.poll(KEEPALIVE_SECONDS, TimeUnit.SECONDS);
          } catch (InterruptedException ie) {
            break;
          }
          batch.clear();
          if (e != null) {
            if (queue.size() < MAX_BATCH - 1) {
              // Offers made while this sleeps wake nobody: no thread waits on the queue.
              LockSupport.parkNanos(LINGER_NANOS);
            }
            batch.add(e);
            queue.drainTo(batch, MAX_BATCH - 1);
          }
          synchronized (this) {
            if (dropReason != null) {
              break;
            }
            writing = true;
            Thread.interrupted(); // an interrupt meant for the poll must not break the write
          }
          boolean alive;
          try {
            alive = e == null ? sink.keepAlive() : sink.sendAll(batch);
          } finally {
            synchronized (this) {
              writing = false;
            }
          }
          if (!alive) {
            drop("");
          }
        }
      } finally {
        Thread.interrupted();
        queue.clear();
        detach(this);
        String reason = dropReason;
        if (ended.compareAndSet(false, true)) {
          if (reason != null && !reason.isEmpty()) {
            LOG.info("live tail {} on '{}' dropped: {}", id, feed.pattern, reason);
          }
          try {
            sink.end(reason == null ? "" : reason);
          } catch (RuntimeException ex) {
            LOG.debug("ending live tail {}: {}", id, ex.toString());
          }
          release(feed);
        }
      }
    }
  }
}
