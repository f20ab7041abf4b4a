package dev.bloodbank.evolution;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.bloodbank.BloodbankException;
import dev.bloodbank.evolution.Incompatibility.Direction;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * One direction of one check: is every instance the writer's schema accepts accepted by the
 * reader's? BACKWARD has the previous schema as writer and the candidate as reader, FORWARD the
 * reverse. Each rule has two names, one for each role the candidate plays, so that names always
 * describe the change from previous to candidate ({@code minimum-raised}, {@code minimum-lowered}).
 * Not thread-safe; one per check.
 */
final class Checker {
  private static final int NULL = 1;
  private static final int BOOLEAN = 2;
  private static final int OBJECT = 4;
  private static final int ARRAY = 8;
  private static final int STRING = 16;
  private static final int NUMBER = 32; // numbers that are not integers
  private static final int INTEGER = 64;
  private static final int ALL = 127;
  private static final String[] TYPE_NAMES = {
    "null", "boolean", "object", "array", "string", "number", "integer"
  };

  /** Keywords whose changes are analysed. */
  private static final Set<String> SUPPORTED =
      Set.of(
          "type",
          "enum",
          "const",
          "properties",
          "required",
          "additionalProperties",
          "minProperties",
          "maxProperties",
          "minLength",
          "maxLength",
          "minimum",
          "maximum",
          "exclusiveMinimum",
          "exclusiveMaximum",
          "format",
          "items",
          "prefixItems",
          "minItems",
          "maxItems",
          "uniqueItems");

  /**
   * Keywords that only add a constraint of their own, by group. In the writer they can be ignored
   * (the writer then accepts more, so a "compatible" answer stays true); in the reader they must be
   * equal to the writer's, or the change is not analysed.
   */
  private static final Map<String, List<String>> CONJUNCTIVE = new HashMap<>();

  static {
    for (String k :
        List.of(
            "pattern",
            "not",
            "allOf",
            "anyOf",
            "oneOf",
            "dependentRequired",
            "dependentSchemas",
            "dependencies",
            "propertyNames",
            "multipleOf")) {
      CONJUNCTIVE.put(k, List.of(k));
    }
    List<String> conditional = List.of("if", "then", "else");
    conditional.forEach(k -> CONJUNCTIVE.put(k, conditional));
    List<String> contains = List.of("contains", "minContains", "maxContains");
    contains.forEach(k -> CONJUNCTIVE.put(k, contains));
  }

  /**
   * Keywords that change what the supported ones mean (which properties {@code
   * additionalProperties} covers, what {@code $ref} points at): any change where one is present is
   * not analysed.
   */
  private static final Set<String> INTERACTING =
      Set.of(
          "patternProperties",
          "unevaluatedProperties",
          "unevaluatedItems",
          "additionalItems",
          "$dynamicRef",
          "$recursiveRef",
          "$anchor",
          "$dynamicAnchor",
          "$recursiveAnchor");

  /** Keywords through which an object may declare more properties than its {@code properties}. */
  private static final Set<String> RECORD_BREAKERS =
      Set.of(
          "allOf",
          "anyOf",
          "oneOf",
          "if",
          "then",
          "else",
          "dependentSchemas",
          "dependencies",
          "patternProperties",
          "unevaluatedProperties");

  /** Thrown where the checker cannot reason; becomes an {@code unsupported-change}. */
  private static final class Unsupported extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unsupported(String message) {
      super(message, null, false, false);
    }
  }

  /** A schema document: its base URI and whether it is one of the two compared. */
  private record Doc(URI uri, JsonNode root, boolean main) {}

  /** A subschema in its document, with its location (a JSON pointer into the document). */
  private record S(JsonNode node, Doc doc, String location) {}

  /** A pair of subschemas by identity, for following recursive {@code $ref}s once. */
  private record Pair(JsonNode a, JsonNode b) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Pair p && p.a == a && p.b == b;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(a) * 31 + System.identityHashCode(b);
    }
  }

  private final SchemaResolver resolver;
  private final URI baseUri;
  private final boolean writersSendOnlyDeclared;
  private final Direction direction;
  private final int previousIndex;
  private final List<Incompatibility> out;
  private final Map<URI, Doc> external = new HashMap<>();
  private final Set<Pair> comparing = new HashSet<>();
  private final Set<Pair> equating = new HashSet<>();

  Checker(
      SchemaResolver resolver,
      URI baseUri,
      UndeclaredProperties undeclaredProperties,
      Direction direction,
      int previousIndex,
      List<Incompatibility> out) {
    this.resolver = resolver;
    this.baseUri = baseUri;
    this.writersSendOnlyDeclared = undeclaredProperties == UndeclaredProperties.ABSENT;
    this.direction = direction;
    this.previousIndex = previousIndex;
    this.out = out;
  }

  void run(JsonNode previous, JsonNode candidate) {
    S old = new S(previous, mainDoc(previous), "");
    S now = new S(candidate, mainDoc(candidate), "");
    if (old.doc().uri().equals(now.doc().uri()) && same(previous, candidate)) {
      return; // the same document: compatible without resolving what it refers to
    }
    if (direction == Direction.BACKWARD) {
      subset(old, now, "");
    } else {
      subset(now, old, "");
    }
  }

  private Doc mainDoc(JsonNode root) {
    return new Doc(base(root, baseUri), root, true);
  }

  private static URI base(JsonNode root, URI fallback) {
    JsonNode id = root.path("$id");
    if (!id.isTextual()) {
      return fallback;
    }
    try {
      return withoutFragment(fallback.resolve(new URI(id.textValue())));
    } catch (URISyntaxException e) {
      throw new BloodbankException("$id '" + id.textValue() + "' is not a URI", e);
    }
  }

  private static URI withoutFragment(URI u) {
    try {
      return new URI(u.getScheme(), u.getSchemeSpecificPart(), null);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---- the subset relation -----------------------------------------------------------------

  /** Reports every reason why some instance accepted by {@code w} is rejected by {@code r}. */
  private void subset(S w, S r, String ptr) {
    try {
      w = resolve(w);
      r = resolve(r);
      if (isTrue(r) || isFalse(w) || equivalent(w, r)) {
        return;
      }
      Pair p = new Pair(w.node(), r.node());
      if (!comparing.add(p)) {
        return; // a recursive $ref: assume what is being proved, as for a coinductive relation
      }
      try {
        compare(w, r, ptr);
      } finally {
        comparing.remove(p);
      }
    } catch (Unsupported e) {
      report("unsupported-change", "unsupported-change", ptr, w, r, e.getMessage());
    }
  }

  private void compare(S w, S r, String ptr) {
    if (isFalse(r)) {
      report("type-narrowed", "type-widened", ptr, w, r, change("any", "nothing (false)"));
      return;
    }
    JsonNode wn = w.node().isObject() ? w.node() : JsonNodeFactory.instance.objectNode();
    JsonNode rn = r.node();
    for (String k : INTERACTING) {
      if (wn.has(k) || rn.has(k)) {
        throw new Unsupported(k + " is not analysed, and the subschema changed");
      }
    }
    for (S s : List.of(w, r)) {
      if (!s.location().isEmpty() && s.node().has("$id")) {
        throw new Unsupported("$id inside a schema is not analysed, and the subschema changed");
      }
    }
    if (wn.path("items").isArray() || rn.path("items").isArray()) {
      throw new Unsupported("array-form items is not analysed, and the subschema changed");
    }
    conjunctive(w, r, ptr);

    int tw = types(wn);
    int tr = types(rn);
    List<JsonNode> finite = finiteValues(wn, tw);
    if (finite != null) {
      finiteWriter(w, r, finite, ptr);
      return;
    }
    int missing = tw & ~tr;
    if (missing != 0) {
      // Neither type set contains the other: a change, not a widening or narrowing.
      boolean changed = (tr & ~tw) != 0;
      report(
          changed ? "type-changed" : "type-narrowed",
          changed ? "type-changed" : "type-widened",
          ptr,
          w,
          r,
          change(typeText(tw), typeText(tr)));
    }
    if (rn.has("const") || rn.has("enum")) {
      boolean isConst = rn.has("const");
      String what = isConst ? "const " + rn.get("const") : "enum " + rn.get("enum");
      report(
          isConst ? "const-added" : "enum-added",
          isConst ? "const-removed" : "enum-removed",
          ptr,
          w,
          r,
          change("any " + typeText(tw), what));
      return;
    }
    int common = tw & tr;
    if ((common & (NUMBER | INTEGER)) != 0) {
      numbers(w, r, ptr, (common & NUMBER) == 0);
    }
    if ((common & STRING) != 0) {
      strings(w, r, ptr);
    }
    if ((common & OBJECT) != 0) {
      objects(w, r, ptr);
    }
    if ((common & ARRAY) != 0) {
      arrays(w, r, ptr);
    }
  }

  /** The reader's conjunctive keywords must be equal to the writer's. */
  private void conjunctive(S w, S r, String ptr) {
    Set<List<String>> groups = new LinkedHashSet<>();
    r.node()
        .fieldNames()
        .forEachRemaining(
            k -> {
              List<String> g = CONJUNCTIVE.get(k);
              if (g != null) {
                groups.add(g);
              }
            });
    if (isRefWithSiblings(r.node())) {
      groups.add(List.of("$ref"));
    }
    for (List<String> g : groups) {
      boolean same = true;
      for (String k : g) {
        JsonNode a = w.node().get(k);
        JsonNode b = r.node().get(k);
        if (a == null || b == null) {
          same &= a == b;
        } else if (k.equals("$ref")) {
          same &= isRefWithSiblings(w.node()) && equivalent(lookup(w, a), lookup(r, b));
        } else {
          same &= equivalentValue(k, child(w, k), child(r, k));
        }
      }
      if (!same) {
        String k = g.get(0);
        for (String m : g) {
          if (!same(w.node().get(m), r.node().get(m))) {
            k = m;
            break;
          }
        }
        JsonNode a = w.node().get(k);
        JsonNode b = r.node().get(k);
        report(
            "unsupported-change",
            "unsupported-change",
            ptr,
            w,
            r,
            k
                + " is not analysed: "
                + change(a == null ? "none" : clip(a), b == null ? "none" : clip(b)));
      }
    }
  }

  /** A writer accepting finitely many values: each must be accepted by the reader. */
  private void finiteWriter(S w, S r, List<JsonNode> values, String ptr) {
    int tr = types(r.node());
    boolean bothConst = w.node().has("const") && r.node().has("const");
    Set<String> typeReported = new HashSet<>();
    for (JsonNode v : values) {
      if (bothConst && !same(v, r.node().get("const"))) {
        report(
            "const-changed",
            "const-changed",
            ptr,
            w,
            r,
            change("const " + v, "const " + r.node().get("const")));
      } else if ((typeOf(v) & tr) == 0) {
        if (typeReported.add(TYPE_NAMES[Integer.numberOfTrailingZeros(typeOf(v))])) {
          report(
              "type-narrowed",
              "type-widened",
              ptr,
              w,
              r,
              change(typeText(types(w.node())), typeText(tr)));
        }
      } else if (!accepts(r, v, w.node())) {
        report(
            "enum-value-removed",
            "enum-value-added",
            ptr,
            w,
            r,
            direction == Direction.BACKWARD
                ? "value " + v + " was allowed and no longer is"
                : "value " + v + " is newly allowed, and the old schema rejects it");
      }
    }
  }

  private void numbers(S w, S r, String ptr, boolean integersOnly) {
    Bound wl = lower(w.node(), integersOnly);
    Bound rl = lower(r.node(), integersOnly);
    if (rl != null && (wl == null || !lowerWithin(wl, rl))) {
      report("minimum-raised", "minimum-lowered", ptr, w, r, change(text(wl), text(rl)));
    }
    Bound wu = upper(w.node(), integersOnly);
    Bound ru = upper(r.node(), integersOnly);
    if (ru != null && (wu == null || !upperWithin(wu, ru))) {
      report("maximum-lowered", "maximum-raised", ptr, w, r, change(text(wu), text(ru)));
    }
  }

  private void strings(S w, S r, String ptr) {
    counts(w, r, ptr, "minLength", "maxLength", "min-length", "max-length");
    JsonNode rf = r.node().get("format");
    if (rf != null) {
      JsonNode wf = w.node().get("format");
      if (wf == null) {
        report("format-added", "format-removed", ptr, w, r, change("no format", "format " + rf));
      } else if (!same(wf, rf)) {
        report(
            "format-changed", "format-changed", ptr, w, r, change("format " + wf, "format " + rf));
      }
    }
  }

  private void objects(S w, S r, String ptr) {
    Set<String> wreq = strings(w.node().get("required"));
    for (String n : strings(r.node().get("required"))) {
      if (!wreq.contains(n)) {
        report(
            "required-added",
            "required-removed",
            ptr + "/" + escape(n),
            w,
            r,
            direction == Direction.BACKWARD
                ? "'" + n + "' is now required"
                : "'" + n + "' is no longer required");
      }
    }
    JsonNode wp = w.node().path("properties");
    JsonNode rp = r.node().path("properties");
    S wadd = child(w, "additionalProperties");
    S radd = child(r, "additionalProperties");
    if (writersSendOnlyDeclared && isRecord(w)) {
      // The writer never sends a name it does not declare: judge its object as closed. Only the
      // writer's side changes; readers validate with their real schema.
      wadd = new S(BooleanNode.FALSE, wadd.doc(), wadd.location());
    }
    Set<String> names = new TreeSet<>();
    wp.fieldNames().forEachRemaining(names::add);
    rp.fieldNames().forEachRemaining(names::add);
    for (String n : names) {
      boolean inW = wp.has(n);
      boolean inR = rp.has(n);
      S wn = inW ? child(child(w, "properties"), n) : wadd;
      S rn = inR ? child(child(r, "properties"), n) : radd;
      String at = ptr + "/" + escape(n);
      if (isFalse(resolve(wn))) {
        continue;
      }
      if (inW && !inR && isFalse(resolve(radd))) {
        report(
            "property-removed-closed",
            "property-added-closed",
            at,
            w,
            r,
            direction == Direction.BACKWARD
                ? "'"
                    + n
                    + "' was declared and the object is now closed (additionalProperties"
                    + " false) without it"
                : "'"
                    + n
                    + "' is new, and the old closed object (additionalProperties false)"
                    + " rejects it");
      } else if (!inW && inR && isTrue(resolve(wadd)) && !isTrue(resolve(rn))) {
        report(
            "property-added-open",
            "property-removed-open",
            at,
            w,
            r,
            direction == Direction.BACKWARD
                ? "'"
                    + n
                    + "' is new and constrained, but the old open object accepted any value"
                    + " under that name"
                : "'"
                    + n
                    + "' is no longer declared, so the new open object accepts any value under"
                    + " that name, and the old schema constrains it");
      } else {
        subset(wn, rn, at);
      }
    }
    if (!isFalse(resolve(wadd))) {
      if (isFalse(resolve(radd))) {
        report(
            "additional-properties-closed",
            "additional-properties-opened",
            ptr,
            w,
            r,
            change("additionalProperties " + describe(wadd.node()), "additionalProperties false"));
      } else {
        subset(wadd, radd, ptr + "/*");
      }
    }
    counts(w, r, ptr, "minProperties", "maxProperties", "min-properties", "max-properties");
  }

  /**
   * An open object that declares its properties in {@code properties} only: under {@link
   * UndeclaredProperties#ABSENT} its writers send no other names. A free-form map (no {@code
   * properties}), a map with typed values ({@code additionalProperties} a schema) and an object
   * that may declare more through subschemas or {@code required} keep their undeclared names.
   */
  private boolean isRecord(S w) {
    JsonNode n = w.node();
    if (!n.has("properties") || !isTrue(resolve(child(w, "additionalProperties")))) {
      return false;
    }
    for (String k : RECORD_BREAKERS) {
      if (n.has(k)) {
        return false;
      }
    }
    for (String required : strings(n.get("required"))) {
      if (!n.get("properties").has(required)) {
        return false; // writers must send it, with whatever value additionalProperties allows
      }
    }
    return !isRefWithSiblings(n);
  }

  private void arrays(S w, S r, String ptr) {
    int wn = w.node().path("prefixItems").size();
    int rn = r.node().path("prefixItems").size();
    S witems = child(w, "items");
    S ritems = child(r, "items");
    boolean reachable = true;
    for (int i = 0; i < Math.max(wn, rn); i++) {
      S wi = i < wn ? child(child(w, "prefixItems"), i) : witems;
      S ri = i < rn ? child(child(r, "prefixItems"), i) : ritems;
      if (isFalse(resolve(wi))) {
        reachable = false;
        break;
      }
      subset(wi, ri, ptr + "/" + i);
    }
    if (reachable && !isFalse(resolve(witems))) {
      if (isFalse(resolve(ritems))) {
        report(
            "items-closed",
            "items-opened",
            ptr,
            w,
            r,
            change(
                "items " + describe(witems.node()) + " after " + wn + " prefix items",
                "no items after " + rn + " prefix items"));
      } else {
        subset(witems, ritems, ptr + "/*");
      }
    }
    counts(w, r, ptr, "minItems", "maxItems", "min-items", "max-items");
    if (r.node().path("uniqueItems").asBoolean(false)
        && !w.node().path("uniqueItems").asBoolean(false)) {
      report(
          "unique-items-added",
          "unique-items-removed",
          ptr,
          w,
          r,
          change("uniqueItems false", "uniqueItems true"));
    }
  }

  /** A lower count bound ({@code minLength}) and an upper one ({@code maxLength}). */
  private void counts(S w, S r, String ptr, String minKey, String maxKey, String min, String max) {
    BigDecimal wmin = count(w.node(), minKey);
    BigDecimal rmin = count(r.node(), minKey);
    if (rmin != null && rmin.compareTo(wmin == null ? BigDecimal.ZERO : wmin) > 0) {
      report(
          min + "-raised",
          min + "-lowered",
          ptr,
          w,
          r,
          change(minKey + " " + plain(wmin, "0"), minKey + " " + plain(rmin, "0")));
    }
    BigDecimal wmax = count(w.node(), maxKey);
    BigDecimal rmax = count(r.node(), maxKey);
    if (rmax != null && (wmax == null || rmax.compareTo(wmax) < 0)) {
      report(
          max + "-lowered",
          max + "-raised",
          ptr,
          w,
          r,
          change(maxKey + " " + plain(wmax, "none"), maxKey + " " + plain(rmax, "none")));
    }
  }

  // ---- values of a finite writer -----------------------------------------------------------

  /**
   * The values a writer accepts when there are finitely many ({@code const}, {@code enum}, or only
   * null and boolean types); null when there are more.
   */
  private static @Nullable List<JsonNode> finiteValues(JsonNode w, int tw) {
    List<JsonNode> values = new ArrayList<>();
    if (w.has("const")) {
      values.add(w.get("const"));
      if (w.has("enum") && !containsSame(w.get("enum"), w.get("const"))) {
        values.clear();
      }
    } else if (w.has("enum")) {
      w.get("enum").forEach(values::add);
    } else if ((tw & ~(NULL | BOOLEAN)) == 0) {
      if ((tw & NULL) != 0) {
        values.add(JsonNodeFactory.instance.nullNode());
      }
      if ((tw & BOOLEAN) != 0) {
        values.add(BooleanNode.TRUE);
        values.add(BooleanNode.FALSE);
      }
    } else {
      return null;
    }
    values.removeIf(v -> (typeOf(v) & tw) == 0);
    return values;
  }

  /**
   * Whether the reader accepts a value. {@code writer} is the writer's schema at the top, whose
   * equal conjunctive keywords and format the value already satisfies; null below.
   */
  private boolean accepts(S r, JsonNode v, @Nullable JsonNode writer) {
    r = resolve(r);
    if (r.node().isBoolean()) {
      return r.node().booleanValue();
    }
    JsonNode rn = r.node();
    Iterator<String> keys = rn.fieldNames();
    while (keys.hasNext()) {
      String k = keys.next();
      if (INTERACTING.contains(k) || (writer == null && CONJUNCTIVE.containsKey(k))) {
        throw new Unsupported(k + " is not analysed against the allowed values");
      }
    }
    if (writer == null && isRefWithSiblings(rn)) {
      throw new Unsupported("$ref beside other keywords is not analysed against allowed values");
    }
    if ((typeOf(v) & types(rn)) == 0) {
      return false;
    }
    if (rn.has("const") && !same(rn.get("const"), v)) {
      return false;
    }
    if (rn.has("enum") && !containsSame(rn.get("enum"), v)) {
      return false;
    }
    if (v.isNumber()) {
      BigDecimal d = v.decimalValue();
      Bound lo = lower(rn, false);
      Bound hi = upper(rn, false);
      if (lo != null
          && (d.compareTo(lo.value) < 0 || (lo.exclusive && d.compareTo(lo.value) == 0))) {
        return false;
      }
      if (hi != null
          && (d.compareTo(hi.value) > 0 || (hi.exclusive && d.compareTo(hi.value) == 0))) {
        return false;
      }
    } else if (v.isTextual()) {
      int length = v.textValue().codePointCount(0, v.textValue().length());
      if (!withinCounts(rn, "minLength", "maxLength", length)) {
        return false;
      }
      if (rn.has("format") && (writer == null || !same(writer.get("format"), rn.get("format")))) {
        throw new Unsupported("format " + rn.get("format") + " is not checked on allowed values");
      }
    } else if (v.isObject()) {
      if (!withinCounts(rn, "minProperties", "maxProperties", v.size())) {
        return false;
      }
      for (String n : strings(rn.get("required"))) {
        if (!v.has(n)) {
          return false;
        }
      }
      Iterator<Map.Entry<String, JsonNode>> fields = v.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> f = fields.next();
        S s =
            rn.path("properties").has(f.getKey())
                ? child(child(r, "properties"), f.getKey())
                : child(r, "additionalProperties");
        if (!accepts(s, f.getValue(), null)) {
          return false;
        }
      }
    } else if (v.isArray()) {
      if (!withinCounts(rn, "minItems", "maxItems", v.size())) {
        return false;
      }
      int prefix = rn.path("prefixItems").size();
      for (int i = 0; i < v.size(); i++) {
        S s = i < prefix ? child(child(r, "prefixItems"), i) : child(r, "items");
        if (!accepts(s, v.get(i), null)) {
          return false;
        }
      }
      if (rn.path("uniqueItems").asBoolean(false)) {
        for (int i = 0; i < v.size(); i++) {
          for (int j = i + 1; j < v.size(); j++) {
            if (same(v.get(i), v.get(j))) {
              return false;
            }
          }
        }
      }
    }
    return true;
  }

  private static boolean withinCounts(JsonNode s, String minKey, String maxKey, int n) {
    BigDecimal min = count(s, minKey);
    BigDecimal max = count(s, maxKey);
    BigDecimal v = BigDecimal.valueOf(n);
    return (min == null || v.compareTo(min) >= 0) && (max == null || v.compareTo(max) <= 0);
  }

  // ---- equivalence -------------------------------------------------------------------------

  /** Whether two subschemas accept the same instances because they say the same thing. */
  private boolean equivalent(S a, S b) {
    a = resolve(a);
    b = resolve(b);
    if (isTrue(a) || isTrue(b)) {
      return isTrue(a) && isTrue(b);
    }
    if (a.node().isBoolean() || b.node().isBoolean()) {
      return a.node().isBoolean() && b.node().isBoolean();
    }
    Pair p = new Pair(a.node(), b.node());
    if (!equating.add(p)) {
      return true;
    }
    try {
      Set<String> ka = validationKeywords(a.node());
      if (!ka.equals(validationKeywords(b.node()))) {
        return false;
      }
      for (String k : ka) {
        if (k.equals("$ref")) {
          if (!equivalent(lookup(a, a.node().get(k)), lookup(b, b.node().get(k)))) {
            return false;
          }
        } else if (!equivalentValue(k, child(a, k), child(b, k))) {
          return false;
        }
      }
      return true;
    } finally {
      equating.remove(p);
    }
  }

  /** Compares the values of one keyword in two subschemas, by what the keyword holds. */
  private boolean equivalentValue(String k, S a, S b) {
    JsonNode x = a.node();
    JsonNode y = b.node();
    switch (k) {
      case "additionalProperties",
          "items",
          "not",
          "if",
          "then",
          "else",
          "contains",
          "propertyNames",
          "unevaluatedProperties",
          "unevaluatedItems",
          "additionalItems" -> {
        if (x.isArray() || y.isArray()) {
          return x.isArray() && y.isArray() && equivalentList(a, b);
        }
        return equivalent(a, b);
      }
      case "properties", "patternProperties", "dependentSchemas", "dependencies" -> {
        if (!x.isObject() || !y.isObject()) {
          return same(x, y);
        }
        Set<String> names = new HashSet<>();
        x.fieldNames().forEachRemaining(names::add);
        Set<String> other = new HashSet<>();
        y.fieldNames().forEachRemaining(other::add);
        if (!names.equals(other)) {
          return false;
        }
        for (String n : names) {
          if (x.get(n).isArray() || y.get(n).isArray()) {
            if (!same(x.get(n), y.get(n))) {
              return false;
            }
          } else if (!equivalent(child(a, n), child(b, n))) {
            return false;
          }
        }
        return true;
      }
      case "allOf", "anyOf", "oneOf", "prefixItems" -> {
        return x.isArray() && y.isArray() && equivalentList(a, b);
      }
      case "type", "required", "enum" -> {
        return sameAsSets(x, y);
      }
      default -> {
        return same(x, y);
      }
    }
  }

  private boolean equivalentList(S a, S b) {
    if (a.node().size() != b.node().size()) {
      return false;
    }
    for (int i = 0; i < a.node().size(); i++) {
      if (!equivalent(child(a, i), child(b, i))) {
        return false;
      }
    }
    return true;
  }

  private static Set<String> validationKeywords(JsonNode s) {
    Set<String> out = new HashSet<>();
    s.fieldNames()
        .forEachRemaining(
            k -> {
              if (isValidationKeyword(k)) {
                out.add(k);
              }
            });
    if (s.has("$ref") && !out.isEmpty()) {
      out.add("$ref");
    }
    if (s.has("$id")) {
      out.add("$id");
    }
    return out;
  }

  /** Unknown keywords are annotations in draft 2020-12, and so are the catalog's own. */
  private static boolean isValidationKeyword(String k) {
    return SUPPORTED.contains(k) || CONJUNCTIVE.containsKey(k) || INTERACTING.contains(k);
  }

  // ---- references --------------------------------------------------------------------------

  /** Follows {@code $ref}s that stand alone (beside annotations only). */
  private S resolve(S s) {
    for (int hops = 0; isPureRef(s.node()); hops++) {
      if (hops > 64) {
        throw new BloodbankException(
            "$ref at " + where(s) + " leads to itself through other $refs only");
      }
      s = lookup(s, s.node().get("$ref"));
    }
    return s;
  }

  private static boolean isPureRef(JsonNode n) {
    if (!n.isObject() || !n.path("$ref").isTextual()) {
      return false;
    }
    Iterator<String> keys = n.fieldNames();
    while (keys.hasNext()) {
      if (isValidationKeyword(keys.next())) {
        return false;
      }
    }
    return true;
  }

  private static boolean isRefWithSiblings(JsonNode n) {
    return n.isObject() && n.has("$ref") && !isPureRef(n);
  }

  private S lookup(S from, JsonNode ref) {
    if (!ref.isTextual()) {
      throw new BloodbankException("$ref at " + where(from) + " is not a string: " + ref);
    }
    URI target;
    try {
      target = from.doc().uri().resolve(new URI(ref.textValue()));
    } catch (URISyntaxException | IllegalArgumentException e) {
      throw new BloodbankException(
          "$ref '" + ref.textValue() + "' at " + where(from) + " is not a URI reference", e);
    }
    URI docUri = withoutFragment(target);
    Doc doc;
    if (docUri.equals(from.doc().uri())) {
      doc = from.doc();
    } else {
      doc = external.get(docUri);
      if (doc == null) {
        JsonNode root = resolver.resolve(docUri);
        doc = new Doc(base(root, docUri), root, false);
        external.put(docUri, doc);
      }
    }
    String fragment = target.getFragment();
    if (fragment == null || fragment.isEmpty()) {
      return new S(doc.root(), doc, "");
    }
    if (!fragment.startsWith("/")) {
      throw new Unsupported("$ref to the anchor '" + ref.textValue() + "' is not analysed");
    }
    JsonNode node = doc.root().at(fragment);
    if (node.isMissingNode()) {
      throw new BloodbankException(
          "$ref '" + ref.textValue() + "' at " + where(from) + " points at nothing");
    }
    return new S(node, doc, fragment);
  }

  private static String where(S s) {
    String loc = s.location().isEmpty() ? "/" : s.location();
    return s.doc().main() ? loc : s.doc().uri() + "#" + s.location();
  }

  private static S child(S s, String key) {
    JsonNode n = s.node().get(key);
    String loc = s.location() + "/" + escape(key);
    return new S(n == null ? BooleanNode.TRUE : n, s.doc(), loc);
  }

  private static S child(S s, int index) {
    JsonNode n = s.node().get(index);
    return new S(n == null ? BooleanNode.TRUE : n, s.doc(), s.location() + "/" + index);
  }

  // ---- small helpers -----------------------------------------------------------------------

  private void report(
      String ruleIfCandidateReads,
      String ruleIfPreviousReads,
      String ptr,
      S w,
      S r,
      String message) {
    boolean backward = direction == Direction.BACKWARD;
    S candidateSide = backward ? r : w;
    out.add(
        new Incompatibility(
            direction,
            backward ? ruleIfCandidateReads : ruleIfPreviousReads,
            ptr,
            where(candidateSide),
            message,
            previousIndex));
  }

  /** "old -> new", whichever of writer and reader is the old schema. */
  private String change(String writerText, String readerText) {
    return direction == Direction.BACKWARD
        ? writerText + " -> " + readerText
        : readerText + " -> " + writerText;
  }

  private static boolean isTrue(S s) {
    JsonNode n = s.node();
    if (n.isBoolean()) {
      return n.booleanValue();
    }
    return n.isObject() && validationKeywords(n).isEmpty() && !n.has("$ref");
  }

  private static boolean isFalse(S s) {
    return s.node().isBoolean() && !s.node().booleanValue();
  }

  private static int types(JsonNode s) {
    JsonNode t = s.get("type");
    if (t == null) {
      return ALL;
    }
    if (t.isTextual()) {
      return type(t.textValue());
    }
    int bits = 0;
    for (JsonNode x : t) {
      bits |= type(x.asText());
    }
    return bits;
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
      default -> throw new Unsupported("unknown type '" + name + "'");
    };
  }

  private static int typeOf(JsonNode v) {
    if (v.isNumber()) {
      BigDecimal d = v.decimalValue();
      return d.signum() == 0 || d.stripTrailingZeros().scale() <= 0 ? INTEGER : NUMBER;
    }
    return switch (v.getNodeType()) {
      case NULL -> NULL;
      case BOOLEAN -> BOOLEAN;
      case OBJECT -> OBJECT;
      case ARRAY -> ARRAY;
      case STRING -> STRING;
      default -> 0;
    };
  }

  private static String typeText(int bits) {
    if (bits == ALL) {
      return "any type";
    }
    List<String> names = new ArrayList<>();
    for (int i = 0; i < TYPE_NAMES.length; i++) {
      int bit = 1 << i;
      if ((bits & bit) == 0 || (bit == INTEGER && (bits & NUMBER) != 0)) {
        continue;
      }
      names.add(TYPE_NAMES[i]);
    }
    return names.size() == 1 ? names.get(0) : names.toString();
  }

  /** JSON equality as JSON Schema sees it: numbers by value ({@code 1} equals {@code 1.0}). */
  static boolean same(@Nullable JsonNode a, @Nullable JsonNode b) {
    if (a == null || b == null) {
      return a == b;
    }
    if (a.isNumber() && b.isNumber()) {
      return a.decimalValue().compareTo(b.decimalValue()) == 0;
    }
    if (a.getNodeType() != b.getNodeType() || a.size() != b.size()) {
      return false;
    }
    if (a.isArray()) {
      for (int i = 0; i < a.size(); i++) {
        if (!same(a.get(i), b.get(i))) {
          return false;
        }
      }
      return true;
    }
    if (a.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> it = a.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!same(e.getValue(), b.get(e.getKey()))) {
          return false;
        }
      }
      return true;
    }
    return a.equals(b);
  }

  private static boolean containsSame(JsonNode array, JsonNode v) {
    for (JsonNode x : array) {
      if (same(x, v)) {
        return true;
      }
    }
    return false;
  }

  private static boolean sameAsSets(JsonNode a, JsonNode b) {
    if (!a.isArray() || !b.isArray()) {
      return same(a, b);
    }
    for (JsonNode x : a) {
      if (!containsSame(b, x)) {
        return false;
      }
    }
    for (JsonNode x : b) {
      if (!containsSame(a, x)) {
        return false;
      }
    }
    return true;
  }

  private static Set<String> strings(@Nullable JsonNode array) {
    Set<String> out = new TreeSet<>();
    if (array != null) {
      array.forEach(x -> out.add(x.asText()));
    }
    return out;
  }

  private static @Nullable BigDecimal count(JsonNode s, String key) {
    JsonNode v = s.get(key);
    return v != null && v.isNumber() ? v.decimalValue() : null;
  }

  private static String plain(@Nullable BigDecimal d, String none) {
    return d == null ? none : d.stripTrailingZeros().toPlainString();
  }

  /** A numeric bound; {@code keyword} names it in messages. */
  private record Bound(BigDecimal value, boolean exclusive, String keyword) {}

  private static @Nullable Bound lower(JsonNode s, boolean integersOnly) {
    Bound b = tighter(bound(s, "minimum", false), bound(s, "exclusiveMinimum", true), 1);
    if (b == null || !integersOnly) {
      return b;
    }
    // For integers, > 0.5 and >= 1 are the same bound: compare the smallest integer allowed.
    BigDecimal v =
        b.exclusive
            ? b.value.setScale(0, RoundingMode.FLOOR).add(BigDecimal.ONE)
            : b.value.setScale(0, RoundingMode.CEILING);
    return new Bound(v, false, b.exclusive ? "minimum (of integers)" : b.keyword);
  }

  private static @Nullable Bound upper(JsonNode s, boolean integersOnly) {
    Bound b = tighter(bound(s, "maximum", false), bound(s, "exclusiveMaximum", true), -1);
    if (b == null || !integersOnly) {
      return b;
    }
    BigDecimal v =
        b.exclusive
            ? b.value.setScale(0, RoundingMode.CEILING).subtract(BigDecimal.ONE)
            : b.value.setScale(0, RoundingMode.FLOOR);
    return new Bound(v, false, b.exclusive ? "maximum (of integers)" : b.keyword);
  }

  private static @Nullable Bound bound(JsonNode s, String key, boolean exclusive) {
    JsonNode v = s.get(key);
    return v != null && v.isNumber() ? new Bound(v.decimalValue(), exclusive, key) : null;
  }

  /** Of an inclusive and an exclusive bound, the one that allows less; sign 1 for lower bounds. */
  private static @Nullable Bound tighter(
      @Nullable Bound inclusive, @Nullable Bound exclusive, int sign) {
    if (inclusive == null || exclusive == null) {
      return inclusive == null ? exclusive : inclusive;
    }
    return exclusive.value.compareTo(inclusive.value) * sign >= 0 ? exclusive : inclusive;
  }

  /** Whether every number above writer bound {@code w} is above reader bound {@code r}. */
  private static boolean lowerWithin(Bound w, Bound r) {
    int c = w.value.compareTo(r.value);
    return c > 0 || (c == 0 && (w.exclusive || !r.exclusive));
  }

  private static boolean upperWithin(Bound w, Bound r) {
    int c = w.value.compareTo(r.value);
    return c < 0 || (c == 0 && (w.exclusive || !r.exclusive));
  }

  private static String text(@Nullable Bound b) {
    return b == null ? "none" : b.keyword + " " + b.value.stripTrailingZeros().toPlainString();
  }

  private static String describe(JsonNode schema) {
    return schema.isBoolean() ? schema.toString() : "a schema";
  }

  private static String clip(JsonNode v) {
    String s = v.toString();
    return s.length() > 80 ? s.substring(0, 77) + "..." : s;
  }

  static String escape(String name) {
    return name.replace("~", "~0").replace("/", "~1");
  }
}
