#!/bin/sh
# A short libFuzzer run for the 'fuzz' test suite:
#   run-fuzzer.sh FUZZER CORPUS WORKDIR SECONDS [DICTIONARY]
# New inputs go to WORKDIR/corpus, never into the checked-in CORPUS;
# a crash, leak or time-out writes its input to WORKDIR and fails the test.
set -eu
fuzzer=$1 corpus=$2 work=$3 seconds=$4 dict=${5:-}
rm -rf "$work"
mkdir -p "$work/corpus"
set -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/"
if [ -n "$dict" ]; then
  set -- "$@" -dict="$dict"
fi
exec "$fuzzer" "$@" "$work/corpus" "$corpus"
