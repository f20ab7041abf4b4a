package dev.bloodbank.fault;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Test certificates made with {@code openssl}: a CA, a server certificate it signed for the host
 * name {@code localhost} only (no IP address, so connecting to 127.0.0.1 is a host-name mismatch),
 * and a second CA that signed nothing the server shows.
 */
public final class Certificates {
  private final Path dir;

  private Certificates(Path dir) {
    this.dir = dir;
  }

  /** Makes the CA, the server key and certificate, and the untrusted CA in {@code dir}. */
  public static Certificates create(Path dir) throws Exception {
    Files.createDirectories(dir);
    Duration t = Duration.ofSeconds(60);
    Map<String, String> env = Map.of();
    for (String ca : List.of("ca", "untrusted-ca")) {
      Processes.runOrFail(
          List.of(
              "openssl",
              "req",
              "-x509",
              "-newkey",
              "rsa:2048",
              "-nodes",
              "-days",
              "2",
              "-subj",
              "/CN=Bloodbank test " + ca,
              "-keyout",
              dir.resolve(ca + ".key").toString(),
              "-out",
              dir.resolve(ca + ".pem").toString()),
          env,
          t);
    }
    Files.writeString(
        dir.resolve("server.ext"),
        "basicConstraints=CA:FALSE\n"
            + "keyUsage=digitalSignature,keyEncipherment\n"
            + "extendedKeyUsage=serverAuth\n"
            + "subjectAltName=DNS:localhost\n");
    Processes.runOrFail(
        List.of(
            "openssl",
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            dir.resolve("server.key").toString(),
            "-out",
            dir.resolve("server.csr").toString()),
        env,
        t);
    Processes.runOrFail(
        List.of(
            "openssl",
            "x509",
            "-req",
            "-days",
            "2",
            "-in",
            dir.resolve("server.csr").toString(),
            "-CA",
            dir.resolve("ca.pem").toString(),
            "-CAkey",
            dir.resolve("ca.key").toString(),
            "-CAcreateserial",
            "-extfile",
            dir.resolve("server.ext").toString(),
            "-out",
            dir.resolve("server.pem").toString()),
        env,
        t);
    return new Certificates(dir);
  }

  /** The CA that signed the server's certificate. */
  public Path caCert() {
    return dir.resolve("ca.pem");
  }

  /** The server's certificate (for localhost). */
  public Path serverCert() {
    return dir.resolve("server.pem");
  }

  /** The server's private key. */
  public Path serverKey() {
    return dir.resolve("server.key");
  }

  /** A client context that trusts the CA that signed the server's certificate. */
  public SSLContext trusting() throws Exception {
    return trust(dir.resolve("ca.pem"));
  }

  /** A client context that trusts only a CA the server's certificate has nothing to do with. */
  public SSLContext untrusting() throws Exception {
    return trust(dir.resolve("untrusted-ca.pem"));
  }

  private static SSLContext trust(Path caPem) throws Exception {
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    try (InputStream in = Files.newInputStream(caPem)) {
      X509Certificate ca =
          (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      ks.setCertificateEntry("ca", ca);
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLSv1.2");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }
}
