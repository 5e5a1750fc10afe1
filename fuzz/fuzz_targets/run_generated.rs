//! Whole runs of small valid scenarios drawn from the input (structure-aware).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sim_fuzz::generate::Generated;

fuzz_target!(|g: Generated| {
    let text = g.render(&sim_fuzz::protocols());
    sim_fuzz::entries::scenario_text(&text);
});
