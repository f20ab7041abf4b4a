/** The {@code bb} command-line tool. Not API: run it, don't link against it. */
@NullMarked
package dev.bloodbank.cli;

import org.jspecify.annotations.NullMarked;
