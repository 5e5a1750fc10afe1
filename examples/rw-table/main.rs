//! The (r, w) table a teacher can show: for n = 3 and n = 5 replicas and every read quorum r
//! and write quorum w, the share of seeds whose history is not linearizable and the share of
//! reads that missed a write completed before they began (the `staleness` section).
//!
//! ```text
//! cargo run --release --example rw-table -- --seeds 200
//! ```
//!
//! Every cell runs `base.toml` (beside this file) with its nodes, r and w, over seeds 1 to
//! `--seeds`; it prints a Markdown table on stdout.

use std::sync::atomic::{AtomicUsize, Ordering};

use sim::node::Status;
use sim::run::{RunOptions, run};
use sim::scenario::Scenario;

/// One cell's counts over its seeds.
#[derive(Clone, Copy, Default)]
struct Cell {
    seeds: u64,
    violated: u64,
    reads: u64,
    stale: u64,
}

fn cell(n: u32, r: u32, w: u32, seeds: u64) -> Cell {
    let names: Vec<String> = (0..n)
        .map(|i| format!("\"{}\"", (b'A' + i as u8) as char))
        .collect();
    let text = include_str!("base.toml")
        .replace("NODES", &format!("[{}]", names.join(", ")))
        .replace("r = R", &format!("r = {r}"))
        .replace("w = W", &format!("w = {w}"));
    let scenario = Scenario::parse("examples/rw-table/base.toml", &text)
        .unwrap_or_else(|e| panic!("the base scenario: {e}"));
    let mut c = Cell::default();
    for seed in 1..=seeds {
        let out = run(
            &scenario,
            &RunOptions {
                seed: Some(seed),
                ..RunOptions::default()
            },
        )
        .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        c.seeds += 1;
        if out
            .report
            .invariants
            .iter()
            .any(|i| i.name == "linearizable" && matches!(i.status, Status::Violated(_)))
        {
            c.violated += 1;
        }
        if let Some(s) = out.report.sections.iter().find(|s| s.key == "staleness") {
            c.reads += s.json["reads"].as_u64().unwrap_or(0);
            c.stale += s.json["stale"].as_u64().unwrap_or(0);
        }
    }
    c
}

fn pct(a: u64, b: u64) -> String {
    if b == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * a as f64 / b as f64)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seeds: u64 = args
        .iter()
        .position(|a| a == "--seeds")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.parse().expect("--seeds takes a number"))
        .unwrap_or(200);
    let cells: Vec<(u32, u32, u32)> = [3u32, 5]
        .iter()
        .flat_map(|&n| (1..=n).flat_map(move |r| (1..=n).map(move |w| (n, r, w))))
        .collect();
    let results: Vec<std::sync::Mutex<Option<Cell>>> =
        cells.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(n, r, w)) = cells.get(i) else {
                        break;
                    };
                    let c = cell(n, r, w, seeds);
                    eprintln!("n={n} r={r} w={w}: done");
                    *results[i].lock().unwrap() = Some(c);
                }
            });
        }
    });
    println!("| n | r | w | r + w > n | seeds not linearizable | stale reads |");
    println!("|---|---|---|---|---|---|");
    for (i, &(n, r, w)) in cells.iter().enumerate() {
        let c = results[i].lock().unwrap().expect("every cell ran");
        println!(
            "| {n} | {r} | {w} | {} | {} of {} ({}) | {} of {} ({}) |",
            if r + w > n { "yes" } else { "no" },
            c.violated,
            c.seeds,
            pct(c.violated, c.seeds),
            c.stale,
            c.reads,
            pct(c.stale, c.reads)
        );
    }
}
