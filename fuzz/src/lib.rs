//! The fuzz targets' shared code: what each does with an input (`entries`, also compiled into
//! `tests/fuzz_regressions.rs`) and the generator of whole scenarios (`generate`).

pub mod entries;
pub mod generate;

/// The registry's protocol names, in its order: what a generated scenario picks from.
pub fn protocols() -> Vec<&'static str> {
    static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    NAMES
        .get_or_init(|| {
            sim::run::registry::installed()
                .catalog()
                .into_iter()
                .map(|p| p.name)
                .collect()
        })
        .clone()
}
