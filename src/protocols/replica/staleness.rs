//! The staleness report: how many reads missed a write that had already completed when they
//! began, by how much, and how old the values reads returned were — for every protocol of the
//! family (each lists [`Staleness`] in its `report_sections`).
//!
//! Computed from the clients' history alone, so it judges what clients saw, not what replicas
//! hold. Per key, a read that returned value `v` (written by `Wv`) is **stale** when some write
//! `W'` of the key completed before the read began and began after `Wv` completed: `W'`
//! certainly follows `Wv` in real time, so no legal order lets the read see `v` — it missed the
//! latest completed write. A write that overlaps `Wv` does not count (either order is legal),
//! nor does one still running when the read began. A read of nothing (nil) is stale when any
//! write completed before it began; a read of siblings when every sibling is.
//!
//! - *stale by*: for a stale read, how long before it began its value had been superseded (the
//!   read's invocation minus the completion of the earliest such `W'`);
//! - *age*: for every read of a value, its invocation minus the completion of the write of that
//!   value (its invocation, for a write whose outcome is unknown), at least 0.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use crate::node::history::{Call, History, Outcome, Output, Value};
use crate::node::section::plural;
use crate::node::{Nanos, RunView, Section, SectionBuilder, format_duration};

/// What the staleness report measured.
///
/// ```
/// use sim::node::history::{Call, History, Operation, Outcome, Output, TimeUnit, Value};
/// let op = |call, invoke, complete, out| Operation {
///     process: 0, key: Some("x".into()), call, invoke, complete: Some(complete),
///     outcome: Outcome::Ok(out),
///     node: None,
/// };
/// let s = |v: &str| Value::Str(v.into());
/// // b completes at 30; one read after it returns a (stale), one returns b.
/// let history = History {
///     ops: vec![
///         op(Call::Write(s("a")), 0, 10, Output::Done),
///         op(Call::Write(s("b")), 20, 30, Output::Done),
///         op(Call::Read, 50, 60, Output::Value(Some(s("a")))),
///         op(Call::Read, 70, 80, Output::Value(Some(s("b")))),
///     ],
///     time_unit: TimeUnit::Nanos,
///     model: None,
/// };
/// let m = sim::protocols::replica::staleness::measure(&history);
/// assert_eq!((m.reads, m.stale, m.stale_by.clone()), (2, 1, vec![20]));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Measure {
    /// Reads that returned something (ok).
    pub reads: u64,
    /// Of those, the stale ones.
    pub stale: u64,
    /// For each stale read: how long its value had been superseded when it began.
    pub stale_by: Vec<Nanos>,
    /// For each read of a value: how old that value was.
    pub age: Vec<Nanos>,
}

impl Measure {
    /// The share of reads that were stale (0 with no reads).
    ///
    /// ```
    /// use sim::node::history::{Call, History, Operation, Outcome, Output, TimeUnit, Value};
    /// let op = |call, invoke, complete, out| Operation {
    ///     process: 0, key: Some("x".into()), call, invoke, complete: Some(complete),
    ///     outcome: Outcome::Ok(out),
    ///     node: None,
    /// };
    /// let s = |v: &str| Value::Str(v.into());
    /// // b completes at 30; one read after it returns a (stale), one returns b.
    /// let history = History {
    ///     ops: vec![
    ///         op(Call::Write(s("a")), 0, 10, Output::Done),
    ///         op(Call::Write(s("b")), 20, 30, Output::Done),
    ///         op(Call::Read, 50, 60, Output::Value(Some(s("a")))),
    ///         op(Call::Read, 70, 80, Output::Value(Some(s("b")))),
    ///     ],
    ///     time_unit: TimeUnit::Nanos,
    ///     model: None,
    /// };
    /// let m = sim::protocols::replica::staleness::measure(&history);
    /// assert_eq!(m.share(), 0.5);
    /// assert_eq!(sim::protocols::replica::staleness::Measure::default().share(), 0.0, "no reads");
    /// ```
    pub fn share(&self) -> f64 {
        if self.reads == 0 {
            0.0
        } else {
            self.stale as f64 / self.reads as f64
        }
    }
}

/// A write of one key: when it began, and when it completed (`None`: unknown outcome).
struct Write {
    invoke: u64,
    complete: Option<u64>,
}

/// Measures a history's staleness (see the module's definitions).
///
/// ```
/// use sim::node::history::{Call, History, Operation, Outcome, Output, TimeUnit, Value};
/// use sim::protocols::replica::staleness::measure;
/// let op = |call, invoke, complete, out| Operation {
///     process: 0, key: Some("x".into()), call, invoke, complete: Some(complete),
///     outcome: Outcome::Ok(out),
///     node: None,
/// };
/// let s = |v: &str| Value::Str(v.into());
/// let h = History {
///     ops: vec![
///         op(Call::Write(s("a")), 0, 10, Output::Done),
///         op(Call::Write(s("b")), 20, 30, Output::Done),
///         // Began at 50, after b completed at 30, and read a: stale by 20.
///         op(Call::Read, 50, 60, Output::Value(Some(s("a")))),
///     ],
///     time_unit: TimeUnit::Nanos,
///     model: None,
/// };
/// let m = measure(&h);
/// assert_eq!((m.reads, m.stale, m.stale_by.clone()), (1, 1, vec![20]));
/// assert_eq!(m.age, vec![40]);
/// ```
pub fn measure(history: &History) -> Measure {
    let mut writes: BTreeMap<&str, BTreeMap<&Value, Write>> = BTreeMap::new();
    for op in &history.ops {
        let (Some(key), Call::Write(v)) = (&op.key, &op.call) else {
            continue;
        };
        let complete = match (&op.outcome, op.complete) {
            (Outcome::Ok(_), Some(c)) => Some(c),
            (Outcome::Fail, _) => continue,
            _ => None,
        };
        writes.entry(key).or_default().insert(
            v,
            Write {
                invoke: op.invoke,
                complete,
            },
        );
    }
    let mut m = Measure::default();
    let none = BTreeMap::new();
    for op in &history.ops {
        let (Some(key), Call::Read, Outcome::Ok(out)) = (&op.key, &op.call, &op.outcome) else {
            continue;
        };
        let returned: Vec<Option<&Value>> = match out {
            Output::Value(v) => vec![v.as_ref()],
            Output::Siblings(vs) => vs.iter().map(Some).collect(),
            _ => continue,
        };
        let of_key = writes.get(key.as_str()).unwrap_or(&none);
        m.reads += 1;
        // Per value returned: how long before the read it was superseded (None: it was not).
        let superseded = |v: Option<&Value>| -> Option<u64> {
            let after = match v {
                None => None,
                Some(v) => Some(of_key.get(v)?.complete?),
            };
            of_key
                .values()
                .filter_map(|w| w.complete.map(|c| (w.invoke, c)))
                .filter(|&(i, c)| c < op.invoke && after.is_none_or(|a| i > a))
                .map(|(_, c)| op.invoke - c)
                .max()
        };
        let by: Vec<Option<u64>> = returned.iter().map(|v| superseded(*v)).collect();
        if by.iter().all(Option::is_some) {
            m.stale += 1;
            m.stale_by
                .push(by.iter().flatten().copied().min().unwrap_or(0));
        }
        let ages = returned.iter().filter_map(|v| {
            let w = of_key.get(v.as_ref()?)?;
            Some(op.invoke.saturating_sub(w.complete.unwrap_or(w.invoke)))
        });
        if let Some(age) = ages.min() {
            m.age.push(age);
        }
    }
    m
}

/// The nearest-rank percentile `p` (0–100) of sorted `xs`.
fn percentile(xs: &[Nanos], p: u64) -> Nanos {
    let rank = (xs.len() as u64 * p).div_ceil(100).max(1);
    xs[rank as usize - 1]
}

/// `(words, json)` for a list of durations: p50, p99, max.
fn spread(mut xs: Vec<Nanos>) -> (String, Json) {
    xs.sort_unstable();
    if xs.is_empty() {
        return ("none".into(), json!({ "count": 0 }));
    }
    let (p50, p99, max) = (percentile(&xs, 50), percentile(&xs, 99), xs[xs.len() - 1]);
    (
        format!(
            "p50 {}, p99 {}, max {}",
            format_duration(p50),
            format_duration(p99),
            format_duration(max)
        ),
        json!({ "count": xs.len(), "p50_ns": p50, "p99_ns": p99, "max_ns": max }),
    )
}

/// The `staleness` report section, for any protocol whose clients read and write registers.
///
/// ```
/// use sim::node::history::{Call, History, Operation, Outcome, Output, TimeUnit, Value};
/// let op = |call, invoke, complete, out| Operation {
///     process: 0, key: Some("x".into()), call, invoke, complete: Some(complete),
///     outcome: Outcome::Ok(out),
///     node: None,
/// };
/// let s = |v: &str| Value::Str(v.into());
/// // b completes at 30; one read after it returns a (stale), one returns b.
/// let history = History {
///     ops: vec![
///         op(Call::Write(s("a")), 0, 10, Output::Done),
///         op(Call::Write(s("b")), 20, 30, Output::Done),
///         op(Call::Read, 50, 60, Output::Value(Some(s("a")))),
///         op(Call::Read, 70, 80, Output::Value(Some(s("b")))),
///     ],
///     time_unit: TimeUnit::Nanos,
///     model: None,
/// };
/// use sim::node::SectionBuilder;
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// let mut section = sim::protocols::replica::staleness::Staleness::default();
/// section.on_history(&history);
/// let shown = section.section(&view()).expect("a section once there is a history");
/// assert_eq!(shown.key, "staleness");
/// ```
#[derive(Default)]
pub struct Staleness {
    measure: Option<Measure>,
}

impl SectionBuilder for Staleness {
    fn on_history(&mut self, history: &History) {
        self.measure = Some(measure(history));
    }

    fn section(&self, _view: &dyn RunView) -> Option<Section> {
        let m = self.measure.as_ref().filter(|m| m.reads > 0)?;
        let pct = format!("{:.1}%", m.share() * 100.0);
        let (by, by_json) = spread(m.stale_by.clone());
        let (age, age_json) = spread(m.age.clone());
        let mut lines = vec![format!(
            "{} of {} missed a write completed before they began ({pct})",
            m.stale,
            plural(m.reads, "read")
        )];
        if m.stale > 0 {
            lines.push(format!("stale by: {by}"));
        }
        lines.push(format!("age of the value read: {age}"));
        Some(Section {
            key: "staleness",
            title: "staleness",
            brief: Some(format!("{} of {} stale", m.stale, plural(m.reads, "read"))),
            lines,
            json: json!({
                "reads": m.reads,
                "stale": m.stale,
                "stale_share": m.share(),
                "stale_by": by_json,
                "age": age_json,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::history::{Operation, TimeUnit};

    fn s(v: &str) -> Value {
        Value::Str(v.into())
    }

    fn op(call: Call, invoke: u64, complete: Option<u64>, outcome: Outcome) -> Operation {
        Operation {
            process: 0,
            key: Some("x".into()),
            call,
            invoke,
            complete,
            outcome,
            node: None,
        }
    }

    fn write(v: &str, invoke: u64, complete: u64) -> Operation {
        op(
            Call::Write(s(v)),
            invoke,
            Some(complete),
            Outcome::Ok(Output::Done),
        )
    }

    fn read(v: Option<&str>, invoke: u64, complete: u64) -> Operation {
        op(
            Call::Read,
            invoke,
            Some(complete),
            Outcome::Ok(Output::Value(v.map(s))),
        )
    }

    fn history(ops: Vec<Operation>) -> History {
        History {
            ops,
            time_unit: TimeUnit::Nanos,
            model: None,
        }
    }

    #[test]
    fn a_read_of_a_superseded_value_is_stale_by_how_long_and_a_fresh_one_is_not() {
        let m = measure(&history(vec![
            write("a", 0, 10),
            write("b", 20, 30),
            read(Some("b"), 40, 45), // fresh, value 10 old
            read(Some("a"), 50, 55), // stale: b completed at 30, after a completed
            read(None, 60, 70),      // nil after two completed writes: stale by 50
        ]));
        assert_eq!((m.reads, m.stale), (3, 2));
        assert_eq!(m.stale_by, [20, 50]);
        assert_eq!(m.age, [10, 40], "nil has no age");
        assert!((m.share() - 2.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn overlapping_writes_and_writes_still_running_do_not_make_a_read_stale() {
        let m = measure(&history(vec![
            write("a", 0, 10),
            write("b", 5, 30), // overlaps a: a may follow b
            read(Some("a"), 40, 45),
            op(Call::Write(s("c")), 50, None, Outcome::Info), // unknown outcome
            read(Some("b"), 60, 65),                          // c never completed
            read(None, 1, 2),                                 // before any write completed
        ]));
        assert_eq!((m.reads, m.stale), (3, 0));
        assert_eq!(m.age, [30, 30]);
    }

    #[test]
    fn siblings_are_stale_only_when_every_one_is_and_other_keys_do_not_count() {
        let mut other = write("z", 0, 1);
        other.key = Some("y".into());
        let sib = |vs: &[&str], invoke| {
            op(
                Call::Read,
                invoke,
                Some(invoke + 1),
                Outcome::Ok(Output::Siblings(vs.iter().map(|v| s(v)).collect())),
            )
        };
        let m = measure(&history(vec![
            other,
            write("a", 0, 10),
            write("b", 20, 30),
            write("c", 40, 50),
            sib(&["b", "c"], 60), // c is the latest
            sib(&["a", "b"], 70), // both superseded by c
        ]));
        assert_eq!((m.reads, m.stale), (2, 1));
        assert_eq!(
            m.stale_by,
            [20],
            "b was superseded least long ago: c completed at 50"
        );
    }

    #[test]
    fn the_section_reports_the_share_and_is_absent_without_reads() {
        let mut s = Staleness::default();
        s.on_history(&history(vec![write("a", 0, 10)]));
        struct V;
        impl RunView for V {
            fn now(&self) -> Nanos {
                0
            }
            fn names(&self) -> &[String] {
                &[]
            }
            fn status(&self, _: u32) -> crate::node::NodeStatus {
                crate::node::NodeStatus::Up
            }
            fn read_clock(&self, _: u32, _: crate::node::ClockKind) -> crate::node::LocalNanos {
                0
            }
        }
        assert!(s.section(&V).is_none());
        s.on_history(&history(vec![
            write("a", 0, 10),
            write("b", 20, 30),
            read(Some("a"), 50, 55),
            read(Some("b"), 50, 55),
        ]));
        let section = s.section(&V).unwrap();
        assert_eq!(section.brief.as_deref(), Some("1 of 2 reads stale"));
        assert_eq!(section.json["stale_share"], 0.5);
        assert!(section.lines[0].contains("(50.0%)"), "{:?}", section.lines);
    }
}
