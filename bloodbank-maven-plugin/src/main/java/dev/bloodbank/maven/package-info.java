/**
 * Maven goals for Bloodbank event schemas (issue #21): {@link
 * dev.bloodbank.maven.CheckCompatibilityMojo check-compatibility} fails a build when a schema is
 * not compatible with its released versions.
 *
 * @since 0.2.0
 */
@NullMarked
package dev.bloodbank.maven;

import org.jspecify.annotations.NullMarked;
