package dev.bloodbank.evolution;

/**
 * What a compatibility check assumes about the properties that writers put into an open object (one
 * whose {@code additionalProperties} is absent or {@code true}) beyond those its schema declares.
 *
 * <p>The choice matters for the most common evolution, adding an optional property to an open
 * object: under {@link #ANY} it breaks BACKWARD ({@code property-added-open}), because data written
 * with the old schema may already carry that name with any value; under {@link #ABSENT} it is
 * compatible both ways.
 *
 * @since 0.2.0
 */
public enum UndeclaredProperties {
  /**
   * Writers may send any value under any name an open object does not declare: compatibility is the
   * plain inclusion of the sets of valid instances. The default, and always sound.
   */
  ANY,

  /**
   * Writers send only the properties their schema declares, as Bloodbank producers do: Java
   * publishes the classes generated from the schemas, the Python services their models of the same
   * schemas. An open object of the writer that declares {@code properties} (a record) is then
   * judged as if it were closed: a property added to it or removed from it is compatible in both
   * directions unless {@code required} changes. Objects without {@code properties} (free-form maps
   * such as {@code metadata}), objects whose {@code additionalProperties} is a schema (maps with
   * typed values) and objects that combine subschemas ({@code allOf}, {@code anyOf}, {@code oneOf},
   * {@code if}, {@code dependentSchemas}, a {@code $ref} beside other keywords) keep their
   * undeclared names, as under {@link #ANY}. Readers still validate with their real schema.
   */
  ABSENT
}
