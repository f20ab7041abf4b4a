import dev.bloodbank.evolution.SchemaHistoryCheck;
import dev.bloodbank.evolution.SchemaHistoryReport;
import dev.bloodbank.evolution.UndeclaredProperties;
import java.net.URI;
import java.nio.file.Path;

/**
 * Build step of bloodbank-schemas: the schema evolution gate (issue #21). Checks every catalog
 * schema against its released versions in the history and fails the build, naming the file, the
 * event type, the level, the rule and the JSON pointer, when a change is incompatible.
 *
 * <p>Run by exec-maven-plugin in process-classes as a single-file program (not part of the jar),
 * with the test class path of the module (bloodbank-core is a test dependency):
 *
 * <pre>java SchemaHistoryGate.java &lt;schemas dir&gt; &lt;history dir&gt; &lt;$id base&gt;</pre>
 *
 * <p>Exit status 0 when every schema is compatible (or new), 1 otherwise, 2 on bad arguments.
 */
public final class SchemaHistoryGate {
  public static void main(String[] args) {
    if (args.length != 3) {
      System.err.println(
          "usage: java SchemaHistoryGate.java <schemas dir> <history dir> <$id base>");
      System.exit(2);
    }
    SchemaHistoryReport report =
        SchemaHistoryCheck.builder()
            .schemasDirectory(Path.of(args[0]))
            .historyDirectory(Path.of(args[1]))
            .idBase(URI.create(args[2].endsWith("/") ? args[2] : args[2] + "/"))
            // Bloodbank's producers send only the properties the catalog declares: Java publishes
            // the classes generated from these schemas (which drop unknown fields), the Python
            // services their models of the same schemas. Under that assumption an optional field
            // added to an open object is compatible both ways; under ANY it would break BACKWARD
            // (old data might carry the name with any value) and the gate would reject the most
            // common evolution. Maps without declared properties (metadata) stay strict.
            .undeclaredProperties(UndeclaredProperties.ABSENT)
            .build()
            .run();
    if (!report.isPassed()) {
      System.err.println(
          "incompatible change to a released schema (docs/schema-evolution.md says how to"
              + " release a new version):\n"
              + report.describeFailures());
      System.exit(1);
    }
    System.out.println(report.summary());
  }
}
