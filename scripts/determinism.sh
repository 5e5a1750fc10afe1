#!/usr/bin/env bash
# Determinism at scale: the same scenario and seed must give the same trace hash on every run, on
# any number of threads, and with any compatible version of the dependencies.
#
#   scripts/determinism.sh [SEEDS]
#       Sweeps SEEDS seeds (default 10000) of the scenarios below — at least one per protocol, the
#       ones with the most faults — twice: once on one thread, once on every core. Every seed's
#       (verdict, events, trace hash) must be the same in both. A protocol that no scenario here
#       covers fails the job, so a new protocol must be added to the list.
#
#   scripts/determinism.sh --cargo-update [SEEDS]
#       Copies the checkout, runs `cargo update` in the copy (every dependency to the newest
#       version its requirement and the crate's rust-version allow), prints what moved, builds it,
#       and checks that nothing else moved: `sim lessons` on the copy (every recorded verdict and
#       hash in scenarios/, every lesson against its [expect]), and SEEDS seeds (default 200) of
#       the same scenarios with the locked build and the updated one, compared seed by seed.
#       It needs the package registry. The updated build is unoptimised (the dev profile,
#       assertions on): it compiles in a fraction of an optimised build's time, reusing from
#       target/debug/ every dependency that did not move, and the comparison then also holds
#       across optimisation levels.
#
# SIM=path/to/sim uses that build as the locked one instead of building target/release/sim.
# Exit 0: identical everywhere. Exit 1: a difference (the first one is printed with the line that
# replays it). Exit 2: bad arguments.
set -euo pipefail
cd "$(dirname "$0")/.."

# One or more scenarios per protocol: swarm and nemesis scenarios first, for the widest spread of
# worlds (loss, duplication, reordering, partitions, crashes, pauses, clock faults).
scenarios=(
  scenarios/raft/swarm.toml
  scenarios/raft/kv-linearizable.toml
  scenarios/failover/heartbeat-false-suspicion.toml
  scenarios/failover/naive-swarm.toml
  scenarios/failover/generation-clock.toml
  scenarios/failover/lease-master-nemesis.toml
  scenarios/failover/arbiter-nemesis.toml
  scenarios/txn/2pc-nemesis.toml
  scenarios/txn/2pc-raft-nemesis.toml
  scenarios/txn/tcc-nemesis.toml
  scenarios/clocks/siblings-nemesis.toml
  scenarios/quorum/abd.toml
  scenarios/paxos/nemesis.toml
  scenarios/paxos/log-takeover.toml
  scenarios/paxos/cost-multi.toml
  scenarios/ids/snowflake-wait-nemesis.toml
  scenarios/locks/fencing-nemesis.toml
  scenarios/locks/zk-predecessor-nemesis.toml
  scenarios/replication/semi-sync-nemesis.toml
  scenarios/messaging/transactional-nemesis.toml
  scenarios/messaging/local-table-nemesis.toml
  scenarios/sessions/version-token-nemesis.toml
  scenarios/overload/circuit-breaker.toml
  scenarios/overload/token-bucket-burst.toml
  scenarios/proxies/sequence-numbers-nemesis.toml
  scenarios/byzantine/four-generals-any-traitor.toml
)

update=""
if [ "${1:-}" = "--cargo-update" ]; then
  update=1
  shift
fi
seeds=${1:-}
if [ -z "$seeds" ]; then
  if [ -n "$update" ]; then seeds=200; else seeds=10000; fi
fi
if ! [[ "$seeds" =~ ^[1-9][0-9]*$ ]] || [ $# -gt 1 ]; then
  echo "usage: scripts/determinism.sh [--cargo-update] [SEEDS]   (SEEDS: a positive number, got '${1:-}')" >&2
  exit 2
fi

sim=${SIM:-target/release/sim}
if [ -z "${SIM:-}" ]; then
  cargo build --release --locked --quiet
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/sim-determinism.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Every protocol of this build has a scenario in the list.
covered=""
for f in "${scenarios[@]}"; do
  covered="$covered $(sed -n 's/^protocol *= *"\([^"]*\)".*/\1/p' "$f" | head -1)"
done
missing=""
for p in $("$sim" list protocols | sed -n 's/^\([a-z][a-z0-9-]*\).*/\1/p'); do
  case " $covered " in
    *" $p "*) ;;
    *) missing="$missing $p" ;;
  esac
done
if [ -n "$missing" ]; then
  echo "no scenario in scripts/determinism.sh runs the protocol(s):$missing — add one to its list" >&2
  exit 1
fi

# `seed verdict events hash` of one sweep, one line per seed in seed order (results.jsonl is
# written in the order seeds finish, which depends on the threads).
sweep() { # sim scenario jobs out
  "$1" sweep "$2" --seeds "1..=$seeds" --jobs "$3" --out "$4" >/dev/null 2>"$4.err" || {
    local rc=$?
    # 1 is a failing seed (a violation lesson, or a finding): still a run to compare.
    if [ "$rc" != 1 ]; then
      echo "sim sweep $2 exited $rc:" >&2
      cat "$4.err" >&2
      exit 1
    fi
  }
  sed -E 's/^\{"seed":([0-9]+),"verdict":"([a-z]+)","events":([0-9]+),.*"trace_hash":"([0-9a-f]+)".*/\1 \2 \3 \4/' \
    "$4/results.jsonl" | sort -n
}

# Runs every scenario with (sim_a, jobs_a) and (sim_b, jobs_b) and compares them seed by seed.
compare() { # label_a sim_a jobs_a label_b sim_b jobs_b
  local failed="" total=0
  printf '%-44s %8s %8s %10s  %s\n' scenario seeds failing hashes same
  for f in "${scenarios[@]}"; do
    local name
    name=$(basename "$(dirname "$f")")-$(basename "$f" .toml)
    local a b
    a=$(sweep "$2" "$f" "$3" "$work/$name.a")
    b=$(sweep "$5" "$f" "$6" "$work/$name.b")
    rm -rf "$work/$name.a" "$work/$name.b"
    local n distinct failing same=yes
    n=$(printf '%s\n' "$a" | wc -l)
    distinct=$(printf '%s\n' "$a" | cut -d' ' -f4 | sort -u | wc -l)
    failing=$(printf '%s\n' "$a" | awk '$2 != "pass"' | wc -l)
    if [ "$n" != "$seeds" ]; then
      echo "$f: $n results of $seeds seeds" >&2
      failed=1
    fi
    if [ "$a" != "$b" ]; then
      same=NO
      failed=1
      local first
      # diff exits 1 on a difference: that is the point here, not an error.
      first=$({ diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") || true; } | sed -n 's/^< //p' | head -1 | cut -d' ' -f1)
      echo "$f: seed $first differs between $1 and $4:" >&2
      printf '%s\n' "$a" | awk -v s="$first" -v l="$1" '$1 == s {print "  " l ": " $0}' >&2
      printf '%s\n' "$b" | awk -v s="$first" -v l="$4" '$1 == s {print "  " l ": " $0}' >&2
      echo "  replay: sim run $f --seed $first" >&2
    fi
    total=$((total + n))
    printf '%-44s %8s %8s %10s  %s\n' "${f#scenarios/}" "$n" "$failing" "$distinct" "$same"
  done
  if [ -n "$failed" ]; then
    echo "determinism: a difference between $1 and $4 (above)" >&2
    exit 1
  fi
  echo "determinism: $total runs, every trace hash the same with $1 and $4"
}

if [ -z "$update" ]; then
  cores=$(nproc)
  if [ "$cores" -lt 2 ]; then cores=2; fi
  compare "1 thread" "$sim" 1 "$cores threads" "$sim" "$cores"
  exit 0
fi

# --cargo-update: the same sources, the newest compatible dependencies.
copy="$work/checkout"
mkdir -p "$copy"
git ls-files -z | xargs -0 tar -cf - | tar -xf - -C "$copy"
(cd "$copy" && cargo update 2>&1 | grep -E '^ *(Updating|Adding|Removing|Downgrading) ' | grep -v 'crates.io index' || true) >"$work/moved"
if [ -s "$work/moved" ]; then
  echo "cargo update moved $(wc -l <"$work/moved") package(s):"
  sed 's/^ */  /' "$work/moved"
else
  echo "cargo update moved nothing: Cargo.lock already has the newest compatible versions"
fi
# The copy builds into this checkout's target directory: its own `sim` gets its own files there
# (the package's path is part of their names), but cargo also links the result to
# target/debug/sim. That link is moved out of the way at once; the next `cargo build` of this
# checkout puts its own back without compiling anything.
main_target=$PWD/target
(cd "$copy" && CARGO_TARGET_DIR="$main_target" cargo build --quiet)
updated="$work/sim-updated"
mv target/debug/sim "$updated"
echo "sim lessons with the updated dependencies:"
(cd "$copy" && "$updated" lessons >"$work/lessons.out" 2>&1) || {
  cat "$work/lessons.out" >&2
  echo "determinism: a recorded verdict or trace hash moved with the updated dependencies (above)" >&2
  exit 1
}
tail -n 3 "$work/lessons.out"
compare "Cargo.lock" "$sim" 2 "cargo update" "$updated" 2
