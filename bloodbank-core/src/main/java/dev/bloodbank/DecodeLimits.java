package dev.bloodbank;

/**
 * Limits applied while decoding untrusted documents, so that a hostile or broken message costs a
 * bounded amount of memory and stack and yields a {@link MalformedEventException} naming the limit.
 *
 * <p>Immutable and thread-safe. Build with {@link #builder()}, or take {@link #defaults()}.
 */
public final class DecodeLimits {
  /** Default largest document: 8 MiB. */
  public static final int DEFAULT_MAX_DOCUMENT_BYTES = 8 * 1024 * 1024;

  /** Default deepest nesting of objects and arrays: 64. */
  public static final int DEFAULT_MAX_NESTING_DEPTH = 64;

  /** Default longest string value: 4 Mi characters. */
  public static final int DEFAULT_MAX_STRING_LENGTH = 4 * 1024 * 1024;

  /** Default longest number: 100 characters. */
  public static final int DEFAULT_MAX_NUMBER_LENGTH = 100;

  /** Default longest object key: 1,024 characters. */
  public static final int DEFAULT_MAX_NAME_LENGTH = 1024;

  private static final DecodeLimits DEFAULTS = builder().build();

  private final int maxDocumentBytes;
  private final int maxNestingDepth;
  private final int maxStringLength;
  private final int maxNumberLength;
  private final int maxNameLength;

  private DecodeLimits(Builder b) {
    this.maxDocumentBytes = b.maxDocumentBytes;
    this.maxNestingDepth = b.maxNestingDepth;
    this.maxStringLength = b.maxStringLength;
    this.maxNumberLength = b.maxNumberLength;
    this.maxNameLength = b.maxNameLength;
  }

  /**
   * Returns the default limits.
   *
   * @return the defaults
   */
  public static DecodeLimits defaults() {
    return DEFAULTS;
  }

  /**
   * Returns a builder starting from the defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the largest document accepted.
   *
   * @return bytes
   */
  public int maxDocumentBytes() {
    return maxDocumentBytes;
  }

  /**
   * Returns the deepest nesting accepted.
   *
   * @return levels of objects and arrays
   */
  public int maxNestingDepth() {
    return maxNestingDepth;
  }

  /**
   * Returns the longest string value accepted.
   *
   * @return characters
   */
  public int maxStringLength() {
    return maxStringLength;
  }

  /**
   * Returns the longest number accepted.
   *
   * @return characters
   */
  public int maxNumberLength() {
    return maxNumberLength;
  }

  /**
   * Returns the longest object key accepted.
   *
   * @return characters
   */
  public int maxNameLength() {
    return maxNameLength;
  }

  @Override
  public String toString() {
    return "DecodeLimits{maxDocumentBytes="
        + maxDocumentBytes
        + ", maxNestingDepth="
        + maxNestingDepth
        + ", maxStringLength="
        + maxStringLength
        + ", maxNumberLength="
        + maxNumberLength
        + ", maxNameLength="
        + maxNameLength
        + "}";
  }

  /** Builds {@link DecodeLimits}. Not thread-safe. */
  public static final class Builder {
    private int maxDocumentBytes = DEFAULT_MAX_DOCUMENT_BYTES;
    private int maxNestingDepth = DEFAULT_MAX_NESTING_DEPTH;
    private int maxStringLength = DEFAULT_MAX_STRING_LENGTH;
    private int maxNumberLength = DEFAULT_MAX_NUMBER_LENGTH;
    private int maxNameLength = DEFAULT_MAX_NAME_LENGTH;

    private Builder() {}

    /**
     * Sets the largest document. Default {@value DecodeLimits#DEFAULT_MAX_DOCUMENT_BYTES} bytes.
     *
     * @param bytes 1 or more
     * @return this builder
     */
    public Builder maxDocumentBytes(int bytes) {
      this.maxDocumentBytes = Config.atLeast("maxDocumentBytes", bytes, 1);
      return this;
    }

    /**
     * Sets the deepest nesting. Default {@value DecodeLimits#DEFAULT_MAX_NESTING_DEPTH}.
     *
     * @param depth 1 to 1000
     * @return this builder
     */
    public Builder maxNestingDepth(int depth) {
      this.maxNestingDepth = Config.inRange("maxNestingDepth", depth, 1, 1000);
      return this;
    }

    /**
     * Sets the longest string value. Default {@value DecodeLimits#DEFAULT_MAX_STRING_LENGTH}.
     *
     * @param chars 1 or more
     * @return this builder
     */
    public Builder maxStringLength(int chars) {
      this.maxStringLength = Config.atLeast("maxStringLength", chars, 1);
      return this;
    }

    /**
     * Sets the longest number. Default {@value DecodeLimits#DEFAULT_MAX_NUMBER_LENGTH}.
     *
     * @param chars 1 or more
     * @return this builder
     */
    public Builder maxNumberLength(int chars) {
      this.maxNumberLength = Config.atLeast("maxNumberLength", chars, 1);
      return this;
    }

    /**
     * Sets the longest object key. Default {@value DecodeLimits#DEFAULT_MAX_NAME_LENGTH}.
     *
     * @param chars 1 or more
     * @return this builder
     */
    public Builder maxNameLength(int chars) {
      this.maxNameLength = Config.atLeast("maxNameLength", chars, 1);
      return this;
    }

    /**
     * Builds the limits.
     *
     * @return the limits
     */
    public DecodeLimits build() {
      return new DecodeLimits(this);
    }
  }
}
