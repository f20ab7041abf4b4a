package dev.bloodbank.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.impl.LongStringHelper;
import dev.bloodbank.RecordingMdc;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.MDC;

/** The MDC keys and the trace id read from a {@code traceparent} header. */
class LogContextTest {
  private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String VALID = "00-" + TRACE + "-00f067aa0ba902b7-01";

  @BeforeAll
  static void mdc() {
    RecordingMdc.install();
  }

  @AfterEach
  void clear() {
    MDC.clear();
  }

  @Test
  void theTraceIdOfAValidTraceparent() {
    assertThat(LogContext.traceIdOf(VALID)).isEqualTo(TRACE);
    assertThat(LogContext.traceIdOf("00-" + TRACE + "-00f067aa0ba902b7-00"))
        .as("not sampled")
        .isEqualTo(TRACE);
    // amqp-client hands header strings over as LongStrings.
    assertThat(LogContext.traceIdOf(LongStringHelper.asLongString(VALID))).isEqualTo(TRACE);
    // A later version may append fields; version 00 may not.
    assertThat(LogContext.traceIdOf("01-" + TRACE + "-00f067aa0ba902b7-01-what-comes-next"))
        .isEqualTo(TRACE);
  }

  @ParameterizedTest
  @NullAndEmptySource
  @ValueSource(
      strings = {
        "00",
        "00-" + TRACE,
        "00-" + TRACE + "-00f067aa0ba902b7",
        "00-" + TRACE + "-00f067aa0ba902b7-0", // one flag digit short
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", // trace id one short
      })
  void aShortValueHasNoTraceId(String value) {
    assertThat(LogContext.traceIdOf(value)).isNull();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "00_" + TRACE + "-00f067aa0ba902b7-01", // wrong separator
        "00-" + TRACE + "_00f067aa0ba902b7-01",
        "00-" + TRACE + "-00f067aa0ba902b7_01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // upper case
        "00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01", // not hex
        "00-4bf92f3577b34da6\r\nce929d0e0e4736-00f067aa0ba902b7-01", // a forged log line
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // all-zero trace id
        "00-" + TRACE + "-0000000000000000-01", // all-zero parent id
        "ff-" + TRACE + "-00f067aa0ba902b7-01", // the forbidden version
        "zz-" + TRACE + "-00f067aa0ba902b7-01",
        "00-" + TRACE + "-00f067aa0ba902b7-01-extra", // version 00 has exactly four fields
        "01-" + TRACE + "-00f067aa0ba902b7-01extra",
        "00-" + TRACE + "-00f067aa0ba902b7-0g"
      })
  void aMalformedValueHasNoTraceId(String value) {
    assertThat(LogContext.traceIdOf(value)).isNull();
  }

  @Test
  void theApplicationsOwnKeysOfTheSameNamesComeBackAfterAnEvent() {
    // A servlet filter's correlation id on a request thread that runs a command directly.
    MDC.put(LogContext.CORRELATION_ID, "request-42");
    LogContext.Saved saved = LogContext.save();
    LogContext.put("e1", "a.b", null, "0af7651916cd43dd8448eb211c80319c");
    assertThat(MDC.get(LogContext.CORRELATION_ID)).isNull();
    LogContext.restore(saved);
    assertThat(MDC.getCopyOfContextMap())
        .containsExactly(java.util.Map.entry(LogContext.CORRELATION_ID, "request-42"));
  }

  @Test
  void putSetsTheGivenKeysAndClearRemovesThemAll() {
    MDC.put("unrelated", "kept");
    LogContext.put("id-1", "a.b", "parent-1", TRACE);
    assertThat(MDC.getCopyOfContextMap())
        .containsEntry(LogContext.EVENT_ID, "id-1")
        .containsEntry(LogContext.EVENT_TYPE, "a.b")
        .containsEntry(LogContext.CORRELATION_ID, "parent-1")
        .containsEntry(LogContext.TRACE_ID, TRACE);
    LogContext.clear();
    assertThat(MDC.getCopyOfContextMap()).containsOnlyKeys("unrelated");

    LogContext.put("id-2", "c.d", null, null);
    assertThat(MDC.getCopyOfContextMap())
        .containsOnlyKeys("unrelated", LogContext.EVENT_ID, LogContext.EVENT_TYPE);
    LogContext.clear();
    assertThat(MDC.getCopyOfContextMap()).containsOnlyKeys("unrelated");
  }

  @Test
  void aNestedEventGivesTheOuterOneItsKeysBack() {
    assertThat(LogContext.save()).as("nothing outside").isNull();
    LogContext.put("outer", "a.b", "parent", TRACE);
    Map<String, String> outer = MDC.getCopyOfContextMap();
    LogContext.Saved saved = LogContext.save();
    LogContext.put("inner", "c.d", null, null);
    assertThat(MDC.get(LogContext.EVENT_ID)).isEqualTo("inner");
    assertThat(MDC.getCopyOfContextMap())
        .as("the inner event's keys only")
        .containsOnlyKeys(LogContext.EVENT_ID, LogContext.EVENT_TYPE);
    LogContext.restore(saved);
    assertThat(MDC.getCopyOfContextMap()).isEqualTo(outer);

    LogContext.Saved none = LogContext.save();
    LogContext.restore(null);
    assertThat(MDC.getCopyOfContextMap()).isNullOrEmpty();
    assertThat(none).isNotNull();
  }
}
