package dev.bloodbank.server.internal;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.Publisher;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.internal.LogSafe;
import dev.bloodbank.server.ApiKeys;
import dev.bloodbank.server.Scope;
import dev.bloodbank.server.ServerOptions;
import dev.bloodbank.validation.ValidationMode;
import dev.bloodbank.voice.Transcriber;
import io.javalin.Javalin;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import io.javalin.http.sse.SseClient;
import io.javalin.http.staticfiles.Location;
import io.javalin.security.RouteRole;
import io.javalin.websocket.WsConfig;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.api.Callback;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's HTTP side: routes, authentication, rate limits, request ids, the access log, and an
 * orderly stop. Built and owned by {@link dev.bloodbank.server.BloodbankServer}.
 */
public final class Gateway implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);
  private static final Logger ACCESS = LoggerFactory.getLogger("dev.bloodbank.server.access");

  static final String CLIENT_ATTRIBUTE = "bloodbank.client";
  static final String REQUEST_ID_ATTRIBUTE = "bloodbank.requestId";
  static final String REQUEST_ID_HEADER = "X-Request-Id";
  private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

  /** The prefix every JSON route also answers under. */
  public static final String V1 = "/v1";

  private final ServerOptions options;
  private final Bloodbank bus;
  private final @Nullable Transcriber transcriber;
  private final Publisher publisher;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final RateLimiter limiter;
  private final TailHub tail;
  private final McpEndpoint mcp;
  private final @Nullable AsrEndpoint asr;
  private final @Nullable ServerMetrics metrics;
  private final List<Route> routes = new CopyOnWriteArrayList<>();
  private final Javalin app;
  private volatile boolean draining;
  private final Health health;
  // Javalin's own pool for async work has non-daemon threads it never stops: an application that
  // closed the server would wait a minute to exit. Ours is stopped by close().
  private final java.util.concurrent.ExecutorService asyncPool =
      java.util.concurrent.Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "bloodbank-server-async");
            t.setDaemon(true);
            return t;
          });
  // RabbitMQ tells a connection about an alarm only when it publishes: ask once a second, so
  // readiness and publishes see an alarm before anyone publishes into it.
  private final java.util.concurrent.ScheduledExecutorService probe =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "bloodbank-server-probe");
            t.setDaemon(true);
            return t;
          });

  /** A registered route, for the OpenAPI check. */
  public record Route(String method, String path, @Nullable Scope scope) {}

  private record ScopeRole(Scope scope) implements RouteRole {}

  /**
   * Javalin's pool (8 to 250 threads, same name) without Jetty's reserved threads: with a reserved
   * thread the selector hands each request to a parked thread and wakes another to select, two
   * thread switches per request. Without them the server's CPU per published request fell from
   * about 187 to 151 µs in the load harness, at the same throughput.
   */
  private static QueuedThreadPool threadPool() {
    QueuedThreadPool pool = new QueuedThreadPool(250, 8);
    pool.setName("JettyServerThreadPool");
    pool.setReservedThreads(0);
    return pool;
  }

  /**
   * Builds the routes and starts listening.
   *
   * @param metrics where requests are timed and {@code /metrics} scrapes, or null when off
   * @param keyStorePassword the TLS keystore's password, or null without TLS
   */
  public Gateway(
      ServerOptions options,
      Bloodbank bus,
      @Nullable Transcriber transcriber,
      @Nullable ServerMetrics metrics,
      char @Nullable [] keyStorePassword) {
    this.options = options;
    this.bus = bus;
    this.transcriber = transcriber;
    this.metrics = metrics;
    this.publisher =
        bus.publisher(
            PublisherOptions.builder()
                .validation(ValidationMode.SKIP) // validated here first, to answer 422
                .confirmTimeout(options.publishTimeout())
                .maxAttempts(1)
                .build());
    this.limiter = new RateLimiter(options.rateLimit());
    this.mcp = new McpEndpoint(bus);
    this.tail =
        new TailHub(bus, options.tailBuffer(), options.maxTailClients(), options.maxTailPatterns());
    this.asr = transcriber == null ? null : new AsrEndpoint(transcriber, options.maxAsrSessions());
    EventsApi events =
        new EventsApi(bus, publisher, options.validation(), options.maxBodyBytes(), inFlight);
    CausationApi causation = new CausationApi(bus);
    Health health = new Health(bus, transcriber, () -> draining);
    this.health = health;

    this.app =
        Javalin.create(
            config -> {
              config.startup.showJavalinBanner = false;
              config.jetty.threadPool = threadPool();
              config.concurrency.executor =
                  kotlin.LazyKt.lazy(() -> new io.javalin.http.util.AsyncExecutor(asyncPool));
              config.startup.showOldJavalinVersionWarning = false;
              config.http.maxRequestSize = options.maxBodyBytes();
              config.jetty.addConnector(
                  (server, http) -> {
                    http.setSendServerVersion(false);
                    ServerConnector c =
                        options.keyStore() == null
                            ? new ServerConnector(server, new HttpConnectionFactory(http))
                            : new ServerConnector(
                                server,
                                tls(options.keyStore(), keyStorePassword),
                                new HttpConnectionFactory(http));
                    c.setHost(options.host());
                    c.setPort(options.port());
                    c.setIdleTimeout(options.idleTimeout().toMillis());
                    return c;
                  });
              config.jetty.modifyServer(
                  s -> s.setStopTimeout(options.shutdownTimeout().toMillis()));
              // The MCP SDK's servlet beside Javalin's, behind the same keys (McpGuard).
              config.jetty.modifyServletContextHandler(h -> mcp.mount(h, new McpGuard()));
              config.jetty.modifyWebSocketServletFactory(
                  f -> {
                    f.setIdleTimeout(options.idleTimeout());
                    f.setMaxBinaryMessageSize(options.maxFrameBytes());
                    f.setMaxTextMessageSize(options.maxFrameBytes());
                  });
              if (!options.corsOrigins().isEmpty()) {
                config.bundledPlugins.enableCors(
                    cors ->
                        cors.addRule(
                            rule -> {
                              if (options.corsOrigins().contains("*")) {
                                rule.anyHost();
                              } else {
                                for (String o : options.corsOrigins()) {
                                  rule.allowHost(o);
                                }
                              }
                              rule.exposeHeader(REQUEST_ID_HEADER);
                            }));
              }
              config.staticFiles.add(
                  files -> {
                    files.hostedPath = "/";
                    files.directory = "/dev/bloodbank/server/public";
                    files.location = Location.CLASSPATH;
                  });
              config.requestLogger.http(this::finished);

              var r = config.routes;
              r.before(this::requestId);
              r.beforeMatched(this::guard);
              r.exception(ApiError.class, (e, ctx) -> sendError(ctx, e));
              r.exception(
                  Exception.class,
                  (e, ctx) -> {
                    LOG.error("request {} failed", ctx.attribute(REQUEST_ID_ATTRIBUTE), e);
                    sendError(
                        ctx, new ApiError(500, "internal", "internal error; see the server log"));
                  });
              r.error(
                  404,
                  ctx -> {
                    String type = ctx.res().getContentType();
                    if (type == null || !type.startsWith(Json.CONTENT_TYPE)) {
                      sendError(
                          ctx,
                          ApiError.notFound(
                              "not_found",
                              "no route for "
                                  + ctx.method()
                                  + " "
                                  + LogSafe.escape(ctx.path())
                                  + "; GET /openapi.json lists the routes"));
                    }
                  });

              http(r, HandlerType.GET, "/health", null, health::alive);
              http(r, HandlerType.GET, "/healthz", null, health::ready);
              http(r, HandlerType.GET, "/openapi.json", null, Gateway::openApi);
              // Registered when metrics are off too, to answer with a 404 that says why.
              http(r, HandlerType.GET, "/metrics", Scope.READ, this::metrics);
              http(r, HandlerType.GET, "/events", Scope.READ, events::catalog);
              http(r, HandlerType.GET, "/events/{event_type}/schema", Scope.READ, events::schema);
              // Before /events/{event_type}, so "custom" is not taken for an event type.
              http(
                  r,
                  HandlerType.POST,
                  "/events/custom",
                  Scope.PUBLISH,
                  ctx -> events.publishCustom(ctx, client(ctx)));
              http(
                  r,
                  HandlerType.POST,
                  "/events/{event_type}",
                  Scope.PUBLISH,
                  ctx -> events.publishTyped(ctx, client(ctx)));
              http(r, HandlerType.GET, "/correlation/{event_id}", Scope.READ, causation::graph);
              http(
                  r,
                  HandlerType.GET,
                  "/debug/correlation/{event_id}/chain",
                  Scope.READ,
                  causation::chain);
              http(
                  r,
                  HandlerType.GET,
                  "/debug/correlation/{event_id}/dump",
                  Scope.READ,
                  causation::dump);
              for (String p : List.of("/events/stream", V1 + "/events/stream")) {
                // Checked after the key and before the stream's 200 and headers go out.
                r.beforeMatched(p, ctx -> tail.check(pattern(ctx.queryParam("pattern"))));
                r.sse(p, this::sse, new ScopeRole(Scope.READ));
              }
              routes.add(new Route("get", "/events/stream", Scope.READ));
              for (String p : List.of("/events/ws", V1 + "/events/ws")) {
                r.wsBeforeUpgrade(
                    p,
                    ctx -> {
                      upgrade(ctx, Scope.READ);
                      tail.check(pattern(ctx.queryParam("pattern")));
                    });
                r.ws(p, this::tailSocket);
              }
              routes.add(new Route("ws", "/events/ws", Scope.READ));
              if (asr != null) {
                for (String p : List.of("/asr", V1 + "/asr")) {
                  r.wsBeforeUpgrade(
                      p,
                      ctx -> {
                        upgrade(ctx, Scope.ASR);
                        if (asr.sessionCount() >= options.maxAsrSessions()) {
                          throw ApiError.unavailable(
                              "too_many_sessions",
                              "the server already runs "
                                  + options.maxAsrSessions()
                                  + " speech sessions");
                        }
                      });
                  r.ws(p, asr::configure);
                }
                routes.add(new Route("ws", "/asr", Scope.ASR));
              }
            });
    app.start();
    probe.scheduleWithFixedDelay(
        () -> {
          bus.probeBlocked();
          health.refreshRedis();
        },
        0,
        1,
        TimeUnit.SECONDS);
  }

  private void http(
      RoutesConfig r, HandlerType method, String path, @Nullable Scope scope, Handler h) {
    RouteRole[] roles = scope == null ? new RouteRole[0] : new RouteRole[] {new ScopeRole(scope)};
    r.addHttpHandler(method, path, h, roles);
    r.addHttpHandler(method, V1 + path, h, roles);
    routes.add(new Route(method.name().toLowerCase(java.util.Locale.ROOT), path, scope));
  }

  /** The routes, each also under {@value #V1}. */
  public List<Route> routes() {
    return List.copyOf(routes);
  }

  /** The port the server listens on. */
  public int port() {
    return app.port();
  }

  /** Live-tail clients now. */
  public int tailClients() {
    return tail.clientCount();
  }

  private static SslContextFactory.Server tls(Path keyStore, char @Nullable [] password) {
    SslContextFactory.Server ssl = new SslContextFactory.Server();
    ssl.setKeyStorePath(keyStore.toString());
    if (password != null) {
      ssl.setKeyStorePassword(new String(password));
    }
    return ssl;
  }

  private static void openApi(Context ctx) throws IOException {
    try (InputStream in = Gateway.class.getResourceAsStream("/dev/bloodbank/server/openapi.json")) {
      if (in == null) {
        throw new IllegalStateException("openapi.json is missing from the jar");
      }
      ctx.contentType(Json.CONTENT_TYPE).result(in.readAllBytes());
    }
  }

  /** {@code GET /metrics}: every meter, for Prometheus. */
  private void metrics(Context ctx) {
    if (metrics == null) {
      throw ApiError.notFound(
          "metrics_off",
          "metrics are off on this server (BLOODBANK_SERVER_METRICS=false or"
              + " server.metrics=false)");
    }
    ServerMetrics.Scrape s = metrics.scrape(ctx.header("Accept"));
    ctx.contentType(s.contentType()).result(s.body());
  }

  private void requestId(Context ctx) {
    String given = ctx.header(REQUEST_ID_HEADER);
    String id =
        given != null && REQUEST_ID.matcher(given).matches() ? given : UUID.randomUUID().toString();
    ctx.attribute(REQUEST_ID_ATTRIBUTE, id);
    ctx.header(REQUEST_ID_HEADER, id);
  }

  /** Draining, authentication, scope and rate limit, for every matched HTTP route. */
  private void guard(Context ctx) {
    Scope scope = null;
    for (RouteRole role : ctx.routeRoles()) {
      if (role instanceof ScopeRole s) {
        scope = s.scope();
      }
    }
    if (scope == null) {
      return; // health, OpenAPI, static files
    }
    if (draining) {
      throw ApiError.unavailable("shutting_down", "the server is shutting down");
    }
    checkHost(ctx.header("Host"));
    if (ctx.method() == HandlerType.POST) {
      // A web page can send a "simple" cross-origin POST (a form, text/plain) without asking:
      // only JSON is taken, which browsers send cross-origin only after a CORS preflight.
      String type = ctx.header("Content-Type");
      if (type != null && !isJson(type)) {
        throw new ApiError(
            415,
            "unsupported_media_type",
            "send the body as Content-Type: application/json, was '" + LogSafe.escape(type) + "'");
      }
      String origin = ctx.header("Origin");
      if (origin != null
          && !options.corsOrigins().contains("*")
          && !options.corsOrigins().contains(origin)
          && !sameOrigin(origin, ctx.header("Host"))) {
        throw new ApiError(
            403,
            "origin_not_allowed",
            "requests from origin '"
                + LogSafe.escape(origin)
                + "' are not allowed; add it to BLOODBANK_SERVER_CORS_ORIGINS");
      }
    }
    // Browsers' EventSource cannot send headers: a key in the query string, for the stream only.
    boolean streaming = ctx.method() == HandlerType.GET && ctx.path().endsWith("/events/stream");
    String client =
        authenticate(
            ctx.header("Authorization"),
            ctx.queryParam("access_token"),
            streaming,
            scope,
            ctx.ip());
    ctx.attribute(CLIENT_ATTRIBUTE, client);
    long wait = limiter.acquire(client);
    if (wait > 0) {
      Duration d = Duration.ofNanos(wait);
      ctx.header("Retry-After", String.valueOf(Math.max(1, (d.toMillis() + 999) / 1000)));
      throw new ApiError(
          429,
          "rate_limited",
          "more than " + options.rateLimit() + " requests per second from " + client,
          List.of(),
          d);
    }
  }

  /**
   * Finds the caller's key and checks its scope.
   *
   * @return the key's name, or {@code anonymous@<address>} when the server has no keys
   */
  private String authenticate(
      @Nullable String authorization,
      @Nullable String accessToken,
      boolean tokenInQueryAllowed,
      Scope scope,
      String ip) {
    ApiKeys keys = options.apiKeys();
    if (keys.isEmpty()) {
      return "anonymous@" + ip;
    }
    String secret = null;
    if (authorization != null) {
      if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
        throw unauthorized("the Authorization header must be 'Bearer <api key>'");
      }
      secret = authorization.substring(7).strip();
    } else if (accessToken != null && tokenInQueryAllowed) {
      secret = accessToken;
    }
    if (secret == null || secret.isEmpty()) {
      throw unauthorized("an API key is required: send 'Authorization: Bearer <api key>'");
    }
    Optional<ApiKeys.Key> key = keys.find(secret);
    if (key.isEmpty()) {
      throw unauthorized("the API key is not valid");
    }
    if (!key.get().allows(scope)) {
      throw new ApiError(
          403,
          "forbidden",
          "the API key '"
              + key.get().name()
              + "' lacks the '"
              + scope.configName()
              + "' scope this route needs");
    }
    return key.get().name();
  }

  private static ApiError unauthorized(String message) {
    return new ApiError(401, "unauthorized", message);
  }

  /** Checks a WebSocket upgrade: not draining, the key, the Origin, the rate limit. */
  private void upgrade(Context ctx, Scope scope) {
    if (draining) {
      throw ApiError.unavailable("shutting_down", "the server is shutting down");
    }
    checkHost(ctx.header("Host"));
    String origin = ctx.header("Origin");
    if (origin != null && !originAllowed(origin, ctx.header("Host"))) {
      throw new ApiError(
          403,
          "origin_not_allowed",
          "WebSocket connections from origin '"
              + LogSafe.escape(origin)
              + "' are not allowed; add it to BLOODBANK_SERVER_WEBSOCKET_ORIGINS");
    }
    String client =
        authenticate(
            ctx.header("Authorization"), ctx.queryParam("access_token"), true, scope, ctx.ip());
    ctx.attribute(CLIENT_ATTRIBUTE, client);
    long wait = limiter.acquire(client);
    if (wait > 0) {
      throw new ApiError(
          429,
          "rate_limited",
          "too many connections from " + client,
          List.of(),
          Duration.ofNanos(wait));
    }
  }

  private boolean originAllowed(String origin, @Nullable String host) {
    List<String> allowed = options.webSocketOrigins();
    return allowed.contains("*") || allowed.contains(origin) || sameOrigin(origin, host);
  }

  private static boolean sameOrigin(String origin, @Nullable String host) {
    try {
      URI u = URI.create(origin);
      String hostPort = u.getPort() < 0 ? u.getHost() : u.getHost() + ":" + u.getPort();
      return host != null && host.equalsIgnoreCase(hostPort);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static boolean isJson(String contentType) {
    String t = contentType.split(";", 2)[0].strip().toLowerCase(java.util.Locale.ROOT);
    return t.equals("application/json") || t.endsWith("+json");
  }

  /**
   * Without keys, only loopback names are taken in {@code Host}: a page that rebinds its own name
   * to 127.0.0.1 (DNS rebinding) would otherwise pass as same-origin and reach an open server.
   */
  private void checkHost(@Nullable String host) {
    if (host == null || !options.apiKeys().isEmpty() || options.allowAnonymous()) {
      return;
    }
    String name =
        host.startsWith("[") ? host.substring(0, host.indexOf(']') + 1) : host.split(":", 2)[0];
    name = name.toLowerCase(java.util.Locale.ROOT);
    if (name.equals("localhost")
        || name.equals("127.0.0.1")
        || name.equals("[::1]")
        || name.equals(options.host().toLowerCase(java.util.Locale.ROOT))) {
      return;
    }
    throw new ApiError(
        403,
        "host_not_allowed",
        "a server without API keys answers only to localhost, 127.0.0.1 and [::1], not '"
            + LogSafe.escape(host)
            + "'; configure API keys to serve other names");
  }

  private static String client(Context ctx) {
    Object c = ctx.attribute(CLIENT_ATTRIBUTE);
    return c == null ? "anonymous@" + ctx.ip() : c.toString();
  }

  private static String pattern(@Nullable String given) {
    return given == null ? "#" : given;
  }

  private void sse(SseClient client) {
    Context ctx = client.ctx();
    String pattern = pattern(ctx.queryParam("pattern"));
    // First: the request stays open until client.close(), whoever calls it and when.
    client.keepAlive();
    TailHub.Client[] self = new TailHub.Client[1];
    client.onClose(
        () -> {
          TailHub.Client c = self[0];
          if (c != null) {
            c.disconnected();
          }
        });
    try {
      self[0] = openSse(client, pattern);
    } catch (ApiError e) {
      // Headers are out: say it as an event. Rare: check() answered before the headers.
      client.sendEvent("error", Json.string(Json.error(e, ctx.attribute(REQUEST_ID_ATTRIBUTE))));
      client.close();
      return;
    }
    if (client.terminated()) {
      self[0].disconnected();
    }
  }

  private TailHub.Client openSse(SseClient client, String pattern) {
    return tail.open(
        pattern,
        new TailHub.Sink() {
          @Override
          public boolean send(TailHub.Frame event) {
            return sendAll(List.of(event));
          }

          @Override
          public boolean sendAll(List<TailHub.Frame> events) {
            if (client.terminated()) {
              return false;
            }
            try {
              // The frames are encoded once per event for every client; one flush for the lot.
              var out = client.ctx().res().getOutputStream();
              for (TailHub.Frame e : events) {
                out.write(e.sse());
              }
              out.flush();
              return true;
            } catch (IOException e) {
              return false;
            }
          }

          @Override
          public boolean keepAlive() {
            client.sendComment("keep-alive");
            return !client.terminated();
          }

          @Override
          public boolean ready() {
            // Written by the client's writer before any event: the queue is bound now.
            var n = Json.object();
            n.put("pattern", pattern);
            client.sendEvent("ready", Json.string(n));
            return !client.terminated();
          }

          @Override
          public void end(String reason) {
            if (!reason.isEmpty() && !client.terminated()) {
              var n = Json.object();
              n.put("reason", reason);
              client.sendEvent("dropped", Json.string(n));
            }
            client.close();
          }
        });
  }

  private void tailSocket(WsConfig ws) {
    ws.onConnect(
        ctx -> {
          String pattern = pattern(ctx.queryParam("pattern"));
          // A quiet pattern must not look idle: pings keep the session (and dead peers show).
          ctx.enableAutomaticPings(TailHub.KEEPALIVE_SECONDS, TimeUnit.SECONDS);
          var session = ctx.session;
          long sendTimeout = options.idleTimeout().toMillis();
          try {
            TailHub.Client c =
                tail.open(
                    pattern,
                    new TailHub.Sink() {
                      @Override
                      public boolean send(TailHub.Frame event) {
                        return sendBlocking(event.json);
                      }

                      @Override
                      public boolean keepAlive() {
                        return session.isOpen();
                      }

                      @Override
                      public boolean ready() {
                        return session.isOpen();
                      }

                      @Override
                      public void end(String reason) {
                        if (!reason.isEmpty() && session.isOpen()) {
                          var n = Json.object();
                          n.put("type", "dropped");
                          n.put("reason", reason);
                          sendBlocking(Json.string(n));
                          session.close(1008, "dropped", Callback.NOOP);
                        } else if (session.isOpen()) {
                          session.close(1000, "", Callback.NOOP);
                        }
                      }

                      private boolean sendBlocking(String text) {
                        if (!session.isOpen()) {
                          return false;
                        }
                        Callback.Completable done = new Callback.Completable();
                        session.sendText(text, done);
                        try {
                          done.get(sendTimeout, TimeUnit.MILLISECONDS);
                          return true;
                        } catch (Exception e) {
                          return false;
                        }
                      }
                    });
            ctx.attribute("bloodbank.tail", c);
          } catch (ApiError e) {
            ctx.closeSession(1013, LogSafe.escape(e.getMessage()));
          }
        });
    Consumer<io.javalin.websocket.WsContext> gone =
        ctx -> {
          TailHub.Client c = ctx.attribute("bloodbank.tail");
          if (c != null) {
            c.disconnected();
          }
        };
    ws.onClose(gone::accept);
    ws.onError(gone::accept);
    ws.onMessage(ctx -> {}); // the tail is one-way; what a client says is ignored
  }

  /** Writes an error answer with the request id. */
  static void sendError(Context ctx, ApiError e) {
    String rid = ctx.attribute(REQUEST_ID_ATTRIBUTE);
    if (e.retryAfter() != null && ctx.res().getHeader("Retry-After") == null) {
      ctx.header("Retry-After", String.valueOf(Math.max(1, e.retryAfter().toSeconds())));
    }
    if (e.status() == 401) {
      ctx.header("WWW-Authenticate", "Bearer realm=\"bloodbank\"");
    }
    Json.send(ctx, e.status(), Json.error(e, rid));
  }

  /** After every HTTP request: its timer and its access log line. */
  private void finished(Context ctx, Float ms) {
    if (metrics != null) {
      metrics.request(ctx, ms);
    }
    access(ctx, ms);
  }

  private void access(Context ctx, Float ms) {
    if (!ACCESS.isInfoEnabled()) {
      return;
    }
    Object client = ctx.attribute(CLIENT_ATTRIBUTE);
    ACCESS.info(
        "request_id={} method={} path={} status={} ms={} client={} remote={}",
        ctx.attribute(REQUEST_ID_ATTRIBUTE),
        ctx.method(),
        LogSafe.escape(ctx.path()),
        ctx.statusCode(),
        String.format(java.util.Locale.ROOT, "%.1f", ms),
        client == null ? "-" : client,
        ctx.ip());
  }

  /**
   * Stops in order: new requests get 503, the live tails end with a notice, publishes in flight
   * wait for their confirms and speech sessions publish their last segments (all within the
   * shutdown timeout), then the HTTP server stops.
   */
  @Override
  public void close() {
    draining = true;
    probe.shutdownNow();
    long deadline = System.nanoTime() + options.shutdownTimeout().toNanos();
    try {
      tail.close();
      mcp.close();
      while (inFlight.get() > 0 && System.nanoTime() < deadline) {
        try {
          Thread.sleep(10);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      if (inFlight.get() > 0) {
        LOG.warn(
            "stopping with {} publish(es) still unconfirmed after the shutdown timeout",
            inFlight.get());
      }
      if (asr != null) {
        asr.close();
      }
    } finally {
      try {
        // What is left of the one deadline, not a second full timeout.
        long left = Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
        app.jettyServer().server().setStopTimeout(Math.max(100, left));
        app.stop();
      } finally {
        asyncPool.shutdownNow();
        publisher.close();
      }
    }
  }

  /**
   * Guards {@code /mcp}, which Javalin's before-handlers do not see (it is another servlet): not
   * draining, the Host check, JSON-only POSTs from no foreign Origin, and a key with the {@code
   * read} scope, whose {@code publish} scope is passed on for the publishing tools. Errors are the
   * gateway's JSON errors.
   */
  private final class McpGuard implements Filter {
    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
        throws IOException, ServletException {
      HttpServletRequest req = (HttpServletRequest) request;
      HttpServletResponse res = (HttpServletResponse) response;
      try {
        if (draining) {
          throw ApiError.unavailable("shutting_down", "the server is shutting down");
        }
        checkHost(req.getHeader("Host"));
        if ("POST".equals(req.getMethod())) {
          // As for the other POSTs: JSON only, so that a web page must preflight, and no foreign
          // Origin; without keys a page could otherwise publish through a local server.
          String type = req.getHeader("Content-Type");
          if (type == null || !isJson(type)) {
            throw new ApiError(
                415,
                "unsupported_media_type",
                "send MCP messages as Content-Type: application/json, was '"
                    + LogSafe.escape(String.valueOf(type))
                    + "'");
          }
          String origin = req.getHeader("Origin");
          if (origin != null
              && !options.corsOrigins().contains("*")
              && !options.corsOrigins().contains(origin)
              && !sameOrigin(origin, req.getHeader("Host"))) {
            throw new ApiError(
                403,
                "origin_not_allowed",
                "requests from origin '"
                    + LogSafe.escape(origin)
                    + "' are not allowed; add it to BLOODBANK_SERVER_CORS_ORIGINS");
          }
        }
        String authorization = req.getHeader("Authorization");
        authenticate(authorization, null, false, Scope.READ, req.getRemoteAddr());
        ApiKeys keys = options.apiKeys();
        boolean publish =
            keys.isEmpty()
                || keys.find(authorization.substring(7).strip())
                    .map(k -> k.allows(Scope.PUBLISH))
                    .orElse(false);
        req.setAttribute(McpEndpoint.PUBLISH_ATTRIBUTE, publish);
      } catch (ApiError e) {
        res.setStatus(e.status());
        if (e.status() == 401) {
          res.setHeader("WWW-Authenticate", "Bearer realm=\"bloodbank\"");
        }
        res.setContentType(Json.CONTENT_TYPE);
        res.getOutputStream().write(Json.bytes(Json.error(e, null)));
        return;
      }
      chain.doFilter(request, response);
    }
  }

  /** The address the server listens on. */
  public InetSocketAddress address() {
    return new InetSocketAddress(options.host(), port());
  }
}
