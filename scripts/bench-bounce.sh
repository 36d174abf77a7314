#!/usr/bin/env bash
# Times `mailtriage bounce` against Debian's Sisimai (libsisimai-perl) on the
# same folder: the Sisimai corpus (testdata/sisimai/eml) copied COPIES times,
# at least 5,000 files, so that start-up does not decide it. Prints both
# wall times (best of RUNS), the files per second and the ratio.
#
#   scripts/bench-bounce.sh              # 17 copies: 5,270 files
#   COPIES=40 RUNS=5 scripts/bench-bounce.sh
set -euo pipefail
cd "$(dirname "$0")/.."

copies=${COPIES:-17}
runs=${RUNS:-3}
dir=${BENCH_DIR:-/tmp/mailtriage-bench-bounce}
corpus="$dir/corpus-x$copies"
bin="$dir/mailtriage"
mkdir -p "$dir"

go build -o "$bin" ./cmd/mailtriage
if [ ! -d "$corpus" ]; then
  mkdir -p "$corpus.tmp"
  for i in $(seq "$copies"); do
    for f in testdata/sisimai/eml/*.eml; do
      cp "$f" "$corpus.tmp/$i-$(basename "$f")"
    done
  done
  mv "$corpus.tmp" "$corpus"
fi
files=$(find "$corpus" -type f | wc -l)
cat "$corpus"/* > /dev/null # into the page cache

# best wall time of N runs, in seconds to the millisecond (time(1) rounds
# to 10 ms, a tenth of the ratio at these speeds)
best() {
  local best_ns="" start end
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "$@" > /dev/null 2>&1 || true
    end=$(date +%s%N)
    if [ -z "$best_ns" ] || [ $((end - start)) -lt "$best_ns" ]; then best_ns=$((end - start)); fi
  done
  awk -v n="$best_ns" 'BEGIN{printf "%.3f", n/1e9}'
}

mt=$(best "$bin" bounce --format json "$corpus")
records=$("$bin" bounce --format json "$corpus" 2>/dev/null | grep -c '"file"' || true)
printf 'mailtriage bounce: %s files, %s records, %6.3f s, %8.0f files/s\n' "$files" "$records" "$mt" "$(awk "BEGIN{print $files/$mt}")"

if perl -MSisimai -e 1 2>/dev/null; then
  ss=$(best perl -MSisimai -e 'print Sisimai->dump($ARGV[0], delivered => 1)' "$corpus")
  version=$(perl -MSisimai -e 'print $Sisimai::VERSION')
  printf 'Sisimai %s:       %s files, %6.3f s, %8.0f files/s\n' "$version" "$files" "$ss" "$(awk "BEGIN{print $files/$ss}")"
  printf 'mailtriage is %.1fx faster\n' "$(awk "BEGIN{print $ss/$mt}")"
else
  echo "Sisimai is not installed (apt-get install libsisimai-perl): no comparison" >&2
fi
