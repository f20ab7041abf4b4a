package dev.bloodbank;

/**
 * Like {@link EventHandler}, with the {@link DeliveryInfo} of each delivery (attempt number,
 * redelivery flag). Same acknowledgement and failure rules.
 *
 * @param <T> the payload type
 */
@FunctionalInterface
public interface DeliveryHandler<T> {
  /**
   * Handles one event.
   *
   * @param event the decoded, validated event
   * @param delivery how it was delivered
   * @throws Exception to fail this attempt
   */
  void handle(EventEnvelope<T> event, DeliveryInfo delivery) throws Exception;
}
