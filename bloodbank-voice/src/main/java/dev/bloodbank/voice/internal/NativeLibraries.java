package dev.bloodbank.voice.internal;

import com.sun.jna.Function;
import com.sun.jna.Library;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import dev.bloodbank.voice.VoiceException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Finds and loads the sherpa-onnx C API library and the onnxruntime library it links against, once
 * per JVM.
 *
 * <p>Where the libraries come from, first match wins:
 *
 * <ol>
 *   <li>the directory in system property {@value #LIB_DIR_PROPERTY};
 *   <li>the directory in environment variable {@value #LIB_DIR_ENV};
 *   <li>the copies bundled for the current platform (artifact {@code
 *       bloodbank-voice-natives-linux-x64}), extracted into {@code
 *       ${XDG_CACHE_HOME:-~/.cache}/bloodbank/natives/sherpa-onnx-1.13.8-<content hash>/}, a
 *       directory only its owner can read. The files are written to a temporary name and renamed,
 *       so concurrent JVMs never load half a file, and reused while their size and SHA-256 match.
 * </ol>
 *
 * <p>onnxruntime is loaded first, by absolute path, so that the C API library's dependency on
 * {@code libonnxruntime.so} resolves to that copy. Either way the loaded library must report
 * sherpa-onnx {@value #SHERPA_ONNX_VERSION}, the version whose struct layouts {@link SherpaOnnx}
 * maps.
 *
 * <p>Thread-safe. A failed load throws {@link VoiceException} of kind {@link
 * VoiceException.Kind#NATIVE_LIBRARY} and is tried again on the next call.
 */
public final class NativeLibraries {
  /** The sherpa-onnx version the binding is written against. */
  public static final String SHERPA_ONNX_VERSION = "1.13.8";

  /** Environment variable naming a directory that holds the two libraries. */
  public static final String LIB_DIR_ENV = "BLOODBANK_SHERPA_LIB_DIR";

  /** System property naming a directory that holds the two libraries; wins over the variable. */
  public static final String LIB_DIR_PROPERTY = "bloodbank.sherpa.libDir";

  /** Class-path folder that holds one sub-folder of libraries per platform. */
  static final String RESOURCE_ROOT = "dev/bloodbank/voice/natives/";

  /** Platforms that have a natives artifact, as {@link #platformKey} names them. */
  static final List<String> BUNDLED_PLATFORMS = List.of("linux-x86-64");

  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rwx------");

  private static final Map<String, Object> LIBRARY_OPTIONS =
      Map.of(Library.OPTION_STRING_ENCODING, StandardCharsets.UTF_8.name());

  private static final Object LOCK = new Object();
  private static volatile @Nullable Loaded loaded;

  private NativeLibraries() {}

  /** The loaded pair; held strongly because JNA only keeps weak references to its libraries. */
  private record Loaded(
      Path directory,
      NativeLibrary onnxruntime,
      NativeLibrary sherpaOnnx,
      String version,
      String gitSha1) {}

  /** The two library files in one directory, checked to exist. */
  record LibraryFiles(Path directory, Path onnxruntime, Path sherpaOnnx) {}

  /**
   * Loads the libraries if that has not happened yet and returns the sherpa-onnx C API library.
   *
   * @return the loaded library, with UTF-8 as its string encoding
   * @throws VoiceException of kind {@code NATIVE_LIBRARY} when the libraries cannot be found,
   *     extracted or loaded, or are not sherpa-onnx {@value #SHERPA_ONNX_VERSION}
   */
  public static NativeLibrary sherpaOnnx() {
    return load().sherpaOnnx();
  }

  /**
   * Returns the directory the libraries were loaded from, loading them if needed.
   *
   * @return the absolute directory
   * @throws VoiceException as {@link #sherpaOnnx()} does
   */
  public static Path directory() {
    return load().directory();
  }

  /**
   * Returns the version the loaded library reports ({@code SherpaOnnxGetVersionStr}).
   *
   * @return the version, {@value #SHERPA_ONNX_VERSION} once loading succeeded
   * @throws VoiceException as {@link #sherpaOnnx()} does
   */
  public static String version() {
    return load().version();
  }

  /**
   * Returns the Git commit the loaded library was built from ({@code SherpaOnnxGetGitSha1}).
   *
   * @return the short SHA-1
   * @throws VoiceException as {@link #sherpaOnnx()} does
   */
  public static String gitSha1() {
    return load().gitSha1();
  }

  private static Loaded load() {
    Loaded current = loaded;
    if (current != null) {
      return current;
    }
    synchronized (LOCK) {
      current = loaded;
      if (current == null) {
        current = loadFrom(locate());
        loaded = current;
      }
      return current;
    }
  }

  private static LibraryFiles locate() {
    String property = System.getProperty(LIB_DIR_PROPERTY);
    if (property != null && !property.isBlank()) {
      return locateIn(Path.of(property.strip()), "system property " + LIB_DIR_PROPERTY);
    }
    String env = System.getenv(LIB_DIR_ENV);
    if (env != null && !env.isBlank()) {
      return locateIn(Path.of(env.strip()), "environment variable " + LIB_DIR_ENV);
    }
    String platform =
        platformKey(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
    ClassLoader loader = NativeLibraries.class.getClassLoader();
    return extract(loader, platform, cacheRoot());
  }

  /**
   * Checks that a user-named directory holds both libraries.
   *
   * @param directory the directory to look in
   * @param source where the directory came from, for the message
   * @return the two absolute file paths
   * @throws VoiceException naming the directory and the missing file
   */
  static LibraryFiles locateIn(Path directory, String source) {
    Path dir = directory.toAbsolutePath().normalize();
    if (!Files.isDirectory(dir)) {
      throw VoiceException.newNativeLibrary(
          String.format(
              "sherpa-onnx library directory %s (from %s) does not exist or is not a directory",
              dir, source),
          null);
    }
    Path onnxruntime = dir.resolve(System.mapLibraryName("onnxruntime"));
    Path sherpa = dir.resolve(System.mapLibraryName("sherpa-onnx-c-api"));
    for (Path file : List.of(sherpa, onnxruntime)) {
      if (!Files.isRegularFile(file)) {
        throw VoiceException.newNativeLibrary(
            String.format(
                "sherpa-onnx library directory %s (from %s) has no %s; it must hold %s and %s"
                    + " from sherpa-onnx %s",
                dir,
                source,
                file.getFileName(),
                sherpa.getFileName(),
                onnxruntime.getFileName(),
                SHERPA_ONNX_VERSION),
            null);
      }
    }
    return new LibraryFiles(dir, onnxruntime, sherpa);
  }

  /**
   * Names a platform the way the natives artifacts name their resource folders.
   *
   * @param osName the {@code os.name} system property
   * @param osArch the {@code os.arch} system property
   * @return e.g. {@code linux-x86-64}, {@code darwin-aarch64}, {@code win32-x86-64}
   */
  static String platformKey(String osName, String osArch) {
    String name = osName.toLowerCase(Locale.ROOT);
    String os;
    if (name.startsWith("linux")) {
      os = "linux";
    } else if (name.startsWith("mac") || name.startsWith("darwin")) {
      os = "darwin";
    } else if (name.startsWith("windows")) {
      os = "win32";
    } else {
      os = name.replaceAll("[^a-z0-9]+", "");
    }
    String a = osArch.toLowerCase(Locale.ROOT);
    String arch;
    switch (a) {
      case "amd64":
      case "x86_64":
      case "x86-64":
        arch = "x86-64";
        break;
      case "aarch64":
      case "arm64":
        arch = "aarch64";
        break;
      case "x86":
      case "i386":
      case "i486":
      case "i586":
      case "i686":
        arch = "x86";
        break;
      default:
        arch = a.replaceAll("[^a-z0-9]+", "");
    }
    return os + "-" + arch;
  }

  /**
   * Returns {@code ${XDG_CACHE_HOME:-~/.cache}/bloodbank/natives}.
   *
   * @return the absolute directory, which may not exist yet
   */
  static Path cacheRoot() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base;
    // The XDG spec says a relative value is invalid and must be ignored.
    if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
      base = Path.of(xdg);
    } else {
      base = Path.of(System.getProperty("user.home"), ".cache");
    }
    return base.resolve("bloodbank").resolve("natives");
  }

  /** One bundled library file: its name, size and SHA-256. */
  private record Resource(String name, long size, byte[] sha256) {}

  /** Lines {@code <sha256 hex> <size> <file>} beside the bundled libraries. */
  static final String SUMS = "SHA256SUMS";

  /**
   * Copies the libraries bundled for a platform out of the class path into a private cache
   * directory named after their content, or reuses an intact earlier copy.
   *
   * @param loader the class loader to read the resources with
   * @param platform the resource folder, see {@link #platformKey}
   * @param cacheRoot the directory to create the version directory in
   * @return the two extracted files
   * @throws VoiceException when the platform has no bundled libraries or the copy fails
   */
  static LibraryFiles extract(ClassLoader loader, String platform, Path cacheRoot) {
    String folder = RESOURCE_ROOT + platform + "/";
    String onnxruntimeName = "libonnxruntime.so";
    String sherpaName = "libsherpa-onnx-c-api.so";
    if (!BUNDLED_PLATFORMS.contains(platform)) {
      throw VoiceException.newNativeLibrary(
          String.format(
              "no sherpa-onnx libraries are bundled for platform %s (bundled: %s); set %s (or"
                  + " system property %s) to a directory holding %s and %s from sherpa-onnx %s",
              platform,
              String.join(", ", BUNDLED_PLATFORMS),
              LIB_DIR_ENV,
              LIB_DIR_PROPERTY,
              System.mapLibraryName("sherpa-onnx-c-api"),
              System.mapLibraryName("onnxruntime"),
              SHERPA_ONNX_VERSION),
          null);
    }
    try {
      List<Resource> resources = new ArrayList<>();
      MessageDigest all = sha256();
      for (String name : List.of(onnxruntimeName, sherpaName)) {
        Resource resource = describe(loader, folder, name);
        resources.add(resource);
        all.update(name.getBytes(StandardCharsets.UTF_8));
        all.update((byte) 0);
        all.update(resource.sha256());
      }
      String hash = HexFormat.of().formatHex(all.digest()).substring(0, 16);
      Path dir =
          privateDirectory(
              cacheRoot
                  .toAbsolutePath()
                  .resolve("sherpa-onnx-" + SHERPA_ONNX_VERSION + "-" + hash));
      deleteStaleTemporaryFiles(dir);
      for (Resource resource : resources) {
        Path target = dir.resolve(resource.name());
        if (!isIntact(target, resource)) {
          copyAtomically(loader, folder, resource, target);
        }
      }
      return new LibraryFiles(dir, dir.resolve(onnxruntimeName), dir.resolve(sherpaName));
    } catch (IOException | UncheckedIOException e) {
      throw VoiceException.newNativeLibrary(
          String.format(
              "could not extract the bundled sherpa-onnx libraries for %s into %s: %s; set %s to a"
                  + " directory holding them instead",
              platform, cacheRoot, e.getMessage(), LIB_DIR_ENV),
          e);
    }
  }

  private static Resource describe(ClassLoader loader, String folder, String name)
      throws IOException {
    // The natives jar lists each library's size and SHA-256 (written by its build), which spares
    // hashing 30 MB of jar resources at every start; without the list, hash them here.
    try (InputStream list = loader.getResourceAsStream(folder + SUMS)) {
      if (list != null) {
        for (String line : new String(list.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
          String[] f = line.strip().split("\\s+");
          if (f.length == 3 && f[2].equals(name) && f[0].length() == 64) {
            return new Resource(name, Long.parseLong(f[1]), HexFormat.of().parseHex(f[0]));
          }
        }
      }
    } catch (NumberFormatException e) {
      throw new IOException(folder + SUMS + " is malformed: " + e.getMessage(), e);
    }
    MessageDigest digest = sha256();
    long size = 0;
    try (InputStream in = open(loader, folder, name)) {
      byte[] buffer = new byte[1 << 16];
      for (int n; (n = in.read(buffer)) >= 0; ) {
        digest.update(buffer, 0, n);
        size += n;
      }
    }
    return new Resource(name, size, digest.digest());
  }

  private static InputStream open(ClassLoader loader, String folder, String name) {
    InputStream in = loader.getResourceAsStream(folder + name);
    if (in == null) {
      throw VoiceException.newNativeLibrary(
          String.format(
              "class-path resource %s%s is missing; add dev.bloodbank:"
                  + "bloodbank-voice-natives-linux-x64 to the class path, or set %s to a directory"
                  + " holding the sherpa-onnx %s libraries",
              folder, name, LIB_DIR_ENV, SHERPA_ONNX_VERSION),
          null);
    }
    return in;
  }

  /**
   * Creates the directory owner-only, or makes an existing one so; fails if someone else owns it.
   */
  private static Path privateDirectory(Path dir) throws IOException {
    boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    if (posix) {
      FileAttribute<Set<PosixFilePermission>> ownerOnly =
          PosixFilePermissions.asFileAttribute(OWNER_ONLY);
      if (!Files.isDirectory(dir.getParent())) {
        Files.createDirectories(dir.getParent(), ownerOnly);
      }
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        Files.createDirectories(dir, ownerOnly);
      }
      // Only the owner may change the mode: this fails for a directory planted by another user.
      Files.setPosixFilePermissions(dir, OWNER_ONLY);
    } else {
      Files.createDirectories(dir);
    }
    if (Files.isSymbolicLink(dir) || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(dir + " is not a plain directory");
    }
    return dir;
  }

  /** Removes temporary files that a JVM killed during extraction left behind. */
  private static void deleteStaleTemporaryFiles(Path dir) throws IOException {
    // Old enough that no live JVM is still writing it.
    FileTime cutoff = FileTime.from(Instant.now().minus(Duration.ofMinutes(10)));
    try (DirectoryStream<Path> temps = Files.newDirectoryStream(dir, ".*.tmp")) {
      for (Path temp : temps) {
        try {
          if (Files.getLastModifiedTime(temp, LinkOption.NOFOLLOW_LINKS).compareTo(cutoff) < 0) {
            Files.deleteIfExists(temp);
          }
        } catch (IOException e) {
          // Another JVM may have just renamed or removed it; not worth failing the load for.
        }
      }
    }
  }

  private static boolean isIntact(Path file, Resource resource) throws IOException {
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)
        || Files.size(file) != resource.size()) {
      return false;
    }
    MessageDigest digest = sha256();
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return MessageDigest.isEqual(digest.digest(), resource.sha256());
  }

  private static void copyAtomically(
      ClassLoader loader, String folder, Resource resource, Path target) throws IOException {
    Path temp = Files.createTempFile(target.getParent(), "." + resource.name() + "-", ".tmp");
    try {
      MessageDigest digest = sha256();
      try (InputStream in = new DigestInputStream(open(loader, folder, resource.name()), digest);
          OutputStream out = Files.newOutputStream(temp)) {
        in.transferTo(out);
      }
      if (!MessageDigest.isEqual(digest.digest(), resource.sha256())) {
        throw new IOException("class-path resource " + folder + resource.name() + " changed");
      }
      if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
        Files.setPosixFilePermissions(temp, OWNER_ONLY);
      }
      try {
        Files.move(
            temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  private static Loaded loadFrom(LibraryFiles files) {
    NativeLibrary onnxruntime = open(files.onnxruntime());
    NativeLibrary sherpa = open(files.sherpaOnnx());
    String version = callString(sherpa, "SherpaOnnxGetVersionStr", files.sherpaOnnx());
    String gitSha1 = callString(sherpa, "SherpaOnnxGetGitSha1", files.sherpaOnnx());
    if (!SHERPA_ONNX_VERSION.equals(version)) {
      throw VoiceException.newNativeLibrary(
          String.format(
              "%s is sherpa-onnx %s, but bloodbank-voice needs %s (the C API structs differ"
                  + " between versions)",
              files.sherpaOnnx(), version, SHERPA_ONNX_VERSION),
          null);
    }
    return new Loaded(files.directory(), onnxruntime, sherpa, version, gitSha1);
  }

  private static NativeLibrary open(Path file) {
    try {
      return NativeLibrary.getInstance(file.toAbsolutePath().toString(), LIBRARY_OPTIONS);
    } catch (UnsatisfiedLinkError e) {
      throw VoiceException.newNativeLibrary(
          String.format("could not load native library %s: %s", file, e.getMessage()), e);
    }
  }

  private static String callString(NativeLibrary library, String function, Path file) {
    try {
      Function f = library.getFunction(function);
      Pointer p = (Pointer) f.invoke(Pointer.class, new Object[0]);
      return p == null ? "" : p.getString(0, StandardCharsets.UTF_8.name());
    } catch (UnsatisfiedLinkError e) {
      throw VoiceException.newNativeLibrary(
          String.format(
              "%s has no function %s; it is not a sherpa-onnx %s C API library",
              file, function, SHERPA_ONNX_VERSION),
          e);
    }
  }
}
