package dev.bloodbank.internal;

/**
 * RabbitMQ's topic matching: words separated by dots, {@code *} matches exactly one word, {@code #}
 * matches zero or more words. Shared by the embedded broker's routing and the client-side filtering
 * of replays, so both match exactly as RabbitMQ does.
 */
public final class TopicMatcher {
  private TopicMatcher() {}

  /**
   * Returns whether a routing key matches a binding pattern.
   *
   * @param pattern the pattern, such as {@code fireflies.#}
   * @param routingKey the routing key
   * @return true on a match
   */
  public static boolean matches(String pattern, String routingKey) {
    return match(pattern.split("\\.", -1), 0, routingKey.split("\\.", -1), 0);
  }

  private static boolean match(String[] p, int i, String[] k, int j) {
    while (i < p.length) {
      String word = p[i];
      if (word.equals("#")) {
        if (i == p.length - 1) {
          return true;
        }
        // '#' takes zero or more words: try every split point.
        for (int skip = j; skip <= k.length; skip++) {
          if (match(p, i + 1, k, skip)) {
            return true;
          }
        }
        return false;
      }
      if (j >= k.length) {
        return false;
      }
      if (!word.equals("*") && !word.equals(k[j])) {
        return false;
      }
      i++;
      j++;
    }
    return j == k.length;
  }
}
