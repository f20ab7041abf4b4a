package dev.bloodbank.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.command.CommandClient;
import dev.bloodbank.command.CommandContext;
import dev.bloodbank.command.CommandProcessor;
import dev.bloodbank.command.EventCollector;
import dev.bloodbank.command.Invokable;
import dev.bloodbank.schemas.agent.ThreadPrompt;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Scope;

/** The command processor and client beans. */
class BloodbankCommandsTest {

  /** A command bound through bloodbank.commands.invokables. */
  public static class Echo extends ThreadPrompt implements Invokable<String> {
    @Override
    public String execute(CommandContext context, EventCollector events) {
      return "echo: " + getPrompt();
    }
  }

  /** A command bound because the context declares it as a (prototype) bean. */
  public static class Shout extends ThreadPrompt implements Invokable<String> {
    @Override
    public String execute(CommandContext context, EventCollector events) {
      return getPrompt().toUpperCase(java.util.Locale.ROOT);
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class ShoutBean {
    @Bean
    @Scope("prototype")
    Shout shout() {
      return new Shout();
    }
  }

  private static ThreadPrompt prompt(String text) {
    return new ThreadPrompt().withProvider("fake").withModel("m").withPrompt(text);
  }

  @Test
  void noProcessorUnlessEnabled() {
    BloodbankAutoConfigurationTest.runner()
        .run(ctx -> assertThat(ctx).doesNotHaveBean(CommandProcessor.class));
  }

  @Test
  void processorExecutesClassesFromProperties() {
    BloodbankAutoConfigurationTest.runner()
        .withPropertyValues(
            "bloodbank.commands.enabled=true",
            "bloodbank.commands.invokables=" + Echo.class.getName(),
            "bloodbank.commands.concurrency=2",
            "bloodbank.commands.max-attempts=2",
            "bloodbank.commands.retry-delays=10ms",
            "bloodbank.commands.queue-name=test-commands")
        .run(
            ctx -> {
              CommandProcessor processor = ctx.getBean(CommandProcessor.class);
              assertThat(processor.subscriber().queueName()).isEqualTo("test-commands");
              String answer =
                  ctx.getBean(CommandClient.class)
                      .send(
                          "agent.thread.prompt", prompt("hi"), String.class, Duration.ofSeconds(5))
                      .get();
              assertThat(answer).isEqualTo("echo: hi");
            });
  }

  @Test
  void processorExecutesInvokableBeansAndExplicitBindings() {
    BloodbankAutoConfigurationTest.runner()
        .withPropertyValues("bloodbank.commands.enabled=true")
        .withUserConfiguration(ShoutBean.class)
        .run(
            ctx ->
                assertThat(
                        ctx.getBean(CommandClient.class)
                            .send(
                                "agent.thread.prompt",
                                prompt("hi"),
                                String.class,
                                Duration.ofSeconds(5))
                            .get())
                    .isEqualTo("HI"));
    BloodbankAutoConfigurationTest.runner()
        .withPropertyValues(
            "bloodbank.commands.enabled=true",
            "bloodbank.commands.bindings[agent.thread.prompt]=" + Echo.class.getName())
        .run(
            ctx ->
                assertThat(
                        ctx.getBean(CommandClient.class)
                            .send(
                                "agent.thread.prompt",
                                prompt("yo"),
                                String.class,
                                Duration.ofSeconds(5))
                            .get())
                    .isEqualTo("echo: yo"));
  }

  @Test
  void classThatIsNotACommandFailsStartup() {
    BloodbankAutoConfigurationTest.runner()
        .withPropertyValues(
            "bloodbank.commands.enabled=true", "bloodbank.commands.invokables=java.lang.String")
        .run(
            ctx ->
                assertThat(ctx)
                    .getFailure()
                    .hasStackTraceContaining("java.lang.String does not implement Invokable"));
  }

  /** A prototype declared by its interface: its command type cannot be known in advance. */
  static class InterfaceTypedBean {
    @Bean
    @Scope("prototype")
    Invokable<String> shout() {
      return new Shout();
    }
  }

  @Test
  void anInvokableBeanDeclaredByItsInterfaceIsNamedInTheFailure() {
    BloodbankAutoConfigurationTest.runner()
        .withPropertyValues("bloodbank.commands.enabled=true")
        .withUserConfiguration(InterfaceTypedBean.class)
        .run(
            ctx ->
                assertThat(ctx)
                    .getFailure()
                    .hasStackTraceContaining("Invokable bean 'shout' is declared as")
                    .hasStackTraceContaining("concrete Invokable class as return type"));
  }
}
