package dev.bloodbank.wal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.fault.ReliabilityReport;
import dev.bloodbank.fault.Scenario;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A writer process killed with SIGKILL at random points, again and again: every append that
 * returned is in the log exactly once, and no event marked done comes back (issue #9, scenario 13:
 * 1,000 kills; issue #16: a third of the kills land while segments roll and done segments are
 * deleted, a third during or after the import of a plain JSONL log, which is all or nothing).
 *
 * <p>To keep that within about two minutes, several writers run at once ({@code
 * -Dbloodbank.walCrash.lanes}, default the number of processors plus one), each on its own log that
 * is replaced by a fresh one every 25 kills (so recovery reads stay small), and the writer starts
 * fast: the log needs only jackson-core, and the writers share a class-data archive (AppCDS) dumped
 * by one writer that exits normally, about 0.13 s to the first append instead of 0.4 s. {@code
 * -Dbloodbank.walCrash.iterations=N} sets the number of kills (default 1,000).
 */
class WalCrashIT {
  private static final int KILLS_PER_FILE = 25;

  @TempDir Path dir;
  private List<String> javaCommand;

  @Test
  @Scenario(13)
  void everyAcknowledgedAppendSurvivesSigkill() throws Exception {
    int iterations = Integer.getInteger("bloodbank.walCrash.iterations", 1000);
    int lanes =
        Integer.getInteger(
            "bloodbank.walCrash.lanes",
            Math.max(2, Runtime.getRuntime().availableProcessors() + 1));
    AtomicInteger next = new AtomicInteger();
    AtomicLong acked = new AtomicLong();
    AtomicLong lost = new AtomicLong();
    AtomicLong duplicated = new AtomicLong();
    AtomicInteger torn = new AtomicInteger();
    long start = System.nanoTime();
    javaCommand = fastJava();
    ExecutorService pool = Executors.newFixedThreadPool(lanes);
    try {
      List<Future<?>> runs = new ArrayList<>();
      for (int lane = 0; lane < lanes; lane++) {
        int l = lane;
        runs.add(
            pool.submit(
                () -> {
                  runLane(l, iterations, next, acked, lost, duplicated, torn);
                  return null;
                }));
      }
      for (Future<?> f : runs) {
        f.get(30, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
      ReliabilityReport.events(13, acked.get(), lost.get(), duplicated.get());
    }
    assertThat(lost.get()).as("acknowledged appends lost").isZero();
    assertThat(duplicated.get()).as("acknowledged appends replayed twice").isZero();
    assertThat(acked.get())
        .as("appends acknowledged before the kills")
        .isGreaterThan(iterations / 2);
    System.out.printf(
        "WAL crash test: %d kills in %d lanes (%s) in %.0f s, %d acknowledged appends, %d torn"
            + " tails truncated%n",
        iterations,
        lanes,
        javaCommand.stream().anyMatch(a -> a.startsWith("-XX:SharedArchiveFile"))
            ? "class-data archive"
            : "no class-data archive",
        (System.nanoTime() - start) / 1e9,
        acked.get(),
        torn.get());
  }

  /**
   * The writer's command up to its arguments: a class path of jars only (class directories are
   * packed, as AppCDS needs) and a shared archive dumped by one writer that exits normally; the
   * plain class path when the archive cannot be made.
   */
  private List<String> fastJava() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> base =
        List.of(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData", "-Xmx64m");
    List<String> plain = new ArrayList<>(base);
    plain.addAll(
        List.of("-cp", System.getProperty("java.class.path"), WalWriterMain.class.getName()));
    try {
      Path jars = Files.createDirectories(dir.resolve("cds"));
      List<String> cp = new ArrayList<>();
      int n = 0;
      // Surefire and failsafe start the JVM with a manifest-only jar; this is the real path.
      String testClassPath =
          System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
      for (String entry : testClassPath.split(File.pathSeparator)) {
        Path e = Path.of(entry);
        if (Files.isDirectory(e)) {
          Path jar = jars.resolve("classes-" + n++ + ".jar");
          packDirectory(e, jar);
          cp.add(jar.toString());
        } else if (entry.endsWith(".jar")) {
          cp.add(entry);
        }
      }
      String classPath = String.join(File.pathSeparator, cp);
      Path archive = jars.resolve("writer.jsa");
      // Every mode's classes go into the archive: the dump imports, rolls and marks done.
      Path warmupPlain = jars.resolve("warmup.jsonl");
      writePlain(warmupPlain, 5);
      List<String> dump = new ArrayList<>(base);
      dump.addAll(
          List.of(
              "-XX:ArchiveClassesAtExit=" + archive,
              "-cp",
              classPath,
              WalWriterMain.class.getName(),
              jars.resolve("warmup.wal").toString(),
              "each",
              "20",
              "import:" + warmupPlain));
      Path log = jars.resolve("dump.log");
      Process p =
          new ProcessBuilder(dump).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0 || !Files.exists(archive)) {
        p.destroyForcibly();
        String why = Files.readString(log);
        System.out.println(
            "WAL crash test: no class-data archive, writers start slower: "
                + why.substring(Math.max(0, why.length() - 500)));
        return plain;
      }
      List<String> fast = new ArrayList<>(base);
      fast.addAll(
          List.of(
              "-XX:SharedArchiveFile=" + archive, "-cp", classPath, WalWriterMain.class.getName()));
      return fast;
    } catch (IOException e) {
      return plain;
    }
  }

  private static void packDirectory(Path root, Path jar) throws IOException {
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
        Stream<Path> files = Files.walk(root)) {
      for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        String name = root.relativize(f).toString().replace(File.separatorChar, '/');
        if (!name.endsWith(".class") && !name.startsWith("META-INF/")) {
          continue;
        }
        out.putNextEntry(new JarEntry(name));
        Files.copy(f, out);
        out.closeEntry();
      }
    }
  }

  private void runLane(
      int lane,
      int iterations,
      AtomicInteger next,
      AtomicLong ackedTotal,
      AtomicLong lost,
      AtomicLong duplicated,
      AtomicInteger torn)
      throws Exception {
    Random random = new Random(42 + lane);
    Set<UUID> acked = new HashSet<>();
    Set<UUID> done = new HashSet<>();
    int onThisFile = 0;
    Path file = dir.resolve("crash-" + lane + "-0.wal");
    int i;
    while ((i = next.getAndIncrement()) < iterations) {
      if (onThisFile == KILLS_PER_FILE) {
        onThisFile = 0;
        acked.clear();
        done.clear();
        file = dir.resolve("crash-" + lane + "-" + i + ".wal");
      }
      onThisFile++;
      String policy = i % 2 == 0 ? "each" : "batched";
      List<String> cmd = new ArrayList<>(javaCommand);
      cmd.add(file.toString());
      cmd.add(policy);
      cmd.add("-1");
      List<UUID> importing = List.of();
      Path plain = null;
      switch (i % 3) {
        case 0 -> cmd.add("plain");
        case 1 -> cmd.add("roll");
        default -> {
          plain = dir.resolve("plain-" + lane + "-" + i + ".wal");
          importing = writePlain(plain, 300);
          cmd.add("import:" + plain);
        }
      }
      Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      BufferedReader out =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      String line = out.readLine();
      assertThat(line).as("writer %d started", i).isEqualTo("READY");
      long killAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5 + random.nextInt(60));
      int before = acked.size();
      boolean imported = false;
      while (System.nanoTime() < killAt && (line = out.readLine()) != null) {
        if (line.startsWith("ACK ")) {
          acked.add(UUID.fromString(line.substring(4)));
        } else if (line.startsWith("DONE ")) {
          UUID id = UUID.fromString(line.substring(5));
          acked.remove(id);
          done.add(id);
        } else if (line.startsWith("IMPORTED ")) {
          imported = true;
        }
      }
      // SIGKILL; acknowledgements the parent has not read yet are simply not counted
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
      ackedTotal.addAndGet(acked.size() - before);

      // The log as the kill left it, before recovery changes it: kept when a check fails.
      Path asLeft = dir.resolve("as-left-" + lane);
      deleteTree(asLeft);
      copyTree(file, asLeft);
      try (WriteAheadLog wal = WriteAheadLog.open(WalOptions.of(file))) {
        torn.addAndGet(wal.recoveryProblems().size());
        if (plain != null) {
          Map<UUID, Integer> seen = counts(wal);
          long present = importing.stream().filter(seen::containsKey).count();
          assertThat(present)
              .as("events of an import cut by kill %d: all or none", i)
              .isIn(0L, (long) importing.size());
          if (imported) {
            assertThat(present)
                .as("events of a finished import, kill %d", i)
                .isEqualTo(importing.size());
          }
          // Importing again finishes what the kill cut short, and adds nothing twice.
          wal.importPlain(plain);
          acked.addAll(importing);
        }
        Map<UUID, Integer> counts = counts(wal);
        List<UUID> missing = new ArrayList<>();
        for (UUID id : acked) {
          int n = counts.getOrDefault(id, 0);
          if (n == 0) {
            lost.incrementAndGet();
            missing.add(id);
          } else if (n > 1) {
            duplicated.incrementAndGet();
            missing.add(id);
          }
        }
        for (UUID id : done) {
          if (counts.containsKey(id)) {
            duplicated.incrementAndGet();
            missing.add(id);
          }
        }
        if (!missing.isEmpty()) {
          Path kept = Path.of("target", "wal-crash-failure", "kill-" + i).toAbsolutePath();
          deleteTree(kept);
          Files.createDirectories(kept.getParent());
          copyTree(asLeft, kept);
          assertThat(missing)
              .as(
                  "acknowledged appends lost, duplicated or back from done after kill %d (%s mode);"
                      + " the log as the kill left it is in %s",
                  i, cmd.get(cmd.size() - 1), kept)
              .isEmpty();
        }
        assertThat(wal.recoveryProblems()).allSatisfy(pr -> assertThat(pr).contains("torn"));
      }
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    if (!Files.exists(from)) {
      return;
    }
    try (Stream<Path> all = Files.walk(from)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        Files.copy(p, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
      }
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : (Iterable<Path>) all.sorted(java.util.Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static Map<UUID, Integer> counts(WriteAheadLog wal) {
    Map<UUID, Integer> counts = new HashMap<>();
    wal.forEachPending(
        0,
        r -> {
          counts.merge(r.eventId(), 1, Integer::sum);
          return true;
        });
    return counts;
  }

  /** A plain JSONL log of {@code n} events, as the Python services write one. */
  private static List<UUID> writePlain(Path file, int n) throws IOException {
    List<UUID> ids = new ArrayList<>(n);
    StringBuilder b = new StringBuilder();
    for (int k = 0; k < n; k++) {
      UUID id = UUID.randomUUID();
      ids.add(id);
      b.append("{\"event_id\": \"")
          .append(id)
          .append("\", \"event_type\": \"crash.import\", \"payload\": {\"k\": ")
          .append(k)
          .append("}}\n");
    }
    Files.writeString(file, b.toString());
    return ids;
  }
}
