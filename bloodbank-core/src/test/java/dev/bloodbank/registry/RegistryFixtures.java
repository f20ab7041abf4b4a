package dev.bloodbank.registry;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * Shared fixtures of the registry and validation tests: small catalogs under {@code
 * src/test/resources/registry/<name>/}, each seen through its own class loader (so they never leak
 * into other tests' classpath), and their payload classes.
 *
 * <p>{@code fixture-a}: events {@code shop.order.placed} (typed, {@code $ref}s a common schema),
 * {@code shop.order.cancel} (a command), {@code shop.stock.low} (payload class not loadable) and
 * {@code billing.invoice.sent} (no class, no domain), plus an envelope schema; schema ids under
 * {@code https://schemas.example.com/}, which is not reachable. {@code fixture-b}: two index
 * documents in one resource. {@code fixture-bad}: an entry without {@code event_type}.
 */
public final class RegistryFixtures {
  /** Money, as {@code common/money.v1}. */
  public record Money(double amount, String currency) {}

  /** Payload of {@code shop.order.placed}. */
  public record OrderPlaced(UUID orderId, int quantity, Money total, @Nullable String note) {}

  /** Payload of the command {@code shop.order.cancel}. */
  public record CancelOrder(UUID orderId, String reason) {}

  /** A valid order. */
  public static final OrderPlaced ORDER =
      new OrderPlaced(
          UUID.fromString("550e8400-e29b-41d4-a716-446655440000"), 2, new Money(19.5, "EUR"), null);

  private RegistryFixtures() {}

  /** A class loader that sees the named fixture directories (and, through its parent, classes). */
  public static ClassLoader loader(String... fixtures) {
    List<URL> urls = new ArrayList<>();
    for (String f : fixtures) {
      URL u = RegistryFixtures.class.getClassLoader().getResource("registry/" + f + "/");
      if (u == null) {
        throw new IllegalArgumentException("no fixture registry/" + f);
      }
      urls.add(u);
    }
    // Parent is the platform loader for resources, so the test classpath's own resources (e.g. a
    // catalog of bloodbank-schemas) stay out; classes come from the test loader.
    ClassLoader classes = RegistryFixtures.class.getClassLoader();
    return new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader()) {
      @Override
      protected Class<?> findClass(String name) throws ClassNotFoundException {
        return classes.loadClass(name);
      }
    };
  }

  /** The registry of {@code fixture-a}. */
  public static EventRegistry registry() {
    return EventRegistry.fromClasspath(loader("fixture-a"));
  }
}
