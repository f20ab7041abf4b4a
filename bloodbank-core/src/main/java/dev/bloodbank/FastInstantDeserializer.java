package dev.bloodbank;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.BeanProperty;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.deser.ContextualDeserializer;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.jsontype.TypeDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.datatype.jsr310.deser.InstantDeserializer;
import dev.bloodbank.internal.Rfc3339;
import java.io.IOException;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * The JavaTimeModule's {@link Instant} deserializer with {@link Rfc3339#parse} in front: a string
 * in one of the common shapes is read without a {@code DateTimeFormatter}; anything else, and any
 * property with its own format ({@code @JsonFormat}, config overrides), goes to the module's
 * deserializer as before, so what is accepted and how it fails do not change.
 */
final class FastInstantDeserializer extends StdScalarDeserializer<Instant>
    implements ContextualDeserializer {
  private static final long serialVersionUID = 1L;

  private final InstantDeserializer<Instant> delegate;

  private FastInstantDeserializer(InstantDeserializer<Instant> delegate) {
    super(Instant.class);
    this.delegate = delegate;
  }

  /** A module registering it; add it after the JavaTimeModule. */
  static SimpleModule module() {
    SimpleModule m = new SimpleModule("bloodbank-fast-instant");
    m.addDeserializer(Instant.class, new FastInstantDeserializer(InstantDeserializer.INSTANT));
    return m;
  }

  @Override
  public JsonDeserializer<?> createContextual(
      DeserializationContext ctxt, @Nullable BeanProperty property) throws JsonMappingException {
    JsonDeserializer<?> d = delegate.createContextual(ctxt, property);
    // The module's own instance means the default format: keep the fast path.
    return d == delegate ? this : d;
  }

  @Override
  public Instant deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
    if (p.hasToken(JsonToken.VALUE_STRING)) {
      Instant fast = Rfc3339.parse(p.getText(), false);
      if (fast != null) {
        return fast;
      }
    }
    return delegate.deserialize(p, ctxt);
  }

  @Override
  public LogicalType logicalType() {
    return delegate.logicalType();
  }

  @Override
  public Object deserializeWithType(
      JsonParser p, DeserializationContext ctxt, TypeDeserializer typeDeserializer)
      throws IOException {
    return delegate.deserializeWithType(p, ctxt, typeDeserializer);
  }
}
