//! `sim list protocols|invariants|faults`

use clap::ValueEnum;

use crate::check;
use crate::protocols;
use crate::report::text::wrap;
use crate::run::exit::ExitCode;
use crate::world::fault;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum What {
    Protocols,
    Invariants,
    Faults,
}

fn entry(name: &str, tag: &str, definition: &str) {
    outln!("{name}  {tag}");
    for line in wrap(definition, 88) {
        outln!("    {line}");
    }
}

pub(crate) fn list(what: What) -> i32 {
    match what {
        What::Protocols => {
            for p in protocols::catalog() {
                let invariants = if p.default_invariants.is_empty() {
                    String::new()
                } else {
                    format!("(checks by default: {})", p.default_invariants.join(", "))
                };
                entry(p.name, &invariants, p.summary);
            }
        }
        What::Invariants => {
            for i in check::catalog().iter().map(|e| e.info) {
                entry(
                    i.name,
                    &format!("({:?})", i.property).to_lowercase(),
                    i.definition,
                );
            }
            // A protocol's own invariants judge its own facts: only its scenarios may name them.
            for p in protocols::catalog() {
                for own in (p.invariants)() {
                    let i = own.info;
                    let tag = format!("({:?}, {} only)", i.property, p.name).to_lowercase();
                    entry(i.name, &tag, i.definition);
                }
            }
        }
        What::Faults => {
            for (name, definition) in fault::CATALOG {
                entry(name, "", definition);
            }
        }
    }
    ExitCode::Held.code()
}
