package dev.bloodbank.server.internal;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.mcp.BloodbankMcp;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import java.util.EnumSet;
import java.util.Map;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;

/**
 * {@code /mcp}: bloodbank-mcp's tools and schemas on the MCP SDK's Streamable HTTP servlet, mounted
 * beside Javalin's servlet on the same Jetty. A filter of the gateway checks the API key first
 * (scope {@code read}) and records whether the key may also publish; the publishing tools refuse a
 * key without {@code publish}. Thread-safe.
 */
final class McpEndpoint implements AutoCloseable {
  static final String PATH = "/mcp";

  /** Request attribute set by the gateway's filter: whether the caller may publish. */
  static final String PUBLISH_ATTRIBUTE = "dev.bloodbank.server.mcp.publish";

  private static final String PUBLISH = "bloodbank.publish";

  private final HttpServletStreamableServerTransportProvider transport;
  private final McpSyncServer server;

  McpEndpoint(Bloodbank bus) {
    this.transport =
        HttpServletStreamableServerTransportProvider.builder()
            .jsonMapper(BloodbankMcp.jsonMapper())
            .mcpEndpoint(PATH)
            // The SDK sweeps idle sessions on a non-daemon single-thread scheduler that its close
            // never disposes: the thread outlived the server and kept an embedding JVM from
            // exiting. Without the sweep, a session whose client vanished without DELETE stays
            // until the server closes (as in MCP SDKs before 2.2).
            .sessionSweepInterval(null)
            .contextExtractor(
                request ->
                    McpTransportContext.create(
                        Map.of(
                            PUBLISH, Boolean.TRUE.equals(request.getAttribute(PUBLISH_ATTRIBUTE)))))
            .build();
    this.server =
        BloodbankMcp.builder()
            .bus(bus)
            .publishAllowed(context -> Boolean.TRUE.equals(context.get(PUBLISH)))
            .build()
            .serve(transport);
  }

  /** Adds the servlet at {@value #PATH} behind the guard. */
  void mount(ServletContextHandler handler, Filter guard) {
    ServletHolder holder = new ServletHolder("mcp", transport);
    // The transport streams answers as Server-Sent Events from its own threads.
    holder.setAsyncSupported(true);
    handler.addServlet(holder, PATH);
    FilterHolder filter = new FilterHolder(guard);
    filter.setAsyncSupported(true);
    handler.addFilter(filter, PATH, EnumSet.of(DispatcherType.REQUEST));
  }

  /**
   * Ends the MCP sessions; before Jetty stops, so that their streams do not hold it up. Gracefully
   * for at most {@link #CLOSE_TIMEOUT}, then at once: the SDK's own graceful close has no deadline.
   */
  @Override
  public void close() {
    try {
      server.getAsyncServer().closeGracefully().block(CLOSE_TIMEOUT);
    } catch (RuntimeException e) {
      server.close();
    }
  }

  /** The longest {@link #close()} lets sessions end on their own. */
  static final java.time.Duration CLOSE_TIMEOUT = java.time.Duration.ofSeconds(5);
}
