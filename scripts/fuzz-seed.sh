#!/usr/bin/env bash
# Seeds the fuzz corpora (fuzz/corpus/<target>/, not committed) from the repository's scenarios,
# the third-party histories in ../shared/data/linearizability (or $SIM_LIN_DATA) and the
# sim-history files of a few runs with clients (of $SIM, default target/release/sim). Files over
# 64 KiB are left out: libFuzzer mutates small inputs faster, and the big histories add nothing a
# small one of the same format lacks.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=fuzz/corpus
max=65536

# The `sim` that makes sim-history JSON from runs with clients, checked before anything is
# copied: SIM names it (CI passes the target/checked/sim its tests built, saving a release
# build); by default the release build, built when missing.
sim="${SIM:-target/release/sim}"
if [ ! -x "$sim" ]; then
  if [ -n "${SIM:-}" ]; then
    echo "fuzz-seed: SIM=$SIM is not an executable" >&2
    exit 2
  fi
  cargo build --release --quiet
fi
mkdir -p "$corpus"/{scenario,history_json,history_jepsen,history_edn,run_generated}

copy() { # copy FILE DIR: under a name made from its path, when small enough
  local size
  size=$(wc -c <"$1")
  if [ "$size" -le "$max" ]; then
    cp "$1" "$2/$(echo "$1" | tr '/' '_' | sed 's/^[._]*//')"
  fi
}

find scenarios -name '*.toml' | sort | while read -r f; do copy "$f" "$corpus/scenario"; done
cp fuzz/seeds/scenario/* fuzz/seeds/run_generated/* "$corpus/scenario/" 2>/dev/null || true

data="${SIM_LIN_DATA:-}"
for d in "$data" ../shared/data/linearizability /work/shared/data/linearizability; do
  if [ -n "$d" ] && [ -f "$d/MANIFEST.tsv" ]; then data="$d"; break; fi
done
if [ -n "$data" ] && [ -d "$data" ]; then
  find "$data" -name '*.edn' | sort | while read -r f; do copy "$f" "$corpus/history_edn"; done
  find "$data" \( -name '*.log' -o -name '*.txt' \) | sort | while read -r f; do
    copy "$f" "$corpus/history_jepsen"
  done
else
  echo "fuzz-seed: no linearizability data set (set SIM_LIN_DATA): history corpora from runs only" >&2
fi
for t in history_json history_jepsen history_edn; do
  cp fuzz/seeds/"$t"/* "$corpus/$t/" 2>/dev/null || true
done

# sim-history JSON from runs with clients (below).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for s in scenarios/raft/kv-linearizable.toml scenarios/raft/kv-follower-read.toml \
  scenarios/raft/kv-lease-read.toml scenarios/clocks/lww-loses-a-write.toml; do
  [ -f "$s" ] || continue
  for seed in 1 2; do
    out="$tmp/$(basename "$s" .toml)-$seed"
    "$sim" run "$s" --seed "$seed" --out "$out" >/dev/null 2>&1 || true
    if [ -f "$out/history.json" ] && [ "$(wc -c <"$out/history.json")" -le "$max" ]; then
      cp "$out/history.json" "$corpus/history_json/$(basename "$out").json"
    fi
  done
done
for t in scenario history_json history_jepsen history_edn run_generated; do
  printf '%-16s %5d files\n' "$t" "$(find "$corpus/$t" -type f | wc -l)"
done
