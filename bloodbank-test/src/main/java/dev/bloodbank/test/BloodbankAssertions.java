package dev.bloodbank.test;

/**
 * Entry point of the assertions on a {@link TestBus}, next to AssertJ's own:
 *
 * <pre>{@code
 * import static dev.bloodbank.test.BloodbankAssertions.assertThat;
 *
 * assertThat(bus).published("shop.order.placed").singleElement()
 *     .satisfies(e -> assertThat(e.payload().get("order_id").asText()).isEqualTo("o-1"));
 * assertThat(bus).consumed("shop.order.placed", 1);
 * assertThat(bus).deadLettered("shop.order.placed").singleElement()
 *     .extracting(DeadLetter::reason).isEqualTo("handler-failed");
 * }</pre>
 */
public final class BloodbankAssertions {
  private BloodbankAssertions() {}

  /**
   * Starts assertions on a bus; each waits up to the bus's {@link TestBus#timeout()}.
   *
   * @param bus the bus
   * @return the assertions
   */
  public static BusAssert assertThat(TestBus bus) {
    return new BusAssert(bus);
  }
}
