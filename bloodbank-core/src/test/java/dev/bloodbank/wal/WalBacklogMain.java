package dev.bloodbank.wal;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.validation.ValidationMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The process of {@link WalBacklogIT}, run with a small heap: opens a durable publisher on a log
 * holding a large backlog (recovery reads all of it), waits until the broker confirmed every event,
 * and prints one line: {@code BACKLOG events=N recoverySeconds=S drainSeconds=S
 * peakHeapAfterGc=BYTES}. The heap after a full GC is sampled every two seconds throughout.
 *
 * <p>Arguments: {@code <log dir> <exchange> <port> <timeout seconds>}.
 */
public final class WalBacklogMain {
  private WalBacklogMain() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    String exchange = args[1];
    int port = Integer.parseInt(args[2]);
    long timeoutNanos = TimeUnit.SECONDS.toNanos(Long.parseLong(args[3]));
    AtomicLong peak = new AtomicLong(heapAfterGc());
    Thread sampler =
        new Thread(
            () -> {
              while (!Thread.currentThread().isInterrupted()) {
                try {
                  Thread.sleep(2000);
                } catch (InterruptedException e) {
                  return;
                }
                peak.accumulateAndGet(heapAfterGc(), Math::max);
              }
            },
            "heap-sampler");
    sampler.setDaemon(true);
    sampler.start();
    long start = System.nanoTime();
    try (Bloodbank bus =
        Bloodbank.connect(
            BloodbankOptions.builder()
                .address("127.0.0.1", port)
                .exchange(exchange)
                .serviceName("wal-backlog")
                .recoveryInterval(Duration.ofMillis(500))
                .validation(ValidationMode.PERMISSIVE)
                .build())) {
      DurablePublisher p =
          bus.durablePublisher(PublisherOptions.builder().durable(WalOptions.of(dir)).build());
      long recovered = System.nanoTime();
      int events = p.pendingCount();
      // Recovery is the moment a whole-file reader would have held the log in memory.
      peak.accumulateAndGet(heapAfterGc(), Math::max);
      while (p.pendingCount() > 0) {
        if (System.nanoTime() - start > timeoutNanos) {
          System.out.println("BACKLOG timeout pending=" + p.pendingCount());
          System.exit(2);
        }
        Thread.sleep(200);
      }
      long drained = System.nanoTime();
      peak.accumulateAndGet(heapAfterGc(), Math::max);
      p.close();
      sampler.interrupt();
      System.out.printf(
          "BACKLOG events=%d recoverySeconds=%.1f drainSeconds=%.1f peakHeapAfterGc=%d%n",
          events, (recovered - start) / 1e9, (drained - recovered) / 1e9, peak.get());
    }
  }

  private static long heapAfterGc() {
    System.gc();
    Runtime r = Runtime.getRuntime();
    return r.totalMemory() - r.freeMemory();
  }
}
