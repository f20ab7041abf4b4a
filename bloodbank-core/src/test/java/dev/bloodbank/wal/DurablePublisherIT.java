package dev.bloodbank.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.GetResponse;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.UnroutableEventException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The durable publisher: the write-ahead log as an outbox in front of the real broker. */
@ExtendWith(BrokerExtension.class)
class DurablePublisherIT {
  @TempDir Path dir;

  @Test
  void confirmedEventsLeaveTheLogAndUnroutableOnesWaitThereForReplayWithTheirIds(
      BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    String ok = broker.rawQueue("wal.ok");
    Path file = dir.resolve("out.wal");
    EventEnvelope<Map<String, Integer>> kept =
        EventEnvelope.builder("wal.kept", Map.of("n", 2)).build();
    try (DurablePublisher durable =
        bus.durablePublisher(
            PublisherOptions.builder()
                .durable(WalOptions.of(file))
                .mandatory(true)
                .maxAttempts(1)
                .build())) {
      durable
          .publish(EventEnvelope.builder("wal.ok", Map.of("n", 1)).build())
          .get(10, TimeUnit.SECONDS);
      assertThat(durable.pendingCount()).isZero();

      // Nobody listens to wal.kept yet: the broker returns it, and it stays in the log.
      assertThatThrownBy(() -> durable.publish(kept).get(10, TimeUnit.SECONDS))
          .cause()
          .isInstanceOf(UnroutableEventException.class);
      assertThat(durable.wal().pending())
          .extracting(WalRecord::eventId)
          .containsExactly(kept.eventId());
      // Drains (every recovery interval, 500 ms here) do not send it again and again.
      Thread.sleep(1500);
      assertThat(durable.pendingCount()).isOne();

      String later = broker.rawQueue("wal.kept");
      assertThat(durable.replay(Duration.ofSeconds(10))).isEqualTo(1);
      assertThat(durable.pendingCount()).isZero();
      List<GetResponse> got = broker.drain(later, 2, Duration.ofSeconds(5));
      assertThat(got)
          .extracting(r -> r.getProps().getMessageId())
          .containsExactly(kept.eventId().toString());
    }
    assertThat(broker.drain(ok, 2, Duration.ofSeconds(2))).hasSize(1);
    try (WriteAheadLog reopened = WriteAheadLog.open(WalOptions.of(file))) {
      assertThat(reopened.pendingCount()).isZero();
    }
  }

  @Test
  void eventsLeftInALogAreSentByTheNextPublisherThatOpensIt(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    String q = broker.rawQueue("wal.left");
    Path file = dir.resolve("left.wal");
    EventEnvelope<Map<String, Integer>> left =
        EventEnvelope.builder("wal.left", Map.of("n", 3)).build();
    try (WriteAheadLog wal = WriteAheadLog.open(WalOptions.of(file))) {
      wal.append(left.eventId(), left.eventType(), bus.codec().encode(left));
    }
    try (DurablePublisher durable =
        bus.durablePublisher(PublisherOptions.builder().durable(WalOptions.of(file)).build())) {
      List<GetResponse> got = broker.drain(q, 1, Duration.ofSeconds(10));
      assertThat(got)
          .extracting(r -> r.getProps().getMessageId())
          .containsExactly(left.eventId().toString());
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (durable.pendingCount() > 0 && System.nanoTime() < until) {
        Thread.sleep(20);
      }
      assertThat(durable.pendingCount()).isZero();
    }
  }
}
