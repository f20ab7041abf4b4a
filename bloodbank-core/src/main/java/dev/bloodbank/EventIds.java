package dev.bloodbank;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * Event ids: random ones, and deterministic ones for idempotent producers.
 *
 * <p>A deterministic id is the same for the same event type and key parts, in any process and any
 * language, so a producer that sends the same fact twice sends the same id and consumers can drop
 * the duplicate. The algorithm, identical to the Python services' {@code generate_event_id}:
 *
 * <ol>
 *   <li>Sort the key parts by name (by Unicode code point).
 *   <li>Join them as {@code name=value} with {@code |}; values are written as Python's {@code
 *       str()} writes them: booleans as {@code True}/{@code False}, floats as {@code 12345678.9} or
 *       {@code 1e+20}.
 *   <li>Build the name {@code bloodbank:<event type>:<joined parts>}.
 *   <li>The id is the RFC 4122 version 5 UUID of that name (UTF-8) in the OID namespace {@code
 *       6ba7b812-9dad-11d1-80b4-00c04fd430c8}; in Python, {@code uuid.uuid5(uuid.NAMESPACE_OID,
 *       name)}.
 * </ol>
 *
 * <p>Thread-safe.
 */
public final class EventIds {
  /** The RFC 4122 OID namespace, the namespace of deterministic event ids. */
  public static final UUID NAMESPACE_OID = UUID.fromString("6ba7b812-9dad-11d1-80b4-00c04fd430c8");

  private EventIds() {}

  /**
   * Returns a new random (version 4) event id.
   *
   * @return the id
   */
  public static UUID random() {
    return UUID.randomUUID();
  }

  /**
   * Returns the deterministic id of an event, computed as described in the class documentation.
   *
   * @param eventType the event type, e.g. {@code fireflies.transcript.upload}
   * @param keyParts the values that identify this occurrence, e.g. {@code meeting_id=abc123}; at
   *     least one
   * @return the version 5 UUID
   * @throws IllegalArgumentException if {@code keyParts} is empty or holds a null value
   */
  public static UUID deterministic(String eventType, Map<String, ?> keyParts) {
    Objects.requireNonNull(eventType, "eventType");
    if (keyParts.isEmpty()) {
      throw new IllegalArgumentException(
          "deterministic id for '" + eventType + "' needs at least one key part");
    }
    List<String> names = new ArrayList<>(keyParts.keySet());
    names.sort(EventIds::compareCodePoints);
    StringBuilder key = new StringBuilder();
    for (String name : names) {
      Object value = keyParts.get(name);
      if (value == null) {
        throw new IllegalArgumentException(
            "key part '" + name + "' of a deterministic id for '" + eventType + "' is null");
      }
      if (key.length() > 0) {
        key.append('|');
      }
      key.append(name).append('=').append(pythonString(value));
    }
    return uuid5(NAMESPACE_OID, "bloodbank:" + eventType + ":" + key);
  }

  /**
   * Returns the RFC 4122 version 5 (SHA-1, name-based) UUID of a name in a namespace.
   *
   * @param namespace the namespace UUID
   * @param name the name, encoded as UTF-8
   * @return the UUID
   */
  public static UUID uuid5(UUID namespace, String name) {
    MessageDigest sha1;
    try {
      sha1 = MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is required of every Java platform", e);
    }
    ByteBuffer ns = ByteBuffer.allocate(16);
    ns.putLong(namespace.getMostSignificantBits()).putLong(namespace.getLeastSignificantBits());
    sha1.update(ns.array());
    byte[] hash = sha1.digest(name.getBytes(StandardCharsets.UTF_8));
    hash[6] = (byte) ((hash[6] & 0x0f) | 0x50);
    hash[8] = (byte) ((hash[8] & 0x3f) | 0x80);
    ByteBuffer bb = ByteBuffer.wrap(hash, 0, 16);
    return new UUID(bb.getLong(), bb.getLong());
  }

  private static String pythonString(Object value) {
    if (value instanceof Boolean) {
      return ((Boolean) value) ? "True" : "False";
    }
    if (value instanceof Double || value instanceof Float) {
      return pythonFloat(((Number) value).doubleValue());
    }
    return value.toString();
  }

  /**
   * Writes a double as Python's {@code str(float)}: fixed notation with at least one decimal when
   * the decimal exponent is between -4 and 15, otherwise {@code 1.5e+20} style.
   */
  static String pythonFloat(double d) {
    if (Double.isNaN(d)) {
      return "nan";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "inf" : "-inf";
    }
    if (d == 0) {
      return (1 / d < 0) ? "-0.0" : "0.0";
    }
    java.math.BigDecimal bd = new java.math.BigDecimal(Double.toString(d)).stripTrailingZeros();
    String digits = bd.unscaledValue().abs().toString();
    int exp = digits.length() - 1 - bd.scale();
    String sign = d < 0 ? "-" : "";
    if (exp >= -4 && exp < 16) {
      String plain = bd.abs().toPlainString();
      return sign + (plain.contains(".") ? plain : plain + ".0");
    }
    String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
    String e = String.valueOf(Math.abs(exp));
    return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (e.length() < 2 ? "0" + e : e);
  }

  /** Python sorts str by code point; String.compareTo compares UTF-16 units. */
  private static int compareCodePoints(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }
}
