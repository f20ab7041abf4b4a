#!/usr/bin/env bash
# Makes the VAD test recording: speech from espeak-ng between stretches of silence, 16 kHz mono
# 16-bit, and a sidecar file with where each stretch of speech lies.
#
#   apt-get install espeak-ng sox bc
#   bloodbank-voice/src/test/audio-gen/make_speech.sh bloodbank-voice/src/test/resources/dev/bloodbank/voice/audio
#
# The output is committed, so the tests need neither tool; rerun this only to change the audio.
set -euo pipefail
out=${1:?usage: make_speech.sh <output-dir>}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

silence() { sox -n -r 16000 -c 1 -b 16 "$work/$1.wav" trim 0 "$2"; }
say() {
  espeak-ng -v en-us -s 150 -w "$work/$1.raw.wav" "$2"
  # espeak pads its output with silence: trim it so the sidecar times are where speech is.
  sox "$work/$1.raw.wav" -r 16000 -c 1 -b 16 "$work/$1.wav" \
    silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse
}

silence s0 1.5
say a "Hello world, this is a test of the bloodbank voice pipeline."
silence s1 2.0
say b "The quick brown fox jumps over the lazy dog."
silence s2 1.5

sox "$work/s0.wav" "$work/a.wav" "$work/s1.wav" "$work/b.wav" "$work/s2.wav" "$out/speech.wav"

len() { soxi -D "$work/$1.wav"; }
a_start=$(len s0)
a_end=$(echo "$a_start + $(len a)" | bc -l)
b_start=$(echo "$a_end + $(len s1)" | bc -l)
b_end=$(echo "$b_start + $(len b)" | bc -l)
{
  echo "# start_seconds end_seconds of each stretch of speech in speech.wav (make_speech.sh)"
  printf '%.3f %.3f\n' "$a_start" "$a_end"
  printf '%.3f %.3f\n' "$b_start" "$b_end"
} >"$out/speech.txt"
cat "$out/speech.txt"
