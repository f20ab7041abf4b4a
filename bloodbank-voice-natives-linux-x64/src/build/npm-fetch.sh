#!/usr/bin/env bash
# Fetches one npm package with the machine's npm client, checks it against the integrity
# hash pinned in the POM and unpacks the files we ship.
#
#   npm-fetch.sh <package@version> <sha512-integrity> <dest-dir> <file-in-package>...
#
# The tarball is kept in ~/.cache/bloodbank/npm so that later builds work offline. The
# registry is whatever the user's npm is configured with; this script names no host.
set -euo pipefail

spec=$1 integrity=$2 dest=$3
shift 3

if [[ $integrity != sha512-* ]]; then
  echo "npm-fetch: integrity for $spec must be a sha512-... string, got '$integrity'" >&2
  exit 2
fi

stamp="$dest/.npm-fetch-$(printf '%s' "$spec" | tr '/@' '__')"
if [[ -f $stamp && -f $dest/SHA256SUMS && $(cat "$stamp") == "$integrity" ]]; then
  exit 0
fi

cache="${BLOODBANK_NPM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bloodbank/npm}"
mkdir -p "$cache"
tarball="$cache/$(printf '%s' "$spec" | tr '/@' '__').tgz"

sri() { printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 -w0)"; }

if [[ ! -f $tarball || $(sri "$tarball") != "$integrity" ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm-fetch: the npm client is needed to fetch $spec (install Node.js and npm)," >&2
    echo "npm-fetch: or set BLOODBANK_SHERPA_LIB_DIR at run time and build with -Dvoice.natives.skip" >&2
    exit 2
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent --prefer-offline "$spec" >/dev/null)
  got=$(ls "$work"/*.tgz)
  actual=$(sri "$got")
  if [[ $actual != "$integrity" ]]; then
    echo "npm-fetch: $spec has integrity $actual but the build pins $integrity; refusing it" >&2
    exit 3
  fi
  mv "$got" "$tarball"
fi

mkdir -p "$dest"
unpack=$(mktemp -d)
tar -xzf "$tarball" -C "$unpack"
for f in "$@"; do
  if [[ ! -f $unpack/package/$f ]]; then
    echo "npm-fetch: $spec has no file package/$f" >&2
    rm -rf "$unpack"
    exit 3
  fi
  cp "$unpack/package/$f" "$dest/$(basename "$f")"
done
rm -rf "$unpack"
# Size and SHA-256 of each shipped file, so that the loader need not hash them at run time.
(cd "$dest" && for f in "$@"; do
  b=$(basename "$f")
  printf '%s %s %s\n' "$(sha256sum "$b" | cut -d' ' -f1)" "$(stat -c %s "$b")" "$b"
done) >"$dest/SHA256SUMS"
printf '%s' "$integrity" >"$stamp"
