package dev.bloodbank.fault;

import dev.bloodbank.command.ProcessedCommands;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * The handler's effect in the scenario 9 test: {@code INCR bbfault:effect:<id>} in Redis, guarded
 * by a {@link ProcessedCommands} store so that a redelivered event is not applied again.
 */
public final class IdempotentEffect {
  private IdempotentEffect() {}

  /** Applies the effect unless the id was processed; returns whether it applied it. */
  public static boolean apply(ProcessedCommands processed, int redisPort, UUID id) {
    if (processed.isCompleted(id)) {
      return false;
    }
    command(redisPort, "INCR", "bbfault:effect:" + id);
    processed.markCompleted(id);
    return true;
  }

  /** How many times the effect was applied for this id. */
  public static long count(int redisPort, UUID id) {
    String reply = command(redisPort, "GET", "bbfault:effect:" + id);
    if (reply.startsWith("$-1")) {
      return 0;
    }
    return Long.parseLong(reply);
  }

  /** One RESP command; the reply's value (bulk strings read through). */
  static String command(int port, String... args) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      s.setSoTimeout(5000);
      StringBuilder req = new StringBuilder("*" + args.length + "\r\n");
      for (String a : args) {
        req.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n");
        req.append(a).append("\r\n");
      }
      OutputStream out = s.getOutputStream();
      out.write(req.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = s.getInputStream();
      String first = line(in);
      if (first.startsWith("$") && !first.equals("$-1")) {
        return line(in);
      }
      if (first.startsWith(":")) {
        return first.substring(1);
      }
      return first;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0 && c != '\n') {
      if (c != '\r') {
        b.append((char) c);
      }
    }
    return b.toString();
  }
}
