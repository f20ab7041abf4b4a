/**
 * The causation graph: which event caused which, kept in Redis in the layout the Python services
 * use, with an in-memory implementation for tests and for running without Redis.
 */
@NullMarked
package dev.bloodbank.correlation;

import org.jspecify.annotations.NullMarked;
