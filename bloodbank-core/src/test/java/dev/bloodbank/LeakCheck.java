package dev.bloodbank;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * After every integration test class ({@code *IT}), checks that the class left nothing running: no
 * Bloodbank thread ({@code bloodbank-*}), no amqp-client connection thread (one per open
 * connection), no Lettuce thread, and no POSIX file lock of this JVM (a write-ahead log's), beyond
 * what was there when the class started. Threads end a moment after the executors that own them
 * shut down, so it waits up to 10 s before failing with each leaked thread's name and where it
 * stands.
 *
 * <p>Registered for every test class through JUnit's extension auto-detection ({@code
 * META-INF/services}, switched on for failsafe in the parent POM); unit tests are not checked.
 */
public final class LeakCheck implements BeforeAllCallback, AfterAllCallback {
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(LeakCheck.class);
  private static final List<String> WATCHED =
      List.of("bloodbank-", "AMQP Connection", "RabbitMQ Error On Write Thread", "lettuce-");
  private final long waitNanos;

  /** Waits up to 10 s for threads to end; the one JUnit loads. */
  public LeakCheck() {
    this(TimeUnit.SECONDS.toNanos(10));
  }

  LeakCheck(long waitNanos) {
    this.waitNanos = waitNanos;
  }

  private record Baseline(Set<Long> threads, int locks) {}

  @Override
  public void beforeAll(ExtensionContext context) {
    if (!checked(context)) {
      return;
    }
    Set<Long> ids = new HashSet<>();
    for (Thread t : watchedThreads()) {
      ids.add(t.getId());
    }
    context.getStore(NS).put("baseline", new Baseline(ids, fileLocks()));
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    Baseline base = context.getStore(NS).remove("baseline", Baseline.class);
    if (base == null) {
      return;
    }
    long deadline = System.nanoTime() + waitNanos;
    List<Thread> leaked;
    int locks;
    while (true) {
      leaked = new ArrayList<>();
      for (Thread t : watchedThreads()) {
        if (!base.threads().contains(t.getId())) {
          leaked.add(t);
        }
      }
      locks = fileLocks();
      if ((leaked.isEmpty() && locks <= base.locks()) || System.nanoTime() > deadline) {
        break;
      }
      Thread.sleep(50);
    }
    if (leaked.isEmpty() && locks <= base.locks()) {
      return;
    }
    StringBuilder b =
        new StringBuilder(context.getRequiredTestClass().getSimpleName()).append(" left behind ");
    if (!leaked.isEmpty()) {
      b.append(leaked.size()).append(" thread(s):");
      for (Thread t : leaked) {
        b.append("\n  ").append(t.getName()).append(" (").append(t.getState()).append(")");
        StackTraceElement[] stack = t.getStackTrace();
        for (int i = 0; i < Math.min(6, stack.length); i++) {
          b.append("\n      at ").append(stack[i]);
        }
      }
    }
    if (locks > base.locks()) {
      b.append("\n  ").append(locks - base.locks()).append(" file lock(s) (a write-ahead log?)");
    }
    throw new AssertionError(b.toString());
  }

  private static boolean checked(ExtensionContext context) {
    return context.getTestClass().map(c -> c.getSimpleName().endsWith("IT")).orElse(false);
  }

  /** Live threads whose names this check watches. */
  static List<Thread> watchedThreads() {
    List<Thread> out = new ArrayList<>();
    for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
      Thread t = e.getKey();
      if (!t.isAlive()) {
        continue;
      }
      for (String prefix : WATCHED) {
        if (t.getName().startsWith(prefix)) {
          out.add(t);
          break;
        }
      }
    }
    return out;
  }

  /** POSIX and flock locks this JVM holds, from /proc/locks; 0 where there is none. */
  static int fileLocks() {
    Path locks = Path.of("/proc/locks");
    if (!Files.isReadable(locks)) {
      return 0;
    }
    String pid = Long.toString(ProcessHandle.current().pid());
    int n = 0;
    try {
      for (String line : Files.readAllLines(locks, StandardCharsets.US_ASCII)) {
        String[] f = line.trim().split("\\s+");
        // "1: POSIX  ADVISORY  WRITE 4242 08:01:1234 0 EOF"; waiters are marked "->".
        if (f.length > 4 && !f[1].equals("->") && f[4].equals(pid)) {
          n++;
        }
      }
    } catch (IOException e) {
      return 0;
    }
    return n;
  }
}
