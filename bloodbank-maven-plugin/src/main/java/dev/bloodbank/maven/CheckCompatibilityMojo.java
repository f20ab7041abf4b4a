package dev.bloodbank.maven;

import dev.bloodbank.BloodbankException;
import dev.bloodbank.evolution.CompatibilityLevel;
import dev.bloodbank.evolution.SchemaHistoryCheck;
import dev.bloodbank.evolution.SchemaHistoryEntry;
import dev.bloodbank.evolution.SchemaHistoryReport;
import dev.bloodbank.evolution.UndeclaredProperties;
import java.io.File;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Arrays;
import java.util.Locale;
import org.apache.maven.plugin.AbstractMojo;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.Parameter;
import org.jspecify.annotations.Nullable;

/**
 * Fails the build when a JSON Schema is not compatible with its released versions: the goal {@code
 * bloodbank:check-compatibility}, bound by default to {@code process-resources} (it reads source
 * files only, so it fails fast, before compiling and testing, and {@code -DskipTests} does not skip
 * it).
 *
 * <p>Every {@code *.schema.json} under {@link #schemasDirectory} is checked against {@code
 * <historyDirectory>/<subject>/v<N>.schema.json} at the level its {@code x-bloodbank.compatibility}
 * names (default {@link #defaultLevel}), as {@link SchemaHistoryCheck} describes; the subject is
 * the schema's {@code x-bloodbank.event_type}, or its relative path without {@code .schema.json}.
 * The failure message names each file, event type, level, rule and JSON pointer. The rules are in
 * {@code docs/schema-evolution.md}.
 *
 * <p>A Maven goal: one instance per execution, not shared between threads.
 *
 * @since 0.2.0
 */
@Mojo(
    name = "check-compatibility",
    defaultPhase = LifecyclePhase.PROCESS_RESOURCES,
    threadSafe = true)
public class CheckCompatibilityMojo extends AbstractMojo {

  /** Creates the goal; Maven sets its parameters. */
  public CheckCompatibilityMojo() {}

  /**
   * The directory of the current schemas, searched recursively for {@code *.schema.json}. When it
   * does not exist the goal does nothing.
   */
  @Parameter(
      property = "bloodbank.compatibility.schemasDirectory",
      defaultValue = "${project.basedir}/src/main/resources")
  File schemasDirectory = new File("src/main/resources");

  /**
   * The released versions: {@code <subject>/v<N>.schema.json}. When it does not exist every schema
   * is new and passes.
   */
  @Parameter(
      property = "bloodbank.compatibility.historyDirectory",
      defaultValue = "${project.basedir}/src/main/schema-history")
  File historyDirectory = new File("src/main/schema-history");

  /**
   * The {@code $id} prefix that maps to {@link #schemasDirectory}, so that {@code $ref}s to other
   * schemas by absolute URI are read from there, e.g. {@code https://schemas.example.com/}.
   * Optional; without it only {@code $ref}s inside a document, and relative ones from schemas
   * without {@code $id}, resolve.
   */
  @Parameter(property = "bloodbank.compatibility.idBase")
  @Nullable String idBase;

  /**
   * What the check assumes about properties that writers send beyond those an open object declares:
   * {@code ANY} (default; always sound: adding a constrained optional property to an open object
   * breaks BACKWARD) or {@code ABSENT} (writers send only declared properties, as producers that
   * serialize classes generated from the schemas do: adding an optional property is compatible).
   */
  @Parameter(property = "bloodbank.compatibility.undeclaredProperties", defaultValue = "ANY")
  String undeclaredProperties = "ANY";

  /**
   * The level of schemas whose {@code x-bloodbank} block names none: {@code NONE}, {@code BACKWARD}
   * (default), {@code FORWARD}, {@code FULL}, or one of those with {@code _TRANSITIVE}.
   */
  @Parameter(property = "bloodbank.compatibility.defaultLevel", defaultValue = "BACKWARD")
  String defaultLevel = "BACKWARD";

  /** Skips the goal. */
  @Parameter(property = "bloodbank.compatibility.skip", defaultValue = "false")
  boolean skip;

  /**
   * Runs the check.
   *
   * @throws MojoFailureException when a schema is not compatible with its history, or the check
   *     cannot be made (bad {@code x-bloodbank} values, a released version above the declared one,
   *     an unresolvable {@code $ref}), naming each file, event type, level, rule and pointer
   * @throws MojoExecutionException when a parameter has a bad value, naming the allowed ones
   */
  @Override
  public void execute() throws MojoExecutionException, MojoFailureException {
    if (skip) {
      getLog().info("Schema compatibility check skipped (bloodbank.compatibility.skip)");
      return;
    }
    if (!schemasDirectory.isDirectory()) {
      getLog().info("No schemas directory " + schemasDirectory + ": nothing to check");
      return;
    }
    SchemaHistoryCheck.Builder check =
        SchemaHistoryCheck.builder()
            .schemasDirectory(schemasDirectory.toPath())
            .historyDirectory(historyDirectory.toPath())
            .undeclaredProperties(undeclared())
            .defaultLevel(level());
    if (idBase != null && !idBase.isBlank()) {
      try {
        check.idBase(idBaseUri());
      } catch (IllegalArgumentException e) {
        throw new MojoExecutionException("idBase: " + e.getMessage(), e);
      }
    }
    SchemaHistoryReport report;
    try {
      report = check.build().run();
    } catch (BloodbankException e) {
      throw new MojoExecutionException(e.getMessage(), e);
    }
    for (SchemaHistoryEntry e : report.entries()) {
      if (e.isFailure()) {
        getLog().error(e.describe());
      } else {
        getLog().info(e.describe());
      }
    }
    if (!report.isPassed()) {
      throw new MojoFailureException(
          "Incompatible change to a released schema (set x-bloodbank.compatibility, or see"
              + " docs/schema-evolution.md on releasing a new version):\n"
              + report.describeFailures());
    }
    getLog().info(report.summary());
  }

  private UndeclaredProperties undeclared() throws MojoExecutionException {
    try {
      return UndeclaredProperties.valueOf(undeclaredProperties.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new MojoExecutionException(
          "undeclaredProperties '"
              + undeclaredProperties
              + "' is not one of "
              + Arrays.toString(UndeclaredProperties.values()),
          e);
    }
  }

  private CompatibilityLevel level() throws MojoExecutionException {
    try {
      return CompatibilityLevel.parse(defaultLevel);
    } catch (IllegalArgumentException e) {
      throw new MojoExecutionException("defaultLevel: " + e.getMessage(), e);
    }
  }

  private URI idBaseUri() throws MojoExecutionException {
    String s = idBase == null ? "" : idBase.trim();
    try {
      return new URI(s.endsWith("/") ? s : s + "/");
    } catch (URISyntaxException e) {
      throw new MojoExecutionException("idBase '" + idBase + "' is not a URI", e);
    }
  }
}
