package dev.bloodbank.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
  private final long brokerPid = find("beam.smp", "rabbit");
  private final long redisPid = find("redis-server", "");

  Reading read() {
    return new Reading(os.getProcessCpuTime(), ticks(brokerPid), ticks(redisPid));
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

  private static long find(String executable, String argument) {
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      return procs
          .filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
          .filter(
              p -> {
                try {
                  String cmd =
                      new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
                  return cmd.contains(executable) && cmd.contains(argument);
                } catch (IOException | RuntimeException e) {
                  return false;
                }
              })
          .mapToLong(p -> Long.parseLong(p.getFileName().toString()))
          .findFirst()
          .orElse(-1);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
