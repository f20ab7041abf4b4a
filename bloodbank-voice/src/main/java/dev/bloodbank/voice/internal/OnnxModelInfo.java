package dev.bloodbank.voice.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What an ONNX file says about itself, read without onnxruntime: the protobuf is walked in Java so
 * that a corrupt or foreign file is reported here, not by a native abort.
 *
 * <p>Only the parts sherpa-onnx depends on are kept: metadata, graph input and output names, the
 * files external initializers point to. Tensor data is skipped by length, so a large model costs
 * one memory mapping and no heap. Immutable.
 */
public final class OnnxModelInfo {
  /** Protobuf messages cannot exceed 2 GiB; larger models keep weights in external files. */
  static final long MAX_FILE_BYTES = Integer.MAX_VALUE;

  private final long irVersion;
  private final String producer;
  private final Map<String, Long> opsets;
  private final Map<String, String> metadata;
  private final List<String> inputs;
  private final List<String> outputs;
  private final Map<String, List<Long>> shapes;
  private final Set<String> externalData;

  private OnnxModelInfo(
      long irVersion,
      String producer,
      Map<String, Long> opsets,
      Map<String, String> metadata,
      List<String> inputs,
      List<String> outputs,
      Map<String, List<Long>> shapes,
      Set<String> externalData) {
    this.irVersion = irVersion;
    this.producer = producer;
    this.opsets = Collections.unmodifiableMap(opsets);
    this.metadata = Collections.unmodifiableMap(metadata);
    this.inputs = List.copyOf(inputs);
    this.outputs = List.copyOf(outputs);
    this.shapes = Collections.unmodifiableMap(shapes);
    this.externalData = Collections.unmodifiableSet(externalData);
  }

  /**
   * Reads a model file.
   *
   * @param file the {@code .onnx} file
   * @return what it declares
   * @throws IOException if the file cannot be read
   * @throws FormatException if it is not a well-formed ONNX model; the message says where
   */
  public static OnnxModelInfo read(Path file) throws IOException, FormatException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size == 0) {
        throw new FormatException("the file is empty");
      }
      if (size > MAX_FILE_BYTES) {
        throw new FormatException(
            "the file is "
                + size
                + " bytes, over the 2 GiB protobuf limit (large models keep weights in external"
                + " data files)");
      }
      MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
      return parse(map);
    }
  }

  /**
   * Parses a model held in memory.
   *
   * @param bytes the serialized {@code ModelProto}
   * @return what it declares
   * @throws FormatException if it is not a well-formed ONNX model
   */
  public static OnnxModelInfo parse(ByteBuffer bytes) throws FormatException {
    Reader r = new Reader(bytes.duplicate());
    long irVersion = -1;
    String producer = "";
    Map<String, Long> opsets = new LinkedHashMap<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    List<String> inputs = new ArrayList<>();
    List<String> outputs = new ArrayList<>();
    Set<String> external = new LinkedHashSet<>();
    Map<String, List<Long>> shapes = new LinkedHashMap<>();
    boolean graph = false;
    while (r.hasMore()) {
      int tag = r.tag();
      int field = tag >>> 3;
      int wire = tag & 7;
      if (field == 1 && wire == 0) {
        irVersion = r.varint();
      } else if (field == 2 && wire == 2) {
        producer = r.string();
      } else if (field == 8 && wire == 2) {
        Reader o = r.message();
        String domain = "";
        long version = 0;
        while (o.hasMore()) {
          int t = o.tag();
          if (t == (1 << 3 | 2)) {
            domain = o.string();
          } else if (t == (2 << 3)) {
            version = o.varint();
          } else {
            o.skip(t);
          }
        }
        opsets.put(domain, version);
      } else if (field == 7 && wire == 2) {
        graph = true;
        readGraph(r.message(), inputs, outputs, shapes, external);
      } else if (field == 14 && wire == 2) {
        String[] entry = entry(r.message());
        metadata.put(entry[0], entry[1]);
      } else {
        r.skip(tag);
      }
    }
    if (irVersion <= 0) {
      throw new FormatException("no ONNX ir_version: this is not an ONNX model");
    }
    if (!graph) {
      throw new FormatException("no graph: this is not an ONNX model");
    }
    if (inputs.isEmpty() || outputs.isEmpty()) {
      throw new FormatException("the graph declares no inputs or no outputs");
    }
    return new OnnxModelInfo(
        irVersion, producer, opsets, metadata, inputs, outputs, shapes, external);
  }

  private static void readGraph(
      Reader g,
      List<String> inputs,
      List<String> outputs,
      Map<String, List<Long>> shapes,
      Set<String> external)
      throws FormatException {
    while (g.hasMore()) {
      int t = g.tag();
      int field = t >>> 3;
      if ((field == 11 || field == 12) && (t & 7) == 2) {
        List<Long> shape = new ArrayList<>();
        String name = valueInfo(g.message(), shape);
        (field == 11 ? inputs : outputs).add(name);
        shapes.put(name, List.copyOf(shape));
      } else if (field == 5 && (t & 7) == 2) {
        readInitializer(g.message(), external);
      } else {
        g.skip(t);
      }
    }
  }

  /** Reads a ValueInfoProto's name and, for a tensor, its dims (-1 where symbolic). */
  private static String valueInfo(Reader v, List<Long> shape) throws FormatException {
    String name = "";
    while (v.hasMore()) {
      int t = v.tag();
      if (t == (1 << 3 | 2)) {
        name = v.string();
      } else if (t == (2 << 3 | 2)) {
        Reader type = v.message();
        while (type.hasMore()) {
          int tt = type.tag();
          if (tt == (1 << 3 | 2)) {
            Reader tensor = type.message();
            while (tensor.hasMore()) {
              int ts = tensor.tag();
              if (ts == (2 << 3 | 2)) {
                Reader dims = tensor.message();
                while (dims.hasMore()) {
                  int d = dims.tag();
                  if (d == (1 << 3 | 2)) {
                    Reader dim = dims.message();
                    long value = -1;
                    while (dim.hasMore()) {
                      int dt = dim.tag();
                      if (dt == (1 << 3)) {
                        value = dim.varint();
                      } else {
                        dim.skip(dt);
                      }
                    }
                    shape.add(value);
                  } else {
                    dims.skip(d);
                  }
                }
              } else {
                tensor.skip(ts);
              }
            }
          } else {
            type.skip(tt);
          }
        }
      } else {
        v.skip(t);
      }
    }
    return name;
  }

  /** Reads a {@code StringStringEntryProto}: key and value, each "" when absent. */
  private static String[] entry(Reader e) throws FormatException {
    String key = "";
    String value = "";
    while (e.hasMore()) {
      int t = e.tag();
      if (t == (1 << 3 | 2)) {
        key = e.string();
      } else if (t == (2 << 3 | 2)) {
        value = e.string();
      } else {
        e.skip(t);
      }
    }
    return new String[] {key, value};
  }

  private static void readInitializer(Reader tensor, Set<String> external) throws FormatException {
    while (tensor.hasMore()) {
      int t = tensor.tag();
      if (t == (13 << 3 | 2)) {
        String[] entry = entry(tensor.message());
        if (entry[0].equals("location")) {
          external.add(entry[1]);
        }
      } else {
        tensor.skip(t);
      }
    }
  }

  /**
   * Returns the ONNX IR version.
   *
   * @return the {@code ir_version}, at least 1
   */
  public long irVersion() {
    return irVersion;
  }

  /**
   * Returns the producer name, e.g. {@code pytorch}.
   *
   * @return the producer, empty when not set
   */
  public String producer() {
    return producer;
  }

  /**
   * Returns the operator sets the model imports, by domain ({@code ""} is the default domain).
   *
   * @return domain to version
   */
  public Map<String, Long> opsets() {
    return opsets;
  }

  /**
   * Returns the model's {@code metadata_props}.
   *
   * @return key to value, in file order
   */
  public Map<String, String> metadata() {
    return metadata;
  }

  /**
   * Returns the graph's input names.
   *
   * @return input names, in file order
   */
  public List<String> inputs() {
    return inputs;
  }

  /**
   * Returns the graph's output names.
   *
   * @return output names, in file order
   */
  public List<String> outputs() {
    return outputs;
  }

  /**
   * Returns the declared shape of a graph input or output.
   *
   * @param name the input or output
   * @return its dims, -1 where symbolic; empty when unknown
   */
  public List<Long> shape(String name) {
    return shapes.getOrDefault(name, List.of());
  }

  /**
   * Returns the files, relative to the model's directory, that external initializers point to.
   *
   * @return external data locations
   */
  public Set<String> externalData() {
    return externalData;
  }

  /** The bytes are not a well-formed ONNX {@code ModelProto}; the message says what and where. */
  public static final class FormatException extends Exception {
    private static final long serialVersionUID = 1L;

    FormatException(String message) {
      super(message);
    }
  }

  /** A bounds-checked protobuf reader over one message. */
  private static final class Reader {
    private final ByteBuffer buf;
    private final long base;

    Reader(ByteBuffer buf) {
      this(buf, 0);
    }

    private Reader(ByteBuffer buf, long base) {
      this.buf = buf;
      this.base = base;
    }

    /** The position in the file, for messages. */
    private long at() {
      return base + buf.position();
    }

    boolean hasMore() {
      return buf.hasRemaining();
    }

    int tag() throws FormatException {
      long at = at();
      long tag = varint();
      int wire = (int) (tag & 7);
      if (tag >>> 3 == 0 || tag > Integer.MAX_VALUE || wire == 3 || wire == 4 || wire > 5) {
        throw new FormatException(
            "invalid protobuf field tag " + tag + " at byte " + at + ": not an ONNX model");
      }
      return (int) tag;
    }

    long varint() throws FormatException {
      long result = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (!buf.hasRemaining()) {
          throw new FormatException("truncated at byte " + at() + " (inside a number)");
        }
        byte b = buf.get();
        result |= (long) (b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
          return result;
        }
      }
      throw new FormatException("malformed varint ending at byte " + at());
    }

    int length() throws FormatException {
      long at = at();
      long len = varint();
      if (len < 0 || len > buf.remaining()) {
        throw new FormatException(
            "a field at byte "
                + at
                + " claims "
                + len
                + " bytes but only "
                + buf.remaining()
                + " remain: the file is truncated or corrupt");
      }
      return (int) len;
    }

    Reader message() throws FormatException {
      int len = length();
      long start = at();
      ByteBuffer slice = buf.slice();
      slice.limit(len);
      buf.position(buf.position() + len);
      return new Reader(slice, start);
    }

    String string() throws FormatException {
      long at = at();
      int len = length();
      ByteBuffer slice = buf.slice();
      slice.limit(len);
      buf.position(buf.position() + len);
      try {
        return StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(slice)
            .toString();
      } catch (CharacterCodingException e) {
        throw new FormatException("a string at byte " + at + " is not valid UTF-8");
      }
    }

    void skip(int tag) throws FormatException {
      switch (tag & 7) {
        case 0 -> varint();
        case 1 -> advance(8);
        case 2 -> advance(length());
        case 5 -> advance(4);
        default -> throw new FormatException("unsupported protobuf wire type " + (tag & 7));
      }
    }

    private void advance(int n) throws FormatException {
      if (n > buf.remaining()) {
        throw new FormatException("truncated at byte " + at());
      }
      buf.position(buf.position() + n);
    }
  }
}
