//! `sim list protocols|invariants|faults`

use clap::ValueEnum;

use crate::check;
use crate::node::InvariantInfo;
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
            // One a family shares (the same name and definition) is listed once, with them all.
            let mut own: Vec<(InvariantInfo, Vec<&str>)> = Vec::new();
            for p in protocols::catalog() {
                for i in (p.invariants)().into_iter().map(|e| e.info) {
                    match own
                        .iter_mut()
                        .find(|(o, _)| o.name == i.name && o.definition == i.definition)
                    {
                        Some((_, owners)) => owners.push(p.name),
                        None => own.push((i, vec![p.name])),
                    }
                }
            }
            for (i, owners) in own {
                let tag =
                    format!("({:?}, {} only)", i.property, owners.join(" and ")).to_lowercase();
                entry(i.name, &tag, i.definition);
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
