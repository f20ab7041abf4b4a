/**
 * The event registry: which event types exist, their domains, payload classes and JSON Schemas, and
 * which of them are commands.
 *
 * <p>{@link dev.bloodbank.registry.EventRegistry} is filled from catalog indexes on the classpath
 * ({@value dev.bloodbank.registry.EventRegistry#CATALOG_RESOURCE}) and from definitions an
 * application registers in code. An index is a JSON object written at build time (by {@code
 * bloodbank-schemas}, or by any catalog built the same way); a resource may hold several such
 * objects one after another:
 *
 * <pre>{@code
 * {"format": 1,
 *  "schema_id_base": "https://schemas.bloodbank.dev/",   // optional: $ids under it resolve to
 *  "resource_base": "dev/bloodbank/schemas/",            //   resources under this, not the network
 *  "envelope_schema": "dev/bloodbank/schemas/common/envelope.v1.schema.json",   // optional
 *  "events": [
 *    {"event_type": "agent.thread.prompt",               // required: the routing key
 *     "schema": "dev/bloodbank/schemas/agent/thread-prompt.v1.schema.json",     // required
 *     "domain": "agent.thread",                          // default: event type minus its last word
 *     "command": true,                                   // default: false
 *     "payload_class": "dev.bloodbank.schemas.agent.ThreadPrompt",  // optional
 *     "title": "Agent thread prompt",                    // default: the event type
 *     "schema_id": "https://schemas.bloodbank.dev/agent/thread-prompt.v1.schema.json",
 *     "schema_version": 1}]}                             // informational
 * }</pre>
 *
 * <p>Unknown fields are ignored, so newer catalogs load in older registries.
 */
@NullMarked
package dev.bloodbank.registry;

import org.jspecify.annotations.NullMarked;
