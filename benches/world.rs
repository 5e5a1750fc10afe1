//! `cargo bench`: the same workloads and figures as `sim bench`.

fn main() {
    let args = sim::cli::bench::BenchArgs {
        runs: 5,
        ..Default::default()
    };
    std::process::exit(sim::cli::bench::main(&args));
}
