package dev.bloodbank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Publisher;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.validation.ValidationMode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code bb replay} and {@code bb dlq replay} on a terminal: run as their own processes inside a
 * tmux pane, whose text is read back with {@code tmux capture-pane}.
 */
@ExtendWith(BrokerExtension.class)
class ReplayTerminalIT {
  private Tmux tmux;

  @BeforeEach
  void openTmux() {
    tmux = Tmux.open("bb-it");
  }

  @AfterEach
  void killServer() throws Exception {
    tmux.close();
  }

  private String await(String session, String text, long seconds) throws Exception {
    return tmux.await(session, text, seconds);
  }

  /** Starts bb in a 120x20 pane; the shell then prints its exit code and stays open. */
  private void start(BrokerExtension.Broker broker, String session, String bbArgs)
      throws Exception {
    tmux.startBb(
        session, 120, 20, java.util.Map.of("BLOODBANK_EXCHANGE", broker.exchange()), bbArgs, "");
  }

  private static void publish(BrokerExtension.Broker broker, int n) throws Exception {
    EventCodec codec = EventCodec.create();
    try (Bloodbank bus = broker.connect();
        Publisher p =
            bus.publisher(PublisherOptions.builder().validation(ValidationMode.SKIP).build())) {
      for (int i = 0; i < n; i++) {
        EventEnvelope<JsonNode> e =
            EventEnvelope.builder(
                    "test.tty", codec.parse(("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8)))
                .build();
        p.publish(e).get(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void aTerminalShowsProgressThenTheSummaryAndCtrlCExits130(BrokerExtension.Broker broker)
      throws Exception {
    String q = broker.queueName("archive");
    BbIT.Result init = BbIT.bb(broker, "archive", "init", "--queue", q);
    assertThat(init.code()).as(init.err()).isZero();
    publish(broker, 20);

    // 20 events at 10/s: about two seconds of progress, then the summary.
    start(broker, "done", "replay --queue " + q + " --first --republish --dry-run --rate 10/s");
    String during = await("done", "ETA", 20);
    assertThat(during)
        .containsPattern(q + " \\d+ events +\\d+/s +offset \\d+ +\\d+% +ETA \\d+:\\d\\d");
    String after = await("done", "EXIT=", 60);
    assertThat(after)
        .containsPattern(q + " 20 events +\\d+/s +offset 19 +100%")
        .contains(
            "bb: replay of '" + q + "': would republish 20, filtered 0, skipped 0, last offset 19")
        .contains("EXIT=0");

    // Ctrl-C in the middle: the summary says it stopped, and the exit code is 130.
    start(broker, "stopped", "replay --queue " + q + " --first --republish --dry-run --rate 2/s");
    await("stopped", q + " 2 events", 30);
    tmux.keys("stopped", "C-c");
    String stopped = await("stopped", "EXIT=", 30);
    assertThat(stopped).contains("(stopped)").contains("EXIT=130");
  }

  @Test
  void aDeadLetterReplayShowsProgressAndCtrlCStopsWithNothingLostOrMovedTwice(
      BrokerExtension.Broker broker) throws Exception {
    DlqCliIT.Dead d = DlqCliIT.deadLetters(broker, 20);
    start(broker, "dlq", "dlq replay " + d.dlq() + " --rate 10/s");
    String during = await("dlq", "ETA", 20);
    assertThat(during).containsPattern("moved \\d+  left 0  \\d+/s +\\d+%  ETA \\d+:\\d\\d");
    String after = await("dlq", "EXIT=", 60);
    assertThat(after)
        .containsPattern("moved 20  left 0  \\d+/s +100%")
        .contains("bb: dead-letter replay of '" + d.dlq() + "': moved 20, skipped 0, unmovable 0,")
        .contains("EXIT=0");
    assertThat(broker.drain(d.queue(), 30, java.time.Duration.ofSeconds(2))).hasSize(20);

    // Ctrl-C in the middle: the event in progress finishes, the rest stay; a second run moves them.
    DlqCliIT.Dead more = DlqCliIT.deadLetters(broker, 20);
    start(broker, "dlqstop", "dlq replay " + more.dlq() + " --rate 4/s");
    await("dlqstop", "moved 3 ", 30);
    tmux.keys("dlqstop", "C-c");
    String stopped = await("dlqstop", "EXIT=", 30);
    assertThat(stopped).contains("(stopped)").contains("EXIT=130");
    BbIT.Result rest = BbIT.bb(broker, "dlq", "replay", more.dlq());
    assertThat(rest.code()).as(rest.err()).isZero();
    List<String> ids = new ArrayList<>();
    for (var g : broker.drain(more.queue(), 40, java.time.Duration.ofSeconds(2))) {
      ids.add(g.getProps().getMessageId());
    }
    assertThat(ids).containsExactlyElementsOf(more.ids());
  }
}
