package dev.bloodbank.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.Source;
import dev.bloodbank.validation.EventValidator;
import dev.bloodbank.validation.ValidationMode;
import dev.bloodbank.validation.Violation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code bb publish_prompt}: the Python CLI's shortcut for an {@code llm.prompt} event. */
@Command(
    name = "publish_prompt",
    aliases = "publish-prompt",
    description = "Validate and publish an llm.prompt event; prints its event id.",
    footer = {
      "",
      "Examples:",
      "  bb publish_prompt anthropic claude-sonnet-4 'Summarise the meeting'",
      "  git diff | bb publish-prompt openai gpt-5 - --project bloodbank --tag review"
    })
final class PublishPromptCommand implements Callable<Integer> {
  @ParentCommand Bb bb;

  @Parameters(index = "0", paramLabel = "<provider>", description = "Provider, e.g. anthropic.")
  String provider;

  @Parameters(index = "1", paramLabel = "<model>", description = "Model, e.g. claude-sonnet-4.")
  String model;

  @Parameters(
      index = "2",
      paramLabel = "<prompt>",
      description = "The prompt, or - to read it from standard input.")
  String prompt;

  @Option(names = "--project", paramLabel = "P", description = "Project (default: none).")
  @Nullable String project;

  @Option(
      names = "--working-dir",
      paramLabel = "D",
      description = "Working directory (default: the current one).")
  @Nullable Path workingDir;

  @Option(names = "--domain", paramLabel = "D", description = "Domain (default: none).")
  @Nullable String domain;

  @Option(names = "--tag", paramLabel = "T", description = "A tag (repeatable; default: none).")
  List<String> tags = new ArrayList<>();

  @Option(names = "--system-prompt", paramLabel = "S", description = "System prompt.")
  @Nullable String systemPrompt;

  @Option(names = "--temperature", paramLabel = "T", description = "Sampling temperature, 0 to 2.")
  @Nullable Double temperature;

  @Option(names = "--max-tokens", paramLabel = "N", description = "Token limit, at least 1.")
  @Nullable Integer maxTokens;

  @Option(
      names = "--source-app",
      paramLabel = "A",
      description = "Source application (default: bb).")
  String sourceApp = "bb";

  @Override
  public Integer call() throws Exception {
    String text =
        "-".equals(prompt) ? new String(Bb.readAll(bb.stdin), StandardCharsets.UTF_8) : prompt;
    ObjectNode p = bb.codec().objectMapper().createObjectNode();
    p.put("provider", provider);
    p.put("model", model);
    p.put("prompt", text);
    p.put("project", project);
    p.put(
        "working_dir", (workingDir != null ? workingDir : Path.of("")).toAbsolutePath().toString());
    p.put("domain", domain);
    ArrayNode t = p.putArray("tags");
    tags.forEach(t::add);
    if (systemPrompt != null) {
      p.put("system_prompt", systemPrompt);
    }
    if (temperature != null) {
      p.put("temperature", temperature);
    }
    if (maxTokens != null) {
      p.put("max_tokens", maxTokens);
    }
    EventEnvelope<ObjectNode> envelope =
        EventEnvelope.builder("llm.prompt", p).withSource(Source.local(sourceApp)).build();
    List<Violation> violations =
        EventValidator.create(bb.registry(), bb.codec().objectMapper())
            .check(envelope, ValidationMode.STRICT);
    if (!violations.isEmpty()) {
      bb.err.println(
          "bb: event 'llm.prompt' is invalid ("
              + violations.size()
              + " violation"
              + (violations.size() == 1 ? "" : "s")
              + "):");
      for (Violation v : violations) {
        bb.err.println("  " + v.envelopePointer() + ": " + v.message());
      }
      return Bb.INVALID;
    }
    try (Bloodbank bus = bb.connect(ValidationMode.SKIP)) {
      bus.publisher(PublisherOptions.builder().build()).publish(envelope).get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
    bb.out.println(envelope.eventId());
    return Bb.OK;
  }
}
