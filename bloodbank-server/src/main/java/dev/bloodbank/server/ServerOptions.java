package dev.bloodbank.server;

import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.validation.ValidationMode;
import dev.bloodbank.voice.AsrModel;
import dev.bloodbank.voice.EndpointRules;
import dev.bloodbank.voice.RecognizerOptions;
import dev.bloodbank.voice.TranscriptionOptions;
import java.io.IOException;
import java.io.Reader;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import org.jspecify.annotations.Nullable;

/**
 * How a {@link BloodbankServer} listens, whom it lets in and what it serves. Immutable and
 * thread-safe; built with {@link #builder()} or read from the environment and a file with {@link
 * #fromEnvironment(Map, Path)}.
 *
 * @since 0.2.0
 */
public final class ServerOptions {
  /** Default address: loopback only. */
  public static final String DEFAULT_HOST = "127.0.0.1";

  /** Default port: 8682, the Python gateway's. */
  public static final int DEFAULT_PORT = 8682;

  /** Default largest request body: 1 MiB. */
  public static final int DEFAULT_MAX_BODY_BYTES = 1 << 20;

  /** Default requests per second per key (or per client address without keys): 200. */
  public static final double DEFAULT_RATE_LIMIT = 200;

  /** Default events a live-tail client may fall behind before it is dropped: 1,024. */
  public static final int DEFAULT_TAIL_BUFFER = 1024;

  /** Default live-tail clients at once (SSE and WebSocket together): 256. */
  public static final int DEFAULT_MAX_TAIL_CLIENTS = 256;

  /** Default distinct live-tail patterns at once (each is one queue on the broker): 32. */
  public static final int DEFAULT_MAX_TAIL_PATTERNS = 32;

  /** Default {@code /asr} sessions at once: 8. */
  public static final int DEFAULT_MAX_ASR_SESSIONS = 8;

  /** Default largest WebSocket message: 1 MiB. */
  public static final int DEFAULT_MAX_FRAME_BYTES = 1 << 20;

  /** Default idle timeout of connections and WebSocket sessions: 60 s. */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);

  /** Default time a stop waits for in-flight requests, confirms and speech sessions: 30 s. */
  public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);

  /** Default time a publish waits for the broker's confirm before answering 503: 10 s. */
  public static final Duration DEFAULT_PUBLISH_TIMEOUT = Duration.ofSeconds(10);

  private final String host;
  private final int port;
  private final BloodbankOptions bus;
  private final ValidationMode validation;
  private final int maxBodyBytes;
  private final ApiKeys apiKeys;
  private final boolean allowAnonymous;
  private final List<String> corsOrigins;
  private final List<String> webSocketOrigins;
  private final double rateLimit;
  private final int tailBuffer;
  private final int maxTailClients;
  private final int maxTailPatterns;
  private final @Nullable RecognizerOptions speech;
  private final TranscriptionOptions transcription;
  private final int maxAsrSessions;
  private final int maxFrameBytes;
  private final Duration idleTimeout;
  private final @Nullable Path keyStore;
  private final char @Nullable [] keyStorePassword;
  private final Duration shutdownTimeout;
  private final Duration publishTimeout;
  private final boolean metrics;

  private ServerOptions(Builder b) {
    host = b.host;
    port = b.port;
    bus = b.bus;
    validation = b.validation;
    maxBodyBytes = b.maxBodyBytes;
    apiKeys = b.apiKeys;
    allowAnonymous = b.allowAnonymous;
    corsOrigins = List.copyOf(b.corsOrigins);
    webSocketOrigins = List.copyOf(b.webSocketOrigins);
    rateLimit = b.rateLimit;
    tailBuffer = b.tailBuffer;
    maxTailClients = b.maxTailClients;
    maxTailPatterns = b.maxTailPatterns;
    speech = b.speech;
    transcription = b.transcription;
    maxAsrSessions = b.maxAsrSessions;
    maxFrameBytes = b.maxFrameBytes;
    idleTimeout = b.idleTimeout;
    keyStore = b.keyStore;
    keyStorePassword = b.keyStorePassword == null ? null : b.keyStorePassword.clone();
    shutdownTimeout = b.shutdownTimeout;
    publishTimeout = b.publishTimeout;
    metrics = b.metrics;
  }

  /**
   * A builder with the defaults; the bus defaults to {@link BloodbankOptions#fromEnvironment()}.
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Reads the options from environment variables and, below them, a properties file. Each setting
   * has an environment name and a file key: {@code BLOODBANK_SERVER_PORT} and {@code server.port},
   * {@code BLOODBANK_SERVER_MAX_BODY_BYTES} and {@code server.max-body-bytes}, and so on (see
   * {@code docs/gateway.md}). The environment wins over the file, the file over the defaults. The
   * bus is configured from the same environment by {@link BloodbankOptions#fromEnvironment(Map)}.
   * API keys come from {@code BLOODBANK_SERVER_API_KEYS_FILE} ({@code server.api-keys-file}) and
   * {@code BLOODBANK_API_KEY} (one key named {@code env} with every scope).
   *
   * @param env the variables, usually {@code System.getenv()}
   * @param file a properties file, or null
   * @return a builder holding what was read, for further changes
   * @throws IllegalArgumentException naming the variable or file key whose value is bad
   */
  public static Builder fromEnvironment(Map<String, String> env, @Nullable Path file) {
    Properties props = new Properties();
    if (file != null) {
      try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        props.load(r);
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read " + file + ": " + e, e);
      }
    }
    Settings s = new Settings(env, props, file);
    Builder b = builder().bus(BloodbankOptions.fromEnvironment(env));
    s.get("host").ifPresent(v -> s.set("host", () -> b.host(v)));
    s.integer("port").ifPresent(v -> s.set("port", () -> b.port(v)));
    s.get("validation").ifPresent(v -> b.validation(s.validation("validation", v)));
    s.integer("max-body-bytes").ifPresent(v -> s.set("max-body-bytes", () -> b.maxBodyBytes(v)));
    s.get("allow-anonymous").ifPresent(v -> b.allowAnonymous(s.bool("allow-anonymous", v)));
    s.get("metrics").ifPresent(v -> b.metrics(s.bool("metrics", v)));
    s.get("cors-origins").ifPresent(v -> b.corsOrigins(list(v)));
    s.get("websocket-origins").ifPresent(v -> b.webSocketOrigins(list(v)));
    s.number("rate-limit").ifPresent(v -> s.set("rate-limit", () -> b.rateLimit(v)));
    s.integer("tail-buffer").ifPresent(v -> s.set("tail-buffer", () -> b.tailBuffer(v)));
    s.integer("max-tail-clients")
        .ifPresent(v -> s.set("max-tail-clients", () -> b.maxTailClients(v)));
    s.integer("max-tail-patterns")
        .ifPresent(v -> s.set("max-tail-patterns", () -> b.maxTailPatterns(v)));
    s.integer("max-asr-sessions")
        .ifPresent(v -> s.set("max-asr-sessions", () -> b.maxAsrSessions(v)));
    s.integer("max-frame-bytes").ifPresent(v -> s.set("max-frame-bytes", () -> b.maxFrameBytes(v)));
    s.number("idle-timeout-seconds")
        .ifPresent(v -> s.set("idle-timeout-seconds", () -> b.idleTimeout(seconds(v))));
    s.number("shutdown-timeout-seconds")
        .ifPresent(v -> s.set("shutdown-timeout-seconds", () -> b.shutdownTimeout(seconds(v))));
    s.number("publish-timeout-seconds")
        .ifPresent(v -> s.set("publish-timeout-seconds", () -> b.publishTimeout(seconds(v))));
    var store = s.get("tls-keystore");
    if (store.isPresent()) {
      String pw = s.get("tls-keystore-password").orElse("");
      b.tls(Path.of(store.get()), pw.toCharArray());
    }
    ApiKeys keys = ApiKeys.none();
    var keysFile = s.get("api-keys-file");
    if (keysFile.isPresent()) {
      keys = ApiKeys.read(Path.of(keysFile.get()));
    }
    String single = env.get("BLOODBANK_API_KEY");
    if (single != null && !single.isBlank()) {
      try {
        keys = keys.with(ApiKeys.of("env", single.strip(), EnumSet.allOf(Scope.class)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("BLOODBANK_API_KEY: " + e.getMessage(), e);
      }
    }
    b.apiKeys(keys);
    var model = s.get("asr-model");
    if (model.isPresent()) {
      Path dir = Path.of(model.get());
      AsrModel.Kind kind =
          s.get("asr-kind")
              .map(k -> s.kind("asr-kind", k))
              .orElse(
                  Files.exists(dir.resolve("tokens.txt")) && hasTransducerFiles(dir)
                      ? AsrModel.Kind.TRANSDUCER
                      : AsrModel.Kind.ZIPFORMER2_CTC);
      RecognizerOptions.Builder r = RecognizerOptions.builder(AsrModel.fromDirectory(dir, kind));
      var silence = s.number("asr-endpoint-silence");
      if (silence.isPresent()) {
        EndpointRules d = EndpointRules.DEFAULT;
        r.endpoint(
            EndpointRules.of(
                d.minTrailingSilenceNoSpeech(), silence.get().floatValue(), d.maxUtterance()));
      }
      b.speech(r.build(), TranscriptionOptions.fromEnvironment(env).build());
    }
    return b;
  }

  private static boolean hasTransducerFiles(Path dir) {
    try (var files = Files.list(dir)) {
      return files.anyMatch(p -> p.getFileName().toString().startsWith("joiner"));
    } catch (IOException e) {
      return false;
    }
  }

  private static Duration seconds(double v) {
    return Duration.ofMillis(Math.round(v * 1000));
  }

  private static List<String> list(String v) {
    List<String> out = new ArrayList<>();
    for (String s : v.split(",")) {
      if (!s.isBlank()) {
        out.add(s.strip());
      }
    }
    return out;
  }

  /** The address to listen on. Default: {@value #DEFAULT_HOST}. */
  public String host() {
    return host;
  }

  /** The port; 0 picks a free one. Default: {@value #DEFAULT_PORT}. */
  public int port() {
    return port;
  }

  /** The bus the server publishes to and tails. */
  public BloodbankOptions bus() {
    return bus;
  }

  /** How published events are validated. Default: strict. */
  public ValidationMode validation() {
    return validation;
  }

  /** The largest request body, in bytes; larger ones get 413. */
  public int maxBodyBytes() {
    return maxBodyBytes;
  }

  /** The accepted API keys; empty means every route is open. */
  public ApiKeys apiKeys() {
    return apiKeys;
  }

  /** Whether the server may run without API keys on an address other than loopback. */
  public boolean allowAnonymous() {
    return allowAnonymous;
  }

  /** Origins allowed by CORS; empty (the default) turns CORS off. {@code *} allows any. */
  public List<String> corsOrigins() {
    return corsOrigins;
  }

  /**
   * Origins a browser may open WebSockets from ({@code /asr}, {@code /events/ws}); a request
   * without an {@code Origin} header (not a browser) is let through. Empty (the default): only the
   * server's own origin.
   */
  public List<String> webSocketOrigins() {
    return webSocketOrigins;
  }

  /** Requests per second per key (per client address without keys); 0 turns the limit off. */
  public double rateLimit() {
    return rateLimit;
  }

  /** Events a live-tail client may fall behind before it is dropped. */
  public int tailBuffer() {
    return tailBuffer;
  }

  /** Live-tail clients at once. */
  public int maxTailClients() {
    return maxTailClients;
  }

  /** Distinct live-tail patterns at once. */
  public int maxTailPatterns() {
    return maxTailPatterns;
  }

  /** The speech recognizer for {@code /asr}, or null when {@code /asr} is off (the default). */
  public @Nullable RecognizerOptions speech() {
    return speech;
  }

  /** How {@code /asr} sessions become events (their write-ahead log, source, target). */
  public TranscriptionOptions transcription() {
    return transcription;
  }

  /** {@code /asr} sessions at once. */
  public int maxAsrSessions() {
    return maxAsrSessions;
  }

  /** The largest WebSocket message, in bytes. */
  public int maxFrameBytes() {
    return maxFrameBytes;
  }

  /** How long a connection or WebSocket session may stay silent before it is closed. */
  public Duration idleTimeout() {
    return idleTimeout;
  }

  /** The PKCS#12 or JKS keystore for TLS, or null for plain HTTP. */
  public @Nullable Path keyStore() {
    return keyStore;
  }

  char @Nullable [] keyStorePassword() {
    return keyStorePassword == null ? null : keyStorePassword.clone();
  }

  /** How long a stop waits for in-flight requests, confirms and speech sessions. */
  public Duration shutdownTimeout() {
    return shutdownTimeout;
  }

  /** How long a publish waits for the broker's confirm. */
  public Duration publishTimeout() {
    return publishTimeout;
  }

  /**
   * Whether the server keeps metrics and serves them at {@code GET /metrics}. Default: true.
   *
   * @since 0.2.0
   */
  public boolean metrics() {
    return metrics;
  }

  /** Whether {@link #host()} is a loopback address. */
  boolean loopbackOnly() {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  @Override
  public String toString() {
    return "ServerOptions{host="
        + host
        + ", port="
        + port
        + ", validation="
        + validation
        + ", apiKeys="
        + apiKeys
        + ", tls="
        + (keyStore != null)
        + ", asr="
        + (speech != null)
        + ", rateLimit="
        + rateLimit
        + ", metrics="
        + metrics
        + "}";
  }

  /** Builds {@link ServerOptions}. Not thread-safe. */
  public static final class Builder {
    private String host = DEFAULT_HOST;
    private int port = DEFAULT_PORT;
    private @Nullable BloodbankOptions bus;
    private ValidationMode validation = ValidationMode.STRICT;
    private int maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
    private ApiKeys apiKeys = ApiKeys.none();
    private boolean allowAnonymous;
    private List<String> corsOrigins = List.of();
    private List<String> webSocketOrigins = List.of();
    private double rateLimit = DEFAULT_RATE_LIMIT;
    private int tailBuffer = DEFAULT_TAIL_BUFFER;
    private int maxTailClients = DEFAULT_MAX_TAIL_CLIENTS;
    private int maxTailPatterns = DEFAULT_MAX_TAIL_PATTERNS;
    private @Nullable RecognizerOptions speech;
    private TranscriptionOptions transcription = TranscriptionOptions.builder().build();
    private int maxAsrSessions = DEFAULT_MAX_ASR_SESSIONS;
    private int maxFrameBytes = DEFAULT_MAX_FRAME_BYTES;
    private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
    private @Nullable Path keyStore;
    private char @Nullable [] keyStorePassword;
    private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
    private Duration publishTimeout = DEFAULT_PUBLISH_TIMEOUT;
    private boolean metrics = true;

    private Builder() {}

    /** Sets the address to listen on. Default: {@value #DEFAULT_HOST}. */
    public Builder host(String host) {
      if (host.isBlank()) {
        throw new IllegalArgumentException("host must not be blank");
      }
      this.host = host;
      return this;
    }

    /** Sets the port, 0 to 65535 (0 picks a free one). Default: {@value #DEFAULT_PORT}. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0 to 65535, was " + port);
      }
      this.port = port;
      return this;
    }

    /** Sets the bus. Default: {@link BloodbankOptions#fromEnvironment()}. */
    public Builder bus(BloodbankOptions bus) {
      this.bus = Objects.requireNonNull(bus, "bus");
      return this;
    }

    /** Sets how published events are validated. Default: strict. */
    public Builder validation(ValidationMode mode) {
      this.validation = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /** Sets the largest request body, 1 KiB to 64 MiB. Default: 1 MiB. */
    public Builder maxBodyBytes(int bytes) {
      this.maxBodyBytes = range("maxBodyBytes", bytes, 1024, 64 << 20);
      return this;
    }

    /** Sets the accepted API keys. Default: none (every route open, loopback only). */
    public Builder apiKeys(ApiKeys keys) {
      this.apiKeys = Objects.requireNonNull(keys, "keys");
      return this;
    }

    /**
     * Adds API keys to those already set (from the environment, say).
     *
     * @throws IllegalArgumentException when a key name is used twice
     */
    public Builder addApiKeys(ApiKeys more) {
      this.apiKeys = this.apiKeys.with(more);
      return this;
    }

    /**
     * Lets the server run without API keys on an address other than loopback. Default: false, and
     * such a server refuses to start.
     */
    public Builder allowAnonymous(boolean allow) {
      this.allowAnonymous = allow;
      return this;
    }

    /** Sets the origins CORS allows ({@code *} for any). Default: none, CORS off. */
    public Builder corsOrigins(List<String> origins) {
      this.corsOrigins = List.copyOf(origins);
      return this;
    }

    /** Sets the origins browsers may open WebSockets from. Default: the server's own only. */
    public Builder webSocketOrigins(List<String> origins) {
      this.webSocketOrigins = List.copyOf(origins);
      return this;
    }

    /** Sets requests per second per key, 0 (off) to 1,000,000. Default: 200. */
    public Builder rateLimit(double perSecond) {
      if (!(perSecond >= 0 && perSecond <= 1_000_000)) {
        throw new IllegalArgumentException(
            "rateLimit must be 0 (off) to 1000000 per second, was " + perSecond);
      }
      this.rateLimit = perSecond;
      return this;
    }

    /** Sets how far a live-tail client may fall behind, 16 to 1,000,000 events. Default: 1,024. */
    public Builder tailBuffer(int events) {
      this.tailBuffer = range("tailBuffer", events, 16, 1_000_000);
      return this;
    }

    /** Sets the live-tail clients at once, 1 to 100,000. Default: 256. */
    public Builder maxTailClients(int clients) {
      this.maxTailClients = range("maxTailClients", clients, 1, 100_000);
      return this;
    }

    /** Sets the distinct live-tail patterns at once, 1 to 1,000. Default: 32. */
    public Builder maxTailPatterns(int patterns) {
      this.maxTailPatterns = range("maxTailPatterns", patterns, 1, 1000);
      return this;
    }

    /**
     * Turns {@code /asr} on with this recognizer. Default: off.
     *
     * @param recognizer the model and decoding options
     * @param transcription how sessions become events, including their write-ahead log
     */
    public Builder speech(RecognizerOptions recognizer, TranscriptionOptions transcription) {
      this.speech = Objects.requireNonNull(recognizer, "recognizer");
      this.transcription = Objects.requireNonNull(transcription, "transcription");
      return this;
    }

    /** Sets the {@code /asr} sessions at once, 1 to 10,000. Default: 8. */
    public Builder maxAsrSessions(int sessions) {
      this.maxAsrSessions = range("maxAsrSessions", sessions, 1, 10_000);
      return this;
    }

    /** Sets the largest WebSocket message, 1 KiB to 64 MiB. Default: 1 MiB. */
    public Builder maxFrameBytes(int bytes) {
      this.maxFrameBytes = range("maxFrameBytes", bytes, 1024, 64 << 20);
      return this;
    }

    /** Sets the idle timeout, 1 s to 1 h. Default: 60 s. */
    public Builder idleTimeout(Duration timeout) {
      this.idleTimeout =
          duration("idleTimeout", timeout, Duration.ofSeconds(1), Duration.ofHours(1));
      return this;
    }

    /** Serves HTTPS with the certificate in this keystore (PKCS#12 or JKS). Default: plain HTTP. */
    public Builder tls(Path keyStore, char[] password) {
      this.keyStore = Objects.requireNonNull(keyStore, "keyStore");
      this.keyStorePassword = password.clone();
      return this;
    }

    /** Sets how long a stop waits, 0 to 10 min. Default: 30 s. */
    public Builder shutdownTimeout(Duration timeout) {
      this.shutdownTimeout =
          duration("shutdownTimeout", timeout, Duration.ZERO, Duration.ofMinutes(10));
      return this;
    }

    /** Sets how long a publish waits for its confirm, 100 ms to 5 min. Default: 10 s. */
    public Builder publishTimeout(Duration timeout) {
      this.publishTimeout =
          duration("publishTimeout", timeout, Duration.ofMillis(100), Duration.ofMinutes(5));
      return this;
    }

    /**
     * Keeps metrics and serves them for Prometheus at {@code GET /metrics} (and {@code
     * /v1/metrics}): the bus's ({@code bloodbank.*}, see {@link
     * dev.bloodbank.observability.BloodbankObservability}), the JVM's and the process's ({@code
     * jvm.*}, {@code process.*}, {@code system.*}), and a timer of every HTTP request ({@value
     * BloodbankServer#HTTP_SERVER_REQUESTS}). The route needs the {@code read} scope when the
     * server has API keys. Off, the server records nothing and {@code /metrics} answers 404 {@code
     * metrics_off}. Default: true; {@code BLOODBANK_SERVER_METRICS} or {@code server.metrics} in
     * {@link ServerOptions#fromEnvironment}.
     *
     * <p>The server makes a {@code PrometheusMeterRegistry} and gives it to the bus, unless the
     * {@link #bus bus options} carry an {@link dev.bloodbank.BloodbankOptions.Builder#observability
     * observability} of their own: then a meter registry in it that is a {@code
     * PrometheusMeterRegistry} is used as it is (and scraped); any other meter registry gets the
     * server's Prometheus registry beside it in a {@code CompositeMeterRegistry}, so both see every
     * meter; an observation registry and the amqp-client setting are kept. The server closes the
     * registry it made and never the application's.
     *
     * @param on whether to keep and serve metrics
     * @return this builder
     * @since 0.2.0
     */
    public Builder metrics(boolean on) {
      this.metrics = on;
      return this;
    }

    /**
     * Builds the options.
     *
     * @throws IllegalArgumentException when the server would listen beyond loopback with no API
     *     keys and {@link #allowAnonymous} is off
     */
    public ServerOptions build() {
      if (bus == null) {
        bus = BloodbankOptions.fromEnvironment();
      }
      ServerOptions o = new ServerOptions(this);
      if (o.apiKeys.isEmpty() && !o.allowAnonymous && !o.loopbackOnly()) {
        throw new IllegalArgumentException(
            "host "
                + host
                + " is reachable from other machines and no API keys are configured; set"
                + " BLOODBANK_SERVER_API_KEYS_FILE or BLOODBANK_API_KEY, or allow anonymous access"
                + " explicitly (BLOODBANK_SERVER_ALLOW_ANONYMOUS=true)");
      }
      return o;
    }

    private static int range(String name, int v, int min, int max) {
      if (v < min || v > max) {
        throw new IllegalArgumentException(name + " must be " + min + " to " + max + ", was " + v);
      }
      return v;
    }

    private static Duration duration(String name, Duration d, Duration min, Duration max) {
      if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
        throw new IllegalArgumentException(name + " must be " + min + " to " + max + ", was " + d);
      }
      return d;
    }
  }

  /** Environment over file, with the name of what was read in every error. */
  private static final class Settings {
    private final Map<String, String> env;
    private final Properties props;
    private final @Nullable Path file;

    Settings(Map<String, String> env, Properties props, @Nullable Path file) {
      this.env = env;
      this.props = props;
      this.file = file;
    }

    private String envName(String key) {
      return "BLOODBANK_SERVER_" + key.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    private String where(String key) {
      String e = envName(key);
      if (env.get(e) != null && !env.get(e).isBlank()) {
        return e;
      }
      return file + ": server." + key;
    }

    java.util.Optional<String> get(String key) {
      String v = env.get(envName(key));
      if (v == null || v.isBlank()) {
        v = props.getProperty("server." + key);
      }
      return v == null || v.isBlank()
          ? java.util.Optional.empty()
          : java.util.Optional.of(v.strip());
    }

    java.util.Optional<Integer> integer(String key) {
      return get(key)
          .map(
              v -> {
                try {
                  return Integer.parseInt(v);
                } catch (NumberFormatException e) {
                  throw new IllegalArgumentException(
                      where(key) + " must be a whole number, was '" + v + "'", e);
                }
              });
    }

    java.util.Optional<Double> number(String key) {
      return get(key)
          .map(
              v -> {
                try {
                  return Double.parseDouble(v);
                } catch (NumberFormatException e) {
                  throw new IllegalArgumentException(
                      where(key) + " must be a number, was '" + v + "'", e);
                }
              });
    }

    /** Applies a setting; a range error names the variable or file key and the value given. */
    void set(String key, Runnable apply) {
      try {
        apply.run();
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            where(key) + "='" + get(key).orElse("") + "': " + e.getMessage(), e);
      }
    }

    boolean bool(String key, String v) {
      if (v.equalsIgnoreCase("true")) {
        return true;
      }
      if (v.equalsIgnoreCase("false")) {
        return false;
      }
      throw new IllegalArgumentException(where(key) + " must be true or false, was '" + v + "'");
    }

    ValidationMode validation(String key, String v) {
      try {
        return ValidationMode.valueOf(v.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            where(key) + " must be strict, permissive or skip, was '" + v + "'", e);
      }
    }

    AsrModel.Kind kind(String key, String v) {
      try {
        return AsrModel.Kind.valueOf(v.toUpperCase(Locale.ROOT).replace('-', '_'));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            where(key)
                + " must be one of "
                + Arrays.stream(AsrModel.Kind.values())
                    .map(k -> k.name().toLowerCase(Locale.ROOT).replace('_', '-'))
                    .toList()
                + ", was '"
                + v
                + "'",
            e);
      }
    }
  }
}
