//! Whole runs of small valid scenarios drawn from the input (structure-aware).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sim_fuzz::generate::Generated;

fuzz_target!(|g: Generated| {
    let text = g.render(&sim_fuzz::protocols());
    // `SIM_FUZZ_PRINT=1 cargo +nightly fuzz run run_generated FILE` shows the scenario an input
    // stands for: what fuzz/regressions/run_generated/ keeps.
    if std::env::var_os("SIM_FUZZ_PRINT").is_some() {
        eprintln!("{text}");
    }
    sim_fuzz::entries::scenario_text(&text);
});
