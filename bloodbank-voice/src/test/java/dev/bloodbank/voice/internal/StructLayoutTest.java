package dev.bloodbank.voice.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checks every struct in {@link SherpaOnnxStructs} against the sizes and offsets that {@code
 * src/test/layout-gen/struct_layout.c} printed when compiled against sherpa-onnx 1.13.8's {@code
 * c-api.h} on x86-64 Linux. Pure Java: needs no native library.
 */
class StructLayoutTest {
  private static final String TABLE = "struct-layout-1.13.8.txt";

  /** C struct name to its size and field offsets, in table order. */
  private static final Map<String, CStruct> EXPECTED = new LinkedHashMap<>();

  private static final class CStruct {
    int size = -1;
    final Map<String, Integer> offsets = new LinkedHashMap<>();
  }

  @BeforeAll
  static void readTable() throws IOException {
    // The table holds LP64 numbers; a 32-bit JVM would fail every line for the wrong reason.
    assertThat(Native.POINTER_SIZE).as("pointer size of this JVM").isEqualTo(8);
    try (InputStream in = StructLayoutTest.class.getResourceAsStream(TABLE)) {
      assertThat(in).as("test resource %s", TABLE).isNotNull();
      BufferedReader reader =
          new BufferedReader(
              new InputStreamReader(Objects.requireNonNull(in), StandardCharsets.UTF_8));
      int lineNumber = 0;
      for (String line; (line = reader.readLine()) != null; ) {
        lineNumber++;
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        String[] words = line.trim().split("\\s+");
        if (words.length != 3) {
          throw new IllegalStateException(TABLE + ":" + lineNumber + ": malformed line: " + line);
        }
        int value = Integer.parseInt(words[2]);
        int dot = words[0].indexOf('.');
        if (words[1].equals("size") && dot < 0) {
          EXPECTED.computeIfAbsent(words[0], k -> new CStruct()).size = value;
        } else if (words[1].equals("offset") && dot > 0) {
          EXPECTED
              .computeIfAbsent(words[0].substring(0, dot), k -> new CStruct())
              .offsets
              .put(words[0].substring(dot + 1), value);
        } else {
          throw new IllegalStateException(TABLE + ":" + lineNumber + ": malformed line: " + line);
        }
      }
    }
  }

  static Stream<Class<?>> mappedStructs() {
    return Arrays.stream(SherpaOnnxStructs.class.getDeclaredClasses())
        .filter(Structure.class::isAssignableFrom);
  }

  static String cName(Class<?> struct) {
    return "SherpaOnnx" + struct.getSimpleName();
  }

  static SherpaStruct newInstance(Class<?> struct) throws ReflectiveOperationException {
    return (SherpaStruct) struct.getConstructor().newInstance();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("mappedStructs")
  void sizeAndOffsetsMatchTheHeader(Class<?> struct) throws ReflectiveOperationException {
    String name = cName(struct);
    CStruct expected = EXPECTED.get(name);
    assertThat(expected)
        .as(
            "%s is mapped as %s but missing from %s; add it to struct_layout.c",
            name, struct, TABLE)
        .isNotNull();
    Objects.requireNonNull(expected);

    SherpaStruct instance = newInstance(struct);
    List<String> javaFields =
        Arrays.asList(struct.getAnnotation(Structure.FieldOrder.class).value());
    assertThat(javaFields)
        .as("fields of %s (Java order vs. header order)", name)
        .containsExactlyElementsOf(expected.offsets.keySet());

    List<String> mismatches = new ArrayList<>();
    if (instance.size() != expected.size) {
      mismatches.add(
          String.format("%s size: expected %d, actual %d", name, expected.size, instance.size()));
    }
    for (Map.Entry<String, Integer> field : expected.offsets.entrySet()) {
      int actual = instance.offsetOf(field.getKey());
      if (actual != field.getValue()) {
        mismatches.add(
            String.format(
                "%s.%s offset: expected %d, actual %d",
                name, field.getKey(), field.getValue(), actual));
      }
    }
    assertThat(mismatches).as("layout of %s", name).isEmpty();
  }

  @Test
  void everyStructInTheTableIsMapped() {
    List<String> mapped = mappedStructs().map(StructLayoutTest::cName).toList();
    assertThat(mapped).as("structs mapped in SherpaOnnxStructs").isNotEmpty();
    assertThat(mapped).containsExactlyInAnyOrderElementsOf(EXPECTED.keySet());
  }

  @Test
  void nestedStructsAndStringsAreWrittenIntoTheParentsMemory() {
    SherpaOnnxStructs.OnlineRecognizerConfig config =
        new SherpaOnnxStructs.OnlineRecognizerConfig();
    config.feat_config.sample_rate = 16000;
    config.model_config.transducer.joiner = "/models/joiner.onnx";
    config.model_config.num_threads = 3;
    config.model_config.t_one_ctc.model = "/models/t-one.onnx";
    config.decoding_method = "modified_beam_search";
    config.setHotwordsBuf("ÄRZTIN 2.0\n");
    config.hr.rule_fsts = "/rules/hr.fst";
    config.write();

    CStruct top = EXPECTED.get("SherpaOnnxOnlineRecognizerConfig");
    CStruct model = EXPECTED.get("SherpaOnnxOnlineModelConfig");
    CStruct hr = EXPECTED.get("SherpaOnnxHomophoneReplacerConfig");
    CStruct transducer = EXPECTED.get("SherpaOnnxOnlineTransducerModelConfig");
    Pointer p = config.getPointer();
    int modelAt = top.offsets.get("model_config");
    assertThat(p.getInt(top.offsets.get("feat_config"))).isEqualTo(16000);
    assertThat(
            string(p, modelAt + model.offsets.get("transducer") + transducer.offsets.get("joiner")))
        .isEqualTo("/models/joiner.onnx");
    assertThat(p.getInt(modelAt + model.offsets.get("num_threads"))).isEqualTo(3);
    assertThat(string(p, modelAt + model.offsets.get("t_one_ctc"))).isEqualTo("/models/t-one.onnx");
    assertThat(string(p, top.offsets.get("decoding_method"))).isEqualTo("modified_beam_search");
    assertThat(string(p, top.offsets.get("hotwords_buf"))).isEqualTo("ÄRZTIN 2.0\n");
    assertThat(p.getInt(top.offsets.get("hotwords_buf_size")))
        .isEqualTo("ÄRZTIN 2.0\n".getBytes(StandardCharsets.UTF_8).length);
    assertThat(string(p, top.offsets.get("hr") + hr.offsets.get("rule_fsts")))
        .isEqualTo("/rules/hr.fst");
    assertThat(p.getPointer(top.offsets.get("hotwords_file"))).isNull();
  }

  private static String string(Pointer struct, long offset) {
    Pointer s = struct.getPointer(offset);
    assertThat(s).as("char* at offset %d", offset).isNotNull();
    return s.getString(0, StandardCharsets.UTF_8.name());
  }
}
