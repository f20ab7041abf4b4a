package dev.bloodbank.benchmarks;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.EventCodec;
import dev.bloodbank.Publisher;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.Subscriber;
import dev.bloodbank.SubscriberOptions;
import dev.bloodbank.archive.ArchiveOptions;
import dev.bloodbank.archive.Replay;
import dev.bloodbank.archive.ReplayOptions;
import dev.bloodbank.archive.ReplayResult;
import dev.bloodbank.correlation.RedisTrackerOptions;
import dev.bloodbank.observability.BloodbankObservability;
import dev.bloodbank.schemas.voice.TranscriptionCompleted;
import dev.bloodbank.server.ServerOptions;
import dev.bloodbank.validation.ValidationMode;
import dev.bloodbank.wal.DurablePublisher;
import dev.bloodbank.wal.FsyncPolicy;
import dev.bloodbank.wal.WalOptions;
import dev.bloodbank.wal.WriteAheadLog;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * Runs Bloodbank and raw amqp-client side by side on the local RabbitMQ (and Redis), interleaved,
 * and prints one table of medians with Bloodbank's figures as ratios of the raw ones.
 *
 * <p>Same 1 KB persistent message with the same AMQP properties, same confirm window (1,000), same
 * classic queue on both sides; warm-up excluded. Also prints the CPU each message cost the client,
 * the broker and Redis. Options: {@code --runs N} (3), {@code --seconds S} per publish run (5),
 * {@code --latency-seconds S} (20) at {@code --rate R} events/s (1000), {@code --consume N}
 * (50,000), {@code --drain N} (1,000,000: a durable publisher draining a write-ahead log backlog of
 * N events against the publisher's own rate over N events, once), {@code --smoke} (everything
 * tiny), {@code --only publish|latency|consume|drain} (one part, no table: for profiling), {@code
 * --json FILE}.
 *
 * <p>The observability rows ({@code --only observability} for just these, with their table and
 * JSON; issue #19) put the Bloodbank publish and consume rows' workloads on a bus with a Prometheus
 * meter registry and OpenTelemetry tracing ({@link BenchObservability}) next to the same on a bus
 * without, off and on interleaved in each run (the order alternating from run to run), with the
 * client's CPU per message, the spans exported against the events sent and received, and the
 * registry's publish and consume timer counts. In the full run they come last, so that the other
 * rows are measured in a JVM that has not loaded Micrometer or OpenTelemetry.
 *
 * <p>The archive rows ({@code --only archive} for just these, with their table and JSON; issue #20)
 * put the Bloodbank publish row with the archive stream bound to the exchange next to the same
 * without, and read {@code --replay N} (1,000,000) archived events with amqp-client and with {@code
 * bus.replay}, sampling the heap after GC meanwhile.
 *
 * <p>The gateway rows ({@code --only gateway} for just these, with their table and JSON) put a
 * {@code bloodbank-server} started in this JVM next to the SDK publishing the same 1 KB {@code
 * llm.prompt} events directly, in the same run: throughput with {@code --in-flight N} (32) HTTP
 * requests against the SDK with as many publishes outstanding, latency at {@code --rate} on an
 * open-loop schedule (from each request's scheduled time) against the SDK's publish-to-confirm
 * latency at the same rate, and {@code --sse-clients N} (100) Server-Sent Events clients tailing
 * {@code #} while the SDK publishes {@code --sse-rate R} (2,000) events/s for {@code --sse-seconds
 * S} (the latency seconds), after {@code --gateway-warm-up S} (20) of both publishing. The server's
 * access log is off ({@code --access-log} turns it on, to standard error).
 *
 * <p>The scale-out rows ({@code --only scale}, only on their own; issue #23) boot private RabbitMQ
 * nodes ({@code --scale-nodes 1,3}: one node, then a three-node cluster) and put Bloodbank's
 * publish rate to one quorum queue next to amqp-client's, and drain a backlog of {@code
 * --scale-events N} (50,000) events over 1, 2 and 4 partitions with two instances ({@link
 * ScaleLoad}).
 */
public final class LoadHarness {
  private static final String EXCHANGE = "bloodbank.bench";
  private static final int WINDOW = 1000;

  private int runs = 3;
  private int seconds = 5;
  private int latencySeconds = 20;
  private int rate = 1000;
  private int consumeCount = 50_000;
  private int drainCount = 1_000_000;
  private int replayCount = 1_000_000;
  private int replayPrefetch = ReplayOptions.DEFAULT_PREFETCH;
  private Path json = Path.of("target", "benchmark-results.json");
  // One part only (publish, latency, consume, drain), e.g. to profile it; no table then.
  // "gateway" and "observability" run those rows only, with their table.
  private String only = "";
  private int inFlight = 32;
  private int sseClients = 100;
  private int sseRate = 2000;
  private int sseSeconds = -1; // the latency seconds
  private int gatewayWarmUp = 20;
  // The scale rows' backlog per partition count, and the cluster sizes they run on.
  private int scaleEvents = 50_000;
  private int[] scaleNodes = {1, 3};
  // Cores that processes other than this JVM, the broker and Redis kept busy during the gateway
  // part.
  private double otherCores = Double.NaN;
  private boolean accessLog;
  private GatewayLoad.@Nullable Tail tail;
  private long sdkHeapPeak = -1;

  private final long base = System.nanoTime();
  private Connection raw;
  // The raw side's factory (local broker), for its extra connections.
  private final ConnectionFactory rawFactory = new ConnectionFactory();
  private byte[] body;
  private final AtomicLong peakHeapAfterGc = new AtomicLong();
  private final CpuMeter cpu = new CpuMeter();
  private final Map<String, List<Double>> cpuPerMessage = new LinkedHashMap<>();
  private long recorded;
  private long lost;

  public static void main(String[] args) throws Exception {
    LoadHarness h = new LoadHarness();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--runs" -> h.runs = Integer.parseInt(args[++i]);
        case "--seconds" -> h.seconds = Integer.parseInt(args[++i]);
        case "--latency-seconds" -> h.latencySeconds = Integer.parseInt(args[++i]);
        case "--rate" -> h.rate = Integer.parseInt(args[++i]);
        case "--consume" -> h.consumeCount = Integer.parseInt(args[++i]);
        case "--drain" -> h.drainCount = Integer.parseInt(args[++i]);
        case "--replay" -> h.replayCount = Integer.parseInt(args[++i]);
        case "--replay-prefetch" -> h.replayPrefetch = Integer.parseInt(args[++i]);
        case "--json" -> h.json = Path.of(args[++i]);
        case "--only" -> {
          h.only = args[++i];
          if (!List.of(
                  "publish",
                  "latency",
                  "consume",
                  "drain",
                  "gateway",
                  "observability",
                  "archive",
                  "scale")
              .contains(h.only)) {
            throw new IllegalArgumentException(
                "--only takes publish, latency, consume, drain, gateway, observability, archive or"
                    + " scale,"
                    + " was '"
                    + h.only
                    + "'");
          }
        }
        case "--in-flight" -> h.inFlight = Integer.parseInt(args[++i]);
        case "--sse-clients" -> h.sseClients = Integer.parseInt(args[++i]);
        case "--sse-rate" -> h.sseRate = Integer.parseInt(args[++i]);
        case "--sse-seconds" -> h.sseSeconds = Integer.parseInt(args[++i]);
        case "--access-log" -> h.accessLog = true;
        case "--gateway-warm-up" -> h.gatewayWarmUp = Integer.parseInt(args[++i]);
        case "--scale-events" -> h.scaleEvents = Integer.parseInt(args[++i]);
        case "--scale-nodes" ->
            h.scaleNodes =
                java.util.Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--smoke" -> {
          h.runs = 1;
          h.seconds = 1;
          h.latencySeconds = 1;
          h.consumeCount = 2000;
          h.drainCount = 5000;
          h.replayCount = 5000;
          h.sseClients = 20;
          h.sseRate = 500;
          h.gatewayWarmUp = 1;
          h.scaleEvents = 2000;
          h.scaleNodes = new int[] {1};
        }
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (h.sseSeconds < 0) {
      h.sseSeconds = h.latencySeconds;
    }
    // One line per request on standard error would measure the console, not the gateway. Only
    // effective before slf4j-simple starts, which it has not when run as a program.
    String accessLogger = "org.slf4j.simpleLogger.log.dev.bloodbank.server.access";
    if (!h.accessLog && System.getProperty(accessLogger) == null) {
      System.setProperty(accessLogger, "warn");
    }
    if (h.only.equals("scale")) {
      h.scale();
      return;
    }
    h.run();
  }

  /**
   * The scale-out rows on private nodes ({@link ScaleLoad}): the ratio of Bloodbank's publish rate
   * to amqp-client's on one quorum queue, and the partitioned-consumption curve, per cluster size.
   */
  private void scale() throws Exception {
    List<ScaleLoad.Row> rows = new ScaleLoad(runs, seconds, scaleEvents).run(scaleNodes);
    StringBuilder t = new StringBuilder("| measure | value | unit | note |\n|---|---|---|---|\n");
    Map<String, Object> out = new LinkedHashMap<>();
    for (ScaleLoad.Row r : rows) {
      t.append(
          String.format("| %s | %.0f | %s | %s |%n", r.label(), r.value(), r.unit(), r.note()));
      out.put(r.label(), r.value());
    }
    for (int i = 0; i + 1 < rows.size(); i++) {
      ScaleLoad.Row a = rows.get(i);
      ScaleLoad.Row b = rows.get(i + 1);
      if (a.label().endsWith("amqp-client") && b.label().endsWith("Bloodbank")) {
        String label = b.label().replace(", Bloodbank", ", Bloodbank / amqp-client");
        t.append(
            String.format("| %s | %.2f | ratio | target ≥ 0.90 |%n", label, b.value() / a.value()));
        out.put(label, b.value() / a.value());
      }
    }
    System.out.print(t);
    Files.createDirectories(json.toAbsolutePath().getParent());
    EventCodec.defaultObjectMapper()
        .writerWithDefaultPrettyPrinter()
        .writeValue(json.toFile(), Map.of("scale", out));
    System.out.println("JSON: " + json);
  }

  private void run() throws Exception {
    rawFactory.setHost("127.0.0.1");
    raw = rawFactory.newConnection("bench-raw");
    body = EventCodec.create().encode(Payloads.envelope(0));
    try (Channel ch = raw.createChannel()) {
      ch.exchangeDeclare(EXCHANGE, "topic", true);
      ch.queueDeclare(
          "bloodbank.bench.sink", true, false, false, Map.of("x-queue-type", "classic"));
      ch.queueBind("bloodbank.bench.sink", EXCHANGE, "#");
      ch.queuePurge("bloodbank.bench.sink");
    }
    BloodbankOptions plain =
        BloodbankOptions.builder()
            .exchange(EXCHANGE)
            .serviceName("bench")
            .validation(ValidationMode.STRICT)
            .build();
    // Benchmark links are throwaway: keep them an hour, not the default 30 days.
    BloodbankOptions tracked =
        plain
            .mutate()
            .correlation(RedisTrackerOptions.builder().ttl(java.time.Duration.ofHours(1)).build())
            .build();
    Map<String, List<Double>> results = new LinkedHashMap<>();
    Thread heap = heapSampler();
    try (Bloodbank bus = Bloodbank.connect(plain);
        Bloodbank busTracked = Bloodbank.connect(tracked)) {
      for (int r = 0; r < runs && (only.isEmpty() || only.equals("publish")); r++) {
        add(results, "raw publish", rawPublish(false));
        add(results, "bloodbank publish (strict validation)", bbPublish(bus, false));
        add(results, "bloodbank publish (validation + tracking)", bbPublish(busTracked, true));
        add(results, "raw publish, minimal properties", rawPublish(true));
      }
      // A tracking figure means little if links were dropped to get it: report both counts.
      busTracked
          .correlationRecorder()
          .ifPresent(
              rec -> {
                recorded = rec.stats().recorded();
                lost = rec.stats().lost();
              });
      if (runs > 0 && (only.isEmpty() || only.equals("latency"))) {
        // One round unrecorded: the first ran the SDK's code half compiled (p50 1.1-1.4 ms
        // against 0.45-0.65 in the next rounds), while the raw rows' amqp-client was warm.
        int warmUp = Math.min(latencySeconds, 10);
        rawLatency(raw, warmUp);
        bbLatency(bus, warmUp);
      }
      for (int r = 0; r < runs && (only.isEmpty() || only.equals("latency")); r++) {
        double[] rawLat = rawLatency(raw, latencySeconds);
        double[] rawApart = rawLatencyOnTwoConnections();
        double[] bbLat = bbLatency(bus, latencySeconds);
        add(results, "raw e2e p50 ms", rawLat[0]);
        add(results, "raw e2e p99 ms", rawLat[1]);
        add(results, "raw e2e p99.9 ms", rawLat[2]);
        add(results, "raw e2e, two connections, p50 ms", rawApart[0]);
        add(results, "raw e2e, two connections, p99 ms", rawApart[1]);
        add(results, "bloodbank e2e p50 ms", bbLat[0]);
        add(results, "bloodbank e2e p99 ms", bbLat[1]);
        add(results, "bloodbank e2e p99.9 ms", bbLat[2]);
      }
      if (runs > 0 && (only.isEmpty() || only.equals("consume"))) {
        // Both sides once unrecorded, as for latency: the first recorded round ran the SDK's
        // decoding half compiled (0.44-0.60 of raw, then 0.82-0.92).
        int warmUp = Math.min(consumeCount, 20_000);
        rawConsume(5, warmUp, null);
        bbConsume(bus, warmUp, false, null);
      }
      for (int r = 0; r < runs && (only.isEmpty() || only.equals("consume")); r++) {
        add(results, "raw consume", rawConsume(1, consumeCount, "raw consume"));
        add(results, "bloodbank consume", bbConsume(bus));
        add(
            results,
            "raw consume, grouped acks",
            rawConsume(5, consumeCount, "raw consume, grouped acks"));
      }
      if (only.isEmpty() || only.equals("drain")) {
        drainVsPublish(results);
      }
      if (only.isEmpty() || only.equals("gateway")) {
        sdkHeapPeak = peakHeapAfterGc.get(); // the gateway's own heap is reported on its own
        gateway(results);
      }
      if (only.isEmpty() || only.equals("archive")) {
        archive(results, plain); // after the SDK's heap figure was taken: it reports its own
      }
      if (only.isEmpty() || only.equals("observability")) {
        observability(results, plain); // after the gateway's heap figure was taken
      }
    } finally {
      heap.interrupt();
      try (Channel ch = raw.createChannel()) {
        ch.queueDelete("bloodbank.bench.sink");
      }
      raw.close();
    }
    if (only.isEmpty()
        || only.equals("gateway")
        || only.equals("observability")
        || only.equals("archive")) {
      report(results);
    } else {
      results.forEach((k, v) -> System.out.printf("%s: median %.2f of %s%n", k, median(v), v));
    }
    System.out.println("CPU per message (µs, medians), client / broker / Redis:");
    for (Map.Entry<String, List<Double>> e : cpuPerMessage.entrySet()) {
      System.out.printf("  %s: %.1f%n", e.getKey(), median(e.getValue()));
    }
  }

  /** CPU microseconds per message since {@code from}: client, broker, Redis. */
  private void cpuSample(String what, CpuMeter.Reading from, long messages) {
    double[] us = CpuMeter.perMessage(from, cpu.read(), messages);
    add(cpuPerMessage, what + ", client", us[0]);
    add(cpuPerMessage, what + ", broker", us[1]);
    add(cpuPerMessage, what + ", redis", us[2]);
  }

  private static void add(Map<String, List<Double>> m, String k, double v) {
    m.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
  }

  static double median(List<Double> v) {
    double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
  }

  // ---- publish throughput --------------------------------------------------------------

  private void purge() throws IOException, java.util.concurrent.TimeoutException {
    try (Channel ch = raw.createChannel()) {
      ch.queuePurge("bloodbank.bench.sink");
    }
  }

  /**
   * amqp-client directly: confirms, at most 1,000 unconfirmed, pre-encoded 1 KB body, and the
   * properties every Bloodbank event must carry on the wire (persistent, {@code content_type},
   * {@code message_id}, {@code timestamp}); with {@code minimal}, without the timestamp, which
   * keeps the properties under RabbitMQ's 64-byte limit for the cheap path (reported, not a
   * baseline).
   */
  private double rawPublish(boolean minimal) throws Exception {
    Channel ch = raw.createChannel();
    ch.confirmSelect();
    Semaphore window = new Semaphore(WINDOW);
    ConcurrentNavigableMap<Long, Boolean> outstanding = new ConcurrentSkipListMap<>();
    AtomicLong confirmed = new AtomicLong();
    confirmWindow(ch, window, outstanding, confirmed);
    rawLoop(ch, window, outstanding, minimal, TimeUnit.SECONDS.toNanos(1)); // warm-up
    window.acquire(WINDOW);
    window.release(WINDOW);
    long start = System.nanoTime();
    long before = confirmed.get();
    CpuMeter.Reading c0 = cpu.read();
    rawLoop(ch, window, outstanding, minimal, TimeUnit.SECONDS.toNanos(seconds));
    window.acquire(WINDOW);
    double rate = (confirmed.get() - before) / ((System.nanoTime() - start) / 1e9);
    cpuSample(
        minimal ? "raw publish, minimal properties" : "raw publish", c0, confirmed.get() - before);
    ch.close();
    purge();
    return rate;
  }

  private void rawLoop(
      Channel ch,
      Semaphore window,
      ConcurrentNavigableMap<Long, Boolean> outstanding,
      boolean minimal,
      long nanos)
      throws Exception {
    long end = System.nanoTime() + nanos;
    while (System.nanoTime() < end) {
      window.acquire();
      AMQP.BasicProperties props = minimal ? minimalProperties() : contractProperties();
      outstanding.put(ch.getNextPublishSeqNo(), Boolean.TRUE);
      ch.basicPublish(EXCHANGE, Payloads.TYPE, false, props, body);
    }
  }

  /** What every Bloodbank event carries, as a raw amqp-client user would have to send it. */
  private static AMQP.BasicProperties contractProperties() {
    return new AMQP.BasicProperties.Builder()
        .deliveryMode(2)
        .contentType("application/json")
        .messageId(UUID.randomUUID().toString())
        .timestamp(new Date())
        .build();
  }

  private static AMQP.BasicProperties minimalProperties() {
    return new AMQP.BasicProperties.Builder()
        .deliveryMode(2)
        .contentType("application/json")
        .messageId(UUID.randomUUID().toString())
        .build();
  }

  /**
   * Settles {@code outstanding} on every confirm or nack of {@code ch}, counting confirms in {@code
   * confirmed} and giving the settled permits back to {@code window}.
   */
  static void confirmWindow(
      Channel ch,
      Semaphore window,
      ConcurrentNavigableMap<Long, Boolean> outstanding,
      AtomicLong confirmed) {
    ch.addConfirmListener(
        (tag, multiple) -> {
          int n = settle(outstanding, tag, multiple);
          confirmed.addAndGet(n);
          window.release(n);
        },
        (tag, multiple) -> window.release(settle(outstanding, tag, multiple)));
  }

  /** Removes what a confirm (or nack) settles from {@code outstanding}; returns how many. */
  static int settle(ConcurrentNavigableMap<Long, Boolean> outstanding, long tag, boolean multiple) {
    if (!multiple) {
      return outstanding.remove(tag) != null ? 1 : 0;
    }
    var head = outstanding.headMap(tag, true);
    int n = head.size();
    head.clear();
    return n;
  }

  /** Bloodbank: builds, validates and encodes each event, same window, one channel. */
  private double bbPublish(Bloodbank bus, boolean tracking) throws Exception {
    return bbPublish(
        bus, tracking, tracking ? "bloodbank publish + tracking" : "bloodbank publish", null);
  }

  /**
   * {@link #bbPublish(Bloodbank, boolean)}, its client CPU reported as {@code cpuLabel}; adds the
   * events published, warm-up included, to {@code published} when given.
   */
  private double bbPublish(
      Bloodbank bus, boolean tracking, String cpuLabel, @Nullable AtomicLong published)
      throws Exception {
    Publisher p = bus.publisher(PublisherOptions.builder().maxInFlight(WINDOW).channels(1).build());
    AtomicLong confirmed = new AtomicLong();
    List<UUID> parents = List.of(UUID.randomUUID());
    long calls = bbLoop(p, confirmed, parents, tracking, TimeUnit.SECONDS.toNanos(1));
    long before = confirmed.get();
    long start = System.nanoTime();
    CpuMeter.Reading c0 = cpu.read();
    calls += bbLoop(p, confirmed, parents, tracking, TimeUnit.SECONDS.toNanos(seconds));
    p.close(); // waits for confirms in flight
    double rate = (confirmed.get() - before) / ((System.nanoTime() - start) / 1e9);
    cpuSample(cpuLabel, c0, confirmed.get() - before);
    if (published != null) {
      published.addAndGet(calls);
    }
    purge();
    return rate;
  }

  /**
   * The application's payload object is built once, as the raw side's body is encoded once; each
   * event gets its own envelope (id, timestamp), encoding and validation: the SDK's work.
   *
   * @return the events published
   */
  private static long bbLoop(
      Publisher p, AtomicLong confirmed, List<UUID> parents, boolean tracking, long nanos) {
    TranscriptionCompleted payload = Payloads.transcription(0);
    long end = System.nanoTime() + nanos;
    long calls = 0;
    while (System.nanoTime() < end) {
      p.publish(Payloads.TYPE, payload, tracking ? parents : List.of())
          .thenRun(confirmed::incrementAndGet);
      calls++;
    }
    return calls;
  }

  // ---- end-to-end latency at a fixed rate ----------------------------------------------

  /**
   * {@link #rawLatency(Connection, int)} publishing on a connection of its own, as Bloodbank does
   * (a broker alarm blocks publishing connections; consumers must not stop with them).
   */
  private double[] rawLatencyOnTwoConnections() throws Exception {
    try (Connection publishing = rawFactory.newConnection("bench-raw-publish")) {
      return rawLatency(publishing, latencySeconds);
    }
  }

  /** Raw amqp-client publish-to-handler latency for {@code seconds}, consuming on {@link #raw}. */
  private double[] rawLatency(Connection publishing, int seconds) throws Exception {
    String q = "bloodbank.bench.latency.raw";
    long[] samples = new long[(seconds + 1) * rate];
    AtomicInteger n = new AtomicInteger();
    CountDownLatch all = new CountDownLatch(samples.length);
    Channel consumer = raw.createChannel();
    consumer.queueDeclare(q, true, false, false, Map.of("x-queue-type", "classic"));
    consumer.queueBind(q, EXCHANGE, "latency.raw");
    consumer.basicQos(10);
    consumer.basicConsume(
        q,
        false,
        new DefaultConsumer(consumer) {
          @Override
          public void handleDelivery(String tag, Envelope env, AMQP.BasicProperties props, byte[] b)
              throws IOException {
            long sent = ((Number) props.getHeaders().get("sent")).longValue();
            int i = n.getAndIncrement();
            if (i < samples.length) {
              samples[i] = System.nanoTime() - base - sent;
            }
            getChannel().basicAck(env.getDeliveryTag(), false);
            all.countDown();
          }
        });
    Channel pub = publishing.createChannel();
    pub.confirmSelect();
    paced(
        samples.length,
        () -> {
          try {
            pub.basicPublish(
                EXCHANGE,
                "latency.raw",
                false,
                new AMQP.BasicProperties.Builder()
                    .deliveryMode(2)
                    .contentType("application/json")
                    .messageId(UUID.randomUUID().toString())
                    .timestamp(new Date())
                    .headers(Map.of("sent", System.nanoTime() - base))
                    .build(),
                body);
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        });
    all.await(seconds + 30L, TimeUnit.SECONDS);
    pub.close();
    consumer.queueDelete(q);
    consumer.close();
    return percentiles(samples, n.get());
  }

  private double[] bbLatency(Bloodbank bus, int seconds) throws Exception {
    long[] samples = new long[(seconds + 1) * rate];
    AtomicInteger n = new AtomicInteger();
    CountDownLatch all = new CountDownLatch(samples.length);
    Subscriber s =
        bus.subscribe(
            SubscriberOptions.builder(Payloads.TYPE)
                .queueName("bloodbank.bench.latency.bb")
                .build(),
            TranscriptionCompleted.class,
            e -> {
              long sent = e.payload().getAudioMetadata().getDurationSeconds().longValue();
              int i = n.getAndIncrement();
              if (i < samples.length) {
                samples[i] = System.nanoTime() - base - sent;
              }
              all.countDown();
            });
    purge();
    Publisher p = bus.publisher();
    paced(samples.length, () -> p.publish(Payloads.envelope(System.nanoTime() - base)));
    all.await(seconds + 30L, TimeUnit.SECONDS);
    s.close();
    deleteQueues("bloodbank.bench.latency.bb");
    purge();
    return percentiles(samples, n.get());
  }

  private void paced(int count, Runnable send) {
    long interval = TimeUnit.SECONDS.toNanos(1) / rate;
    long next = System.nanoTime();
    for (int i = 0; i < count; i++) {
      long wait = next - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      send.run();
      next += interval;
    }
  }

  /** Percentiles of the samples after the first second (warm-up). */
  private double[] percentiles(long[] samples, int n) {
    int from = Math.min(rate, Math.max(0, Math.min(n, samples.length) - 1));
    long[] s = Arrays.copyOfRange(samples, from, Math.min(n, samples.length));
    Arrays.sort(s);
    if (s.length == 0) {
      return new double[] {Double.NaN, Double.NaN, Double.NaN};
    }
    return new double[] {ms(s, 0.50), ms(s, 0.99), ms(s, 0.999)};
  }

  private static double ms(long[] sorted, double q) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)] / 1e6;
  }

  // ---- consume throughput ---------------------------------------------------------------

  private void preload(String routingKey, int count) throws Exception {
    preload(routingKey, count, false);
  }

  /**
   * {@code count} messages with the contract's properties; with {@code traced}, each also carries a
   * W3C {@code traceparent} header of a trace of its own, as a traced producer's would.
   */
  private void preload(String routingKey, int count, boolean traced) throws Exception {
    Channel ch = raw.createChannel();
    ch.confirmSelect();
    java.util.Random random = new java.util.Random(42);
    for (int i = 0; i < count; i++) {
      AMQP.BasicProperties props = contractProperties();
      if (traced) {
        props =
            props
                .builder()
                .headers(
                    Map.of(
                        "traceparent",
                        String.format(
                            "00-%016x%016x-%016x-01",
                            random.nextLong(), random.nextLong(), random.nextLong() | 1)))
                .build();
      }
      ch.basicPublish(EXCHANGE, routingKey, false, props, body);
      if (i % 1000 == 999) {
        ch.waitForConfirmsOrDie(30_000);
      }
    }
    ch.waitForConfirmsOrDie(30_000);
    ch.close();
  }

  /**
   * amqp-client's consumer, prefetch 10, handing over each body as a string; acknowledging each
   * message, or with {@code ackGroup} above 1, every that many with {@code multiple} (as the
   * Bloodbank subscriber does by default: reported, not a baseline); {@code count} messages, client
   * CPU reported as {@code cpuLabel}, or not when null (a warm-up).
   */
  private double rawConsume(int ackGroup, int count, @Nullable String cpuLabel) throws Exception {
    String q = "bloodbank.bench.consume.raw";
    Channel ch = raw.createChannel();
    ch.queueDeclare(q, true, false, false, Map.of("x-queue-type", "classic"));
    ch.queueBind(q, EXCHANGE, "consume.raw");
    preload("consume.raw", count);
    CountDownLatch done = new CountDownLatch(count);
    ch.basicQos(10);
    long start = System.nanoTime();
    CpuMeter.Reading c0 = cpu.read();
    ch.basicConsume(
        q,
        false,
        new DefaultConsumer(ch) {
          @Override
          public void handleDelivery(String tag, Envelope env, AMQP.BasicProperties props, byte[] b)
              throws IOException {
            new String(b, StandardCharsets.UTF_8).length(); // touch the body as a handler would
            long left = done.getCount() - 1;
            if (ackGroup <= 1) {
              getChannel().basicAck(env.getDeliveryTag(), false);
            } else if (left % ackGroup == 0) {
              getChannel().basicAck(env.getDeliveryTag(), true);
            }
            done.countDown();
          }
        });
    done.await(5, TimeUnit.MINUTES);
    double rate = count / ((System.nanoTime() - start) / 1e9);
    if (cpuLabel != null) {
      cpuSample(cpuLabel, c0, count);
    }
    ch.queueDelete(q);
    ch.close();
    return rate;
  }

  private double bbConsume(Bloodbank bus) throws Exception {
    return bbConsume(bus, consumeCount, false, "bloodbank consume");
  }

  /**
   * The Bloodbank subscriber's default settings (prefetch 10, acknowledgements grouped by 5)
   * handling {@code count} preloaded events; {@code traced}: each with a {@code traceparent}
   * header; client CPU reported as {@code cpuLabel}, or not when null (a warm-up).
   */
  private double bbConsume(Bloodbank bus, int count, boolean traced, @Nullable String cpuLabel)
      throws Exception {
    String q = "bloodbank.bench.consume.bb";
    SubscriberOptions opts = SubscriberOptions.builder("consume.bb").queueName(q).build();
    bus.subscribe(opts, TranscriptionCompleted.class, e -> {}).close(); // declare the queues
    preload("consume.bb", count, traced);
    CountDownLatch done = new CountDownLatch(count);
    long start = System.nanoTime();
    CpuMeter.Reading c0 = cpu.read();
    Subscriber s = bus.subscribe(opts, TranscriptionCompleted.class, e -> done.countDown());
    if (!done.await(5, TimeUnit.MINUTES)) {
      System.out.printf(
          "consume: %d of %d events not handled after 5 min%n", done.getCount(), count);
    }
    double rate = count / ((System.nanoTime() - start) / 1e9);
    if (cpuLabel != null) {
      cpuSample(cpuLabel, c0, count);
    }
    s.close();
    deleteQueues(q);
    return rate;
  }

  private void deleteQueues(String q) throws Exception {
    try (Channel ch = raw.createChannel()) {
      for (String name :
          List.of(q, q + ".dlq", q + ".retry.1000", q + ".retry.5000", q + ".retry.30000")) {
        ch.queueDelete(name);
      }
    }
  }

  // ---- draining a write-ahead log backlog -----------------------------------------------

  /**
   * The publisher's own rate over N events, then a durable publisher opening a log that holds N
   * pending events and sending them all, timed from its open (recovery included) to an empty log.
   * Both on an exchange of their own whose queue keeps the newest 100,000 messages, so that the
   * broker's queue stays the same size for both and a million events do not pile up on its disk.
   */
  private void drainVsPublish(Map<String, List<Double>> results) throws Exception {
    String exchange = EXCHANGE + ".drain";
    String sink = "bloodbank.bench.drain.sink";
    try (Channel ch = raw.createChannel()) {
      ch.exchangeDeclare(exchange, "topic", true);
      ch.queueDelete(sink);
      ch.queueDeclare(
          sink, true, false, false, Map.of("x-queue-type", "classic", "x-max-length", 100_000));
      ch.queueBind(sink, exchange, "#");
    }
    Path dir = Files.createTempDirectory(Path.of("target"), "drain");
    try (Bloodbank bus =
        Bloodbank.connect(
            BloodbankOptions.builder()
                .exchange(exchange)
                .serviceName("bench")
                .validation(ValidationMode.STRICT)
                .build())) {
      PublisherOptions window = PublisherOptions.builder().maxInFlight(WINDOW).channels(1).build();
      Publisher p = bus.publisher(window);
      bbLoop(p, new AtomicLong(), List.of(), false, TimeUnit.SECONDS.toNanos(1)); // warm-up
      AtomicLong confirmed = new AtomicLong();
      TranscriptionCompleted payload = Payloads.transcription(0);
      long start = System.nanoTime();
      for (int i = 0; i < drainCount; i++) {
        p.publish(Payloads.TYPE, payload).thenRun(confirmed::incrementAndGet);
      }
      p.close(); // waits for confirms in flight
      double own = confirmed.get() / ((System.nanoTime() - start) / 1e9);

      Path log = dir.resolve("backlog.wal");
      EventCodec codec = bus.codec();
      try (WriteAheadLog wal =
          WriteAheadLog.open(
              WalOptions.builder()
                  .path(log)
                  .fsync(FsyncPolicy.batched(java.time.Duration.ofMillis(5), 4096))
                  .build())) {
        java.util.concurrent.CompletableFuture<Long> last = null;
        for (int i = 0; i < drainCount; i++) {
          var e = Payloads.envelope(i);
          last = wal.appendAsync(e.eventId(), Payloads.TYPE, codec.encode(e));
        }
        if (last != null) {
          last.join();
        }
      }
      start = System.nanoTime();
      CpuMeter.Reading c0 = cpu.read();
      int left;
      try (DurablePublisher d =
          bus.durablePublisher(window.mutate().durable(WalOptions.of(log)).build())) {
        while ((left = d.pendingCount()) > 0
            && System.nanoTime() - start < TimeUnit.MINUTES.toNanos(30)) {
          Thread.sleep(20);
        }
      }
      double drained = (drainCount - left) / ((System.nanoTime() - start) / 1e9);
      cpuSample("durable publisher drain", c0, drainCount - left);
      if (left > 0) {
        System.out.printf(
            "drain: %d of %d events still in the log after 30 min%n", left, drainCount);
      }
      add(results, "bloodbank publish, " + drainCount + " events", own);
      add(results, "durable publisher drain, " + drainCount + "-event backlog", drained);
    } finally {
      try (Channel ch = raw.createChannel()) {
        ch.queueDelete(sink);
        ch.exchangeDelete(exchange);
      }
      try (var all = Files.walk(dir)) {
        for (Path f : (Iterable<Path>) all.sorted(java.util.Comparator.reverseOrder())::iterator) {
          Files.deleteIfExists(f);
        }
      }
    }
  }

  // ---- the HTTP gateway against the SDK directly -----------------------------------------

  private static final String GW_SDK = "gateway: SDK publish, same in flight";
  private static final String GW = "gateway: publish";
  private static final String GW_SDK_WINDOW = "gateway: SDK publish, window 1000";
  private static final String GW_MINIMAL = "gateway: publish, minimal HTTP client";
  private static final String GW_FAILED = "gateway: publish requests not answered 202";
  private static final String[] PCT = {"p50", "p99", "p99.9", "max"};

  private void gateway(Map<String, List<Double>> results) throws Exception {
    try (GatewayLoad g =
        GatewayLoad.start(raw, cpu, (k, v) -> add(cpuPerMessage, k, v), inFlight)) {
      CpuMeter.Reading c0 = cpu.read();
      long m0 = CpuMeter.machineBusy();
      long t0 = System.nanoTime();
      g.warmUp(gatewayWarmUp);
      for (int r = 0; r < runs; r++) {
        GatewayLoad.Throughput t = g.throughput(seconds);
        add(results, GW_SDK, t.sdk());
        add(results, GW, t.gateway());
        add(results, GW_SDK_WINDOW, t.sdkWindow());
        add(results, GW_MINIMAL, t.gatewayMinimal());
        add(results, GW_FAILED, t.gatewayFailed());
        warnIfFailed(g);
      }
      for (int r = 0; r < runs; r++) {
        GatewayLoad.Latency[] l = g.latency(latencySeconds, rate);
        String[] side = {"gateway", "SDK", "minimal"};
        for (int k = 0; k < side.length; k++) {
          double[] v = {l[k].p50(), l[k].p99(), l[k].p999(), l[k].max()};
          for (int p = 0; p < PCT.length; p++) {
            add(results, "gateway: latency " + side[k] + " " + PCT[p] + " ms", v[p]);
          }
          add(results, "gateway: latency " + side[k] + " failed", l[k].failed());
        }
        warnIfFailed(g);
      }
      tail = g.tail(sseClients, sseRate, sseSeconds);
      if (tail.firstProblem() != null) {
        System.out.println("gateway live tail: " + tail.firstProblem());
      }
      CpuMeter.Reading c1 = cpu.read();
      long m1 = CpuMeter.machineBusy();
      if (m0 >= 0 && c0.broker() >= 0) {
        long ours =
            (c1.client() - c0.client())
                + (c1.broker() - c0.broker())
                + (c0.redis() >= 0 ? c1.redis() - c0.redis() : 0);
        otherCores = Math.max(0, (m1 - m0) - ours) / (double) (System.nanoTime() - t0);
      }
    }
  }

  private static void warnIfFailed(GatewayLoad g) {
    if (g.firstError() != null) {
      System.out.println("gateway: first failure: " + g.firstError());
    }
  }

  private static double max(List<Double> v) {
    return v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
  }

  /** The gateway's rows; the raw column holds the SDK publishing directly. */
  private void gatewayRows(StringBuilder t, Map<String, List<Double>> r, Map<String, Object> json) {
    double sdk = median(r.get(GW_SDK));
    double gw = median(r.get(GW));
    double window = median(r.get(GW_SDK_WINDOW));
    long failed = (long) r.get(GW_FAILED).stream().mapToDouble(Double::doubleValue).sum();
    t.append(
        String.format(
            "| **gateway**: bloodbank-server in this JVM, JDK HttpClient over HTTP/1.1 keep-alive,"
                + " 1 KB llm.prompt bodies, strict validation, rate limit off, access log %s, %d s"
                + " warm-up; other processes kept %.2f cores busy meanwhile; raw column = the SDK"
                + " publishing the same events directly | | | | | |%n",
            accessLog ? "on" : "off", gatewayWarmUp, otherCores));
    boolean publishMet = gw / sdk >= 0.70;
    row(
        t,
        "gateway publish, confirms, "
            + inFlight
            + " requests in flight vs SDK with as many (req/s)",
        sdk,
        gw,
        gw / sdk,
        "≥ 0.70",
        publishMet);
    t.append(
        String.format(
            "| the same gateway figure vs the SDK with its default window of 1,000 (events/s) |"
                + " %.0f | %.0f | %.2f | | |%n",
            window, gw, gw / window));
    double minimal = median(r.get(GW_MINIMAL));
    t.append(
        String.format(
            "| the gateway with a minimal HTTP/1.1 client (one pre-encoded request per keep-alive"
                + " socket) instead of the JDK's, %d in flight (req/s), for reference | %.0f | %.0f |"
                + " %.2f | | |%n",
            inFlight, sdk, minimal, minimal / sdk));
    t.append(
        String.format(
            "| gateway publish requests not answered 202 | | %d | | 0 | %s |%n",
            failed, failed == 0 ? "yes" : "NO"));
    Map<String, Object> lat = new LinkedHashMap<>();
    Map<String, Double> gwMs = new LinkedHashMap<>();
    Map<String, Double> sdkMs = new LinkedHashMap<>();
    for (String p : PCT) {
      List<Double> g = r.get("gateway: latency gateway " + p + " ms");
      List<Double> s = r.get("gateway: latency SDK " + p + " ms");
      double gv = p.equals("max") ? max(g) : median(g);
      double sv = p.equals("max") ? max(s) : median(s);
      gwMs.put(p, gv);
      sdkMs.put(p, sv);
    }
    Map<String, Double> minMs = new LinkedHashMap<>();
    for (String p : PCT) {
      List<Double> m = r.get("gateway: latency minimal " + p + " ms");
      minMs.put(p, p.equals("max") ? max(m) : median(m));
    }
    double p99 = gwMs.get("p99");
    long latFailed =
        (long) r.get("gateway: latency gateway failed").stream().mapToDouble(d -> d).sum();
    boolean latencyMet = p99 <= 10 && latFailed == 0;
    t.append(
        String.format(
            "| gateway latency at %d req/s, open loop, from the scheduled send to the 202; SDK:"
                + " publish to confirm; p50 (ms) | %.2f | %.2f | %.2f | | |%n",
            rate, sdkMs.get("p50"), gwMs.get("p50"), gwMs.get("p50") / sdkMs.get("p50")));
    t.append(
        String.format(
            "| gateway latency p99 (ms) | %.2f | %.2f | %.2f | ≤ 10 ms | %s |%n",
            sdkMs.get("p99"), p99, p99 / sdkMs.get("p99"), latencyMet ? "yes" : "NO"));
    t.append(
        String.format(
            "| gateway latency p99.9 (ms) | %.2f | %.2f | %.2f | | |%n",
            sdkMs.get("p99.9"), gwMs.get("p99.9"), gwMs.get("p99.9") / sdkMs.get("p99.9")));
    t.append(
        String.format(
            "| gateway latency max, worst run (ms); requests failed or unanswered | %.2f | %.2f;"
                + " %d | | | |%n",
            sdkMs.get("max"), gwMs.get("max"), latFailed));
    t.append(
        String.format(
            "| gateway latency with the minimal HTTP/1.1 client, p50 / p99 / p99.9 / max (ms), for"
                + " reference | | %.2f / %.2f / %.2f / %.2f | | | |%n",
            minMs.get("p50"), minMs.get("p99"), minMs.get("p99.9"), minMs.get("max")));
    lat.put("rate", rate);
    lat.put("seconds", latencySeconds);
    lat.put("gateway_ms", gwMs);
    lat.put("sdk_publish_to_confirm_ms", sdkMs);
    lat.put("gateway_minimal_client_ms", minMs);
    lat.put("gateway_failed", latFailed);
    lat.put("target_p99_ms", 10);
    lat.put("met", latencyMet);

    Map<String, Object> pub = new LinkedHashMap<>();
    pub.put("in_flight", inFlight);
    pub.put("payload_bytes", GatewayLoad.PAYLOAD_BYTES);
    pub.put("sdk_same_in_flight", sdk);
    pub.put("gateway", gw);
    pub.put("ratio", gw / sdk);
    pub.put("gateway_minimal_client", minimal);
    pub.put("ratio_minimal_client", minimal / sdk);
    pub.put("sdk_window_1000", window);
    pub.put("ratio_to_window_1000", gw / window);
    pub.put("gateway_failed", failed);
    pub.put("target_ratio", 0.70);
    pub.put("met", publishMet);

    Map<String, Object> sse = new LinkedHashMap<>();
    if (tail != null) {
      GatewayLoad.Tail s = tail;
      boolean allReceived = s.receivedMin() == s.published() && s.receivedMax() == s.published();
      boolean noneDropped = s.dropped() == 0 && s.failed() == 0;
      boolean heapFlat = s.heapGrowthMb() <= 16;
      t.append(
          String.format(
              "| live tail: %d SSE clients on # while the SDK publishes %d events/s for %d s:"
                  + " events each client received, min / max of the %d published | | %d / %d |"
                  + " | all | %s |%n",
              s.clients(),
              s.rate(),
              s.seconds(),
              s.published(),
              s.receivedMin(),
              s.receivedMax(),
              allReceived ? "yes" : "NO"));
      t.append(
          String.format(
              "| live-tail clients dropped (event: dropped) / cut off otherwise | | %d / %d | |"
                  + " 0 | %s |%n",
              s.dropped(), s.failed(), noneDropped ? "yes" : "NO"));
      boolean keptUp = s.maxLag() <= ServerOptions.DEFAULT_TAIL_BUFFER;
      t.append(
          String.format(
              "| live tail: most events the slowest reading client was behind the publisher"
                  + " (socket buffers hide lag from the server's own bound); time to catch up after"
                  + " the last confirm (ms) | | %d; %.0f | | ≤ %d (the server's tail buffer) | %s"
                  + " |%n",
              s.maxLag(), s.catchUpMs(), ServerOptions.DEFAULT_TAIL_BUFFER, keptUp ? "yes" : "NO"));
      t.append(
          String.format(
              "| heap after full GC, live tail start → end (MB) | | %.1f → %.1f | %+.1f | growth"
                  + " ≤ 16 | %s |%n",
              s.heapStartMb(), s.heapEndMb(), s.heapGrowthMb(), heapFlat ? "yes" : "NO"));
      sse.put("clients", s.clients());
      sse.put("rate", s.rate());
      sse.put("seconds", s.seconds());
      sse.put("published", s.published());
      sse.put("received_min", s.receivedMin());
      sse.put("received_max", s.receivedMax());
      sse.put("dropped", s.dropped());
      sse.put("cut_off", s.failed());
      sse.put("max_lag_events", s.maxLag());
      sse.put("catch_up_ms", s.catchUpMs());
      sse.put("heap_start_mb", s.heapStartMb());
      sse.put("heap_end_mb", s.heapEndMb());
      sse.put("heap_growth_mb", s.heapGrowthMb());
      sse.put("target_heap_growth_mb", 16);
      sse.put("target_max_lag_events", ServerOptions.DEFAULT_TAIL_BUFFER);
      sse.put("met", allReceived && noneDropped && keptUp && heapFlat);
      if (s.firstProblem() != null) {
        sse.put("first_problem", s.firstProblem());
      }
    }
    json.put("publish", pub);
    json.put("latency", lat);
    json.put("live_tail", sse);
    json.put("access_log", accessLog);
    json.put("warm_up_seconds", gatewayWarmUp);
    json.put("other_processes_cores", otherCores);
  }

  // ---- observability on against off -------------------------------------------------------

  private static final String OBS_PUB_OFF = "observability off: bloodbank publish";
  private static final String OBS_PUB_ON = "observability on: bloodbank publish";
  private static final String OBS_CON_OFF = "observability off: bloodbank consume";
  private static final String OBS_CON_ON = "observability on: bloodbank consume";
  // The observed bus's events, warm-ups included: each is one span and one timer record.
  private final AtomicLong obsPublished = new AtomicLong();
  private long obsConsumed;
  private long obsSpans = -1;
  private long obsPublishTimer;
  private Map<String, Long> obsPublishOutcomes = Map.of();
  private long obsConsumeTimer;
  private int obsScrapeBytes;
  private boolean obsScrapeHasBoth;

  /**
   * The Bloodbank publish and consume rows' workloads, each on a bus without observability and on
   * one with a Prometheus registry and OpenTelemetry tracing ({@link BenchObservability}), off and
   * on next to each other in every run, the order alternating from run to run. The consumed events
   * carry a {@code traceparent} header on both sides, so the traced subscriber continues a trace as
   * it would behind a traced producer.
   */
  private void observability(Map<String, List<Double>> results, BloodbankOptions plain)
      throws Exception {
    BenchObservability o = new BenchObservability();
    try {
      try (Bloodbank off = Bloodbank.connect(plain);
          Bloodbank on =
              Bloodbank.connect(plain.mutate().observability(o.observability()).build())) {
        // Both paths on each bus before the first measured run, so that the first run does not
        // pay for the JIT compiling them (the client CPU figures count the compiler's threads).
        long warmUpNanos = TimeUnit.SECONDS.toNanos(Math.min(seconds, 5));
        for (Bloodbank b : List.of(off, on)) {
          Publisher p =
              b.publisher(PublisherOptions.builder().maxInFlight(WINDOW).channels(1).build());
          long calls = bbLoop(p, new AtomicLong(), List.of(), false, warmUpNanos);
          p.close();
          if (b == on) {
            obsPublished.addAndGet(calls);
          }
          purge();
        }
        int warmUp = Math.min(consumeCount, 10_000);
        bbConsume(off, warmUp, true, null);
        bbConsume(on, warmUp, true, null);
        obsConsumed += warmUp;
        for (int r = 0; r < runs; r++) {
          for (boolean observed :
              r % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false}) {
            add(
                results,
                observed ? OBS_PUB_ON : OBS_PUB_OFF,
                bbPublish(
                    observed ? on : off,
                    false,
                    observed ? OBS_PUB_ON : OBS_PUB_OFF,
                    observed ? obsPublished : null));
          }
          for (boolean observed :
              r % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false}) {
            add(
                results,
                observed ? OBS_CON_ON : OBS_CON_OFF,
                bbConsume(
                    observed ? on : off, consumeCount, true, observed ? OBS_CON_ON : OBS_CON_OFF));
            if (observed) {
              obsConsumed += consumeCount;
            }
          }
        }
      }
      // Both buses closed: every publish confirmed and every delivery settled.
      obsSpans = o.spansExported();
      obsPublishTimer = o.timerCount(BloodbankObservability.PUBLISH);
      obsPublishOutcomes = o.timerCountsBy(BloodbankObservability.PUBLISH, "outcome");
      obsConsumeTimer = o.timerCount(BloodbankObservability.CONSUME);
      String scrape = o.scrape();
      obsScrapeBytes = scrape.length();
      obsScrapeHasBoth =
          scrape.contains("bloodbank_publish_seconds_count")
              && scrape.contains("bloodbank_consume_seconds_count");
    } finally {
      o.close();
    }
  }

  /**
   * The observability rows; the raw column holds the bus without, the Bloodbank one the bus with.
   */
  private void observabilityRows(
      StringBuilder t, Map<String, List<Double>> r, Map<String, Object> json, boolean header) {
    if (header) {
      t.append(
          "| **observability**: the Bloodbank rows' publish and consume with a"
              + " PrometheusMeterRegistry and Micrometer Observation bridged to the OpenTelemetry"
              + " SDK (every span sampled, BatchSpanProcessor into a counting exporter, W3C"
              + " propagation) vs the same without, interleaved; raw column = off, Bloodbank column"
              + " = on | | | | | |\n");
    }
    double pubOff = median(r.get(OBS_PUB_OFF));
    double pubOn = median(r.get(OBS_PUB_ON));
    double conOff = median(r.get(OBS_CON_OFF));
    double conOn = median(r.get(OBS_CON_ON));
    boolean pubMet = pubOn / pubOff >= 0.90;
    boolean conMet = conOn / conOff >= 0.90;
    row(
        t,
        "publish with metrics and tracing on vs off, 1 KB persistent, confirms, window 1000 (msg/s)",
        pubOff,
        pubOn,
        pubOn / pubOff,
        "≥ 0.90",
        pubMet);
    row(
        t,
        "consume with metrics and tracing on vs off, prefetch 10, traceparent in every message"
            + " (msg/s)",
        conOff,
        conOn,
        conOn / conOff,
        "≥ 0.90",
        conMet);
    double cpuPubOff = median(cpuPerMessage.get(OBS_PUB_OFF + ", client"));
    double cpuPubOn = median(cpuPerMessage.get(OBS_PUB_ON + ", client"));
    double cpuConOff = median(cpuPerMessage.get(OBS_CON_OFF + ", client"));
    double cpuConOn = median(cpuPerMessage.get(OBS_CON_ON + ", client"));
    t.append(
        String.format(
            "| client CPU per published event, off vs on (µs) | %.1f | %.1f | %.2f | | |%n",
            cpuPubOff, cpuPubOn, cpuPubOn / cpuPubOff));
    t.append(
        String.format(
            "| client CPU per consumed event, off vs on (µs) | %.1f | %.1f | %.2f | | |%n",
            cpuConOff, cpuConOn, cpuConOn / cpuConOff));
    long events = obsPublished.get() + obsConsumed;
    boolean spansMet = obsSpans > 0 && obsSpans >= 0.99 * events;
    t.append(
        String.format(
            "| spans exported / events published and consumed with tracing on (warm-ups"
                + " included) | | %d / %d | %.3f | > 0, ≈ events | %s |%n",
            obsSpans, events, obsSpans / (double) events, spansMet ? "yes" : "NO"));
    boolean timersMet =
        obsPublishTimer == obsPublished.get() && obsConsumeTimer == obsConsumed && obsScrapeHasBoth;
    t.append(
        String.format(
            "| bloodbank.publish / bloodbank.consume timer counts vs events; Prometheus scrape"
                + " (bytes) | | %d / %d of %d / %d; %d | | = events | %s |%n",
            obsPublishTimer,
            obsConsumeTimer,
            obsPublished.get(),
            obsConsumed,
            obsScrapeBytes,
            timersMet ? "yes" : "NO"));
    Map<String, Object> pub = new LinkedHashMap<>();
    pub.put("off", pubOff);
    pub.put("on", pubOn);
    pub.put("ratio", pubOn / pubOff);
    pub.put("client_cpu_us_per_message_off", cpuPubOff);
    pub.put("client_cpu_us_per_message_on", cpuPubOn);
    pub.put("target_ratio", 0.90);
    pub.put("met", pubMet);
    Map<String, Object> con = new LinkedHashMap<>();
    con.put("off", conOff);
    con.put("on", conOn);
    con.put("ratio", conOn / conOff);
    con.put("client_cpu_us_per_message_off", cpuConOff);
    con.put("client_cpu_us_per_message_on", cpuConOn);
    con.put("target_ratio", 0.90);
    con.put("met", conMet);
    json.put("publish", pub);
    json.put("consume", con);
    json.put("spans_exported", obsSpans);
    json.put("events_observed", events);
    json.put("events_published_observed", obsPublished.get());
    json.put("events_consumed_observed", obsConsumed);
    json.put("publish_timer_count", obsPublishTimer);
    json.put("publish_timer_counts_by_outcome", obsPublishOutcomes);
    json.put("consume_timer_count", obsConsumeTimer);
    json.put("prometheus_scrape_bytes", obsScrapeBytes);
    json.put("sanity_met", spansMet && timersMet);
  }

  // ---- archive and replay (#20) ---------------------------------------------------------

  private static final String ARCHIVE = "bloodbank.bench.archive";
  private static final String ARC_PUB_OFF = "bloodbank publish, no archive";
  private static final String ARC_PUB_ON = "bloodbank publish, archive bound";
  private static final String REPLAY_RAW = "raw stream read";
  private static final String REPLAY_BB = "bloodbank replay";
  private double replayHeapBeforeMb = Double.NaN;
  private double replayHeapPeakMb = Double.NaN;

  /**
   * The archive's cost on the publish path (the Bloodbank publish row with and without the archive
   * stream bound to the exchange, interleaved, the order alternating), then reading {@code --replay
   * N} archived events: amqp-client consuming the stream from {@code first} with the same prefetch
   * and acknowledging in the same groups, against {@code bus.replay} handing each event to a typed
   * handler, with the heap after GC sampled during the replays.
   */
  private void archive(Map<String, List<Double>> results, BloodbankOptions plain) throws Exception {
    try (Bloodbank bus = Bloodbank.connect(plain);
        Channel ch = raw.createChannel()) {
      ch.queueDelete(ARCHIVE);
      ArchiveOptions options =
          ArchiveOptions.builder().queue(ARCHIVE).maxAge(java.time.Duration.ofHours(1)).build();
      bus.archive(options);
      try {
        bbPublish(bus, false, ARC_PUB_ON, null); // warm-up, archive bound
        for (int r = 0; r < runs; r++) {
          for (boolean bound :
              r % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false}) {
            if (bound) {
              ch.queueBind(ARCHIVE, EXCHANGE, "#");
            } else {
              ch.queueUnbind(ARCHIVE, EXCHANGE, "#");
            }
            String label = bound ? ARC_PUB_ON : ARC_PUB_OFF;
            add(results, label, bbPublish(bus, false, label, null));
          }
        }
        // A stream of exactly the events to read: through the default exchange, so the sink queue
        // and the rows above do not see them.
        ch.queueDelete(ARCHIVE);
        bus.archive(options);
        ch.queueUnbind(ARCHIVE, EXCHANGE, "#");
        fillArchive(replayCount);
        rawStreamRead(Math.min(replayCount, 50_000)); // warm-up
        bbReplay(bus, Math.min(replayCount, 50_000));
        System.gc();
        replayHeapBeforeMb = heapAfterGcMb();
        peakHeapAfterGc.set(0);
        for (int r = 0; r < runs; r++) {
          add(results, REPLAY_RAW, rawStreamRead(replayCount));
          add(results, REPLAY_BB, bbReplay(bus, replayCount));
        }
        replayHeapPeakMb = peakHeapAfterGc.get() / 1024.0 / 1024.0;
      } finally {
        ch.queueDelete(ARCHIVE);
      }
    }
  }

  private static double heapAfterGcMb() {
    return heapAfterGcBytes() / 1024.0 / 1024.0;
  }

  /** The heap the last collection of each heap pool left in use. */
  private static long heapAfterGcBytes() {
    long used = 0;
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP && p.getCollectionUsage() != null) {
        used += p.getCollectionUsage().getUsed();
      }
    }
    return used;
  }

  /** {@code n} events with the contract's properties straight into the archive stream. */
  private void fillArchive(int n) throws Exception {
    Channel ch = raw.createChannel();
    ch.confirmSelect();
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      ch.basicPublish("", ARCHIVE, false, contractProperties(), body);
      if (i % 1000 == 999) {
        ch.waitForConfirmsOrDie(60_000);
      }
    }
    ch.waitForConfirmsOrDie(60_000);
    ch.close();
    System.out.printf(
        "archive filled with %,d events of %d bytes in %.1f s%n",
        n, body.length, (System.nanoTime() - start) / 1e9);
  }

  /**
   * amqp-client reading the stream from {@code first}: prefetch as the replay's, acknowledging
   * every half prefetch with {@code multiple}, as the replay does, touching each body.
   */
  private double rawStreamRead(int n) throws Exception {
    Channel ch = raw.createChannel();
    ch.basicQos(replayPrefetch);
    CountDownLatch done = new CountDownLatch(1);
    AtomicLong seen = new AtomicLong();
    int ackEvery = Math.max(1, replayPrefetch / 2);
    long start = System.nanoTime();
    CpuMeter.Reading c0 = cpu.read();
    ch.basicConsume(
        ARCHIVE,
        false,
        Map.of("x-stream-offset", "first"),
        new DefaultConsumer(ch) {
          @Override
          public void handleDelivery(String tag, Envelope env, AMQP.BasicProperties props, byte[] b)
              throws IOException {
            new String(b, StandardCharsets.UTF_8).length();
            long k = seen.incrementAndGet();
            if (k % ackEvery == 0 || k == n) {
              getChannel().basicAck(env.getDeliveryTag(), true);
            }
            if (k == n) {
              done.countDown();
            }
          }
        });
    if (!done.await(10, TimeUnit.MINUTES)) {
      throw new IllegalStateException("raw stream read: " + seen.get() + " of " + n);
    }
    double rate = n / ((System.nanoTime() - start) / 1e9);
    cpuSample(REPLAY_RAW, c0, n);
    ch.abort();
    return rate;
  }

  /** {@code bus.replay} from the first event until now, typed, counting. */
  private double bbReplay(Bloodbank bus, int n) throws Exception {
    AtomicLong seen = new AtomicLong();
    long start = System.nanoTime();
    CpuMeter.Reading c0 = cpu.read();
    try (Replay replay =
        bus.replay(
            ReplayOptions.builder()
                .queue(ARCHIVE)
                .fromFirst()
                .untilNow()
                .prefetch(replayPrefetch)
                .build(),
            TranscriptionCompleted.class,
            e -> {
              if (e.payload().getText() != null) {
                seen.incrementAndGet();
              }
            })) {
      ReplayResult result = replay.completion().get(10, TimeUnit.MINUTES);
      if (result.handled() < n) {
        throw new IllegalStateException("replay: " + result.handled() + " of " + n);
      }
      double rate = result.handled() / ((System.nanoTime() - start) / 1e9);
      cpuSample(REPLAY_BB, c0, result.handled());
      return rate;
    }
  }

  private void archiveRows(
      StringBuilder t, Map<String, List<Double>> r, Map<String, Object> json, boolean header) {
    if (header) {
      t.append(
          "| **archive**: the Bloodbank publish row with and without the archive stream bound;"
              + " raw column = without | | | | | |\n");
    }
    double off = median(r.get(ARC_PUB_OFF));
    double on = median(r.get(ARC_PUB_ON));
    boolean pubMet = on / off >= 0.90;
    row(
        t,
        "publish with the archive bound vs without, 1 KB persistent, confirms, window 1000 (msg/s)",
        off,
        on,
        on / off,
        "≥ 0.90",
        pubMet);
    double rawRead = median(r.get(REPLAY_RAW));
    double bbRead = median(r.get(REPLAY_BB));
    boolean readMet = bbRead >= 50_000;
    row(
        t,
        String.format(
            "replay of %,d archived 1 KB events from first, typed handler, prefetch %d (events/s);"
                + " target is absolute",
            replayCount, replayPrefetch),
        rawRead,
        bbRead,
        bbRead / rawRead,
        "≥ 50,000/s",
        readMet);
    double cpuRaw = median(cpuPerMessage.get(REPLAY_RAW + ", client"));
    double cpuBb = median(cpuPerMessage.get(REPLAY_BB + ", client"));
    t.append(
        String.format(
            "| client CPU per replayed event (µs) | %.1f | %.1f | %.2f | | |%n",
            cpuRaw, cpuBb, cpuBb / cpuRaw));
    double growth = replayHeapPeakMb - replayHeapBeforeMb;
    boolean heapMet = growth < 32;
    t.append(
        String.format(
            "| heap after GC during the replays: before, peak (MB) | %.0f | %.0f | +%.0f | < +32 |"
                + " %s |%n",
            replayHeapBeforeMb, replayHeapPeakMb, growth, heapMet ? "yes" : "NO"));
    Map<String, Object> pub = new LinkedHashMap<>();
    pub.put("off", off);
    pub.put("on", on);
    pub.put("ratio", on / off);
    pub.put("target_ratio", 0.90);
    pub.put("met", pubMet);
    Map<String, Object> read = new LinkedHashMap<>();
    read.put("events", replayCount);
    read.put("raw", rawRead);
    read.put("bloodbank", bbRead);
    read.put("ratio", bbRead / rawRead);
    read.put("client_cpu_us_per_event_raw", cpuRaw);
    read.put("client_cpu_us_per_event_bloodbank", cpuBb);
    read.put("target_events_per_second", 50_000);
    read.put("met", readMet);
    read.put("heap_after_gc_before_mb", replayHeapBeforeMb);
    read.put("heap_after_gc_peak_mb", replayHeapPeakMb);
    read.put("heap_met", heapMet);
    json.put("publish", pub);
    json.put("replay", read);
  }

  // ---- heap and report ------------------------------------------------------------------

  private Thread heapSampler() {
    Thread t =
        new Thread(
            () -> {
              while (!Thread.currentThread().isInterrupted()) {
                peakHeapAfterGc.accumulateAndGet(heapAfterGcBytes(), Math::max);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
              }
            },
            "bench-heap");
    t.setDaemon(true);
    t.start();
    return t;
  }

  private void report(Map<String, List<Double>> r) throws IOException {
    StringBuilder t = new StringBuilder();
    double heapMb = (sdkHeapPeak >= 0 ? sdkHeapPeak : peakHeapAfterGc.get()) / 1024.0 / 1024.0;
    Map<String, Object> gatewayJson = new LinkedHashMap<>();
    Map<String, Object> observabilityJson = new LinkedHashMap<>();
    if (only.equals("archive")) {
      t.append(
          String.format(
              "Bloodbank archive and replay, %s, RabbitMQ %s, medians of %d run(s)%n",
              LocalDate.now(), serverVersion(), runs));
      t.append("| measure | raw | Bloodbank | ratio | target | met |\n|---|---|---|---|---|---|\n");
    } else if (only.equals("observability")) {
      t.append(
          String.format(
              "Bloodbank with metrics and tracing on vs off, %s, RabbitMQ %s, medians of %d"
                  + " run(s)%n",
              LocalDate.now(), serverVersion(), runs));
      t.append("| measure | off | on | ratio | target | met |\n|---|---|---|---|---|---|\n");
    } else if (only.isEmpty()) {
      t.append(
          String.format(
              "Bloodbank vs raw amqp-client, %s, RabbitMQ %s, medians of %d run(s)%n",
              LocalDate.now(), serverVersion(), runs));
      t.append("| measure | raw | Bloodbank | ratio | target | met |\n|---|---|---|---|---|---|\n");
      sdkRows(t, r, heapMb);
    } else {
      t.append(
          String.format(
              "bloodbank-server vs the Bloodbank SDK, %s, RabbitMQ %s, medians of %d run(s)%n",
              LocalDate.now(), serverVersion(), runs));
      t.append("| measure | SDK | gateway | ratio | target | met |\n|---|---|---|---|---|---|\n");
    }
    if (r.containsKey(GW)) {
      gatewayRows(t, r, gatewayJson);
    }
    Map<String, Object> archiveJson = new LinkedHashMap<>();
    if (r.containsKey(ARC_PUB_OFF)) {
      archiveRows(t, r, archiveJson, only.isEmpty());
    }
    if (r.containsKey(OBS_PUB_OFF)) {
      observabilityRows(t, r, observabilityJson, only.isEmpty());
    }
    System.out.print(t);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("date", LocalDate.now().toString());
    out.put("rabbitmq", serverVersion());
    out.put("runs", runs);
    out.put("samples", r);
    if (only.isEmpty()) {
      out.put("heap_after_gc_peak_mb", heapMb);
      out.put("links_recorded", recorded);
      out.put("links_lost", lost);
    }
    out.put("cpu_us_per_message", cpuPerMessage);
    if (!gatewayJson.isEmpty()) {
      out.put("gateway", gatewayJson);
    }
    if (!observabilityJson.isEmpty()) {
      out.put("observability", observabilityJson);
    }
    if (!archiveJson.isEmpty()) {
      out.put("archive", archiveJson);
    }
    Files.createDirectories(json.toAbsolutePath().getParent());
    Files.writeString(
        json,
        EventCodec.defaultObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(out));
    System.out.println("JSON: " + json.toAbsolutePath());
  }

  /** The SDK's rows against raw amqp-client. */
  private void sdkRows(StringBuilder t, Map<String, List<Double>> r, double heapMb) {
    double raw = median(r.get("raw publish"));
    double bb = median(r.get("bloodbank publish (strict validation)"));
    double bbT = median(r.get("bloodbank publish (validation + tracking)"));
    double rawP99 = median(r.get("raw e2e p99 ms"));
    double bbP99 = median(r.get("bloodbank e2e p99 ms"));
    double rawC = median(r.get("raw consume"));
    double bbC = median(r.get("bloodbank consume"));
    row(
        t,
        "publish, 1 KB persistent, confirms, window 1000 (msg/s)",
        raw,
        bb,
        bb / raw,
        "≥ 0.90",
        bb / raw >= 0.90);
    row(
        t,
        "publish with Redis causation tracking (msg/s)",
        raw,
        bbT,
        bbT / raw,
        "≥ 0.80",
        bbT / raw >= 0.80);
    t.append(
        String.format(
            "| causation links recorded / lost in the tracking runs | | %d / %d | | | |%n",
            recorded, lost));
    double rawMin = median(r.get("raw publish, minimal properties"));
    t.append(
        String.format(
            "| raw publish without the timestamp property (64 bytes of properties, msg/s) | %.0f"
                + " | | %.2f of raw | | |%n",
            rawMin, rawMin / raw));
    t.append(
        String.format(
            "| end-to-end latency at %d/s, p50 (ms) | %.2f | %.2f | %.2f | | |%n",
            rate,
            median(r.get("raw e2e p50 ms")),
            median(r.get("bloodbank e2e p50 ms")),
            median(r.get("bloodbank e2e p50 ms")) / median(r.get("raw e2e p50 ms"))));
    double rawApart = median(r.get("raw e2e, two connections, p50 ms"));
    double bbP50 = median(r.get("bloodbank e2e p50 ms"));
    t.append(
        String.format(
            "| p50 against raw publishing and consuming on two connections, as Bloodbank does (ms)"
                + " | %.2f | %.2f | %.2f | ≤ 1.15 | %s |%n",
            rawApart, bbP50, bbP50 / rawApart, bbP50 / rawApart <= 1.15 ? "yes" : "NO"));
    t.append(
        String.format(
            "| end-to-end latency p99 (ms) | %.2f | %.2f | %.2f | ≤ 1.30 | %s |%n",
            rawP99, bbP99, bbP99 / rawP99, bbP99 / rawP99 <= 1.30 ? "yes" : "NO"));
    t.append(
        String.format(
            "| end-to-end latency p99.9 (ms) | %.2f | %.2f | %.2f | | |%n",
            median(r.get("raw e2e p99.9 ms")),
            median(r.get("bloodbank e2e p99.9 ms")),
            median(r.get("bloodbank e2e p99.9 ms")) / median(r.get("raw e2e p99.9 ms"))));
    row(
        t,
        "consume, prefetch 10, manual ack (msg/s)",
        rawC,
        bbC,
        bbC / rawC,
        "≥ 0.90",
        bbC / rawC >= 0.90);
    double rawGrouped = median(r.get("raw consume, grouped acks"));
    t.append(
        String.format(
            "| raw consume acknowledging 5 at a time, as the subscriber does (msg/s) | %.0f | | %.2f"
                + " of raw | | |%n",
            rawGrouped, rawGrouped / rawC));
    double own = median(r.get("bloodbank publish, " + drainCount + " events"));
    double drained = median(r.get("durable publisher drain, " + drainCount + "-event backlog"));
    t.append(
        String.format(
            "| durable publisher draining a %,d-event log backlog vs the Bloodbank publisher over"
                + " as many (msg/s) | %.0f | %.0f | %.2f | ≥ 0.80 | %s |%n",
            drainCount, own, drained, drained / own, drained / own >= 0.80 ? "yes" : "NO"));
    t.append(
        String.format(
            "| harness heap after GC, peak (MB) | | %.0f | | < 128 | %s |%n",
            heapMb, heapMb < 128 ? "yes" : "NO"));
  }

  private static void row(
      StringBuilder t,
      String what,
      double raw,
      double bb,
      double ratio,
      String target,
      boolean met) {
    t.append(
        String.format(
            "| %s | %.0f | %.0f | %.2f | %s | %s |%n",
            what, raw, bb, ratio, target, met ? "yes" : "NO"));
  }

  private String serverVersion() {
    Object v = raw.getServerProperties().get("version");
    return v == null ? "?" : v.toString();
  }
}
