#!/usr/bin/env bash
# Compares two commands by alternating runs, so that the machine's drift
# (a shared VM's speed moves by several percent over minutes) falls on
# both alike; prints the min, first quartile, median and mean wall times
# in milliseconds of each. Outputs go to /dev/null.
#
#   N=16 scripts/ab.sh "./old analyze --format json big.log" "./new analyze --format json big.log"
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: [N=runs] $0 'command A' 'command B'" >&2; exit 2; }
n=${N:-10}
a=() b=()
run() { # prints the wall time of one run in tenths of a millisecond
  local start end
  start=$(date +%s%N)
  bash -c "$1" > /dev/null 2>&1 || true
  end=$(date +%s%N)
  echo $(((end - start) / 100000))
}
for _ in $(seq "$n"); do
  a+=("$(run "$1")")
  b+=("$(run "$2")")
done
stats() {
  sort -n | awk -v name="$1" '{v[NR] = $1; s += $1} END {
    printf "%s: min %.1f  q1 %.1f  median %.1f  mean %.1f ms\n", name, v[1] / 10, v[int(NR / 4) + 1] / 10, v[int(NR / 2) + 1] / 10, s / NR / 10 }'
}
printf '%s\n' "${a[@]}" | stats A
printf '%s\n' "${b[@]}" | stats B
