package dev.bloodbank.benchmarks;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.Publisher;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.schemas.llm.LlmPrompt;
import dev.bloodbank.server.BloodbankServer;
import dev.bloodbank.server.ServerOptions;
import dev.bloodbank.validation.ValidationMode;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;
import org.jspecify.annotations.Nullable;

/**
 * The gateway rows of the {@link LoadHarness}: a {@link BloodbankServer} started in this JVM on
 * 127.0.0.1 (rate limit off, strict validation), and the SDK publishing the same {@code llm.prompt}
 * events directly to the same broker, measured in the same run.
 *
 * <p>Both sides publish to an exchange of their own with one classic queue bound to {@code #}, so
 * every event is routed and stored as in production; the queue is purged after each measurement,
 * and the exchange and queue are deleted on {@link #close()}. The HTTP side is the JDK's {@link
 * HttpClient} over HTTP/1.1 with keep-alive, bodies pre-encoded, answers discarded after their
 * status is checked. Not thread-safe: one part at a time.
 */
final class GatewayLoad implements AutoCloseable {
  static final String EXCHANGE = "bloodbank.bench.gateway";
  static final String SINK = "bloodbank.bench.gateway.sink";
  static final String TYPE = "llm.prompt";
  static final int PAYLOAD_BYTES = 1024;

  /** Where the harness collects CPU microseconds per message, by measure. */
  interface CpuLog {
    void add(String what, double microseconds);
  }

  /** Requests (or events) per second of the three publish measurements of one run. */
  record Throughput(
      double sdk, double gateway, double gatewayMinimal, double sdkWindow, long gatewayFailed) {}

  /** Latency percentiles in ms, and requests that failed or got no answer in time. */
  record Latency(double p50, double p99, double p999, double max, long failed) {}

  /** What the live-tail clients saw. */
  record Tail(
      int clients,
      int rate,
      int seconds,
      long published,
      long receivedMin,
      long receivedMax,
      int dropped,
      int failed,
      long maxLag,
      double catchUpMs,
      double heapStartMb,
      double heapEndMb,
      @Nullable String firstProblem) {
    double heapGrowthMb() {
      return heapEndMb - heapStartMb;
    }
  }

  private final Connection raw;
  private final CpuMeter cpu;
  private final CpuLog cpuLog;
  private final int inFlight;
  private final BloodbankServer server;
  private final Bloodbank sdk;
  private final Publisher sdkPublisher;
  private final HttpClient http;
  private final HttpRequest post;
  private final LlmPrompt payload;
  private final byte[] body;
  private final AtomicReference<String> firstError = new AtomicReference<>();

  private static final String SENDER = "bench-http-";
  private static final String READER = "bench-sse-";

  /** The HTTP load generator's threads: the closed loop's clients, the open loop's senders. */
  private final ExecutorService senders;

  private GatewayLoad(
      Connection raw,
      CpuMeter cpu,
      CpuLog cpuLog,
      int inFlight,
      BloodbankServer server,
      Bloodbank sdk,
      byte[] body,
      LlmPrompt payload) {
    this.raw = raw;
    this.cpu = cpu;
    this.cpuLog = cpuLog;
    this.inFlight = inFlight;
    this.server = server;
    this.sdk = sdk;
    this.payload = payload;
    this.body = body;
    InetSocketAddress address = server.address();
    this.minimalClient =
        ThreadLocal.withInitial(
            () -> {
              KeepAliveClient c = new KeepAliveClient(address, "/events/" + TYPE, body);
              minimalClients.add(c);
              return c;
            });
    // What the gateway's own publisher does, except that the SDK validates here (the gateway
    // validates the JSON itself before publishing, to answer 422).
    this.sdkPublisher = sdk.publisher(PublisherOptions.builder().maxAttempts(1).build());
    AtomicInteger n = new AtomicInteger();
    this.senders =
        Executors.newFixedThreadPool(
            Math.max(64, inFlight),
            r -> {
              Thread t = new Thread(r, SENDER + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    this.post =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/events/" + TYPE))
            .header("Content-Type", "application/json")
            .timeout(Duration.ofSeconds(30))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
  }

  /**
   * Declares the exchange and its queue, starts the server on a free port and connects the SDK.
   *
   * @param inFlight HTTP requests (and SDK publishes in the same-concurrency baseline) in flight
   */
  static GatewayLoad start(Connection raw, CpuMeter cpu, CpuLog cpuLog, int inFlight)
      throws Exception {
    try (Channel ch = raw.createChannel()) {
      ch.exchangeDeclare(EXCHANGE, "topic", true);
      ch.queueDeclare(SINK, true, false, false, Map.of("x-queue-type", "classic"));
      ch.queueBind(SINK, EXCHANGE, "#");
      ch.queuePurge(SINK);
    }
    BloodbankOptions bus =
        BloodbankOptions.builder()
            .exchange(EXCHANGE)
            .serviceName("bench-gateway")
            .validation(ValidationMode.STRICT)
            .build();
    LlmPrompt payload = payload();
    byte[] body = bodyOf(payload);
    BloodbankServer server =
        BloodbankServer.start(
            ServerOptions.builder()
                .host("127.0.0.1")
                .port(0)
                .bus(bus)
                .validation(ValidationMode.STRICT)
                .rateLimit(0)
                .build());
    try {
      return new GatewayLoad(
          raw, cpu, cpuLog, inFlight, server, Bloodbank.connect(bus), body, payload);
    } catch (RuntimeException e) {
      server.close();
      throw e;
    }
  }

  /** An {@code llm.prompt} payload whose JSON is exactly {@value #PAYLOAD_BYTES} bytes. */
  static LlmPrompt payload() {
    LlmPrompt p =
        new LlmPrompt()
            .withProvider("anthropic")
            .withModel("claude-sonnet-4")
            .withProject("bloodbank")
            .withWorkingDir("/srv/bloodbank")
            .withDomain("benchmarks")
            .withTags(List.of("bench", "gateway"))
            .withTemperature(0.2)
            .withMaxTokens(512)
            .withPrompt("");
    int rest = PAYLOAD_BYTES - bodyOf(p).length;
    return p.withPrompt("x".repeat(rest));
  }

  static byte[] bodyOf(LlmPrompt p) {
    try {
      return dev.bloodbank.EventCodec.defaultObjectMapper().writeValueAsBytes(p);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The first failed request or publish of the last part, if any. */
  @Nullable String firstError() {
    return firstError.get();
  }

  // ---- throughput -----------------------------------------------------------------------

  /**
   * Brings both paths to steady state before anything is measured: the gateway's path (Jetty,
   * Javalin, the JSON tree, validation, encoding) is far more code for the JIT than the SDK's, and
   * a one-second warm-up leaves the compiler busy on the same two cores for tens of seconds.
   */
  void warmUp(int seconds) throws Exception {
    AtomicLong ignored = new AtomicLong();
    long nanos = TimeUnit.SECONDS.toNanos(seconds);
    httpThreads(ignored, new AtomicLong(), nanos);
    sdkWindow(inFlight, ignored, nanos);
    purge();
    firstError.set(null);
  }

  /**
   * One run: the SDK with {@code inFlight} publishes outstanding, the gateway with as many HTTP
   * requests outstanding, and the SDK with its default window of 1,000 (for reference); each after
   * a one-second warm-up, each for {@code seconds}, confirmed events per second.
   */
  Throughput throughput(int seconds) throws Exception {
    firstError.set(null);
    double sdk =
        closedLoop(
            "SDK publish, " + inFlight + " in flight",
            seconds,
            (ok, nanos) -> sdkWindow(inFlight, ok, nanos));
    AtomicLong failed = new AtomicLong();
    String what = "gateway publish, " + inFlight + " in flight";
    double gw = closedLoop(what, seconds, (ok, nanos) -> httpThreads(ok, failed, nanos));
    splitCpu(what, threadsAfterWarmUp, lastCount);
    what = "gateway publish, minimal client, " + inFlight + " in flight";
    double minimal = closedLoop(what, seconds, (ok, nanos) -> minimalThreads(ok, failed, nanos));
    splitCpu(what, threadsAfterWarmUp, lastCount);
    double window =
        closedLoop("SDK publish, window 1000", seconds, (ok, nanos) -> sdkWindow(1000, ok, nanos));
    return new Throughput(sdk, gw, minimal, window, failed.get());
  }

  private CompletableFuture<Boolean> sdkSend(int i) {
    return sdkPublisher
        .publish(TYPE, payload)
        .handle(
            (ok, e) -> {
              if (e != null) {
                firstError.compareAndSet(null, "SDK: " + e);
              }
              return e == null;
            });
  }

  /**
   * One request, waiting for its answer. Blocking, on the harness's own threads: the JDK client's
   * {@code sendAsync} hands every completion to the common pool's default executor, which on a
   * machine with 2 cores starts a new thread per task and would make the load generator, not the
   * gateway, the bottleneck.
   */
  private boolean httpSend(AtomicLong failed) {
    String error;
    try {
      HttpResponse<Void> r = http.send(post, HttpResponse.BodyHandlers.discarding());
      if (r.statusCode() == 202) {
        return true;
      }
      error = "HTTP " + r.statusCode();
    } catch (java.io.IOException e) {
      error = e.toString();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      error = e.toString();
    }
    failed.incrementAndGet();
    firstError.compareAndSet(null, "gateway: " + error);
    return false;
  }

  /** Sends until {@code nanos} have passed, counting confirmed events in {@code ok}. */
  @FunctionalInterface
  private interface Driver {
    void run(AtomicLong ok, long nanos) throws Exception;
  }

  /** A one-second warm-up, then {@code seconds} measured: events (or 202s) per second. */
  private double closedLoop(String what, int seconds, Driver driver) throws Exception {
    AtomicLong ok = new AtomicLong();
    driver.run(ok, TimeUnit.SECONDS.toNanos(1)); // warm-up
    long before = ok.get();
    threadsAfterWarmUp = threadCpu();
    CpuMeter.Reading c0 = cpu.read();
    long start = System.nanoTime();
    driver.run(ok, TimeUnit.SECONDS.toNanos(seconds));
    lastCount = ok.get() - before;
    double rate = lastCount / ((System.nanoTime() - start) / 1e9);
    sample(what, c0, lastCount);
    purge();
    return rate;
  }

  private long lastCount;
  private Map<Long, long[]> threadsAfterWarmUp = Map.of();

  /** CPU per message of this JVM and of the broker since {@code from}. */
  private void sample(String what, CpuMeter.Reading from, long messages) {
    double[] us = CpuMeter.perMessage(from, cpu.read(), messages);
    cpuLog.add(what + ", client", us[0]);
    cpuLog.add(what + ", broker", us[1]);
  }

  /** The SDK's asynchronous publish with at most {@code window} outstanding; waits for them. */
  private void sdkWindow(int window, AtomicLong ok, long nanos) throws InterruptedException {
    Semaphore slots = new Semaphore(window);
    long end = System.nanoTime() + nanos;
    for (int i = 0; System.nanoTime() < end; i++) {
      slots.acquire();
      sdkSend(i)
          .whenComplete(
              (good, e) -> {
                if (Boolean.TRUE.equals(good)) {
                  ok.incrementAndGet();
                }
                slots.release();
              });
    }
    if (!slots.tryAcquire(window, 60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("SDK publishes still unconfirmed after 60 s");
    }
  }

  /** {@code inFlight} keep-alive clients, each sending its next request when the last answered. */
  private void httpThreads(AtomicLong ok, AtomicLong failed, long nanos) throws Exception {
    long end = System.nanoTime() + nanos;
    List<Future<?>> clients = new ArrayList<>();
    for (int t = 0; t < inFlight; t++) {
      clients.add(
          senders.submit(
              () -> {
                while (System.nanoTime() < end) {
                  if (httpSend(failed)) {
                    ok.incrementAndGet();
                  }
                }
              }));
    }
    for (Future<?> f : clients) {
      f.get(nanos / 1_000_000_000L + 60, TimeUnit.SECONDS);
    }
  }

  /** As {@link #httpThreads}, each thread with a {@link KeepAliveClient} instead. */
  private void minimalThreads(AtomicLong ok, AtomicLong failed, long nanos) throws Exception {
    long end = System.nanoTime() + nanos;
    List<Future<?>> clients = new ArrayList<>();
    for (int t = 0; t < inFlight; t++) {
      clients.add(
          senders.submit(
              () -> {
                try (KeepAliveClient c =
                    new KeepAliveClient(server.address(), "/events/" + TYPE, body)) {
                  while (System.nanoTime() < end) {
                    String error;
                    try {
                      int status = c.post();
                      if (status == 202) {
                        ok.incrementAndGet();
                        continue;
                      }
                      error = "HTTP " + status;
                    } catch (java.io.IOException e) {
                      error = e.toString();
                    }
                    failed.incrementAndGet();
                    firstError.compareAndSet(null, "gateway (minimal client): " + error);
                  }
                }
              }));
    }
    for (Future<?> f : clients) {
      f.get(nanos / 1_000_000_000L + 60, TimeUnit.SECONDS);
    }
  }

  // ---- where the JVM's CPU went: the HTTP client's threads or the server's ---------------

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private static Map<Long, long[]> threadCpu() {
    Map<Long, long[]> m = new HashMap<>();
    for (ThreadInfo t : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
      if (t != null) {
        long c = THREADS.getThreadCpuTime(t.getThreadId());
        // The load generator: the JDK client's threads, the senders, the live-tail readers.
        boolean client =
            t.getThreadName().startsWith("HttpClient-")
                || t.getThreadName().startsWith(SENDER)
                || t.getThreadName().startsWith(READER);
        m.put(t.getThreadId(), new long[] {c, client ? 1 : 0});
      }
    }
    return m;
  }

  /**
   * The JVM's CPU per request (or event) since {@code from}, split between the load generator (the
   * HTTP clients' threads, the live-tail readers) and everything else (Jetty, the server, the SDK,
   * amqp-client; not the JIT compiler or GC). Threads that ended in between are missed.
   */
  private void splitCpu(String what, Map<Long, long[]> from, long requests) {
    long client = 0;
    long rest = 0;
    for (Map.Entry<Long, long[]> e : threadCpu().entrySet()) {
      long[] was = from.get(e.getKey());
      long d = e.getValue()[0] - (was == null ? 0 : was[0]);
      if (e.getValue()[1] == 1) {
        client += d;
      } else {
        rest += d;
      }
    }
    cpuLog.add(what + ", of the client: load generator threads", client / 1000.0 / requests);
    cpuLog.add(what + ", of the client: server and SDK threads", rest / 1000.0 / requests);
  }

  // ---- latency at a fixed rate ------------------------------------------------------------

  /**
   * The gateway, the SDK, and the gateway with {@link KeepAliveClient}s, each sending {@code rate}
   * per second for {@code seconds} plus a second of warm-up on an open-loop schedule: the i-th
   * request goes out at its scheduled time however the earlier ones fare, and its latency runs from
   * that time to the 202 (or the confirm), so a stall counts against every request it delays.
   *
   * @return the gateway's figures, the SDK's, the gateway's with the minimal client
   */
  Latency[] latency(int seconds, int rate) throws Exception {
    firstError.set(null);
    AtomicLong failed = new AtomicLong(); // openLoop counts them
    Latency gw =
        openLoop(
            seconds, rate, i -> CompletableFuture.supplyAsync(() -> httpSend(failed), senders));
    purge();
    Latency direct = openLoop(seconds, rate, this::sdkSend);
    purge();
    Latency minimal =
        openLoop(seconds, rate, i -> CompletableFuture.supplyAsync(this::minimalSend, senders));
    purge();
    return new Latency[] {gw, direct, minimal};
  }

  private final java.util.Queue<KeepAliveClient> minimalClients =
      new java.util.concurrent.ConcurrentLinkedQueue<>();

  /** Each sender thread's own keep-alive connection for the open loop. */
  private final ThreadLocal<KeepAliveClient> minimalClient;

  private boolean minimalSend() {
    String error;
    try {
      int status = minimalClient.get().post();
      if (status == 202) {
        return true;
      }
      error = "HTTP " + status;
    } catch (java.io.IOException e) {
      error = e.toString();
    }
    firstError.compareAndSet(null, "gateway (minimal client): " + error);
    return false;
  }

  private Latency openLoop(int seconds, int rate, IntFunction<CompletableFuture<Boolean>> send)
      throws InterruptedException {
    int count = (seconds + 1) * rate;
    long[] samples = new long[count];
    Arrays.fill(samples, -1);
    AtomicLong failed = new AtomicLong();
    CountDownLatch done = new CountDownLatch(count);
    long interval = TimeUnit.SECONDS.toNanos(1) / rate;
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(10);
    for (int i = 0; i < count; i++) {
      long at = start + i * interval;
      long wait;
      while ((wait = at - System.nanoTime()) > 0) {
        LockSupport.parkNanos(wait);
      }
      int n = i;
      send.apply(i)
          .whenComplete(
              (ok, e) -> {
                samples[n] = System.nanoTime() - at;
                if (!Boolean.TRUE.equals(ok)) {
                  failed.incrementAndGet();
                }
                done.countDown();
              });
    }
    done.await(30, TimeUnit.SECONDS);
    long now = System.nanoTime();
    for (int i = 0; i < count; i++) {
      if (samples[i] < 0) { // no answer in time: at least this late
        samples[i] = now - (start + i * interval);
        failed.incrementAndGet();
      }
    }
    // The first second is warm-up.
    long[] s = Arrays.copyOfRange(samples, Math.min(rate, count - 1), count);
    Arrays.sort(s);
    return new Latency(ms(s, 0.50), ms(s, 0.99), ms(s, 0.999), s[s.length - 1] / 1e6, failed.get());
  }

  private static double ms(long[] sorted, double q) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)] / 1e6;
  }

  // ---- live tail ----------------------------------------------------------------------------

  /**
   * {@code clients} SSE clients tail {@code #}, each reading on its own thread as fast as events
   * come, while the SDK publishes {@code rate} events per second for {@code seconds}; then waits
   * (at most 30 s) for every client to have every confirmed event. The heap is measured after a
   * full GC with all clients connected, before publishing and after the last event arrived.
   */
  Tail tail(int clients, int rate, int seconds) throws Exception {
    firstError.set(null);
    List<SseTail> tails = new ArrayList<>();
    try {
      for (int i = 0; i < clients; i++) {
        tails.add(SseTail.open(server.address(), "/events/stream?pattern=%23", READER + i));
      }
      for (SseTail t : tails) {
        if (!t.awaitReady(30, TimeUnit.SECONDS)) {
          throw new IllegalStateException(
              "a live-tail client did not get its ready event: " + t.failure());
        }
      }
      double heapStart = heapAfterGcMb();
      AtomicLong sent = new AtomicLong();
      AtomicLong confirmed = new AtomicLong();
      AtomicLong maxLag = new AtomicLong();
      Thread lag =
          new Thread(
              () -> {
                while (!Thread.currentThread().isInterrupted()) {
                  long min = Long.MAX_VALUE;
                  for (SseTail t : tails) {
                    if (!t.dropped() && !t.ended()) {
                      min = Math.min(min, t.events());
                    }
                  }
                  if (min != Long.MAX_VALUE) {
                    maxLag.accumulateAndGet(sent.get() - min, Math::max);
                  }
                  LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                }
              },
              "bench-sse-lag");
      lag.setDaemon(true);
      lag.start();
      CpuMeter.Reading c0 = cpu.read();
      Map<Long, long[]> t0 = threadCpu();
      int count = seconds * rate;
      CountDownLatch settled = new CountDownLatch(count);
      long interval = TimeUnit.SECONDS.toNanos(1) / rate;
      long start = System.nanoTime();
      for (int i = 0; i < count; i++) {
        long at = start + i * interval;
        long wait;
        while ((wait = at - System.nanoTime()) > 0) {
          LockSupport.parkNanos(wait);
        }
        sent.incrementAndGet();
        sdkSend(i)
            .whenComplete(
                (ok, e) -> {
                  if (Boolean.TRUE.equals(ok)) {
                    confirmed.incrementAndGet();
                  }
                  settled.countDown();
                });
      }
      settled.await(60, TimeUnit.SECONDS);
      long published = confirmed.get();
      long caughtUpAt = System.nanoTime();
      long deadline = caughtUpAt + TimeUnit.SECONDS.toNanos(30);
      while (System.nanoTime() < deadline) {
        boolean all = true;
        for (SseTail t : tails) {
          if (t.events() < published && !t.dropped() && !t.ended()) {
            all = false;
            break;
          }
        }
        if (all) {
          break;
        }
        Thread.sleep(5);
      }
      double catchUpMs = (System.nanoTime() - caughtUpAt) / 1e6;
      lag.interrupt();
      sample("gateway live tail, per event per client", c0, published * clients);
      splitCpu("gateway live tail, per event per client", t0, published * clients);
      double heapEnd = heapAfterGcMb();
      long min = Long.MAX_VALUE;
      long max = 0;
      int dropped = 0;
      int failed = 0;
      String problem = firstError.get();
      for (SseTail t : tails) {
        min = Math.min(min, t.events());
        max = Math.max(max, t.events());
        if (t.dropped()) {
          dropped++;
          if (problem == null) {
            problem = "dropped: " + t.dropReason();
          }
        } else if (t.ended()) {
          failed++;
          if (problem == null) {
            problem = "stream ended: " + t.failure();
          }
        }
      }
      return new Tail(
          clients,
          rate,
          seconds,
          published,
          min,
          max,
          dropped,
          failed,
          maxLag.get(),
          catchUpMs,
          heapStart,
          heapEnd,
          problem);
    } finally {
      for (SseTail t : tails) {
        t.close();
      }
      // The server notices a client has gone at its next write or keep-alive; the tail's queue
      // goes then, or when the server closes.
      purge();
    }
  }

  private static double heapAfterGcMb() {
    System.gc();
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1024.0 / 1024.0;
  }

  // ---- cleanup --------------------------------------------------------------------------

  private void purge() throws Exception {
    try (Channel ch = raw.createChannel()) {
      ch.queuePurge(SINK);
    }
  }

  @Override
  public void close() throws Exception {
    senders.shutdownNow();
    minimalClients.forEach(KeepAliveClient::close);
    try {
      server.close();
    } finally {
      try {
        sdk.close();
      } finally {
        try (Channel ch = raw.createChannel()) {
          ch.queueDelete(SINK);
          ch.exchangeDelete(EXCHANGE);
        }
      }
    }
  }
}
