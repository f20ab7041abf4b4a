/**
 * bloodbank-server: the HTTP gateway (publish events, read the catalog and causation chains), the
 * live event tail (Server-Sent Events and WebSocket), the {@code /asr} speech endpoint and a
 * dashboard, as one deployable service. Start one with {@link dev.bloodbank.server.BloodbankServer}
 * or run {@code bb serve}.
 */
@NullMarked
package dev.bloodbank.server;

import org.jspecify.annotations.NullMarked;
