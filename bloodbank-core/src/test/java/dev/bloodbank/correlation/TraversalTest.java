package dev.bloodbank.correlation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bloodbank.BloodbankException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TraversalTest {
  /** A graph in a map; counts fetches and remembers each level asked for. */
  static final class Graph implements Traversal.LevelFetcher {
    final Map<UUID, List<UUID>> children = new HashMap<>();
    final List<List<UUID>> fetched = new ArrayList<>();
    Executor executor = Runnable::run;

    UUID node() {
      return UUID.randomUUID();
    }

    void link(UUID parent, UUID child) {
      children.computeIfAbsent(parent, k -> new ArrayList<>()).add(child);
    }

    @Override
    public CompletableFuture<Map<UUID, List<UUID>>> fetch(List<UUID> level) {
      fetched.add(List.copyOf(level));
      Map<UUID, List<UUID>> out = new HashMap<>();
      for (UUID id : level) {
        out.put(id, children.getOrDefault(id, List.of()));
      }
      return CompletableFuture.supplyAsync(() -> out, executor);
    }

    CorrelationGraph down(UUID root, int maxDepth, int maxNodes) {
      return Traversal.run(root, CorrelationGraph.Direction.DESCENDANTS, maxDepth, maxNodes, this)
          .orTimeout(10, TimeUnit.SECONDS)
          .join();
    }
  }

  private final Graph g = new Graph();

  @Test
  void oneFetchPerLevelWhateverItsWidth() {
    UUID root = g.node();
    List<UUID> kids = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      UUID kid = g.node();
      g.link(root, kid);
      g.link(kid, g.node());
      kids.add(kid);
    }
    CorrelationGraph graph = g.down(root, 10, 1000);
    assertThat(graph.nodes()).hasSize(200);
    assertThat(g.fetched).hasSize(3);
    assertThat(g.fetched.get(0)).containsExactly(root);
    assertThat(g.fetched.get(1)).containsExactlyElementsOf(kids);
    assertThat(g.fetched.get(2)).hasSize(100);
  }

  @Test
  void aCycleEndsTheWalkAndShowsAsALinkBack() {
    UUID a = g.node(), b = g.node(), c = g.node();
    g.link(a, b);
    g.link(b, c);
    g.link(c, a);
    g.link(c, b);
    CorrelationGraph graph = g.down(a, 100, 100);
    assertThat(graph.levels()).containsExactly(List.of(a), List.of(b), List.of(c));
    assertThat(graph.edges())
        .containsExactly(
            new CorrelationGraph.Edge(a, b),
            new CorrelationGraph.Edge(b, c),
            new CorrelationGraph.Edge(c, a),
            new CorrelationGraph.Edge(c, b));
    assertThat(graph.limitHit()).isNull();
    assertThat(g.fetched).hasSize(3);
  }

  @Test
  void depthLimitIsReportedOnlyWhenItHidesSomething() {
    UUID a = g.node(), b = g.node(), c = g.node();
    g.link(a, b);
    g.link(b, c);
    assertThat(g.down(a, 1, 100).limitHit()).isEqualTo(CorrelationGraph.Limit.DEPTH);
    assertThat(g.down(a, 1, 100).levels()).containsExactly(List.of(a), List.of(b));
    assertThat(g.down(a, 2, 100).limitHit()).isNull();
    g.link(c, a);
    // At depth 2 the link from c leads back to a, already seen: nothing hidden, but shown.
    CorrelationGraph graph = g.down(a, 2, 100);
    assertThat(graph.limitHit()).isNull();
    assertThat(graph.edges()).contains(new CorrelationGraph.Edge(c, a));
  }

  @Test
  void nodeLimitKeepsOnlyLinksBetweenEventsInTheGraph() {
    UUID root = g.node();
    for (int i = 0; i < 10; i++) {
      g.link(root, g.node());
    }
    CorrelationGraph graph = g.down(root, 5, 4);
    assertThat(graph.limitHit()).isEqualTo(CorrelationGraph.Limit.NODES);
    assertThat(graph.truncated()).isTrue();
    assertThat(graph.nodes()).hasSize(3);
    assertThat(graph.edges()).hasSize(3);
    assertThat(graph.edges()).allSatisfy(e -> assertThat(graph.nodes()).contains(e.child()));
    // No fetch beyond the level where the limit was reached.
    assertThat(g.fetched).hasSize(1);
    // The node limit wins over the depth limit.
    assertThat(g.down(root, 1, 4).limitHit()).isEqualTo(CorrelationGraph.Limit.NODES);
    assertThat(g.down(root, 5, 1).nodes()).isEmpty();
  }

  @Test
  void ancestorsGiveLinksParentFirst() {
    UUID child = g.node(), parent = g.node();
    g.link(child, parent); // the fetcher's "neighbours" are parents when walking up
    CorrelationGraph up =
        Traversal.run(child, CorrelationGraph.Direction.ANCESTORS, 3, 10, g).join();
    assertThat(up.edges()).containsExactly(new CorrelationGraph.Edge(parent, child));
    assertThat(up.direction()).isEqualTo(CorrelationGraph.Direction.ANCESTORS);
  }

  @Test
  void aLongChainDoesNotOverflowTheStackWhetherFetchesAreSynchronousOrNot() {
    UUID root = g.node();
    UUID prev = root;
    for (int i = 0; i < 50_000; i++) {
      UUID next = g.node();
      g.link(prev, next);
      prev = next;
    }
    assertThat(g.down(root, 100_000, 100_000).nodes()).hasSize(50_000);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      g.executor = pool;
      CorrelationGraph graph = g.down(root, 100_000, 100_000);
      assertThat(graph.nodes()).hasSize(50_000);
      assertThat(graph.limitHit()).isNull();
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aFailedFetchFailsTheTraversalAndBadDepthIsRejected() {
    Traversal.LevelFetcher broken =
        level -> CompletableFuture.failedFuture(new BloodbankException("Redis is down"));
    assertThatThrownBy(
            () ->
                Traversal.run(g.node(), CorrelationGraph.Direction.DESCENDANTS, 3, 10, broken)
                    .join())
        .isInstanceOf(CompletionException.class)
        .hasCauseInstanceOf(BloodbankException.class);
    assertThatThrownBy(() -> g.down(g.node(), 0, 10))
        .hasCauseInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxDepth must be at least 1, was 0");
  }
}
