//! The end-to-end tests: the `sim` binary and the library's public API, driven as a user
//! drives them. One test binary, one module per subject (each module's own documentation says
//! what it covers): a binary per file, each linking the whole crate, took longer to build than
//! all of their tests take to run. `cargo test --profile checked --test e2e` runs them (with
//! assertions on); `-- MODULE::` runs one subject's.

mod common;

mod arbiter;
mod bad_input;
mod browser;
mod byzantine;
mod check_cli;
mod check_keys;
mod cli;
mod deploy_job;
mod deploy_workflow;
mod determinism;
mod determinism_job;
mod experiment;
mod exports;
mod find;
mod fuzz_regressions;
mod generation_clock;
mod history_html;
mod kv_lessons;
mod kv_seeds;
mod lease_master;
mod lessons;
mod lessons_cli;
mod limits;
mod linearizability_data;
mod locks;
mod master_slave;
mod messaging;
mod mutants;
mod overload;
mod paxos;
mod primary_backup;
mod proxy;
mod quorum;
mod raft_invariants;
mod raft_world;
mod rare_states;
mod readme;
mod replay;
mod sessions;
mod shrink;
mod snowflake;
mod step;
mod swarm;
mod sweep;
mod sweep_panics;
mod teaching;
mod timing;
mod txn_2pc;
mod txn_bank;
mod txn_shrink;
mod txn_tcc;
mod vector_clock;
mod workload;
mod zk_lock;
