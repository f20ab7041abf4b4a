package dev.bloodbank.validation;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.internal.Rfc3339;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A JSON Schema compiled to plain checks that answer one question fast: is this instance certainly
 * valid? {@link #accepts} returns true only when it is; false means "invalid, or not sure", and the
 * caller then asks the full validator (networknt), whose answer and messages are the reference. So
 * this class may be conservative but must never accept what the full validator rejects; {@code
 * FastSchemaTest} checks that on the catalog and on mutations of its examples.
 *
 * <p>Covers the keywords the catalog's payload schemas use: {@code type}, {@code properties},
 * {@code required}, {@code additionalProperties}, {@code min/maxProperties}, {@code min/maxLength},
 * {@code minimum}, {@code maximum}, {@code exclusiveMinimum/Maximum}, {@code enum}, {@code const},
 * {@code items}, {@code min/maxItems}, {@code allOf}, {@code anyOf}, local {@code $ref}s into
 * {@code $defs}, and the {@code uuid} and {@code date-time} formats. A schema with any other
 * validation keyword is not compiled ({@link #compile} returns null) and always goes to the full
 * validator; a string in another format is "not sure". Immutable, thread-safe; {@link #accepts}
 * allocates nothing but a field iterator for objects whose {@code additionalProperties} is
 * constrained.
 */
final class FastSchema {
  /** Keywords that do not constrain the instance. */
  private static final Set<String> ANNOTATIONS =
      Set.of(
          "$schema",
          "$id",
          "$comment",
          "$defs",
          "definitions",
          "title",
          "description",
          "default",
          "examples",
          "deprecated",
          "readOnly",
          "writeOnly",
          "x-bloodbank",
          "javaType",
          "existingJavaType",
          "javaName",
          "javaInterfaces",
          "javaEnumNames");

  private static final int NULL = 1;
  private static final int BOOLEAN = 2;
  private static final int OBJECT = 4;
  private static final int ARRAY = 8;
  private static final int STRING = 16;
  private static final int NUMBER = 32;
  private static final int INTEGER = 64;
  private static final int ANY = NULL | BOOLEAN | OBJECT | ARRAY | STRING | NUMBER | INTEGER;
  private static final double EXACT_LIMIT = 9.007199254740992E15; // 2^53

  private final Node root;

  private FastSchema(Node root) {
    this.root = root;
  }

  /**
   * Compiles a schema.
   *
   * @param schema the schema document
   * @return the compiled schema, or null when the schema uses a keyword outside the subset
   */
  static @Nullable FastSchema compile(JsonNode schema) {
    try {
      return new FastSchema(new Compiler(schema).node(schema));
    } catch (Unsupported e) {
      return null;
    }
  }

  /**
   * Whether the instance is certainly valid.
   *
   * @param instance the JSON value
   * @return true when valid; false when invalid or not sure
   */
  boolean accepts(JsonNode instance) {
    return root.accepts(instance);
  }

  // ---- compiled form -------------------------------------------------------------------------

  private static final class Unsupported extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unsupported() {
      super(null, null, false, false);
    }
  }

  /** One subschema: all its checks must pass. */
  private static final class Node {
    static final Node TRUE = new Node();
    static final Node FALSE = new Node();

    int types = ANY;
    @Nullable Map<String, Node> properties;
    String @Nullable [] propertyNames;
    Node @Nullable [] propertySchemas;
    String @Nullable [] required;
    // null: anything goes; FALSE: no other names; else: each other value must pass.
    @Nullable Node additional;
    int minProperties;
    int maxProperties = Integer.MAX_VALUE;
    int minLength;
    int maxLength = Integer.MAX_VALUE;
    @Nullable Bound minimum;
    @Nullable Bound maximum;
    JsonNode @Nullable [] allowed; // enum or const
    @Nullable Node items;
    int minItems;
    int maxItems = Integer.MAX_VALUE;
    @Nullable String format;
    Node @Nullable [] allOf;
    Node @Nullable [] anyOf;
    @Nullable Ref ref;

    boolean accepts(JsonNode n) {
      if (this == TRUE) {
        return true;
      }
      if (this == FALSE) {
        return false;
      }
      if (ref != null && !ref.target().accepts(n)) {
        return false;
      }
      int t = typeOf(n);
      if ((types & t) == 0) {
        // An integral double ("integer" allows 2.0) or a type not allowed: let the reference say.
        return false;
      }
      if (allowed != null && !isAllowed(n)) {
        return false;
      }
      switch (t) {
        case OBJECT -> {
          if (!object(n)) {
            return false;
          }
        }
        case ARRAY -> {
          if (!array(n)) {
            return false;
          }
        }
        case STRING -> {
          if (!string(n.textValue())) {
            return false;
          }
        }
        case NUMBER, INTEGER -> {
          if ((minimum != null && !minimum.below(n)) || (maximum != null && !maximum.above(n))) {
            return false;
          }
        }
        default -> {}
      }
      if (allOf != null) {
        for (Node s : allOf) {
          if (!s.accepts(n)) {
            return false;
          }
        }
      }
      if (anyOf != null) {
        boolean any = false;
        for (Node s : anyOf) {
          if (s.accepts(n)) {
            any = true;
            break;
          }
        }
        if (!any) {
          return false;
        }
      }
      return true;
    }

    private boolean isAllowed(JsonNode n) {
      for (JsonNode a : allowed) {
        if (a.equals(n)) {
          return true;
        }
      }
      // Not equal as Jackson sees it; JSON Schema may still see it equal (1 and 1.0).
      return false;
    }

    private boolean object(JsonNode n) {
      int size = n.size();
      if (size < minProperties || size > maxProperties) {
        return false;
      }
      if (required != null) {
        for (String r : required) {
          if (n.get(r) == null) {
            return false;
          }
        }
      }
      if (additional == null) {
        if (propertyNames != null) {
          for (int i = 0; i < propertyNames.length; i++) {
            JsonNode v = n.get(propertyNames[i]);
            if (v != null && !propertySchemas[i].accepts(v)) {
              return false;
            }
          }
        }
        return true;
      }
      Iterator<Map.Entry<String, JsonNode>> fields = n.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> f = fields.next();
        Node s = properties == null ? null : properties.get(f.getKey());
        if (s == null) {
          s = additional;
        }
        if (!s.accepts(f.getValue())) {
          return false;
        }
      }
      return true;
    }

    private boolean array(JsonNode n) {
      int size = n.size();
      if (size < minItems || size > maxItems) {
        return false;
      }
      if (items != null) {
        for (int i = 0; i < size; i++) {
          if (!items.accepts(n.get(i))) {
            return false;
          }
        }
      }
      return true;
    }

    private boolean string(String s) {
      if (minLength > 0 || maxLength < Integer.MAX_VALUE) {
        // Lengths count code points; the UTF-16 length bounds them from above.
        int units = s.length();
        if (units < minLength) {
          return false;
        }
        if (units > maxLength || minLength > 0) {
          int points = s.codePointCount(0, units);
          if (points < minLength || points > maxLength) {
            return false;
          }
        }
      }
      if (format == null) {
        return true;
      }
      return switch (format) {
        case "uuid" -> Formats.isUuid(s);
        case "date-time" -> Formats.isDateTime(s);
        default -> false;
      };
    }
  }

  private static int typeOf(JsonNode n) {
    return switch (n.getNodeType()) {
      case NULL -> NULL;
      case BOOLEAN -> BOOLEAN;
      case OBJECT -> OBJECT;
      case ARRAY -> ARRAY;
      case STRING -> STRING;
      case NUMBER -> n.isIntegralNumber() ? INTEGER : NUMBER;
      default -> 0; // binary, POJO, missing: the reference decides
    };
  }

  /**
   * A numeric limit. A strict comparison of doubles implies the same strict comparison of the exact
   * values (rounding to double is monotonic), so only equality needs care: it counts only when both
   * sides are exact.
   */
  private record Bound(double limit, boolean exclusive, boolean limitExact) {
    /** Whether {@code n} is above this lower bound. */
    boolean below(JsonNode n) {
      double v = n.doubleValue();
      return v > limit || (v == limit && !exclusive && exact(n));
    }

    /** Whether {@code n} is below this upper bound. */
    boolean above(JsonNode n) {
      double v = n.doubleValue();
      return v < limit || (v == limit && !exclusive && exact(n));
    }

    private boolean exact(JsonNode n) {
      if (!limitExact) {
        return false;
      }
      if (n.isInt() || n.isLong() || n.isShort()) {
        return Math.abs(n.longValue()) <= EXACT_LIMIT;
      }
      // A double or float node is its own exact value; a BigDecimal node may hold more digits.
      return n.isDouble() || n.isFloat();
    }
  }

  /** A {@code $ref} into the document's {@code $defs}, resolved once the document is compiled. */
  private static final class Ref {
    @Nullable Node target;

    Node target() {
      return target;
    }
  }

  // ---- compiler ------------------------------------------------------------------------------

  private static final class Compiler {
    private final JsonNode document;
    private final Map<String, Ref> refs = new HashMap<>();
    private final List<Runnable> pending = new ArrayList<>();

    Compiler(JsonNode document) {
      this.document = document;
    }

    Node node(JsonNode schema) {
      Node root = compile(schema);
      // Compile targets after the root, so that recursive references end.
      for (int i = 0; i < pending.size(); i++) {
        pending.get(i).run();
      }
      return root;
    }

    private Node compile(JsonNode s) {
      if (s.isBoolean()) {
        return s.booleanValue() ? Node.TRUE : Node.FALSE;
      }
      if (!s.isObject()) {
        throw new Unsupported();
      }
      Node n = new Node();
      Iterator<Map.Entry<String, JsonNode>> it = s.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        String key = e.getKey();
        JsonNode v = e.getValue();
        if (ANNOTATIONS.contains(key)) {
          if (key.equals("$id") && s != document) {
            throw new Unsupported(); // a new base for references inside
          }
          continue;
        }
        switch (key) {
          case "type" -> n.types = types(v);
          case "properties" -> properties(n, v);
          case "required" -> n.required = strings(v);
          case "additionalProperties" -> {
            Node a = compile(v);
            n.additional = a == Node.TRUE ? null : a;
          }
          case "minProperties" -> n.minProperties = count(v);
          case "maxProperties" -> n.maxProperties = count(v);
          case "minLength" -> n.minLength = count(v);
          case "maxLength" -> n.maxLength = count(v);
          case "minimum" -> n.minimum = bound(v, false, n.minimum);
          case "exclusiveMinimum" -> n.minimum = bound(v, true, n.minimum);
          case "maximum" -> n.maximum = bound(v, false, n.maximum);
          case "exclusiveMaximum" -> n.maximum = bound(v, true, n.maximum);
          case "enum" -> {
            if (!v.isArray() || n.allowed != null) {
              throw new Unsupported(); // with const as well: both would have to hold
            }
            List<JsonNode> all = new ArrayList<>();
            v.forEach(all::add);
            n.allowed = all.toArray(new JsonNode[0]);
          }
          case "const" -> {
            if (n.allowed != null) {
              throw new Unsupported();
            }
            n.allowed = new JsonNode[] {v};
          }
          case "items" -> n.items = compile(v);
          case "minItems" -> n.minItems = count(v);
          case "maxItems" -> n.maxItems = count(v);
          case "format" -> {
            if (!v.isTextual()) {
              throw new Unsupported();
            }
            n.format = v.textValue();
          }
          case "allOf" -> n.allOf = list(v);
          case "anyOf" -> n.anyOf = list(v);
          case "$ref" -> n.ref = ref(v);
          default -> throw new Unsupported();
        }
      }
      return n;
    }

    private void properties(Node n, JsonNode v) {
      if (!v.isObject()) {
        throw new Unsupported();
      }
      Map<String, Node> map = new HashMap<>();
      List<String> names = new ArrayList<>();
      List<Node> schemas = new ArrayList<>();
      Iterator<Map.Entry<String, JsonNode>> it = v.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        Node p = compile(e.getValue());
        map.put(e.getKey(), p);
        names.add(e.getKey());
        schemas.add(p);
      }
      n.properties = map;
      n.propertyNames = names.toArray(new String[0]);
      n.propertySchemas = schemas.toArray(new Node[0]);
    }

    private Ref ref(JsonNode v) {
      if (!v.isTextual() || !v.textValue().startsWith("#/")) {
        throw new Unsupported(); // another document: the reference resolves it
      }
      String pointer = v.textValue().substring(1);
      Ref r = refs.get(pointer);
      if (r == null) {
        Ref created = new Ref();
        refs.put(pointer, created);
        JsonNode target = document.at(pointer);
        if (target.isMissingNode()) {
          throw new Unsupported();
        }
        pending.add(() -> created.target = compile(target));
        r = created;
      }
      return r;
    }

    private Node[] list(JsonNode v) {
      if (!v.isArray() || v.isEmpty()) {
        throw new Unsupported();
      }
      Node[] out = new Node[v.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = compile(v.get(i));
      }
      return out;
    }

    private static int types(JsonNode v) {
      if (v.isTextual()) {
        return type(v.textValue());
      }
      if (!v.isArray() || v.isEmpty()) {
        throw new Unsupported();
      }
      int t = 0;
      for (JsonNode x : v) {
        if (!x.isTextual()) {
          throw new Unsupported();
        }
        t |= type(x.textValue());
      }
      return t;
    }

    private static int type(String name) {
      return switch (name) {
        case "null" -> NULL;
        case "boolean" -> BOOLEAN;
        case "object" -> OBJECT;
        case "array" -> ARRAY;
        case "string" -> STRING;
        case "number" -> NUMBER | INTEGER;
        case "integer" -> INTEGER;
        default -> throw new Unsupported();
      };
    }

    private static String[] strings(JsonNode v) {
      if (!v.isArray()) {
        throw new Unsupported();
      }
      String[] out = new String[v.size()];
      for (int i = 0; i < out.length; i++) {
        if (!v.get(i).isTextual()) {
          throw new Unsupported();
        }
        out[i] = v.get(i).textValue();
      }
      return out;
    }

    private static int count(JsonNode v) {
      if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0) {
        throw new Unsupported();
      }
      return v.intValue();
    }

    private static Bound bound(JsonNode v, boolean exclusive, @Nullable Bound already) {
      if (!v.isNumber() || already != null) {
        // Two lower (or upper) bounds at once: rare enough to leave to the reference.
        throw new Unsupported();
      }
      double d = v.doubleValue();
      boolean exact = v.isIntegralNumber() && Math.abs(d) <= EXACT_LIMIT;
      return new Bound(d, exclusive, exact);
    }
  }

  /** The formats checked here, strictly: anything unusual is "not sure". */
  static final class Formats {
    private Formats() {}

    /** 8-4-4-4-12 hexadecimal digits. */
    static boolean isUuid(String s) {
      if (s.length() != 36) {
        return false;
      }
      for (int i = 0; i < 36; i++) {
        char c = s.charAt(i);
        if (i == 8 || i == 13 || i == 18 || i == 23) {
          if (c != '-') {
            return false;
          }
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
          return false;
        }
      }
      return true;
    }

    /**
     * RFC 3339 {@code date-time} in the shapes the codec's own fast parser reads: upper-case {@code
     * T} and {@code Z}, 1–9 fraction digits, seconds 00–59 (a leap second is "not sure").
     */
    static boolean isDateTime(String s) {
      return s.length() > 19 && Rfc3339.parse(s, false) != null;
    }
  }
}
