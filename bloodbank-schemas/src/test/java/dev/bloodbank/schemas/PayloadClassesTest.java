package dev.bloodbank.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.registry.EventDefinition;
import dev.bloodbank.schemas.agent.ThreadPrompt;
import dev.bloodbank.schemas.fireflies.AiFilters;
import dev.bloodbank.schemas.voice.AudioMetadata;
import dev.bloodbank.schemas.voice.TranscriptionCompleted;
import dev.bloodbank.schemas.voice.TranscriptionContext;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The classes jsonschema2pojo generates from the catalog. */
class PayloadClassesTest {

  @ParameterizedTest(name = "{0} valid #{1}")
  @MethodSource("dev.bloodbank.schemas.Examples#validPayloads")
  void pojoRoundTripsThroughJsonAndItsJsonValidates(String eventType, int index, JsonNode example)
      throws Exception {
    Class<?> type = Examples.CATALOG.require(eventType).payloadClass();
    assertThat(type).as("payload class of %s", eventType).isNotNull();

    Object pojo = Examples.MAPPER.treeToValue(example, type);
    JsonNode json = Examples.MAPPER.valueToTree(pojo);
    Object again = Examples.MAPPER.treeToValue(json, type);

    assertThat(again).isEqualTo(pojo).hasSameHashCodeAs(pojo);
    // toString shows the values (after the identity hash jsonschema2pojo puts first).
    assertThat(withoutIdentity(again.toString())).isEqualTo(withoutIdentity(pojo.toString()));
    assertThat(Examples.VALIDATOR.checkPayload(eventType, json).violations()).isEmpty();
    // Nothing of the example is lost on the way: every non-null value has a field in the class.
    assertThat(Examples.nonNullPointers(json)).containsAll(Examples.nonNullPointers(example));
  }

  private static String withoutIdentity(String s) {
    return s.replaceAll("@[0-9a-f]+\\[", "[");
  }

  static Stream<Class<?>> generatedClasses() {
    Set<Class<?>> seen = new LinkedHashSet<>();
    Deque<Class<?>> todo = new ArrayDeque<>();
    Examples.CATALOG.all().forEach(d -> todo.add(d.payloadClass()));
    while (!todo.isEmpty()) {
      Class<?> c = todo.pop();
      if (!c.getName().startsWith("dev.bloodbank.schemas.") || c.isEnum() || !seen.add(c)) {
        continue;
      }
      for (Field f : c.getDeclaredFields()) {
        todo.add(f.getType());
        Type g = f.getGenericType();
        if (g instanceof ParameterizedType p) {
          for (Type arg : p.getActualTypeArguments()) {
            if (arg instanceof Class<?> a) {
              todo.add(a);
            }
          }
        }
      }
    }
    return seen.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("generatedClasses")
  void generatedClassHasSnakeCaseJsonNamesWithMethodsAndValueSemantics(Class<?> c)
      throws Exception {
    List<String> names = new ArrayList<>();
    for (Field f : c.getDeclaredFields()) {
      JsonProperty p = f.getAnnotation(JsonProperty.class);
      if (p == null) {
        continue;
      }
      names.add(p.value());
      assertThat(p.value())
          .as("JSON name of %s.%s", c.getSimpleName(), f.getName())
          .matches("[a-z][a-z0-9_]*");
      String with =
          "with" + Character.toUpperCase(f.getName().charAt(0)) + f.getName().substring(1);
      Method m = c.getMethod(with, f.getType());
      assertThat(m.getReturnType()).isEqualTo(c);
    }
    assertThat(names).as("properties of %s", c).isNotEmpty();
    assertThat(c.getDeclaredMethod("equals", Object.class)).isNotNull();
    assertThat(c.getDeclaredMethod("hashCode")).isNotNull();
    assertThat(c.getDeclaredMethod("toString")).isNotNull();
  }

  @Test
  void dateTimesAreInstantsAndUuidsAreUuids() {
    for (EventDefinition d : Examples.CATALOG.all()) {
      JsonNode props = Examples.CATALOG.schema(d.eventType()).path("properties");
      for (Map.Entry<String, JsonNode> p : props.properties()) {
        String format = p.getValue().path("format").asText("");
        Class<?> expected =
            switch (format) {
              case "date-time" -> Instant.class;
              case "uuid" -> UUID.class;
              default -> null;
            };
        if (expected != null) {
          assertThat(fieldType(d.payloadClass(), p.getKey()))
              .as("%s /%s (%s)", d.eventType(), p.getKey(), format)
              .isEqualTo(expected);
        }
      }
    }
  }

  private static Class<?> fieldType(Class<?> c, String jsonName) {
    for (Field f : c.getDeclaredFields()) {
      JsonProperty p = f.getAnnotation(JsonProperty.class);
      if (p != null && p.value().equals(jsonName)) {
        return f.getType();
      }
    }
    throw new AssertionError(c + " has no field for " + jsonName);
  }

  @Test
  void builtWithWithMethodsAPayloadEncodesAsTheIssueExample() throws Exception {
    TranscriptionCompleted t =
        new TranscriptionCompleted()
            .withText("The transcribed text")
            .withTimestamp(Instant.parse("2026-01-27T10:00:00Z"))
            .withSource("whisperlivekit")
            .withTarget("tonny")
            .withSessionId(UUID.fromString("550e8400-e29b-41d4-a716-446655440000"))
            .withAudioMetadata(
                new AudioMetadata()
                    .withDurationSeconds(3.5)
                    .withSampleRate(16000)
                    .withConfidence(0.95)
                    .withLanguage("en")
                    .withModel("base")
                    .withSpeakerId("speaker_1"))
            .withContext(
                new TranscriptionContext()
                    .withDeviceType("mobile")
                    .withUserId("user123")
                    .withTags(List.of("meeting", "notes")));
    assertThat(Examples.MAPPER.<JsonNode>valueToTree(t))
        .isEqualTo(Examples.MAPPER.readTree(Examples.ISSUE_TRANSCRIPTION));
    assertThat(Examples.CATALOG.eventTypeOf(TranscriptionCompleted.class))
        .isEqualTo("transcription.voice.completed");
  }

  @Test
  void enumsKeepTheirWireValues() throws Exception {
    AiFilters f = Examples.MAPPER.readValue("{\"sentiment\":\"neutral\"}", AiFilters.class);
    assertThat(f.getSentiment()).isEqualTo(AiFilters.Sentiment.NEUTRAL);
    assertThat(Examples.MAPPER.writeValueAsString(f)).isEqualTo("{\"sentiment\":\"neutral\"}");
  }

  @Test
  void nullOptionalFieldsAreLeftOutOfTheJson() {
    ThreadPrompt p = new ThreadPrompt().withProvider("claude-code").withPrompt("hi");
    assertThat(Examples.MAPPER.<JsonNode>valueToTree(p).toString())
        .isEqualTo("{\"provider\":\"claude-code\",\"prompt\":\"hi\"}");
  }
}
