#!/usr/bin/env bash
# The scale figures of README.md's section on sweeps, measured on the machine this runs on:
#
#   1. seeds per second per core of scenarios/raft/swarm.toml (a `sim sweep --jobs 1` of
#      SEEDS seeds, divided by the CPU time it used, so a busy machine still measures the core);
#   2. how many pods (2 cores each, as deploy/kubernetes-sweep-job.yaml requests) a
#      10-million-seed sweep needs to finish in ten minutes (merge not included);
#   3. the results volume per million seeds (the bytes of results.jsonl per seed);
#   4. what `sim merge --junit` costs on a synthetic 1-million-seed shard set: 8 shards, as the
#      Job writes them, built from the measured sweep's own results lines with their seeds
#      renumbered (so each line is a real one; the scenario hash is the real file's).
#
# Usage: scripts/sweep-scale.sh [SEEDS]     (default 10000; SIM=path/to/sim to use another build)
# It needs about 1.1 GB of free space under ${TMPDIR:-/tmp} (removed when done) and 6 GB of memory
# for the merge; it took 7 minutes on 2 busy cores.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=${1:-10000}
scenario=scenarios/raft/swarm.toml
sim=${SIM:-target/release/sim}
if [ -z "${SIM:-}" ]; then
  cargo build --release --locked --quiet
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/sim-scale.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Wall, user and system seconds of a command, and its peak memory when GNU time is there.
measure() {
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@"
  else
    local TIMEFORMAT="%R %U %S 0"
    { time "$@"; } 2>"$work/time"
  fi
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. One core.
measure "$sim" sweep "$scenario" --seeds "1..$((seeds + 1))" --jobs 1 --out "$work/one" \
  >"$work/one.txt" 2>"$work/one.err" || [ $? -le 3 ]
read -r wall user sys _ <"$work/time"
per_core=$(awk -v n="$seeds" -v u="$user" -v s="$sys" 'BEGIN { printf "%.0f", n / (u + s) }')
echo "swarm, 1 job: $seeds seeds in ${wall}s wall, $(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')s CPU: $per_core seeds/s per core"

# 2. Pods of 2 cores for 10,000,000 seeds in 600 s: at twice the one-core rate, and at the 1.8x
# that `sim bench sweep` holds two jobs to.
pods() {
  awk -v r="$per_core" -v x="$1" 'BEGIN { p = 1e7 / (600 * x * r); printf "%d", (p == int(p)) ? p : int(p) + 1 }'
}
echo "10,000,000 seeds in 10 min: $(pods 2) pods of 2 cores if 2 jobs run 2x as fast as one, $(pods 1.8) at 1.8x"

# 3. The volume.
bytes=$(wc -c <"$work/one/results.jsonl")
echo "results.jsonl: $((bytes / seeds)) bytes per seed, $(awk -v b="$bytes" -v n="$seeds" 'BEGIN { printf "%.0f", b / n * 1e6 / 1e6 }') MB per million seeds"

# 4. A synthetic 1-million-seed shard set and its merge.
total=1000000
count=8
for i in $(seq 0 $((count - 1))); do
  dir="$work/set/shard-$i"
  mkdir -p "$dir"
  sed -e "s/\"end\": [0-9]*/\"end\": $((total + 1))/" \
    -e "s/\"shard\": null/\"shard\": { \"index\": $i, \"count\": $count }/" \
    "$work/one/sweep.json" >"$dir/sweep.json"
  awk -v i="$i" -v count="$count" -v total="$total" '
    { line[NR - 1] = $0 }
    END {
      for (s = 1 + i; s <= total; s += count) {
        l = line[(s - 1) % NR]
        sub(/^\{"seed":[0-9]+/, "{\"seed\":" s, l)
        print l
      }
    }' "$work/one/results.jsonl" >"$dir/results.jsonl"
done
echo "synthetic set: $total seeds in $count shards, $(du -sm "$work/set" | cut -f1) MB"
measure "$sim" merge "$work"/set/shard-* --junit "$work/junit.xml" >"$work/merge.txt" 2>"$work/merge.err" \
  || [ $? -le 3 ]
read -r wall user sys rss <"$work/time"
grep -m1 '^run ' "$work/merge.txt"
echo "sim merge --junit: ${wall}s wall, $(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')s CPU, $((rss / 1024)) MB peak memory, JUnit $(($(wc -c <"$work/junit.xml") / 1024)) KB"
