/**
 * JSON Schema validation of events against the registry's catalog (networknt json-schema-validator,
 * Draft 2020-12 by default).
 *
 * <p>{@link dev.bloodbank.validation.EventValidator} checks the envelope against the catalog's
 * envelope schema and the payload against the schema of its event type, in a {@link
 * dev.bloodbank.validation.ValidationMode}. A violation's pointer is relative to the part it is in,
 * the envelope or the payload; when a violation is shown against the whole envelope document
 * ({@link dev.bloodbank.validation.Violation#envelopePointer()}, exception messages, dead-letter
 * headers), payload pointers are prefixed with {@code /payload}.
 */
@NullMarked
package dev.bloodbank.validation;

import org.jspecify.annotations.NullMarked;
