#!/bin/sh
# Regenerate the seed corpora in tests/fuzz/corpus from a fuzz build:
#   tests/fuzz/make-corpus.sh [BUILD_DIR]     (default build-fuzz)
# The protocol seeds come from make-corpus (one message of each type); the
# configuration and personality seeds are the repository's own files, each
# behind the byte that picks the parser's entry point.
set -eu
cd "$(dirname "$0")/../.."
build=${1:-build-fuzz}
corpus=tests/fuzz/corpus
mkdir -p "$corpus/protocol" "$corpus/driver-protocol" "$corpus/config" "$corpus/personality"
"$build/tests/fuzz/make-corpus" "$corpus"
for f in "$corpus"/protocol/*-full "$corpus"/driver-protocol/*-full; do # no strings: no variant
  if cmp -s "$f" "${f%-full}"; then rm "$f"; fi
done

# config: byte 0 even, a whole file; odd, a driver's device text.
for f in server/demo.conf tests/fuzz/seeds/config/*.conf; do
  { printf '\000'; cat "$f"; } > "$corpus/config/$(basename "$f" .conf)"
done
for f in tests/fuzz/seeds/config/*.device; do
  { printf '\001'; cat "$f"; } > "$corpus/config/device-$(basename "$f" .device)"
done

# personality: the files as they are.
for f in families/test/*.conf tests/fuzz/seeds/personality/*.conf; do
  cp "$f" "$corpus/personality/$(basename "$f" .conf)"
done
