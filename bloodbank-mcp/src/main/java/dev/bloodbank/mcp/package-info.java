/**
 * A Model Context Protocol server for the Bloodbank bus, on the official MCP Java SDK.
 *
 * <p>{@link dev.bloodbank.mcp.BloodbankMcp} registers the bus's tools ({@code list_event_types},
 * {@code show_schema}, {@code publish_event}, {@code publish_llm_prompt}, {@code
 * publish_llm_response}, {@code publish_artifact}, {@code trace_event}, {@code recent_events},
 * {@code dead_letters}) and the schema catalog as resources on any MCP transport: {@code bb mcp}
 * serves it over stdio, {@code bloodbank-server} over Streamable HTTP at {@code /mcp}.
 *
 * @since 0.2.0
 */
@NullMarked
package dev.bloodbank.mcp;

import org.jspecify.annotations.NullMarked;
