//! The edn history importer (and `sim check`'s detecting reader and checker behind it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sim_fuzz::entries::{Importer, history};

fuzz_target!(|bytes: &[u8]| {
    history(Importer::Edn, bytes);
});
