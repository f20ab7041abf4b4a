/**
 * Not API, may change without notice: the JNA binding of sherpa-onnx's C API, native library
 * loading and model-file checks behind {@link dev.bloodbank.voice}.
 */
@NullMarked
package dev.bloodbank.voice.internal;

import org.jspecify.annotations.NullMarked;
