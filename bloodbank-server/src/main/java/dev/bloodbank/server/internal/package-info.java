/** Implementation of bloodbank-server; not API, may change without notice. */
@NullMarked
package dev.bloodbank.server.internal;

import org.jspecify.annotations.NullMarked;
