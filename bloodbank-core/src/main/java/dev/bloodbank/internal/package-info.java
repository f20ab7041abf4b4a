/**
 * Not API: helpers shared by Bloodbank's own packages. They may change or go away without notice;
 * applications never need them.
 */
@NullMarked
package dev.bloodbank.internal;

import org.jspecify.annotations.NullMarked;
