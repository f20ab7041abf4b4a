package dev.bloodbank.voice.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.jna.Pointer;
import dev.bloodbank.voice.VoiceException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loads the libraries from the natives jar on the test class path. */
class NativeLibrariesTest {
  private static final String PLATFORM = "linux-x86-64";

  @Test
  void loadsTheBundledLibrariesAndReportsTheVersion() {
    assertThat(NativeLibraries.version()).isEqualTo("1.13.8");
    assertThat(NativeLibraries.gitSha1()).isNotBlank();
    assertThat(NativeLibraries.directory()).isDirectory();
    assertThat(NativeLibraries.directory().resolve("libsherpa-onnx-c-api.so")).isRegularFile();

    SherpaOnnx sherpa = SherpaOnnx.get();
    assertThat(sherpa.getVersionStr()).isEqualTo("1.13.8");
    assertThat(sherpa.getGitSha1()).isEqualTo(NativeLibraries.gitSha1());
    assertThat(sherpa.getOnnxruntimeVersionStr()).isNotBlank();
  }

  @Test
  void extractsIntoAnOwnerOnlyDirectoryNamedAfterTheContent(@TempDir Path cache)
      throws IOException {
    NativeLibraries.LibraryFiles files = extract(cache);

    Path dir = files.directory();
    assertThat(dir.getParent()).isEqualTo(cache);
    assertThat(dir.getFileName().toString()).matches("sherpa-onnx-1\\.13\\.8-[0-9a-f]{16}");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)))
        .isEqualTo("rwx------");
    assertThat(files.onnxruntime()).hasBinaryContent(resource("libonnxruntime.so"));
    assertThat(files.sherpaOnnx()).hasBinaryContent(resource("libsherpa-onnx-c-api.so"));
    try (var listing = Files.list(dir)) {
      assertThat(listing).as("no temporary files left behind").hasSize(2);
    }
  }

  @Test
  void reusesAnIntactCopyAndReplacesADamagedOne(@TempDir Path cache) throws IOException {
    NativeLibraries.LibraryFiles first = extract(cache);
    FileTime old = FileTime.fromMillis(1_000_000_000_000L);
    Files.setLastModifiedTime(first.onnxruntime(), old);
    Files.setLastModifiedTime(first.sherpaOnnx(), old);
    try (FileChannel channel = FileChannel.open(first.sherpaOnnx(), StandardOpenOption.WRITE)) {
      channel.truncate(1000);
    }

    NativeLibraries.LibraryFiles second = extract(cache);

    assertThat(second).isEqualTo(first);
    assertThat(Files.getLastModifiedTime(second.onnxruntime())).as("intact, kept").isEqualTo(old);
    assertThat(second.sherpaOnnx()).hasBinaryContent(resource("libsherpa-onnx-c-api.so"));
  }

  @Test
  void removesTemporaryFilesLeftByAKilledExtraction(@TempDir Path cache) throws IOException {
    Path dir = extract(cache).directory();
    Path stale = Files.createFile(dir.resolve(".libonnxruntime.so-123.tmp"));
    Files.setLastModifiedTime(stale, FileTime.fromMillis(1_000_000_000_000L));
    Path fresh = Files.createFile(dir.resolve(".libonnxruntime.so-456.tmp"));

    extract(cache);

    assertThat(stale).doesNotExist();
    assertThat(fresh).as("may belong to a JVM extracting right now").exists();
  }

  @Test
  void aPlatformWithoutBundledLibrariesSaysWhatToDo(@TempDir Path cache) {
    assertThatThrownBy(
            () ->
                NativeLibraries.extract(
                    NativeLibrariesTest.class.getClassLoader(), "darwin-aarch64", cache))
        .isInstanceOfSatisfying(
            VoiceException.class,
            e -> assertThat(e.kind()).isEqualTo(VoiceException.Kind.NATIVE_LIBRARY))
        .hasMessageContaining("darwin-aarch64")
        .hasMessageContaining("bundled: linux-x86-64")
        .hasMessageContaining("BLOODBANK_SHERPA_LIB_DIR");
  }

  @Test
  void mapsOsNameAndArchToThePlatformFolder() {
    assertThat(NativeLibraries.platformKey("Linux", "amd64")).isEqualTo("linux-x86-64");
    assertThat(NativeLibraries.platformKey("Linux", "aarch64")).isEqualTo("linux-aarch64");
    assertThat(NativeLibraries.platformKey("Mac OS X", "aarch64")).isEqualTo("darwin-aarch64");
    assertThat(NativeLibraries.platformKey("Mac OS X", "x86_64")).isEqualTo("darwin-x86-64");
    assertThat(NativeLibraries.platformKey("Windows 11", "amd64")).isEqualTo("win32-x86-64");
    assertThat(NativeLibraries.platformKey("FreeBSD", "amd64")).isEqualTo("freebsd-x86-64");
  }

  @Test
  void aMissingDirectoryIsNamed(@TempDir Path tmp) {
    Path missing = tmp.resolve("no-such-dir");
    assertThatThrownBy(() -> NativeLibraries.locateIn(missing, "environment variable X"))
        .isInstanceOfSatisfying(
            VoiceException.class,
            e -> assertThat(e.kind()).isEqualTo(VoiceException.Kind.NATIVE_LIBRARY))
        .hasMessageContaining(missing.toString())
        .hasMessageContaining("environment variable X")
        .hasMessageContaining("does not exist");
  }

  @Test
  void aDirectoryWithoutTheLibrariesNamesTheMissingFile(@TempDir Path dir) throws IOException {
    assertThatThrownBy(() -> NativeLibraries.locateIn(dir, "system property Y"))
        .isInstanceOf(VoiceException.class)
        .hasMessageContaining(dir.toString())
        .hasMessageContaining("has no libsherpa-onnx-c-api.so");

    Files.createFile(dir.resolve("libsherpa-onnx-c-api.so"));
    assertThatThrownBy(() -> NativeLibraries.locateIn(dir, "system property Y"))
        .isInstanceOf(VoiceException.class)
        .hasMessageContaining(dir.toString())
        .hasMessageContaining("has no libonnxruntime.so");

    Files.createFile(dir.resolve("libonnxruntime.so"));
    NativeLibraries.LibraryFiles files = NativeLibraries.locateIn(dir, "system property Y");
    assertThat(files.sherpaOnnx())
        .isEqualTo(dir.toAbsolutePath().resolve("libsherpa-onnx-c-api.so"));
    assertThat(files.onnxruntime()).isEqualTo(dir.toAbsolutePath().resolve("libonnxruntime.so"));
  }

  @Test
  void resamplesA48KilohertzSineTo16Kilohertz() {
    SherpaOnnx sherpa = SherpaOnnx.get();
    Pointer resampler = sherpa.createLinearResampler(48_000, 16_000, 0, 0);
    try {
      assertThat(sherpa.linearResamplerResampleGetInputSampleRate(resampler)).isEqualTo(48_000);
      assertThat(sherpa.linearResamplerResampleGetOutputSampleRate(resampler)).isEqualTo(16_000);

      float[] sine = new float[48_000];
      for (int i = 0; i < sine.length; i++) {
        sine[i] = (float) (0.5 * Math.sin(2 * Math.PI * 440 * i / 48_000.0));
      }
      // Two chunks, the second flushing, as a stream would feed it.
      float[] a = sherpa.resample(resampler, sine, 24_000, false);
      float[] tail = new float[24_000];
      System.arraycopy(sine, 24_000, tail, 0, tail.length);
      float[] b = sherpa.resample(resampler, tail, tail.length, true);

      int n = a.length + b.length;
      assertThat(n).isBetween(15_900, 16_100);
      double sumSquares = 0;
      for (float x : a) {
        sumSquares += x * x;
      }
      for (float x : b) {
        sumSquares += x * x;
      }
      // A 440 Hz sine passes the 7.9 kHz low-pass unchanged: RMS 0.5 / sqrt(2).
      assertThat(Math.sqrt(sumSquares / n)).isBetween(0.33, 0.37);
    } finally {
      sherpa.destroyLinearResampler(resampler);
    }
  }

  @Test
  void rejectsBadResamplerArgumentsBeforeCallingNative() {
    SherpaOnnx sherpa = SherpaOnnx.get();
    assertThatThrownBy(() -> sherpa.createLinearResampler(0, 16_000, 0, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("in=0");
    Pointer resampler = sherpa.createLinearResampler(48_000, 16_000, 0, 0);
    try {
      assertThatThrownBy(() -> sherpa.resample(resampler, new float[10], 11, false))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("was 11");
    } finally {
      sherpa.destroyLinearResampler(resampler);
    }
  }

  @Test
  void trustsTheChecksumListButStillVerifiesWhatItCopies(@TempDir Path tmp) throws Exception {
    Path folder =
        Files.createDirectories(tmp.resolve("cp/" + NativeLibraries.RESOURCE_ROOT + PLATFORM));
    byte[] ort = "not really onnxruntime".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    byte[] sherpa = "not really sherpa".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    Files.write(folder.resolve("libonnxruntime.so"), ort);
    Files.write(folder.resolve("libsherpa-onnx-c-api.so"), sherpa);
    java.util.HexFormat hex = java.util.HexFormat.of();
    java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
    String good = hex.formatHex(sha.digest(ort)) + " " + ort.length + " libonnxruntime.so\n";
    String wrong = "00".repeat(32) + " " + sherpa.length + " libsherpa-onnx-c-api.so\n";
    Files.writeString(folder.resolve(NativeLibraries.SUMS), good + wrong);

    try (java.net.URLClassLoader loader =
        new java.net.URLClassLoader(new java.net.URL[] {tmp.resolve("cp").toUri().toURL()}, null)) {
      assertThatThrownBy(() -> NativeLibraries.extract(loader, PLATFORM, tmp.resolve("cache")))
          .isInstanceOf(VoiceException.class)
          .hasMessageContaining("libsherpa-onnx-c-api.so changed");

      String right =
          hex.formatHex(sha.digest(sherpa)) + " " + sherpa.length + " libsherpa-onnx-c-api.so\n";
      Files.writeString(folder.resolve(NativeLibraries.SUMS), good + right);
      NativeLibraries.LibraryFiles files =
          NativeLibraries.extract(loader, PLATFORM, tmp.resolve("cache"));
      assertThat(Files.readAllBytes(files.onnxruntime())).isEqualTo(ort);
      assertThat(Files.readAllBytes(files.sherpaOnnx())).isEqualTo(sherpa);
    }
  }

  private static NativeLibraries.LibraryFiles extract(Path cache) {
    return NativeLibraries.extract(NativeLibrariesTest.class.getClassLoader(), PLATFORM, cache);
  }

  private static byte[] resource(String name) throws IOException {
    try (InputStream in =
        NativeLibrariesTest.class
            .getClassLoader()
            .getResourceAsStream(NativeLibraries.RESOURCE_ROOT + PLATFORM + "/" + name)) {
      assertThat(in).as("natives jar resource %s", name).isNotNull();
      return in.readAllBytes();
    }
  }
}
