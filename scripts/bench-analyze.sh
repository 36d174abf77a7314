#!/usr/bin/env bash
# Times `mailtriage analyze` on a generated Postfix log of at least 200 MB
# (uncompressed, already in the page cache) and, where Debian's pflogsumm is
# installed, pflogsumm on the same file; prints both throughputs and the
# ratio, mailtriage's peak memory, and the messages each tool counted.
#
# The file both tools read is the incident log as pflogsumm 1.1.5 reads it
# in full: Postfix before 3.11 (no tls= field, which makes pflogsumm skip a
# delivery line) and one syslog name ("postfix"; pflogsumm reads no other).
# On the log as Postfix 3.11 writes it, with a second instance named
# postfix-mkt, pflogsumm reads under half the messages, and faster for it;
# that run is shown after, mailtriage's time on it too.
#
#   scripts/bench-analyze.sh            # about 240 MB
#   SCALE=100 scripts/bench-analyze.sh  # about 1.2 GB
#   RUNS=5 scripts/bench-analyze.sh
#
# Each tool's time is the best of RUNS runs, the two tools' runs taken in
# turn.
set -euo pipefail
cd "$(dirname "$0")/.."

scale=${SCALE:-20}
runs=${RUNS:-3}
dir=${BENCH_DIR:-/tmp/mailtriage-bench}
mkdir -p "$dir"
log="$dir/mail-scale$scale-pflogsumm.log" # both tools read all of it
log311="$dir/mail-scale$scale.log"        # as Postfix 3.11 writes it
bin="$dir/mailtriage"

go build -o "$bin" ./cmd/mailtriage
if [ ! -s "$log" ]; then
  echo "generating $log (scale $scale) ..." >&2
  go run ./cmd/genlog -scale "$scale" -pflogsumm-readable -o "$log"
fi
if [ ! -s "$log311" ]; then
  echo "generating $log311 (scale $scale) ..." >&2
  go run ./cmd/genlog -scale "$scale" -o "$log311"
fi

# one run: its wall time in nanoseconds (time(1) rounds to 10 ms), peak
# RSS in KB and CPU time (user + system)
measure() {
  local start end out
  start=$(date +%s%N)
  # exit status 3 (problems found) is a normal result here
  /usr/bin/time -o "$dir/time.out" -f "%M %U %S" "$@" > /dev/null 2>&1 || true
  end=$(date +%s%N)
  out=$(grep -E '^[0-9]+ [0-9.]+ [0-9.]+$' "$dir/time.out" | tail -1)
  echo "$((end - start)) ${out%% *} $(echo "$out" | awk '{printf "%.2f", $2 + $3}')"
}

# best of N runs of each of the commands separated by "--", taken in
# turn, so that a slow spell of the machine (a shared VM's speed moves by
# several percent over minutes) falls on every tool alike; prints each
# one's best wall time in seconds, its peak RSS and CPU time, a line each
best() {
  local cmds=() cmd=() i k n rss cpu
  for arg in "$@"; do
    if [ "$arg" = "--" ]; then cmds+=("${cmd[*]@Q}"); cmd=(); else cmd+=("$arg"); fi
  done
  cmds+=("${cmd[*]@Q}")
  local best_ns=() best_rss=() best_cpu=()
  for i in $(seq "$runs"); do
    for k in "${!cmds[@]}"; do
      read -r n rss cpu < <(eval "measure ${cmds[$k]}")
      if [ -z "${best_ns[$k]:-}" ] || [ "$n" -lt "${best_ns[$k]}" ]; then
        best_ns[$k]=$n best_rss[$k]=$rss best_cpu[$k]=$cpu
      fi
    done
  done
  for k in "${!cmds[@]}"; do
    echo "$(awk -v n="${best_ns[$k]}" 'BEGIN{printf "%.3f", n/1e9}') ${best_rss[$k]} ${best_cpu[$k]}"
  done
}

# the messages each tool counted: mailtriage's summary.messages, and
# pflogsumm's "received" (which counts what entered the queue the same way;
# above 524,288 (its "512k") it writes "651k", in units of 1,024)
mt_messages() {
  "$bin" analyze --format json --no-progress "$1" 2> /dev/null | sed -n '/"summary"/,/}/s/^ *"messages": \([0-9]*\),/\1/p' || true
}
pf_messages() {
  pflogsumm "$1" 2> /dev/null | awk '$2 == "received" && !seen {
    seen = 1
    if ($1 ~ /k$/) { printf "%s (about %d)\n", $1, $1 * 1024 } else { print $1 }
  }'
}

cat "$log" > /dev/null # into the page cache
bytes=$(stat -c %s "$log")
lines=$(wc -l < "$log")
mbps() { awk -v b="$bytes" -v s="$1" 'BEGIN{printf "%.1f", b/1e6/s}'; }
report() { # name seconds rss cpu
  printf '%-19s %6.3f s  %7s MB/s  peak RSS %d MB  CPU %s s  (best of %d)\n' "$1:" "$2" "$(mbps "$2")" "$(($3 / 1024))" "$4" "$runs"
}

printf 'input: %s, %.1f MB, %d lines, %d CPUs\n' "$log" "$(awk -v b="$bytes" 'BEGIN{print b/1e6}')" "$lines" "$(nproc)"
if ! command -v pflogsumm > /dev/null; then
  read -r mt_s mt_rss mt_cpu < <(best "$bin" analyze --format json --no-progress "$log")
  report "mailtriage analyze" "$mt_s" "$mt_rss" "$mt_cpu"
  echo "pflogsumm is not installed (apt-get install pflogsumm) — no comparison" >&2
  exit 0
fi
{
  read -r mt_s mt_rss mt_cpu
  read -r pf_s pf_rss pf_cpu
} < <(best "$bin" analyze --format json --no-progress "$log" -- pflogsumm "$log")
report "mailtriage analyze" "$mt_s" "$mt_rss" "$mt_cpu"
report "pflogsumm" "$pf_s" "$pf_rss" "$pf_cpu"
awk -v a="$pf_s" -v b="$mt_s" 'BEGIN{printf "ratio: mailtriage is %.1fx pflogsumm'"'"'s throughput\n", a/b}'
printf 'messages counted: mailtriage %s, pflogsumm %s\n' "$(mt_messages "$log")" "$(pf_messages "$log")"

# The log as Postfix 3.11 writes it: what pflogsumm 1.1.5 makes of it.
cat "$log311" > /dev/null
bytes=$(stat -c %s "$log311")
read -r mt_s mt_rss mt_cpu < <(best "$bin" analyze --format json --no-progress "$log311")
start=$(date +%s%N)
pf311=$(pf_messages "$log311")
end=$(date +%s%N)
pf_s=$(awk -v n=$((end - start)) 'BEGIN{printf "%.3f", n/1e9}')
printf '\nthe same incident as Postfix 3.11 logs it (tls=, a postfix-mkt instance): %s, %.1f MB\n' "$log311" "$(awk -v b="$bytes" 'BEGIN{print b/1e6}')"
report "mailtriage analyze" "$mt_s" "$mt_rss" "$mt_cpu"
printf '%-19s %6.3f s  %7s MB/s  (one run), reading %s of the %s messages\n' "pflogsumm:" "$pf_s" "$(mbps "$pf_s")" "$pf311" "$(mt_messages "$log311")"
