package dev.bloodbank.examples.springboot;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A Spring Boot service on Bloodbank: it indexes every uploaded transcript ({@link
 * TranscriptIndexer}) and publishes uploads ({@link TranscriptUploads}). Configured in {@code
 * application.properties}; the broker comes from {@code bloodbank.*} properties or, beneath them,
 * from {@code RABBIT_URL}.
 *
 * <p>Run it with {@code ./mvnw -q install -DskipTests && ./mvnw -q -pl examples/spring-boot
 * exec:java} (RabbitMQ on localhost:5672, or {@code RABBIT_URL}); it consumes until stopped, and
 * Ctrl-C lets a running handler finish first.
 */
@SpringBootApplication
public class TranscriptIndexerApplication {
  /**
   * Starts the service.
   *
   * @param args Spring Boot arguments, e.g. {@code --bloodbank.uri=amqp://...}
   */
  public static void main(String[] args) {
    SpringApplication.run(TranscriptIndexerApplication.class, args);
  }
}
