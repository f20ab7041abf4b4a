package dev.bloodbank;

/** The RabbitMQ queue type of a subscriber's queues. */
public enum QueueType {
  /** Classic queue: RabbitMQ's default, single node. */
  CLASSIC("classic"),
  /**
   * Quorum queue: replicated (Raft), survives node loss. Declared with an explicit {@code
   * x-delivery-limit} so that a message that keeps crashing its consumer is dead-lettered.
   */
  QUORUM("quorum");

  private final String argument;

  QueueType(String argument) {
    this.argument = argument;
  }

  /**
   * Returns the value of the {@code x-queue-type} argument.
   *
   * @return {@code classic} or {@code quorum}
   */
  public String argument() {
    return argument;
  }
}
