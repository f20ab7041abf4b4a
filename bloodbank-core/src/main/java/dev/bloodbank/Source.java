package dev.bloodbank;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Who or what produced an event: the {@code source} object of an envelope.
 *
 * <p>Immutable and thread-safe. {@code meta} holds JSON-mappable values (strings, numbers,
 * booleans, lists, maps) and is never null.
 *
 * @param host the machine that produced the event
 * @param type how the event was triggered
 * @param app the producing application, or null
 * @param meta free-form extra context, empty by default
 */
public record Source(
    String host, TriggerType type, @Nullable String app, Map<String, Object> meta) {

  /** Validates and copies the fields. */
  public Source {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(meta, "meta");
    // Nearly every source has no meta: share one empty map rather than copy and wrap it.
    meta =
        meta.isEmpty()
            ? Collections.emptyMap()
            : Collections.unmodifiableMap(new LinkedHashMap<>(meta));
  }

  /**
   * Returns a source with no meta.
   *
   * @param host the machine that produced the event
   * @param type how the event was triggered
   * @param app the producing application, or null
   * @return the source
   */
  public static Source of(String host, TriggerType type, @Nullable String app) {
    return new Source(host, type, app, Map.of());
  }

  /**
   * Returns a source for this machine: the local host name, {@link TriggerType#MANUAL}.
   *
   * @param app the producing application, or null
   * @return the source
   */
  public static Source local(@Nullable String app) {
    return of(LocalHost.NAME, TriggerType.MANUAL, app);
  }

  /**
   * Returns a copy with another trigger type.
   *
   * @param type the trigger type
   * @return the copy
   */
  public Source withType(TriggerType type) {
    return new Source(host, type, app, meta);
  }

  /**
   * Returns a copy with another meta map.
   *
   * @param meta the meta map
   * @return the copy
   */
  public Source withMeta(Map<String, Object> meta) {
    return new Source(host, type, app, meta);
  }

  /** Resolved once: the lookup can take seconds on a misconfigured resolver. */
  private static final class LocalHost {
    static final String NAME = resolve();

    private static String resolve() {
      String env = System.getenv("HOSTNAME");
      if (env != null && !env.isBlank()) {
        return env;
      }
      try {
        return InetAddress.getLocalHost().getHostName();
      } catch (UnknownHostException e) {
        return "localhost";
      }
    }
  }
}
