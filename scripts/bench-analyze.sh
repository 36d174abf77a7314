#!/usr/bin/env bash
# Times `mailtriage analyze` on a generated Postfix log of at least 200 MB
# (uncompressed, already in the page cache) and, where Debian's pflogsumm is
# installed, pflogsumm on the same file; prints both throughputs and the
# ratio, and mailtriage's peak memory.
#
#   scripts/bench-analyze.sh            # about 240 MB
#   SCALE=100 scripts/bench-analyze.sh  # about 1.2 GB
#   RUNS=5 scripts/bench-analyze.sh
set -euo pipefail
cd "$(dirname "$0")/.."

scale=${SCALE:-20}
runs=${RUNS:-3}
dir=${BENCH_DIR:-/tmp/mailtriage-bench}
mkdir -p "$dir"
log="$dir/mail-scale$scale.log"
bin="$dir/mailtriage"

go build -o "$bin" ./cmd/mailtriage
if [ ! -s "$log" ]; then
  echo "generating $log (scale $scale) ..." >&2
  go run ./cmd/genlog -scale "$scale" -o "$log"
fi
bytes=$(stat -c %s "$log")
lines=$(wc -l < "$log")
cat "$log" > /dev/null # into the page cache

# best wall time of N runs (to the millisecond: time(1) rounds to 10 ms);
# also keeps the peak RSS and the CPU time (user + system) of the best run
best() {
  local best_ns="" best_rss="" best_cpu="" start end out
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    # exit status 3 (problems found) is a normal result here
    /usr/bin/time -o "$dir/time.out" -f "%M %U %S" "$@" > /dev/null 2>&1 || true
    end=$(date +%s%N)
    out=$(grep -E '^[0-9]+ [0-9.]+ [0-9.]+$' "$dir/time.out" | tail -1)
    if [ -z "$best_ns" ] || [ $((end - start)) -lt "$best_ns" ]; then
      best_ns=$((end - start))
      best_rss=${out%% *}
      best_cpu=$(echo "$out" | awk '{printf "%.2f", $2 + $3}')
    fi
  done
  echo "$(awk -v n="$best_ns" 'BEGIN{printf "%.3f", n/1e9}') $best_rss $best_cpu"
}

read -r mt_s mt_rss mt_cpu < <(best "$bin" analyze --format json --no-progress "$log")
mbps() { awk -v b="$bytes" -v s="$1" 'BEGIN{printf "%.1f", b/1e6/s}'; }
printf 'input: %s, %.1f MB, %d lines, %d CPUs\n' "$log" "$(awk -v b="$bytes" 'BEGIN{print b/1e6}')" "$lines" "$(nproc)"
printf 'mailtriage analyze: %6.3f s  %7s MB/s  peak RSS %d MB  CPU %s s  (best of %d)\n' "$mt_s" "$(mbps "$mt_s")" "$((mt_rss / 1024))" "$mt_cpu" "$runs"

if command -v pflogsumm > /dev/null; then
  read -r pf_s pf_rss pf_cpu < <(best pflogsumm "$log")
  printf 'pflogsumm:          %6.3f s  %7s MB/s  peak RSS %d MB  CPU %s s  (best of %d)\n' "$pf_s" "$(mbps "$pf_s")" "$((pf_rss / 1024))" "$pf_cpu" "$runs"
  awk -v a="$pf_s" -v b="$mt_s" 'BEGIN{printf "ratio: mailtriage is %.1fx pflogsumm'"'"'s throughput\n", a/b}'
else
  echo "pflogsumm is not installed (apt-get install pflogsumm) — no comparison" >&2
fi
