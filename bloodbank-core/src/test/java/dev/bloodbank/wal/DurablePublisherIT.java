package dev.bloodbank.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.GetResponse;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.PublishException;
import dev.bloodbank.Publisher;
import dev.bloodbank.PublisherOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The write-ahead log as a durable outbox in front of the real broker. */
@ExtendWith(BrokerExtension.class)
class DurablePublisherIT {
  @TempDir Path dir;

  @Test
  void confirmedEventsLeaveTheLogAndFailedOnesAreReplayedWithTheirIds(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    String all = broker.rawQueue("#");
    EventEnvelope<Map<String, Integer>> kept =
        EventEnvelope.builder("wal.kept", Map.of("n", 2)).build();
    try (WriteAheadLog wal = WriteAheadLog.open(WalOptions.of(dir.resolve("out.jsonl")))) {
      DurablePublisher durable = new DurablePublisher(bus.publisher(), wal, bus.codec());
      durable
          .publish(EventEnvelope.builder("wal.ok", Map.of("n", 1)).build())
          .get(10, TimeUnit.SECONDS);
      assertThat(wal.pendingCount()).isZero();

      // A publisher that cannot send: the event stays in the log.
      Publisher down = bus.publisher(PublisherOptions.builder().build());
      down.close();
      assertThatThrownBy(
              () ->
                  new DurablePublisher(down, wal, bus.codec())
                      .publish(kept)
                      .get(10, TimeUnit.SECONDS))
          .cause()
          .isInstanceOf(PublishException.class);
      assertThat(wal.pending()).extracting(WalRecord::eventId).containsExactly(kept.eventId());

      assertThat(durable.replay()).isEqualTo(1);
      assertThat(wal.pendingCount()).isZero();
    }
    List<GetResponse> got = broker.drain(all, 3, Duration.ofSeconds(5));
    assertThat(got)
        .extracting(r -> r.getEnvelope().getRoutingKey())
        .containsExactly("wal.ok", "wal.kept");
    assertThat(got.get(1).getProps().getMessageId()).isEqualTo(kept.eventId().toString());
    try (WriteAheadLog reopened = WriteAheadLog.open(WalOptions.of(dir.resolve("out.jsonl")))) {
      assertThat(reopened.pendingCount()).isZero();
    }
  }
}
