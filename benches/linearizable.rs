//! `cargo bench --bench linearizable`: the linearizability checker on synthetic histories shaped
//! like Porcupine's test data (an etcd cas register with many timed-out ops; 50 clients on a
//! 10-key append store) and on a 100,000-operation history with 10 keys and 10 clients.
#![allow(clippy::disallowed_methods)] // a benchmark measures wall time, and says so here

use std::time::{Duration, Instant};

use sim::check::linearizable::generate::{self, Shape};
use sim::check::linearizable::{Limits, check};

fn time(name: &str, shape: &Shape, bad: bool, runs: u32) {
    let (history, model) = generate::history(shape);
    let history = if bad {
        generate::with_bad_read(&history).0
    } else {
        history
    };
    let mut times: Vec<Duration> = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let analysis = check(&history, &model, &Limits::default()).expect("a valid history");
        times.push(start.elapsed());
        last = Some(analysis);
    }
    times.sort();
    let analysis = last.expect("at least one run");
    println!(
        "{name:<28} {:>7} ops  {:<17} {:>9} steps  median {:>10.3} ms",
        history.ops.len(),
        analysis.verdict.name(),
        analysis.steps,
        times[times.len() / 2].as_secs_f64() * 1e3
    );
}

fn main() {
    time("etcd-like (seed 1)", &Shape::etcd_like(1), false, 21);
    time("etcd-like, one bad read", &Shape::etcd_like(1), true, 21);
    time("c50-like (seed 3)", &Shape::c50_like(3), false, 3);
    time("large 100k, 10 keys", &Shape::large(7, 100_000), false, 3);
    // A violation deep in a long key makes the search undo every earlier choice; at 100k ops
    // that exceeds any budget today (see the module doc of `linearizable`), so 20k is measured.
    time("large 20k, one bad read", &Shape::large(7, 20_000), true, 3);
}
