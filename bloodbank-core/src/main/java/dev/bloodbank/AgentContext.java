package dev.bloodbank;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What is known about the AI agent behind an event: the {@code agent_context} object of an
 * envelope, usually present when {@code source.type} is {@link TriggerType#AGENT}.
 *
 * <p>Immutable and thread-safe. Lists are never null (an absent list reads as empty).
 *
 * @param type the kind of agent
 * @param name the agent's persona or name, or null
 * @param systemPrompt the agent's initial system prompt, or null
 * @param instanceId the agent session's identifier, or null
 * @param mcpServers the MCP servers the agent is connected to
 * @param fileReferences files in the agent's context
 * @param urlReferences URLs in the agent's context
 * @param codeState the git state the agent worked in, or null
 * @param checkpointId the checkpoint, for agents that keep them, or null
 */
public record AgentContext(
    AgentType type,
    @Nullable String name,
    @Nullable String systemPrompt,
    @Nullable String instanceId,
    List<String> mcpServers,
    List<String> fileReferences,
    List<String> urlReferences,
    @Nullable CodeState codeState,
    @Nullable String checkpointId) {

  /** Validates and copies the fields. */
  public AgentContext {
    Objects.requireNonNull(type, "type");
    mcpServers = List.copyOf(mcpServers);
    fileReferences = List.copyOf(fileReferences);
    urlReferences = List.copyOf(urlReferences);
  }

  /**
   * Returns a builder for a context of this agent type.
   *
   * @param type the kind of agent
   * @return a new builder
   */
  public static Builder builder(AgentType type) {
    return new Builder(type);
  }

  /** Builds an {@link AgentContext}. Not thread-safe. */
  public static final class Builder {
    private final AgentType type;
    private @Nullable String name;
    private @Nullable String systemPrompt;
    private @Nullable String instanceId;
    private List<String> mcpServers = List.of();
    private List<String> fileReferences = List.of();
    private List<String> urlReferences = List.of();
    private @Nullable CodeState codeState;
    private @Nullable String checkpointId;

    private Builder(AgentType type) {
      this.type = Objects.requireNonNull(type, "type");
    }

    /**
     * Sets the agent's name. Default: null.
     *
     * @param name the name
     * @return this builder
     */
    public Builder withName(@Nullable String name) {
      this.name = name;
      return this;
    }

    /**
     * Sets the system prompt. Default: null.
     *
     * @param systemPrompt the prompt
     * @return this builder
     */
    public Builder withSystemPrompt(@Nullable String systemPrompt) {
      this.systemPrompt = systemPrompt;
      return this;
    }

    /**
     * Sets the agent session's identifier. Default: null.
     *
     * @param instanceId the identifier
     * @return this builder
     */
    public Builder withInstanceId(@Nullable String instanceId) {
      this.instanceId = instanceId;
      return this;
    }

    /**
     * Sets the connected MCP servers. Default: empty.
     *
     * @param mcpServers the server names
     * @return this builder
     */
    public Builder withMcpServers(List<String> mcpServers) {
      this.mcpServers = List.copyOf(mcpServers);
      return this;
    }

    /**
     * Sets the files in the agent's context. Default: empty.
     *
     * @param fileReferences the paths
     * @return this builder
     */
    public Builder withFileReferences(List<String> fileReferences) {
      this.fileReferences = List.copyOf(fileReferences);
      return this;
    }

    /**
     * Sets the URLs in the agent's context. Default: empty.
     *
     * @param urlReferences the URLs
     * @return this builder
     */
    public Builder withUrlReferences(List<String> urlReferences) {
      this.urlReferences = List.copyOf(urlReferences);
      return this;
    }

    /**
     * Sets the git state. Default: null.
     *
     * @param codeState the snapshot
     * @return this builder
     */
    public Builder withCodeState(@Nullable CodeState codeState) {
      this.codeState = codeState;
      return this;
    }

    /**
     * Sets the checkpoint identifier. Default: null.
     *
     * @param checkpointId the checkpoint
     * @return this builder
     */
    public Builder withCheckpointId(@Nullable String checkpointId) {
      this.checkpointId = checkpointId;
      return this;
    }

    /**
     * Builds the context.
     *
     * @return the context
     */
    public AgentContext build() {
      return new AgentContext(
          type,
          name,
          systemPrompt,
          instanceId,
          mcpServers,
          fileReferences,
          urlReferences,
          codeState,
          checkpointId);
    }
  }
}
