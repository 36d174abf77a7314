#!/usr/bin/env bash
# Times `mailtriage dmarc import` and `dmarc summary` on generated aggregate
# reports (internal/dmarcgen: Google, Yahoo, Microsoft and Mail.ru reports in
# zip, gzip and XML, with the sources and pass patterns of real domains).
# Imports N reports without rDNS lookups into a fresh database, prints the
# reports per second and the database size, imports them again (all
# duplicates), then times the summary in each format, best of RUNS.
#
#   scripts/bench-dmarc.sh                # 10,000 reports
#   N=50000 RUNS=5 scripts/bench-dmarc.sh
set -euo pipefail
cd "$(dirname "$0")/.."

n=${N:-10000}
runs=${RUNS:-3}
dir=${BENCH_DIR:-/tmp/mailtriage-bench-dmarc}
reports="$dir/reports-$n"
db="$dir/bench.db"
bin="$dir/mailtriage"
mkdir -p "$dir"

go build -o "$bin" ./cmd/mailtriage
if [ ! -d "$reports" ]; then
  go run ./internal/dmarcgen/cmd/gen-dmarc-reports -n "$n" -seed 1 -out "$reports.tmp"
  mv "$reports.tmp" "$reports"
fi
files=$(find "$reports" -type f | wc -l)
bytes=$(du -sb "$reports" | cut -f1)
cat "$reports"/* > /dev/null # into the page cache

seconds() { # seconds COMMAND...: wall time of one run, output discarded
  /usr/bin/time -o "$dir/time.out" -f "%e" "$@" > "$dir/out" 2> "$dir/err" || true
  grep -E '^[0-9.]+$' "$dir/time.out" | tail -1
}
best() {
  local best_s=""
  for _ in $(seq "$runs"); do
    s=$(seconds "$@")
    if [ -z "$best_s" ] || awk "BEGIN{exit !($s < $best_s)}"; then best_s=$s; fi
  done
  echo "$best_s"
}

rm -f "$db" "$db-wal" "$db-shm"
s=$(seconds "$bin" dmarc import --no-rdns --db "$db" "$reports")
tail -1 "$dir/out"
if [ -s "$dir/err" ]; then head -5 "$dir/err" >&2; fi
size=$(du -cb "$db"* | tail -1 | cut -f1)
printf 'import:   %s reports (%s files, %.1f MB), %6.2f s, %8.0f reports/s; database %.1f MB (%.0f bytes a report)\n' \
  "$n" "$files" "$(awk "BEGIN{print $bytes/1e6}")" "$s" "$(awk "BEGIN{print $n/$s}")" \
  "$(awk "BEGIN{print $size/1e6}")" "$(awk "BEGIN{print $size/$n}")"

s=$(seconds "$bin" dmarc import --no-rdns --db "$db" "$reports")
printf 're-import: %s (all duplicates), %6.2f s, %8.0f reports/s\n' "$(tail -1 "$dir/out" | cut -d';' -f1)" "$s" "$(awk "BEGIN{print $n/$s}")"

"$bin" dmarc summary --db "$db" --format json > "$dir/summary.json"
sources=$(grep -c '"ip":' "$dir/summary.json" || true)
for format in text json html; do
  s=$(best "$bin" dmarc summary --db "$db" --format "$format")
  printf 'summary:  --format %-4s  all %s sources, %6.3f s (best of %s)\n' "$format" "$sources" "$s" "$runs"
done
# One domain, and its last 30 days of reports.
domain=${DOMAIN:-example.com}
"$bin" dmarc summary --db "$db" --format json --domain "$domain" > "$dir/domain.json"
dsources=$(grep -c '"ip":' "$dir/domain.json" || true)
last=$(grep -o '"day":"[0-9-]*"' "$dir/domain.json" | tail -1 | cut -d'"' -f4)
s=$(best "$bin" dmarc summary --db "$db" --format json --domain "$domain")
printf 'summary:  --domain %s: %s sources, %6.3f s\n' "$domain" "$dsources" "$s"
if [ -n "$last" ]; then
  since=$(date -u -d "$last -29 days" +%F)
  s=$(best "$bin" dmarc summary --db "$db" --format json --domain "$domain" --since "$since")
  printf 'summary:  --domain %s --since %s (30 days): %6.3f s\n' "$domain" "$since" "$s"
fi
