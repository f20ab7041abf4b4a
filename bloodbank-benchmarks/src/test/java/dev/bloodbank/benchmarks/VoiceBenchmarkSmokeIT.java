package dev.bloodbank.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CI runs the voice benchmark on a few audio-seconds of the synthetic model to prove it still
 * works; numbers are not checked. Needs no broker, only the bundled Linux x86-64 natives.
 */
class VoiceBenchmarkSmokeIT {
  @TempDir Path dir;

  @Test
  void smokeRunPrintsTheTablesAndWritesJson() throws Exception {
    Path json = dir.resolve("voice.json");
    PrintStream original = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      VoiceBenchmark.main(new String[] {"--smoke", "--json", json.toString()});
    } finally {
      System.setOut(original);
    }
    String table = out.toString(StandardCharsets.UTF_8);
    System.out.print(table);
    assertThat(table)
        .contains("sherpa-onnx 1.13.8")
        .contains("| float chunks, CPU µs per audio-second |")
        .contains("| 16-bit PCM chunks, CPU µs per audio-second |")
        .contains("| decode |")
        .contains("| heap after GC (MB) |")
        .contains("| RSS (MB) |")
        .contains("Memory flat");
    // Both sides did the same work: the synthetic model heard the same segments.
    assertThat(table).containsPattern("\\| segments per run \\| (\\d+) \\| \\1 \\|");
    assertThat(Files.readString(json))
        .contains("\"overhead_float\"")
        .contains("\"rss_mb\"")
        .contains("\"sherpa_onnx\" : \"1.13.8\"");
  }
}
