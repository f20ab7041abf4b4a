package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.jsontype.BasicPolymorphicTypeValidator;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.bloodbank.internal.Rfc3339Test;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;

/** The default mapper reads every Instant as the JavaTimeModule alone does, or fails alike. */
class FastInstantDeserializerTest {
  private static final ObjectMapper FAST = EventCodec.defaultObjectMapper();

  /** {@link EventCodec#defaultObjectMapper()} as it was, without the fast path. */
  private static final ObjectMapper REFERENCE =
      JsonMapper.builder()
          .addModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
          .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .polymorphicTypeValidator(BasicPolymorphicTypeValidator.builder().build())
          .build();

  public static final class Plain {
    public Instant at;
  }

  public static final class Formatted {
    @JsonFormat(shape = JsonFormat.Shape.STRING, pattern = "yyyy-MM-dd HH:mm:ss", timezone = "UTC")
    public Instant at;
  }

  /** The value read, or the exception's class and message. */
  private static String outcome(ObjectMapper m, String json, Class<?> type) {
    try {
      Object v = m.readValue(json, type);
      if (v instanceof Plain p) {
        return "value " + p.at;
      }
      if (v instanceof Formatted f) {
        return "value " + f.at;
      }
      return "value " + Objects.toString(v);
    } catch (Exception e) {
      return e.getClass().getName() + ": " + e.getMessage();
    }
  }

  @Test
  void everyStringReadsAsBefore() throws Exception {
    for (String s : Rfc3339Test.corpus()) {
      String json = REFERENCE.writeValueAsString(s);
      assertThat(outcome(FAST, json, Instant.class))
          .as(s)
          .isEqualTo(outcome(REFERENCE, json, Instant.class));
      String property = "{\"at\":" + json + "}";
      assertThat(outcome(FAST, property, Plain.class))
          .as(s)
          .isEqualTo(outcome(REFERENCE, property, Plain.class));
    }
  }

  @Test
  void otherTokensAndFormatsReadAsBefore() {
    for (String value :
        List.of(
            "1769508000",
            "1769508000.5",
            "-1",
            "null",
            "true",
            "[]",
            "{}",
            "\"\"",
            "\"  \"",
            "\"1769508000\"",
            "\"2026-01-27 10:00:00\"",
            "\"2026-01-27T10:00:00Z\"")) {
      for (Class<?> type : List.of(Instant.class, Plain.class, Formatted.class)) {
        String json = type == Instant.class ? value : "{\"at\":" + value + "}";
        assertThat(outcome(FAST, json, type))
            .as(type.getSimpleName() + " " + value)
            .isEqualTo(outcome(REFERENCE, json, type));
      }
    }
  }

  @Test
  void theDefaultMapperStillWritesInstantsAsIsoStrings() throws Exception {
    Plain p = new Plain();
    p.at = Instant.parse("2026-01-27T10:00:00.123456Z");
    assertThat(FAST.writeValueAsString(p)).isEqualTo(REFERENCE.writeValueAsString(p));
  }
}
