package dev.bloodbank.cli;

import dev.bloodbank.archive.ReplayOptions;
import dev.bloodbank.mcp.BloodbankMcp;
import dev.bloodbank.validation.ValidationMode;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code bb mcp}: the bus's MCP server over stdio (issue #22). */
@Command(
    name = "mcp",
    description =
        "Serve the bus's tools and schemas to an MCP client (Model Context Protocol) over"
            + " stdin/stdout, until stdin closes.",
    footer = {
      "",
      "Tools: list_event_types, show_schema, publish_event, publish_llm_prompt,",
      "publish_llm_response, publish_artifact, trace_event, recent_events, dead_letters.",
      "Schemas are resources at bloodbank://schemas/<event_type>.",
      "stdout carries only MCP messages; the broker is connected on the first tool call",
      "that needs it, so the server starts (and its tools say why they fail) while it is down.",
      "",
      "Client configuration (Claude Desktop and others):",
      "  {\"mcpServers\": {\"bloodbank\": {\"command\": \"bb\", \"args\": [\"mcp\"],",
      "    \"env\": {\"RABBIT_URL\": \"amqp://guest:guest@localhost:5672/\"}}}}"
    })
final class McpCommand implements Callable<Integer> {
  @ParentCommand Bb bb;

  @Option(
      names = "--archive-queue",
      description =
          "The archive recent_events replays (default: ${DEFAULT-VALUE}); without it,"
              + " recent_events listens live for a few seconds.")
  String archiveQueue = ReplayOptions.DEFAULT_QUEUE;

  @Override
  public Integer call() throws Exception {
    CountDownLatch eof = new CountDownLatch(1);
    InputStream in = new EofSignal(bb.stdin, eof);
    try (BloodbankMcp mcp =
        BloodbankMcp.builder()
            .connect(bb.options(ValidationMode.STRICT, true))
            .archiveQueue(archiveQueue)
            .serverInfo(BloodbankMcp.DEFAULT_SERVER_NAME, version())
            .build()) {
      McpSyncServer server =
          mcp.serve(new StdioServerTransportProvider(BloodbankMcp.jsonMapper(), in, bb.out));
      // The transport reads stdin on its own thread; the client closing it ends the session.
      eof.await();
      server.closeGracefully();
    }
    return Bb.OK;
  }

  private static String version() {
    Properties p = new Properties();
    try (InputStream in = Bb.class.getResourceAsStream("version.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      // the version is only shown to clients
    }
    return p.getProperty("version", "unknown");
  }

  /** Counts the latch down when the stream ends or is closed. */
  private static final class EofSignal extends FilterInputStream {
    private final CountDownLatch eof;

    EofSignal(InputStream in, CountDownLatch eof) {
      super(in);
      this.eof = eof;
    }

    @Override
    public int read() throws IOException {
      int c = super.read();
      if (c < 0) {
        eof.countDown();
      }
      return c;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n;
      try {
        n = super.read(b, off, len);
      } catch (IOException e) {
        eof.countDown();
        throw e;
      }
      if (n < 0) {
        eof.countDown();
      }
      return n;
    }

    @Override
    public void close() throws IOException {
      eof.countDown();
      super.close();
    }
  }
}
