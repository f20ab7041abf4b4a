package dev.bloodbank.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bloodbank.observability.BloodbankObservability;
import dev.bloodbank.server.internal.ServerMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code docs/grafana-dashboard.json} cannot drift from the metric names: every {@code bloodbank_*}
 * name in a query is one of {@link BloodbankObservability}'s constants or {@link
 * BloodbankServer#HTTP_SERVER_REQUESTS} as Prometheus renders it, and every JVM or process name is
 * in a scrape of the server's own registry.
 */
class GrafanaDashboardTest {
  private static final Path DASHBOARD =
      Path.of("").toAbsolutePath().getParent().resolve("docs/grafana-dashboard.json");
  private static final Pattern METRIC =
      Pattern.compile("\\b((?:bloodbank|jvm|process|system)_[a-z0-9_]+)");
  private static final Pattern SUFFIX =
      Pattern.compile("(_seconds_count|_seconds_sum|_seconds_max|_total)$");
  private static final String DATASOURCE = "${DS_PROMETHEUS}";

  private static JsonNode dashboard;

  @BeforeAll
  static void read() throws Exception {
    dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
  }

  /**
   * The meter names: each constant of {@link BloodbankObservability} that names a meter (not an
   * observation, not amqp-client's prefix), and the server's HTTP timer.
   */
  static Set<String> meterNames() throws IllegalAccessException {
    Set<String> names = new HashSet<>();
    for (Field f : BloodbankObservability.class.getFields()) {
      if (Modifier.isStatic(f.getModifiers())
          && f.getType() == String.class
          && !f.getName().endsWith("_OBSERVATION")
          && !f.getName().equals("AMQP_CLIENT_PREFIX")
          && ((String) f.get(null)).startsWith("bloodbank.")) {
        names.add((String) f.get(null));
      }
    }
    names.add(BloodbankServer.HTTP_SERVER_REQUESTS);
    return names;
  }

  /** Every query in the dashboard: the panels' {@code expr}s and the variables' queries. */
  static List<String> queries(JsonNode node) {
    List<String> out = new ArrayList<>();
    collect(node, out);
    return out;
  }

  private static void collect(JsonNode node, List<String> out) {
    if (node.isObject()) {
      for (Map.Entry<String, JsonNode> e : (Iterable<Map.Entry<String, JsonNode>>) node::fields) {
        if ((e.getKey().equals("expr")
                || e.getKey().equals("query")
                || e.getKey().equals("definition"))
            && e.getValue().isTextual()) {
          out.add(e.getValue().asText());
        } else {
          collect(e.getValue(), out);
        }
      }
    } else if (node.isArray()) {
      node.forEach(n -> collect(n, out));
    }
  }

  static Set<String> metrics(List<String> queries) {
    Set<String> out = new TreeSet<>();
    for (String q : queries) {
      Matcher m = METRIC.matcher(q);
      while (m.find()) {
        out.add(m.group(1));
      }
    }
    return out;
  }

  @Test
  void everyBloodbankMetricIsAConstantAsPrometheusNamesIt() throws Exception {
    Set<String> known = new HashSet<>();
    for (String name : meterNames()) {
      known.add(name.replace('.', '_'));
    }
    Set<String> used = metrics(queries(dashboard));
    assertThat(used).as("metric names in the dashboard").isNotEmpty();
    List<String> unknown = new ArrayList<>();
    Set<String> covered = new TreeSet<>();
    for (String metric : used) {
      if (!metric.startsWith("bloodbank_")) {
        continue;
      }
      String base = SUFFIX.matcher(metric).replaceFirst("");
      if (known.contains(base)) {
        covered.add(base);
      } else {
        unknown.add(metric + " (base name " + base + ")");
      }
    }
    assertThat(unknown).as("dashboard metrics that no constant names").isEmpty();
    // Every meter of the bus and the server has a panel (amqp-client's own are left out).
    Set<String> missing = new TreeSet<>(known);
    missing.removeAll(covered);
    assertThat(missing).as("metrics without a panel").isEmpty();
  }

  @Test
  void everyJvmAndProcessMetricIsInTheServersScrape() {
    ServerMetrics m = ServerMetrics.create(null);
    try {
      String scrape = ((PrometheusMeterRegistry) m.registry()).scrape();
      for (String metric : metrics(queries(dashboard))) {
        if (!metric.startsWith("bloodbank_")) {
          assertThat(scrape).as(metric).containsPattern("(?m)^" + Pattern.quote(metric) + "[{ ]");
        }
      }
    } finally {
      m.close();
    }
  }

  @Test
  void isAnImportableDashboardOnOnePrometheusInput() {
    assertThat(dashboard.path("schemaVersion").asInt()).isBetween(36, 41);
    assertThat(dashboard.path("uid").asText()).isNotEmpty();
    JsonNode inputs = dashboard.path("__inputs");
    assertThat(inputs.size()).isEqualTo(1);
    assertThat(inputs.get(0).path("name").asText()).isEqualTo("DS_PROMETHEUS");
    assertThat(inputs.get(0).path("pluginId").asText()).isEqualTo("prometheus");

    Set<Integer> ids = new HashSet<>();
    int queried = 0;
    for (JsonNode panel : dashboard.path("panels")) {
      String title = panel.path("title").asText();
      assertThat(title).isNotEmpty();
      assertThat(ids.add(panel.path("id").asInt())).as("unique id of %s", title).isTrue();
      JsonNode grid = panel.path("gridPos");
      assertThat(grid.path("x").asInt() + grid.path("w").asInt()).as(title).isLessThanOrEqualTo(24);
      if (panel.path("type").asText().equals("row")) {
        continue;
      }
      assertThat(panel.path("datasource").path("uid").asText()).as(title).isEqualTo(DATASOURCE);
      assertThat(panel.path("description").asText()).as(title).isNotEmpty();
      JsonNode targets = panel.path("targets");
      assertThat(targets.size()).as(title).isPositive();
      Set<String> refIds = new HashSet<>();
      for (JsonNode t : targets) {
        assertThat(t.path("datasource").path("uid").asText()).as(title).isEqualTo(DATASOURCE);
        assertThat(t.path("expr").asText()).as(title).isNotBlank();
        assertThat(refIds.add(t.path("refId").asText())).as("refIds of %s", title).isTrue();
        // Timers publish no histogram by default: a quantile would show nothing.
        assertThat(t.path("expr").asText()).as(title).doesNotContain("_bucket");
        queried++;
      }
    }
    assertThat(queried).isGreaterThan(20);
    for (JsonNode v : dashboard.path("templating").path("list")) {
      assertThat(v.path("datasource").path("uid").asText()).isEqualTo(DATASOURCE);
    }
  }
}
