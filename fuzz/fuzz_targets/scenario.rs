//! Scenario files as `sim run` reads them: text, parse, check, and a run within tight limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    sim_fuzz::entries::scenario(bytes);
});
