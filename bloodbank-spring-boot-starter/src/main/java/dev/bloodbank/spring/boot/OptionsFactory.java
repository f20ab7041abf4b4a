package dev.bloodbank.spring.boot;

import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.DecodeLimits;
import dev.bloodbank.Transport;
import dev.bloodbank.correlation.RedisTrackerOptions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.ssl.SslBundles;

/** Builds {@link BloodbankOptions}: environment variables, then properties, then customizers. */
final class OptionsFactory {
  private OptionsFactory() {}

  static BloodbankOptions build(
      BloodbankProperties p,
      Map<String, String> environmentVariables,
      @Nullable String applicationName,
      @Nullable SslBundles sslBundles,
      List<BloodbankOptionsCustomizer> customizers) {
    Map<String, String> env =
        p.isUseEnvironmentVariables() ? new HashMap<>(environmentVariables) : new HashMap<>();
    BloodbankProperties.Correlation c = p.getCorrelation();
    if (Boolean.FALSE.equals(c.getEnabled())) {
      // Otherwise REDIS_URL would turn tracking on beneath the property that turns it off.
      env.keySet().removeIf(k -> k.startsWith("REDIS_"));
    }
    BloodbankOptions fromEnv = BloodbankOptions.fromEnvironment(env);
    BloodbankOptions.Builder b = fromEnv.mutate();
    boolean serviceFromEnv =
        notBlank(env.get("BLOODBANK_SERVICE_NAME")) || notBlank(env.get("SERVICE_NAME"));

    set(p.getUri(), b::uri);
    if (!p.getAddresses().isEmpty()) {
      List<BloodbankOptions.Address> addresses = new ArrayList<>();
      for (String a : p.getAddresses()) {
        addresses.add(address(a));
      }
      b.addresses(addresses);
    }
    if (p.getUsername() != null || p.getPassword() != null) {
      BloodbankOptions sofar = b.build();
      b.credentials(
          p.getUsername() != null ? p.getUsername() : sofar.username(),
          p.getPassword() != null ? p.getPassword() : sofar.password());
    }
    set(p.getVirtualHost(), b::virtualHost);
    set(p.getTls(), b::tls);
    String bundle = p.getSsl().getBundle();
    if (bundle != null) {
      if (sslBundles == null) {
        throw new IllegalStateException(
            "bloodbank.ssl.bundle is '" + bundle + "' but the context has no SslBundles");
      }
      b.sslContext(sslBundles.getBundle(bundle).createSslContext());
    }
    set(p.getHostnameVerification(), b::hostnameVerification);
    set(p.getExchange(), b::exchange);
    if (p.getServiceName() != null) {
      b.serviceName(p.getServiceName());
    } else if (!serviceFromEnv && notBlank(applicationName)) {
      b.serviceName(applicationName);
    }
    set(p.getEnvironment(), b::environment);
    set(p.getHeartbeat(), b::heartbeat);
    set(p.getConnectionTimeout(), b::connectionTimeout);
    set(p.getRecoveryInterval(), b::recoveryInterval);
    set(p.getLazyConnect(), b::lazyConnect);
    set(p.getShutdownTimeout(), b::shutdownTimeout);
    set(p.getValidation(), b::validation);
    set(p.getLogContext(), b::logContext);
    if (p.getTransport() == BloodbankProperties.TransportKind.EMBEDDED) {
      b.transport(Transport.embedded());
    }
    decodeLimits(p.getDecodeLimits(), fromEnv.decodeLimits(), b);
    correlation(c, fromEnv.correlation(), b);
    for (BloodbankOptionsCustomizer customizer : customizers) {
      customizer.customize(b);
    }
    return b.build();
  }

  private static void decodeLimits(
      BloodbankProperties.DecodeLimits p, DecodeLimits base, BloodbankOptions.Builder b) {
    if (p.getMaxDocumentBytes() == null
        && p.getMaxNestingDepth() == null
        && p.getMaxStringLength() == null
        && p.getMaxNumberLength() == null
        && p.getMaxNameLength() == null) {
      return;
    }
    DecodeLimits.Builder d =
        DecodeLimits.builder()
            .maxDocumentBytes(base.maxDocumentBytes())
            .maxNestingDepth(base.maxNestingDepth())
            .maxStringLength(base.maxStringLength())
            .maxNumberLength(base.maxNumberLength())
            .maxNameLength(base.maxNameLength());
    set(p.getMaxDocumentBytes(), d::maxDocumentBytes);
    set(p.getMaxNestingDepth(), d::maxNestingDepth);
    set(p.getMaxStringLength(), d::maxStringLength);
    set(p.getMaxNumberLength(), d::maxNumberLength);
    set(p.getMaxNameLength(), d::maxNameLength);
    b.decodeLimits(d.build());
  }

  private static void correlation(
      BloodbankProperties.Correlation c,
      @Nullable RedisTrackerOptions fromEnv,
      BloodbankOptions.Builder b) {
    boolean anySet =
        c.getUri() != null
            || c.getCluster() != null
            || c.getClientName() != null
            || c.getTtl() != null
            || c.getCommandTimeout() != null
            || c.getRequestQueueSize() != null
            || c.getMaxNodes() != null
            || c.getMaxDepth() != null
            || c.getMaxPendingRecordings() != null;
    boolean on = c.getEnabled() != null ? c.getEnabled() : fromEnv != null || c.getUri() != null;
    if (!on || (!anySet && fromEnv != null && c.getEnabled() == null)) {
      return; // off, or exactly what the environment said
    }
    RedisTrackerOptions.Builder r =
        fromEnv != null ? fromEnv.mutate() : RedisTrackerOptions.builder();
    set(c.getUri(), r::uri);
    set(c.getCluster(), r::cluster);
    set(c.getClientName(), r::clientName);
    set(c.getTtl(), r::ttl);
    set(c.getCommandTimeout(), r::commandTimeout);
    set(c.getRequestQueueSize(), r::requestQueueSize);
    set(c.getMaxNodes(), r::maxNodes);
    set(c.getMaxDepth(), r::maxDepth);
    set(c.getMaxPendingRecordings(), r::maxPendingRecordings);
    b.correlation(r.build());
  }

  /** Parses {@code host:port} (or {@code [v6]:port}); the port defaults to 5672. */
  static BloodbankOptions.Address address(String hostPort) {
    String s = hostPort.trim();
    int colon = s.lastIndexOf(':');
    if (colon < 0 || (s.startsWith("[") && s.endsWith("]"))) {
      return new BloodbankOptions.Address(s, BloodbankOptions.DEFAULT_PORT);
    }
    String port = s.substring(colon + 1);
    try {
      return new BloodbankOptions.Address(s.substring(0, colon), Integer.parseInt(port));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "bloodbank.addresses entry '" + s + "' must be host:port, with a port from 1 to 65535",
          e);
    }
  }

  private static boolean notBlank(@Nullable String s) {
    return s != null && !s.isBlank();
  }

  private static <T> void set(@Nullable T value, Consumer<T> setter) {
    if (value != null) {
      setter.accept(value);
    }
  }
}
