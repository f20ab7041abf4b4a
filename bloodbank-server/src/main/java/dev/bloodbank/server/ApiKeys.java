package dev.bloodbank.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The API keys a server accepts, each with a name (for logs and rate limits) and its scopes.
 * Immutable and thread-safe.
 *
 * <p>Secrets are kept only as SHA-256 digests and compared in constant time; they are never logged
 * and {@link #toString()} shows names only. The file format is one key per line, {@code <name>
 * <scope>[,<scope>...] <secret>}, with {@code #} comments and blank lines ignored:
 *
 * <pre>
 * # name      scopes               secret
 * n8n         publish              9f2c...e1
 * dashboard   read,publish         77ab...03
 * voice-app   asr,publish          c4d1...9a
 * </pre>
 *
 * @since 0.2.0
 */
public final class ApiKeys {
  /** The shortest secret accepted: 16 characters. */
  public static final int MIN_SECRET_LENGTH = 16;

  private static final ApiKeys NONE = new ApiKeys(List.of());

  private final List<Key> keys;

  private ApiKeys(List<Key> keys) {
    this.keys = List.copyOf(keys);
  }

  /** No keys: every route is open (the server allows that on a loopback address only). */
  public static ApiKeys none() {
    return NONE;
  }

  /**
   * One key with the given scopes.
   *
   * @throws IllegalArgumentException for a blank name, a secret shorter than {@value
   *     #MIN_SECRET_LENGTH} characters or no scopes
   */
  public static ApiKeys of(String name, String secret, Set<Scope> scopes) {
    return new ApiKeys(List.of(key(name, secret, scopes, "an API key")));
  }

  /**
   * Parses keys in the file format described above.
   *
   * @param text the keys
   * @param where where they came from, for error messages (a file name)
   * @throws IllegalArgumentException naming the file and line of a bad entry (never its secret)
   */
  public static ApiKeys parse(String text, String where) {
    List<Key> keys = new ArrayList<>();
    Set<String> names = new LinkedHashSet<>();
    String[] lines = text.split("\r?\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String at = where + ":" + (i + 1);
      String[] parts = line.split("\\s+");
      if (parts.length != 3) {
        throw new IllegalArgumentException(
            at
                + ": expected '<name> <scope>[,<scope>...] <secret>', found "
                + parts.length
                + " field(s)");
      }
      Set<Scope> scopes = EnumSet.noneOf(Scope.class);
      for (String s : parts[1].split(",")) {
        try {
          scopes.add(Scope.parse(s));
        } catch (IllegalArgumentException e) {
          // Not the value: with the fields out of order it could be the secret.
          throw new IllegalArgumentException(
              at + ": field 2 holds an unknown scope; allowed: publish, read, asr", null);
        }
      }
      if (!names.add(parts[0])) {
        throw new IllegalArgumentException(at + ": the key name in field 1 is used twice");
      }
      keys.add(key(parts[0], parts[2], scopes, at));
    }
    return new ApiKeys(keys);
  }

  /**
   * Reads keys from a file in the format described above.
   *
   * @throws IllegalArgumentException for a bad entry (names the file and line) or an unreadable
   *     file
   */
  public static ApiKeys read(Path file) {
    try {
      return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read API keys from " + file + ": " + e, e);
    }
  }

  /** Whether no keys are configured. */
  public boolean isEmpty() {
    return keys.isEmpty();
  }

  /** The keys' names, in file order. */
  public List<String> names() {
    return keys.stream().map(Key::name).toList();
  }

  /**
   * Finds the key with this secret. Every configured key is compared, in constant time, whatever
   * matches, so the answer's timing says nothing about the secrets.
   *
   * @param secret the presented secret
   * @return the key's name and scopes, or empty
   */
  public Optional<Key> find(String secret) {
    byte[] presented = sha256(secret);
    Key found = null;
    for (Key k : keys) {
      if (MessageDigest.isEqual(k.digest, presented) && found == null) {
        found = k;
      }
    }
    return Optional.ofNullable(found);
  }

  /** A new set with the keys of both; a name in both is an error. */
  public ApiKeys with(ApiKeys other) {
    List<Key> all = new ArrayList<>(keys);
    for (Key k : other.keys) {
      if (names().contains(k.name())) {
        throw new IllegalArgumentException("the key name '" + k.name() + "' is used twice");
      }
      all.add(k);
    }
    return new ApiKeys(all);
  }

  @Override
  public String toString() {
    return "ApiKeys" + names();
  }

  /** Checks a key; messages name the fields, never their values (one may be a secret). */
  private static Key key(String name, String secret, Set<Scope> scopes, String at) {
    if (name.isBlank() || !name.matches("[A-Za-z0-9._@-]{1,64}")) {
      throw new IllegalArgumentException(
          at + ": a key name (field 1) is 1 to 64 of A-Z a-z 0-9 . _ @ -");
    }
    if (secret.length() < MIN_SECRET_LENGTH) {
      throw new IllegalArgumentException(
          at
              + ": the secret (field 3) has "
              + secret.length()
              + " characters; at least "
              + MIN_SECRET_LENGTH
              + " are needed");
    }
    if (scopes.isEmpty()) {
      throw new IllegalArgumentException(at + ": the key in field 1 has no scopes");
    }
    return new Key(name, Set.copyOf(scopes), sha256(secret));
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** A configured key: its name and scopes (the secret is kept only as a digest). Immutable. */
  public static final class Key {
    private final String name;
    private final Set<Scope> scopes;
    private final byte[] digest;

    Key(String name, Set<Scope> scopes, byte[] digest) {
      this.name = name;
      this.scopes = scopes;
      this.digest = digest;
    }

    /** The key's name, shown in logs and used for its rate limit. */
    public String name() {
      return name;
    }

    /** What the key may do. */
    public Set<Scope> scopes() {
      return scopes;
    }

    /** Whether the key has this scope. */
    public boolean allows(Scope scope) {
      return scopes.contains(scope);
    }

    @Override
    public String toString() {
      return "Key[" + name + " " + scopes + "]";
    }
  }
}
