/**
 * The event registry: which event types exist, their payload classes and JSON Schemas, and which of
 * them are commands.
 *
 * <p>Filled from catalog indexes on the classpath ({@value
 * dev.bloodbank.registry.EventRegistry#CATALOG_RESOURCE}, written at build time by {@code
 * bloodbank-schemas} and by any other catalog built the same way) and from definitions an
 * application registers in code.
 */
@NullMarked
package dev.bloodbank.registry;

import org.jspecify.annotations.NullMarked;
