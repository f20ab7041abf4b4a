package dev.bloodbank.benchmarks;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Publisher;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.QueueType;
import dev.bloodbank.Subscriber;
import dev.bloodbank.SubscriberOptions;
import dev.bloodbank.fault.RabbitCluster;
import dev.bloodbank.schemas.voice.TranscriptionCompleted;
import dev.bloodbank.validation.ValidationMode;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The scale-out rows of the {@link LoadHarness} ({@code --only scale}; issue #23), on private
 * RabbitMQ nodes the run boots and stops ({@link RabbitCluster}, ports from 5673, the
 * consistent-hash plugin enabled there only), one node and then three:
 *
 * <ul>
 *   <li>publish to one quorum queue, amqp-client directly against Bloodbank, both with confirms and
 *       at most 1,000 unconfirmed, same properties on the wire: a discarded warm-up round, then
 *       {@code --runs} alternating runs of {@code --seconds} each, medians;
 *   <li>partitioned consumption ({@code SubscriberOptions.partitions(n)}, quorum partitions) with
 *       1, 2 and 4 partitions and two instances (buses) subscribed: a backlog of {@code
 *       --scale-events} events published with a partition key, then the time both instances take to
 *       drain it.
 * </ul>
 *
 * <p>Not thread-safe: one part at a time.
 */
final class ScaleLoad {
  static final int WINDOW = 1000;
  static final int[] PARTITIONS = {1, 2, 4};
  static final int INSTANCES = 2;

  /** One measurement: its label, value and unit, and what else the run saw (or ""). */
  record Row(String label, double value, String unit, String note) {}

  private final int runs;
  private final int seconds;
  private final int events;
  private final byte[] body;
  private final List<Row> rows = new ArrayList<>();

  ScaleLoad(int runs, int seconds, int events) {
    this.runs = runs;
    this.seconds = seconds;
    this.events = events;
    this.body = EventCodec.create().encode(Payloads.envelope(0));
  }

  /** Runs every row on a cluster of each size in turn; prints and returns the rows. */
  List<Row> run(int... sizes) throws Exception {
    for (int size : sizes) {
      try (RabbitCluster cluster = RabbitCluster.start(size)) {
        String where = size == 1 ? "1 node" : size + "-node cluster";
        publish(cluster, where);
        for (int n : PARTITIONS) {
          drain(cluster, where, n);
        }
      }
    }
    return List.copyOf(rows);
  }

  private void add(String label, double value, String unit, String note) {
    rows.add(new Row(label, value, unit, note));
    System.out.printf("scale: %s: %.0f %s %s%n", label, value, unit, note);
  }

  // ---- publish to one quorum queue, raw against Bloodbank -------------------------------------

  /**
   * Both clients connect to the same node: to the queue leader's, and on a cluster also to a
   * follower's, which forwards every publish to the leader. A client given every address picks one
   * at random, so comparing two such clients would compare where they landed.
   */
  private void publish(RabbitCluster cluster, String where) throws Exception {
    String id = UUID.randomUUID().toString().substring(0, 8);
    String exchange = "bloodbank.cluster." + id;
    String queue = "bench.scale.publish." + id;
    RabbitCluster.Member first = cluster.member(0);
    try (Connection setup = connect(first, "bench-scale-setup-" + id);
        Channel ch = setup.createChannel()) {
      ch.exchangeDeclare(exchange, "topic", true);
      ch.queueDeclare(queue, true, false, false, Map.of("x-queue-type", "quorum"));
      ch.queueBind(queue, exchange, "#");
    }
    RabbitCluster.Member leader = cluster.leaderOf(queue);
    List<RabbitCluster.Member> nodes = new ArrayList<>(List.of(leader));
    cluster.members().stream().filter(m -> m != leader).findFirst().ifPresent(nodes::add);
    for (RabbitCluster.Member node : nodes) {
      String at =
          where
              + (node == leader
                  ? ", clients on the leader's node"
                  : ", clients on a follower's node");
      List<Double> rawRates = new ArrayList<>();
      List<Double> bbRates = new ArrayList<>();
      try (Connection raw = connect(node, "bench-scale-" + id);
          Bloodbank bus =
              Bloodbank.connect(
                  cluster
                      .options(id)
                      .addresses(List.of(new BloodbankOptions.Address("127.0.0.1", node.port())))
                      .build())) {
        // A discarded round first: a cold JIT cost the SDK two thirds of its first second.
        bbPublish(bus, 2);
        purge(raw, queue);
        rawPublish(raw, exchange, 2);
        purge(raw, queue);
        for (int r = 0; r < runs; r++) {
          bbRates.add(bbPublish(bus, seconds));
          purge(raw, queue);
          rawRates.add(rawPublish(raw, exchange, seconds));
          purge(raw, queue);
        }
      }
      String note = "median of " + runs + " alternating runs of " + seconds + " s, after a warm-up";
      add(
          "publish to one quorum queue, " + at + ", amqp-client",
          LoadHarness.median(rawRates),
          "events/s",
          note);
      add(
          "publish to one quorum queue, " + at + ", Bloodbank",
          LoadHarness.median(bbRates),
          "events/s",
          note);
    }
    try (Connection raw = connect(first, "bench-scale-clean-" + id);
        Channel ch = raw.createChannel()) {
      ch.queueDelete(queue);
      ch.exchangeDelete(exchange);
    }
  }

  private static Connection connect(RabbitCluster.Member node, String name) throws Exception {
    ConnectionFactory f = new ConnectionFactory();
    f.setHost("127.0.0.1");
    f.setPort(node.port());
    return f.newConnection(name);
  }

  /** Sends one event; {@code now} is when, for the payload. */
  private interface Send {
    void send(long now) throws Exception;
  }

  /**
   * Sends for 1 s of warm-up and then {@code seconds}, at most {@value #WINDOW} unconfirmed ({@code
   * window}, released by the sender's confirms), and waits for the last confirms.
   *
   * @return events confirmed per second after the warm-up
   */
  private static double timed(int seconds, Semaphore window, AtomicLong confirmed, Send send)
      throws Exception {
    long start = 0;
    long before = 0;
    long warmUpEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    long end = warmUpEnd + TimeUnit.SECONDS.toNanos(seconds);
    for (long now; (now = System.nanoTime()) < end; ) {
      if (start == 0 && now >= warmUpEnd) {
        start = now;
        before = confirmed.get();
      }
      window.acquire();
      send.send(now);
    }
    if (!window.tryAcquire(WINDOW, 60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("confirms missing 60 s after the last send");
    }
    return (confirmed.get() - before) / ((System.nanoTime() - start) / 1e9);
  }

  private double rawPublish(Connection raw, String exchange, int seconds) throws Exception {
    Channel ch = raw.createChannel();
    ch.confirmSelect();
    Semaphore window = new Semaphore(WINDOW);
    ConcurrentNavigableMap<Long, Boolean> outstanding = new ConcurrentSkipListMap<>();
    AtomicLong confirmed = new AtomicLong();
    LoadHarness.confirmWindow(ch, window, outstanding, confirmed);
    double rate =
        timed(
            seconds,
            window,
            confirmed,
            now -> {
              AMQP.BasicProperties props =
                  new AMQP.BasicProperties.Builder()
                      .deliveryMode(2)
                      .contentType("application/json")
                      .messageId(UUID.randomUUID().toString())
                      .timestamp(new Date())
                      .build();
              outstanding.put(ch.getNextPublishSeqNo(), Boolean.TRUE);
              ch.basicPublish(exchange, Payloads.TYPE, false, props, body);
            });
    ch.close();
    return rate;
  }

  private double bbPublish(Bloodbank bus, int seconds) throws Exception {
    Publisher p = bus.publisher(PublisherOptions.builder().maxInFlight(WINDOW).channels(1).build());
    AtomicLong confirmed = new AtomicLong();
    Semaphore window = new Semaphore(WINDOW);
    return timed(
        seconds,
        window,
        confirmed,
        now ->
            p.publish(Payloads.envelope(now))
                .whenComplete(
                    (ok, e) -> {
                      if (e == null) {
                        confirmed.incrementAndGet();
                      }
                      window.release();
                    }));
  }

  // ---- partitioned consumption: a backlog drained by two instances ----------------------------

  private void drain(RabbitCluster cluster, String where, int partitions) throws Exception {
    String id = UUID.randomUUID().toString().substring(0, 8);
    String queue = "bench.scale.parts." + id;
    SubscriberOptions options =
        SubscriberOptions.builder(Payloads.TYPE)
            .queueName(queue)
            .partitions(partitions)
            .queueType(QueueType.QUORUM)
            .prefetch(WINDOW / 4)
            .build();
    List<Bloodbank> buses = new ArrayList<>();
    try {
      for (int i = 0; i < INSTANCES; i++) {
        buses.add(Bloodbank.connect(cluster.options(id).validation(ValidationMode.STRICT).build()));
      }
      // Declares the partitions, then leaves them to fill: the backlog is published unconsumed.
      buses.get(0).subscribe(options, TranscriptionCompleted.class, e -> {}).close();
      Publisher p =
          buses
              .get(0)
              .publisher(
                  PublisherOptions.builder()
                      .maxInFlight(WINDOW)
                      .partitionKey(e -> e.eventId().toString())
                      .build());
      Semaphore window = new Semaphore(WINDOW);
      for (int i = 0; i < events; i++) {
        window.acquire();
        EventEnvelope<TranscriptionCompleted> e = Payloads.envelope(i);
        p.publish(e).whenComplete((ok, err) -> window.release());
      }
      if (!window.tryAcquire(WINDOW, 120, TimeUnit.SECONDS)) {
        throw new IllegalStateException("partitioned backlog: confirms missing after 120 s");
      }
      AtomicLong handled = new AtomicLong();
      Map<Integer, AtomicLong> perInstance = new LinkedHashMap<>();
      List<Subscriber> subs = new ArrayList<>();
      long start = System.nanoTime();
      for (int i = 0; i < INSTANCES; i++) {
        AtomicLong mine = new AtomicLong();
        perInstance.put(i, mine);
        subs.add(
            buses
                .get(i)
                .subscribe(
                    options,
                    TranscriptionCompleted.class,
                    e -> {
                      mine.incrementAndGet();
                      handled.incrementAndGet();
                    }));
      }
      long deadline = start + TimeUnit.SECONDS.toNanos(300);
      while (handled.get() < events && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      double elapsed = (System.nanoTime() - start) / 1e9;
      if (handled.get() < events) {
        throw new IllegalStateException(
            "partitioned drain: " + handled.get() + " of " + events + " handled in 300 s");
      }
      add(
          "partitioned consume, "
              + where
              + ", "
              + partitions
              + " partition(s), "
              + INSTANCES
              + " instances",
          events / elapsed,
          "events/s",
          "events handled per instance " + perInstance.values());
      for (Subscriber s : subs) {
        s.close();
      }
      try (Connection raw = cluster.rawConnection("bench-scale-clean-" + id);
          Channel ch = raw.createChannel()) {
        for (int i = 0; i < partitions; i++) {
          ch.queueDelete(queue + ".p" + i);
        }
      }
    } finally {
      for (Bloodbank b : buses) {
        b.close();
      }
    }
  }

  private static void purge(Connection raw, String queue) throws Exception {
    try (Channel ch = raw.createChannel()) {
      ch.queuePurge(queue);
    }
  }
}
