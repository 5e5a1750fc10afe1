//! `linearizable`: is there one order of the history's operations, consistent with real time,
//! in which every operation does what the sequential model says and returns what it returned?
//!
//! The rule it keeps: a verdict of "not linearizable" is only ever given with proof — the search
//! exhausted every order — and a limit (step budget, cancellation) ends in `Unknown`, never in a
//! guess or a hang. The same history always gets the same verdict and the same explanation.
//!
//! Semantics of a history ([`History`]):
//!
//! - `Fail` operations did not happen and are skipped.
//! - `Ok(out)` operations took effect exactly once, at an instant strictly inside
//!   `[invoke, complete]`, and returned `out`. An operation precedes another in real time only if
//!   it completed strictly before the other was invoked; equal times overlap.
//! - `Info` operations, and any operation with no completion (an `Ok` without one cannot exist;
//!   it is read as `Info`), may take effect at any instant after their invocation, or never, and
//!   their output is unknown. A read of unknown outcome constrains nothing and is dropped; an
//!   unknown write or append may apply or not; an unknown cas applies if and only if the value
//!   equals `from` at the instant it takes effect.
//! - Models ([`ModelKind`]): per key, `Register` (read/write), `CasRegister` (read/write/cas) and
//!   `Kv` (get/put/append/cas); `Mutex` (acquire only when free, release only when held; it
//!   starts free); `MultiRegister` (transactions of reads and writes over named registers, all
//!   at one instant; a read of nil constrains nothing, as in Knossos; see the private
//!   `partitions`). Every key starts at `ModelSpec::init` (`None`: absent; a read of an absent
//!   key returns `Output::Value(None)`). `Cas(true)` means the value equalled `from` and
//!   became `to`; `Cas(false)` means it did not equal `from` and nothing changed. Append
//!   concatenates strings; appending to an absent key stores the appended string; an integer in a
//!   key that is appended to is a [`ModelError`], as is a call the model does not have.
//!
//! Linearizability is local (Herlihy and Wing's P-compositionality): a history is linearizable iff
//! each key's sub-history is. So every key is searched alone, in key order (`None` first), with
//! the Wing–Gong–Lowe search (the private `search` module). A violation is explained by
//! [`explain()`]: the key, the longest linearizable prefix, the operation that cannot be placed
//! and why, and the smallest window of operations that cannot be linearized whatever happened
//! before it.
//!
//! Known limit: a violation deep inside a long key (thousands of operations before it) makes the
//! depth-first search undo every earlier choice before it can conclude, which can exhaust any
//! budget (it then says `Unknown`, never a wrong verdict). Splitting a key at its quiescent
//! instants and carrying the set of reachable values across them would remove this.

pub(crate) mod explain;
pub mod generate;
mod model;
mod reason;
mod search;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod txn_mutex_tests;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::workload::history::{Call, History, ModelKind, ModelSpec, Value};

pub(crate) use explain::describe;
pub use explain::explain;
pub use model::ModelError;
pub(crate) use reason::{call_phrase, reason};

use model::{COp, Values};
use search::{Budget, Found, Search};

/// Deterministic limits on a check. The CLI backs `cancel` with a wall-clock deadline; the
/// checker itself never reads a clock.
#[derive(Clone, Copy, Default)]
pub struct Limits<'a> {
    /// Search steps over the whole check (every partition, explanations included).
    pub max_steps: Option<u64>,
    /// Polled every few thousand steps; `true` stops the check with `Unknown`.
    pub cancel: Option<&'a (dyn Fn() -> bool + Sync)>,
    /// Only the verdict: on a violation, skip locating the smallest window and the stuck
    /// operation (the longest prefix found is still given). For benchmarks against checkers that
    /// give only a verdict.
    pub verdict_only: bool,
}

/// A verdict on a history or on one key of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinVerdict {
    /// Some order of the operations, consistent with real time, satisfies the model.
    Linearizable,
    /// No order does: the search tried them all.
    NotLinearizable,
    /// A limit stopped the search first; never a guess.
    Unknown {
        /// Which limit, in words.
        reason: String,
    },
}

impl LinVerdict {
    /// The verdict as reports write it: `linearizable`, `not linearizable` or `unknown`.
    pub fn name(&self) -> &'static str {
        match self {
            LinVerdict::Linearizable => "linearizable",
            LinVerdict::NotLinearizable => "not linearizable",
            LinVerdict::Unknown { .. } => "unknown",
        }
    }
}

/// The verdict on one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionResult {
    /// The key (`None`: the ops without a key).
    pub key: Option<String>,
    /// This key's verdict.
    pub verdict: LinVerdict,
    /// Indices into `history.ops`: the linearization found, or else the longest linearizable
    /// prefix found (leading up to `stuck` on a violation).
    pub linearization: Vec<usize>,
    /// The model's value after each operation of `linearization` (`None`: absent).
    pub states: Vec<Option<Value>>,
    /// On a violation: the smallest window of operations (indices into `history.ops`, in
    /// invocation order) that cannot be linearized whatever happened before it.
    pub window: Vec<usize>,
    /// On a violation: the operation that cannot be placed (its completion is the deadline no
    /// order of the window meets).
    pub stuck: Option<usize>,
    /// The values in which `stuck` was tried and could not take effect.
    pub refused_in: Vec<Option<Value>>,
    /// Operations of this key that constrain the search (failed ops and unknown reads excluded).
    pub ops: usize,
}

/// The verdict on a history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Analysis {
    /// Not linearizable if any key is; else unknown if any key is; else linearizable.
    pub verdict: LinVerdict,
    /// One per key, in key order.
    pub partitions: Vec<PartitionResult>,
    /// Search steps taken, explanations included.
    pub steps: u64,
}

/// The memo's cap, in 64-bit words (256 MiB); see [`search`].
const MEMO_WORDS: usize = 32 << 20;

/// Extra steps an explanation may take to shrink its window, beyond the check's own.
const EXPLAIN_STEPS: u64 = 2_000_000;

/// The first round's step cap per key; each later round quadruples it.
const FIRST_ROUND_STEPS: u64 = 50_000;

/// Checks `history` against `model`. Errors only on a history the model cannot judge.
///
/// ```
/// use sim::check::linearizable::{Limits, LinVerdict, check};
/// use sim::node::history::{
///     Call, History, ModelKind, ModelSpec, Operation, Outcome, Output, TimeUnit, Value,
/// };
///
/// let op = |process, call, invoke, complete, out| Operation {
///     process,
///     key: Some("x".to_string()),
///     call,
///     invoke,
///     complete: Some(complete),
///     outcome: Outcome::Ok(out),
///     node: None,
/// };
/// let register = ModelSpec { kind: ModelKind::Register, init: None };
/// let history = |read: Option<i64>| History {
///     ops: vec![
///         op(0, Call::Write(Value::Int(1)), 0, 10, Output::Done),
///         // Invoked after the write completed: it must see 1.
///         op(1, Call::Read, 20, 30, Output::Value(read.map(Value::Int))),
///     ],
///     time_unit: TimeUnit::Nanos,
///     model: None,
/// };
///
/// let fresh = check(&history(Some(1)), &register, &Limits::default())?;
/// assert_eq!(fresh.verdict, LinVerdict::Linearizable);
///
/// // A stale read: the key still absent after the write completed.
/// let stale = check(&history(None), &register, &Limits::default())?;
/// assert_eq!(stale.verdict, LinVerdict::NotLinearizable);
/// let x = &stale.partitions[0];
/// assert_eq!(x.key.as_deref(), Some("x"));
/// assert_eq!(x.stuck, Some(1), "the read cannot be placed");
/// # Ok::<(), sim::check::linearizable::ModelError>(())
/// ```
///
/// Keys are searched in rounds of growing step caps, several at a time on the machine's cores: a
/// key the round decides keeps its verdict, one that runs out of steps is searched again, from
/// the start, with four times the cap. The first round that finds a key not linearizable ends
/// the search — that key proves the verdict, as Porcupine stops at the first bad partition — and
/// keys still undecided are reported as not searched. Which key proves it depends only on the
/// history and the caps (the first bad key, in key order, of that round: keys after it in the
/// round are abandoned or their results dropped), never on thread timing, so the same history
/// always gets the same verdict and explanation. A key that runs out of steps pauses, and the
/// next round resumes it where it stopped: the rounds cost no repeated work.
pub fn check(
    history: &History,
    model: &ModelSpec,
    limits: &Limits,
) -> Result<Analysis, ModelError> {
    // Each key behind its own lock: a round's workers take distinct keys, and a key's interned
    // values (which only grow) carry over to the next round instead of being built again.
    let compiled = compile(history, model)?;
    let parts: Vec<std::sync::Mutex<Part>> =
        compiled.into_iter().map(std::sync::Mutex::new).collect();
    let threads = cores().clamp(1, parts.len().max(1));
    let mut results: Vec<Option<PartitionResult>> = vec![None; parts.len()];
    let mut steps = 0u64;
    // Every key still undecided has taken `searched` steps; this round takes it to `cap`.
    let (mut searched, mut cap) = (0, FIRST_ROUND_STEPS);
    let mut stopped: Option<String> = None;
    loop {
        let pending: Vec<usize> = (0..parts.len()).filter(|&i| results[i].is_none()).collect();
        if pending.is_empty() {
            break;
        }
        // A paused search keeps its memo only while all of them together stay within the cap.
        for &i in &pending {
            if let Some(search) = &mut lock(&parts[i]).search {
                search.shed_memo(MEMO_WORDS / pending.len());
            }
        }
        let grant = match limits.max_steps {
            Some(max) => (cap - searched).min(max.saturating_sub(steps) / pending.len() as u64),
            None => cap - searched,
        };
        let global_limit = grant < cap - searched;
        let attempts = run_round(&parts, &pending, grant, limits, threads);
        let mut found_bad = false;
        for (i, attempt) in pending.iter().zip(attempts) {
            // Keys after the round's first bad one were not needed (or not finished).
            let Some(attempt) = attempt else { break };
            steps += attempt.steps;
            match attempt.result.verdict {
                LinVerdict::Unknown { .. } if attempt.cap_hit => {
                    if global_limit {
                        stopped.get_or_insert_with(|| {
                            let max = limits.max_steps.unwrap_or_default();
                            format!("step budget of {max} steps exhausted")
                        });
                        results[*i] = Some(attempt.result);
                    }
                }
                LinVerdict::Unknown { ref reason } => {
                    stopped.get_or_insert_with(|| reason.clone());
                    results[*i] = Some(attempt.result.clone());
                }
                LinVerdict::NotLinearizable => {
                    found_bad = true;
                    results[*i] = Some(attempt.result);
                }
                LinVerdict::Linearizable => results[*i] = Some(attempt.result),
            }
        }
        if found_bad || stopped.is_some() {
            break;
        }
        searched = cap;
        cap = cap.saturating_mul(4);
    }
    let proof = results
        .iter()
        .flatten()
        .find(|r| r.verdict == LinVerdict::NotLinearizable)
        .map(|r| r.key.clone());
    let partitions: Vec<PartitionResult> = results
        .into_iter()
        .zip(&parts)
        .map(|(r, part)| {
            r.unwrap_or_else(|| {
                let reason = match (&proof, &stopped) {
                    (Some(key), _) => format!(
                        "not searched: {} is already not linearizable",
                        key.as_ref()
                            .map_or("the register".to_string(), |k| format!("key {k:?}"))
                    ),
                    (None, Some(reason)) => reason.clone(),
                    (None, None) => unreachable!("every key is decided unless the search stopped"),
                };
                unsearched(&lock(part), reason)
            })
        })
        .collect();
    let verdict = overall(&partitions);
    Ok(Analysis {
        verdict,
        partitions,
        steps,
    })
}

/// The machine's cores, asked once: the question reads cgroup files, which costs more than
/// checking a small history.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Below this many operations in a round, its keys are searched on one thread.
const PARALLEL_MIN_OPS: usize = 1_000;

/// One key's search in one round.
struct Attempt {
    result: PartitionResult,
    steps: u64,
    /// It ran out of the round's cap (not cancelled): a later round may decide it.
    cap_hit: bool,
}

/// Searches the `pending` keys with `cap` more steps each, spread over `threads` threads; the
/// attempts come back in the order of `pending`, up to and including the first key found not
/// linearizable. Keys after that one are `None`: their searches were never started, were
/// abandoned, or finished but are dropped, so what comes back never depends on thread timing.
fn run_round(
    parts: &[std::sync::Mutex<Part>],
    pending: &[usize],
    cap: u64,
    limits: &Limits,
    threads: usize,
) -> Vec<Option<Attempt>> {
    // The position in `pending` of the first key found bad so far; only ever lowered.
    let first_bad = AtomicUsize::new(usize::MAX);
    let attempt = |k: usize| {
        // A key after a bad one is abandoned at the next poll: its verdict will not be used.
        let cancel = || first_bad.load(Ordering::Relaxed) < k || limits.cancel.is_some_and(|c| c());
        let mut budget = Budget {
            max_steps: Some(cap),
            cancel: Some(&cancel),
            used: 0,
            memo_words: MEMO_WORDS / threads,
            stopped: None,
        };
        let mut explain_steps = 0;
        let mut part = lock(&parts[pending[k]]);
        let result = check_partition(
            &mut part,
            &mut budget,
            &mut explain_steps,
            limits.verdict_only,
        );
        if result.verdict == LinVerdict::NotLinearizable {
            first_bad.fetch_min(k, Ordering::Relaxed);
        }
        Attempt {
            cap_hit: budget.used > cap,
            steps: budget.used + explain_steps,
            result,
        }
    };
    let mut done: Vec<Option<Attempt>> = (0..pending.len()).map(|_| None).collect();
    // Starting a thread costs more than searching a small key.
    let ops: usize = pending.iter().map(|&i| lock(&parts[i]).ops.len()).sum();
    if threads <= 1 || pending.len() <= 1 || ops < PARALLEL_MIN_OPS {
        for (k, slot) in done.iter_mut().enumerate() {
            *slot = Some(attempt(k));
            if first_bad.load(Ordering::Relaxed) == k {
                break;
            }
        }
        return done;
    }
    let next = AtomicUsize::new(0);
    let finished: Vec<(usize, Attempt)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads.min(pending.len()))
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        if k >= pending.len() || k > first_bad.load(Ordering::Relaxed) {
                            break;
                        }
                        mine.push((k, attempt(k)));
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a search thread does not panic"))
            .collect()
    });
    let first_bad = first_bad.into_inner();
    for (k, a) in finished {
        if k <= first_bad {
            done[k] = Some(a);
        }
    }
    done
}

fn lock(part: &std::sync::Mutex<Part>) -> std::sync::MutexGuard<'_, Part> {
    part.lock().expect("no search thread panics")
}

/// A key left unsearched, with why.
fn unsearched(part: &Part, reason: String) -> PartitionResult {
    PartitionResult {
        key: part.key.clone(),
        verdict: LinVerdict::Unknown { reason },
        linearization: Vec::new(),
        states: Vec::new(),
        window: Vec::new(),
        stuck: None,
        refused_in: Vec::new(),
        ops: part.ops.len(),
    }
}

/// One key, compiled.
struct Part {
    key: Option<String>,
    ops: Vec<COp>,
    values: Values,
    init: model::Vid,
    /// Its search, while it is paused between rounds.
    search: Option<Search>,
}

fn compile(history: &History, model: &ModelSpec) -> Result<Vec<Part>, ModelError> {
    let by_key = partitions(history);
    let mut parts = Vec::with_capacity(by_key.len());
    for (key, indices) in by_key {
        let mut values = Values::default();
        let init = match model.kind {
            // A mutex starts free, whatever initial value the file names.
            ModelKind::Mutex => model::ABSENT,
            ModelKind::MultiRegister => match &model.init {
                None => model::ABSENT,
                // Every register of the partition starts at `init`.
                Some(v) => {
                    let init = values.intern(v);
                    let entries = txn_keys(history, &indices)
                        .map(|k| (values.intern(&Value::Str(k.to_string())), init))
                        .collect();
                    values.intern_map(entries)
                }
            },
            _ => values.intern_opt(model.init.as_ref()),
        };
        let mut ops = Vec::with_capacity(indices.len());
        for i in indices {
            if let Some(op) = model::compile(model.kind, i, &history.ops[i], &mut values)? {
                ops.push(op);
            }
        }
        if model.kind == ModelKind::Kv {
            model::check_appends(&ops, init, &values, key.as_deref())?;
        }
        parts.push(Part {
            key,
            ops,
            values,
            init,
            search: None,
        });
    }
    Ok(parts)
}

/// The history's operations by partition, in partition order: by key, except that the
/// registers a multi-register transaction touches together form one partition.
///
/// Locality (P-compositionality) lets each *object* be checked alone, where an object is anything
/// every operation touches all of or none of. A key is such an object for the register models,
/// but a transaction reading `x` and writing `y` takes effect on both at one instant, so
/// splitting it per key would lose exactly what a multi-register check is for (a transaction
/// whose read of `x` and write of `y` cannot be at one instant). So the keys are joined into
/// the connected components of "appear in one transaction": no operation spans two components,
/// so each is an object, and each is searched alone with the whole map of its registers as the
/// state. When transactions chain every key together that is one partition: the whole history.
/// A component is named by its keys, sorted, joined with `+`.
fn partitions(history: &History) -> BTreeMap<Option<String>, Vec<usize>> {
    let mut component: BTreeMap<&str, usize> = BTreeMap::new();
    let mut parent: Vec<usize> = Vec::new();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for op in &history.ops {
        let Call::Txn(steps) = &op.call else { continue };
        let mut first = None;
        for step in steps {
            let next = parent.len();
            let id = *component.entry(step.key()).or_insert_with(|| {
                parent.push(next);
                next
            });
            let r = root(&mut parent, id);
            match first {
                None => first = Some(r),
                Some(f) => {
                    let f = root(&mut parent, f);
                    parent[r] = f;
                }
            }
        }
    }
    // Each component's name: its keys in order (the map iterates sorted).
    let mut names: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for (&key, &id) in &component {
        let r = root(&mut parent, id);
        names.entry(r).or_default().push(key);
    }
    let name_of: BTreeMap<usize, String> = names
        .into_iter()
        .map(|(r, keys)| (r, keys.join("+")))
        .collect();
    // Keys are borrowed while the operations are sorted into them (a copy of the key per
    // operation cost more than the rest), and copied once each at the end; `&str` sorts as
    // `String` does.
    let mut by_key: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
    for (i, op) in history.ops.iter().enumerate() {
        let key = match &op.call {
            Call::Txn(steps) => steps.first().map(|s| {
                let r = root(&mut parent, component[s.key()]);
                name_of[&r].as_str()
            }),
            _ => op.key.as_deref(),
        };
        by_key.entry(key).or_default().push(i);
    }
    by_key
        .into_iter()
        .map(|(key, ops)| (key.map(str::to_string), ops))
        .collect()
}

/// The distinct registers the transactions among `indices` touch.
fn txn_keys<'a>(history: &'a History, indices: &[usize]) -> impl Iterator<Item = &'a str> {
    let mut keys: Vec<&str> = indices
        .iter()
        .filter_map(|&i| match &history.ops[i].call {
            Call::Txn(steps) => Some(steps.iter().map(|s| s.key())),
            _ => None,
        })
        .flatten()
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
}

/// Searches one key; on a violation, locates it with a budget of its own (counted in
/// `explain_steps`), so explaining one key never starves the next.
fn check_partition(
    part: &mut Part,
    budget: &mut Budget,
    explain_steps: &mut u64,
    verdict_only: bool,
) -> PartitionResult {
    let mut result = PartitionResult {
        key: part.key.clone(),
        verdict: LinVerdict::Linearizable,
        linearization: Vec::new(),
        states: Vec::new(),
        window: Vec::new(),
        stuck: None,
        refused_in: Vec::new(),
        ops: part.ops.len(),
    };
    let search = part.search.get_or_insert_with(|| Search::new(&part.ops));
    let found = search.run(part.init, &mut part.values, budget);
    if !matches!(found, Found::Limit { .. }) {
        part.search = None;
    }
    let prefix = match found {
        Found::Linearizable(steps) => steps,
        Found::Limit { reason, best } => {
            result.verdict = LinVerdict::Unknown { reason };
            best
        }
        Found::Stuck { best } if verdict_only => {
            result.verdict = LinVerdict::NotLinearizable;
            best
        }
        Found::Stuck { best } => {
            result.verdict = LinVerdict::NotLinearizable;
            let mut extra = Budget {
                max_steps: Some(EXPLAIN_STEPS),
                cancel: budget.cancel,
                used: 0,
                memo_words: budget.memo_words,
                stopped: None,
            };
            let located = explain::locate(&part.ops, part.init, &mut part.values, &mut extra);
            *explain_steps += extra.used;
            match located {
                Some(loc) => {
                    result.window = loc.window.iter().map(|&k| part.ops[k].hist).collect();
                    result.stuck = Some(part.ops[loc.stuck].hist);
                    result.refused_in = loc
                        .refused_in
                        .iter()
                        .map(|&v| part.values.value(v))
                        .collect();
                    loc.prefix
                }
                None => best,
            }
        }
    };
    result.linearization = prefix.iter().map(|s| part.ops[s.op].hist).collect();
    result.states = prefix.iter().map(|s| part.values.value(s.after)).collect();
    result
}

fn overall(partitions: &[PartitionResult]) -> LinVerdict {
    if partitions
        .iter()
        .any(|p| p.verdict == LinVerdict::NotLinearizable)
    {
        return LinVerdict::NotLinearizable;
    }
    match partitions.iter().find_map(|p| match &p.verdict {
        LinVerdict::Unknown { reason } => Some(reason),
        _ => None,
    }) {
        Some(reason) => LinVerdict::Unknown {
            reason: reason.clone(),
        },
        None => LinVerdict::Linearizable,
    }
}
