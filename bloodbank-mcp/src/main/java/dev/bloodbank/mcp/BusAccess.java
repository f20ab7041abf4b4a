package dev.bloodbank.mcp;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankException;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.correlation.CorrelationTracker;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The bus the tools use: one given, or one connected on first use and again after a failed attempt,
 * so that the MCP server runs (and says why tools fail) while the broker is down. Thread-safe.
 */
final class BusAccess implements AutoCloseable {
  private final @Nullable Bloodbank given;
  private final @Nullable BloodbankOptions options;
  private @Nullable Bloodbank owned; // guarded by this
  private boolean closed; // guarded by this

  private BusAccess(@Nullable Bloodbank given, @Nullable BloodbankOptions options) {
    this.given = given;
    this.options = options;
  }

  static BusAccess given(Bloodbank bus) {
    return new BusAccess(bus, null);
  }

  static BusAccess connecting(BloodbankOptions options) {
    return new BusAccess(null, options);
  }

  /**
   * The bus, connecting it when needed; a connection attempt waits at most the options' connection
   * timeout.
   *
   * @throws dev.bloodbank.ConnectionException when the broker cannot be reached
   */
  Bloodbank get() {
    if (given != null) {
      if (!given.isOpen()) {
        throw new BloodbankException("the bus is closed");
      }
      return given;
    }
    synchronized (this) {
      if (closed) {
        throw new BloodbankException("the MCP server is closed");
      }
      if (owned == null) {
        owned = Bloodbank.connect(options);
      }
      return owned;
    }
  }

  /** The bus's causation tracker, connecting the bus when needed. */
  Optional<CorrelationTracker> tracker() {
    return get().correlationTracker();
  }

  @Override
  public void close() {
    Bloodbank b;
    synchronized (this) {
      closed = true;
      b = owned;
      owned = null;
    }
    if (b != null) {
      b.close();
    }
  }
}
