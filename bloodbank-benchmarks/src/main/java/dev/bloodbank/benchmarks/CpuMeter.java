package dev.bloodbank.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * CPU time of this JVM and of the local RabbitMQ and Redis processes, so that a harness figure can
 * say where each message's CPU went: in the client (what the SDK adds to) or in the servers.
 *
 * <p>Reads {@code /proc}; on a machine without it, or when the servers run elsewhere, the server
 * figures are NaN.
 */
final class CpuMeter {
  /** A reading: CPU nanoseconds so far of the client, the broker and Redis. */
  record Reading(long client, long broker, long redis) {}

  private static final long NANOS_PER_TICK = 10_000_000L; // USER_HZ is 100 on Linux
  private final com.sun.management.OperatingSystemMXBean os =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  private final long brokerPid = find("beam.smp", "rabbit", 5672);
  private final long redisPid = find("redis-server", "", 6379);

  Reading read() {
    return new Reading(os.getProcessCpuTime(), ticks(brokerPid), ticks(redisPid));
  }

  /**
   * CPU nanoseconds the whole machine has spent so far, all processes and the kernel (not idle or
   * waiting for I/O), or -1 without {@code /proc/stat}; with {@link #read()}, tells how much of a
   * measurement's time other processes took.
   */
  static long machineBusy() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      // cpu user nice system idle iowait irq softirq steal ...
      long ticks = 0;
      for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
        ticks += Long.parseLong(f[i]);
      }
      return ticks * NANOS_PER_TICK;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Microseconds of CPU per message between two readings: client, broker, Redis. */
  static double[] perMessage(Reading from, Reading to, long messages) {
    return new double[] {
      us(to.client() - from.client(), messages),
      from.broker() < 0 ? Double.NaN : us(to.broker() - from.broker(), messages),
      from.redis() < 0 ? Double.NaN : us(to.redis() - from.redis(), messages)
    };
  }

  private static double us(long nanos, long messages) {
    return messages <= 0 ? Double.NaN : nanos / 1000.0 / messages;
  }

  private static long ticks(long pid) {
    if (pid < 0) {
      return -1;
    }
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // Fields after the command name, which is in parentheses and may hold spaces.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * NANOS_PER_TICK;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * The process running {@code executable}; when there are several (a test may start a broker of
   * its own), the one listening on {@code port}.
   */
  private static long find(String executable, String argument, int port) {
    List<Long> found;
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      found =
          procs
              .filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
              .filter(
                  p -> {
                    try {
                      String cmd =
                          new String(
                              Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
                      return cmd.contains(executable) && cmd.contains(argument);
                    } catch (IOException | RuntimeException e) {
                      return false;
                    }
                  })
              .map(p -> Long.parseLong(p.getFileName().toString()))
              .sorted()
              .toList();
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    if (found.size() > 1) {
      Set<String> sockets = listeningSockets(port);
      for (long pid : found) {
        if (ownsAny(pid, sockets)) {
          return pid;
        }
      }
    }
    return found.isEmpty() ? -1 : found.get(0);
  }

  /** {@code socket:[inode]} of the sockets listening on this TCP port. */
  private static Set<String> listeningSockets(int port) {
    Set<String> out = new HashSet<>();
    String local = String.format(":%04X", port);
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      try {
        for (String line : Files.readAllLines(Path.of(table))) {
          String[] f = line.trim().split("\\s+");
          // sl, local_address, rem_address, st (0A = LISTEN), ..., inode at 9
          if (f.length > 9 && f[1].endsWith(local) && f[3].equals("0A")) {
            out.add("socket:[" + f[9] + "]");
          }
        }
      } catch (IOException | RuntimeException e) {
        // that table is not there
      }
    }
    return out;
  }

  private static boolean ownsAny(long pid, Set<String> sockets) {
    if (sockets.isEmpty()) {
      return false;
    }
    try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      return fds.anyMatch(
          fd -> {
            try {
              return sockets.contains(Files.readSymbolicLink(fd).toString());
            } catch (IOException | RuntimeException e) {
              return false;
            }
          });
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }
}
