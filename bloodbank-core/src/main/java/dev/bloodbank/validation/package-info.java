/**
 * JSON Schema validation of events against the registry's catalog (networknt json-schema-validator,
 * Draft 2020-12).
 */
@NullMarked
package dev.bloodbank.validation;

import org.jspecify.annotations.NullMarked;
