package dev.bloodbank.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.DeliveryInfo;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Publisher;
import dev.bloodbank.Transport;
import dev.bloodbank.schemas.fireflies.TranscriptUpload;
import dev.bloodbank.test.TestBus;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ConfigurableApplicationContext;

/** {@link BloodbankListener} methods on the embedded broker of a {@link TestBus}. */
class BloodbankListenerTest {
  private TestBus testBus;

  @BeforeEach
  void start() {
    testBus = TestBus.start();
  }

  @AfterEach
  void stop() {
    testBus.close();
  }

  private ApplicationContextRunner runner() {
    return BloodbankAutoConfigurationTest.runner()
        .withBean(
            BloodbankOptionsCustomizer.class,
            () -> o -> o.transport(Transport.embedded(testBus.broker())).serviceName("listeners"));
  }

  private static TranscriptUpload upload(String title) {
    return new TranscriptUpload()
        .withMediaFile("https://files.example/" + title + ".mp3")
        .withTitle(title);
  }

  /** Each parameter shape, one method each. */
  static class Shapes {
    final List<Object> received = new CopyOnWriteArrayList<>();

    @BloodbankListener(patterns = "fireflies.transcript.upload", queue = "shapes-payload")
    void payload(TranscriptUpload upload) {
      received.add("payload:" + upload.getTitle());
    }

    @BloodbankListener(value = "fireflies.transcript.upload", queue = "shapes-envelope")
    void envelope(EventEnvelope<TranscriptUpload> event) {
      received.add("envelope:" + event.eventType() + ":" + event.payload().getTitle());
    }

    @BloodbankListener(patterns = "${test.pattern}", queue = "shapes-json")
    void json(EventEnvelope<?> event) {
      received.add("json:" + ((JsonNode) event.payload()).get("title").asText());
    }

    @BloodbankListener(patterns = "fireflies.transcript.upload", queue = "shapes-delivery")
    void payloadAndDelivery(TranscriptUpload upload, DeliveryInfo delivery) {
      received.add("delivery:" + delivery.attempt() + ":" + delivery.queue());
    }
  }

  @Test
  void everyParameterShapeReceives() {
    runner()
        .withBean(Shapes.class)
        .withPropertyValues("test.pattern=fireflies.transcript.*")
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              ctx.getBean(Publisher.class)
                  .publish("fireflies.transcript.upload", upload("t1"))
                  .join();
              Shapes shapes = ctx.getBean(Shapes.class);
              assertThat(testBus.await(() -> shapes.received.size() == 4)).isTrue();
              assertThat(shapes.received)
                  .containsExactlyInAnyOrder(
                      "payload:t1",
                      "envelope:fireflies.transcript.upload:t1",
                      "json:t1",
                      "delivery:1:shapes-delivery");
            });
  }

  /** Fails until its third attempt for "flaky", always for "poison". */
  static class Failing {
    final List<String> attempts = new CopyOnWriteArrayList<>();

    @BloodbankListener(
        patterns = "fireflies.transcript.upload",
        queue = "failing",
        maxAttempts = 3,
        retryDelays = "20ms")
    void on(TranscriptUpload upload, DeliveryInfo delivery) {
      attempts.add(upload.getTitle() + "#" + delivery.attempt());
      if (upload.getTitle().equals("poison") || delivery.attempt() < 3) {
        throw new IllegalStateException("cannot index " + upload.getTitle());
      }
    }
  }

  @Test
  void failuresAreRetriedThenDeadLettered() {
    runner()
        .withBean(Failing.class)
        .run(
            ctx -> {
              Publisher publisher = ctx.getBean(Publisher.class);
              publisher.publish("fireflies.transcript.upload", upload("flaky")).join();
              publisher.publish("fireflies.transcript.upload", upload("poison")).join();
              Failing failing = ctx.getBean(Failing.class);
              assertThat(testBus.await(() -> testBus.deadLettered().size() == 1)).isTrue();
              assertThat(testBus.deadLettered().get(0).errorMessage())
                  .contains("cannot index poison");
              assertThat(testBus.deadLettered().get(0).attempts()).isEqualTo(3);
              assertThat(failing.attempts)
                  .contains("flaky#1", "flaky#2", "flaky#3", "poison#1", "poison#2", "poison#3");
            });
  }

  static class Slow {
    final CountDownLatch started = new CountDownLatch(1);
    volatile boolean finished;

    @BloodbankListener(patterns = "fireflies.transcript.upload", queue = "slow")
    void on(TranscriptUpload upload) throws InterruptedException {
      started.countDown();
      Thread.sleep(300);
      finished = true;
    }
  }

  @Test
  void closingTheContextLetsRunningHandlersFinish() throws Exception {
    Slow[] slow = new Slow[1];
    runner()
        .withBean(Slow.class)
        .run(
            ctx -> {
              slow[0] = ctx.getBean(Slow.class);
              ctx.getBean(Publisher.class)
                  .publish("fireflies.transcript.upload", upload("s"))
                  .join();
              assertThat(slow[0].started.await(5, TimeUnit.SECONDS)).isTrue();
            });
    assertThat(slow[0].finished).isTrue();
    assertThat(testBus.consumed("fireflies.transcript.upload")).hasSize(1);
  }

  @Test
  void listenersWaitForAutoStartupWhenOff() {
    runner()
        .withBean(Shapes.class)
        .withPropertyValues("test.pattern=x.y", "bloodbank.listener.auto-startup=false")
        .run(
            ctx -> {
              BloodbankListenerRegistrar listeners = ctx.getBean(BloodbankListenerRegistrar.class);
              assertThat(listeners.isRunning()).isFalse();
              assertThat(listeners.endpoints()).hasSize(4);
              ((ConfigurableApplicationContext) ctx)
                  .getBean(BloodbankListenerRegistrar.class)
                  .start();
              assertThat(listeners.health()).hasSize(4);
            });
  }

  /** Lazy connect to a port nothing listens on. */
  static ApplicationContextRunner unreachable() {
    return BloodbankAutoConfigurationTest.runner()
        .withPropertyValues(
            "bloodbank.transport=amqp",
            "bloodbank.lazy-connect=true",
            "bloodbank.addresses=127.0.0.1:1",
            "bloodbank.recovery-interval=200ms");
  }

  @Test
  void lazyConnectStartsTheContextWithoutTheBroker() {
    unreachable()
        .withBean(Shapes.class)
        .withPropertyValues("test.pattern=x.y")
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              BloodbankListenerRegistrar listeners = ctx.getBean(BloodbankListenerRegistrar.class);
              assertThat(listeners.isRunning()).isTrue();
              assertThat(listeners.health()).isEmpty();
              Publisher publisher = ctx.getBean(Publisher.class);
              assertThat(publisher.toString()).contains("Publisher(shared");
              org.assertj.core.api.Assertions.assertThatThrownBy(
                      () -> publisher.publish("fireflies.transcript.upload", upload("l")).join())
                  .isInstanceOf(dev.bloodbank.ConnectionException.class);
            });
  }

  static class WrongParameters {
    @BloodbankListener(patterns = "a.b")
    void on(String first, String second) {}
  }

  static class NoPatterns {
    @BloodbankListener
    void on(TranscriptUpload upload) {}
  }

  static class NoParameters {
    @BloodbankListener(patterns = "a.b")
    void on() {}
  }

  static class BadDelay {
    @BloodbankListener(patterns = "a.b", retryDelays = "soon")
    void on(TranscriptUpload upload) {}
  }

  @Test
  void badAnnotationUseFailsStartupNamingBeanAndMethod() {
    runner()
        .withBean("wrong", WrongParameters.class)
        .run(
            ctx ->
                assertThat(ctx)
                    .getFailure()
                    .hasMessageContaining("WrongParameters.on")
                    .hasMessageContaining("'wrong'")
                    .hasMessageContaining("takes (String, String)"));
    runner()
        .withBean("none", NoPatterns.class)
        .run(
            ctx ->
                assertThat(ctx)
                    .getFailure()
                    .hasMessageContaining("NoPatterns.on")
                    .hasMessageContaining("has no patterns"));
    runner()
        .withBean("empty", NoParameters.class)
        .run(ctx -> assertThat(ctx).getFailure().hasMessageContaining("NoParameters.on"));
    runner()
        .withBean("delay", BadDelay.class)
        .run(
            ctx ->
                assertThat(ctx)
                    .getFailure()
                    .hasMessageContaining("BadDelay.on")
                    .hasMessageContaining("soon"));
  }

  /** Two overloads of one method, each its own listener. */
  static class Overloaded {
    final List<String> received = new CopyOnWriteArrayList<>();

    @BloodbankListener(patterns = "fireflies.transcript.upload", queue = "overload-upload")
    void on(TranscriptUpload upload) {
      received.add("upload:" + upload.getTitle());
    }

    @BloodbankListener(patterns = "llm.prompt", queue = "overload-prompt")
    void on(EventEnvelope<JsonNode> prompt) {
      received.add("prompt:" + prompt.payload().get("prompt").asText());
    }
  }

  @Test
  void overloadedMethodsAreEachAListener() {
    runner()
        .withBean(Overloaded.class)
        .run(
            ctx -> {
              Publisher publisher = ctx.getBean(Publisher.class);
              publisher.publish("fireflies.transcript.upload", upload("t2")).join();
              publisher
                  .publish(
                      "llm.prompt",
                      new com.fasterxml.jackson.databind.ObjectMapper()
                          .readTree("{\"provider\":\"p\",\"prompt\":\"hi\"}"))
                  .join();
              Overloaded o = ctx.getBean(Overloaded.class);
              assertThat(testBus.await(() -> o.received.size() == 2)).isTrue();
              assertThat(o.received).containsExactlyInAnyOrder("upload:t2", "prompt:hi");
            });
  }

  /** Two listeners on the same default queue. */
  static class SameQueue {
    @BloodbankListener(patterns = "fireflies.transcript.upload")
    void first(TranscriptUpload upload) {}

    @BloodbankListener(patterns = "fireflies.transcript.upload")
    void second(TranscriptUpload upload) {}
  }

  @Test
  void twoListenersOnOneQueueStopTheStartup() {
    runner()
        .withBean("same", SameQueue.class)
        .run(
            ctx ->
                assertThat(ctx)
                    .getFailure()
                    .hasStackTraceContaining("would consume the same queue")
                    .hasStackTraceContaining("same.first(TranscriptUpload)")
                    .hasStackTraceContaining("same.second(TranscriptUpload)"));
  }

  @Test
  void listenerBeansStayEagerUnderLazyInitialization() {
    runner()
        .withInitializer(
            ctx ->
                ((org.springframework.context.support.GenericApplicationContext) ctx)
                    .addBeanFactoryPostProcessor(
                        new org.springframework.boot.LazyInitializationBeanFactoryPostProcessor()))
        .withBean(Shapes.class)
        .withPropertyValues("test.pattern=fireflies.transcript.*")
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              ctx.getBean(Publisher.class)
                  .publish("fireflies.transcript.upload", upload("lazy"))
                  .join();
              // Nobody asked for the Shapes bean after startup: it consumed all the same.
              assertThat(
                      testBus.await(
                          () ->
                              testBus.consumed().stream()
                                      .filter(
                                          e -> e.eventType().equals("fireflies.transcript.upload"))
                                      .count()
                                  >= 4))
                  .isTrue();
            });
  }
}
