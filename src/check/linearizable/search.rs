//! The search: Wing and Gong's depth-first search for a linearization, in Lowe's
//! "just-in-time" form, with memoisation of (set of linearized operations, model state).
//!
//! The operations of known outcome ("definite") sit in one doubly-linked list of call and return
//! entries in time order (a call before a return at the same instant: the two overlap). Walking
//! it from the head, every call met before the first return belongs to an operation that may take
//! effect next; the first return met is a deadline: that operation must take effect before any
//! operation invoked later. Taking an operation lifts its two entries out of the list (dancing
//! links), so the walk restarts at the head; undoing it puts them back.
//!
//! Operations of unknown outcome have no return, so they are kept in a second list and tried only
//! after every definite candidate at a node has failed: they happen "just in time", when a
//! definite operation needs them. Three reductions keep that cheap, each sound because it only
//! drops a branch that another branch dominates:
//!
//! - An unknown operation that would not change the state is never taken: not taking it leaves
//!   strictly more options open.
//! - Of two unknown operations with the same call, the later one is taken only after the earlier
//!   one (the earlier one is available whenever the later one is, and neither has a deadline).
//! - A definite operation that leaves every state unchanged (an ok read, a failed cas) is taken
//!   as soon as it is legal, with no alternative tried: moving it to the front of any
//!   linearization of the rest keeps that linearization valid (it was legal where it stood, so
//!   removing it changes no value, and everything that had to precede it already has). If its
//!   branch fails, so does its parent.
//!
//! The memo holds every (set, state) node already expanded; a node met again is skipped. The set
//! is stored exactly, as two windows of a bitset: definite operations are indexed in invocation
//! order and every one below the lowest untaken index is taken, so only the words from there to
//! the highest taken one are kept; unknown operations have their own small bitset. When the memo
//! outgrows its cap it is emptied, which costs time, never soundness.

use super::model::{CCall, COp, COut, FastMap, Values, Vid};

/// A deterministic budget shared by every search of one check.
pub(crate) struct Budget<'a> {
    pub(crate) max_steps: Option<u64>,
    pub(crate) cancel: Option<&'a (dyn Fn() -> bool + Sync)>,
    pub(crate) used: u64,
    /// Memo cap, in 64-bit words.
    pub(crate) memo_words: usize,
    /// Set once a limit is hit, so every later search stops at once too.
    pub(crate) stopped: Option<String>,
}

/// How often the cancellation callback is polled, in steps.
const POLL_EVERY: u64 = 4096;

impl Budget<'_> {
    /// Counts one step; `Some(reason)` when the search must stop.
    fn tick(&mut self) -> Option<String> {
        if self.stopped.is_none() {
            self.used += 1;
            self.stopped = self.limit_hit();
        }
        self.stopped.clone()
    }

    fn limit_hit(&self) -> Option<String> {
        if let Some(max) = self.max_steps
            && self.used > max
        {
            return Some(format!("step budget of {max} steps exhausted"));
        }
        let cancelled = self.used % POLL_EVERY == 1 && self.cancel.is_some_and(|c| c());
        cancelled.then(|| "cancelled (time limit reached)".to_string())
    }
}

/// One operation taken, and the state right after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Step {
    /// Index into the ops given to [`Search::new`].
    pub(crate) op: usize,
    pub(crate) after: Vid,
}

/// What a search found.
#[derive(Debug)]
pub(crate) enum Found {
    /// A full linearization (unknown operations that never took effect are absent).
    Linearizable(Vec<Step>),
    /// No linearization exists; `best` is the longest linearizable prefix met.
    Stuck { best: Vec<Step> },
    /// The budget ran out or the check was cancelled.
    Limit { reason: String, best: Vec<Step> },
}

const NIL: u32 = 0;

#[derive(Clone, Copy)]
enum Cursor {
    /// At an entry of the definite list (`NIL`: its end).
    Def(u32),
    /// At a node of the unknown list, trying operations invoked no later than the deadline.
    Unknown(u32, u64),
}

/// An entry of the definite list: an operation's call or return, at its instant.
#[derive(Clone, Copy)]
struct Entry {
    op: u32,
    ret: bool,
    time: u64,
}

#[derive(Clone, Copy)]
struct Frame {
    op: u32,
    before: Vid,
    after: Vid,
    /// Taken with no alternative (see the module doc): backtracking passes through it.
    forced: bool,
    /// For an unknown operation, the deadline it was tried under.
    deadline: u64,
}

/// The search over one partition, from one initial state.
pub(crate) struct Search {
    /// Definite operations first (by invocation), then unknown ones (by invocation).
    ops: Vec<COp>,
    /// `ops[k]` is input op `orig[k]`.
    orig: Vec<usize>,
    definite: usize,
    // Definite list: entries 1..=2*definite, sentinel 0.
    ent: Vec<Entry>,
    next: Vec<u32>,
    prev: Vec<u32>,
    /// A definite op's (call, return) entries.
    op_ent: Vec<(u32, u32)>,
    // Unknown list: node k+1 is unknown op `definite + k`, sentinel 0.
    u_next: Vec<u32>,
    u_prev: Vec<u32>,
    /// For an unknown op: the previous unknown op with the same call (`u32::MAX`: none).
    twin: Vec<u32>,
    taken: Taken,
    /// States in which the watched operation was tried and refused.
    pub(crate) watch: Option<usize>,
    pub(crate) refused_in: Vec<Vid>,
    /// A search its budget stopped, kept so that the next run goes on from there.
    paused: Option<Paused>,
}

/// Where a stopped search stood: everything `run` needs to go on as if it had never stopped.
struct Paused {
    init: Vid,
    memo: Memo,
    stack: Vec<Frame>,
    best: Best,
    state: Vid,
    cur: Cursor,
}

impl Search {
    /// Prepares a search over `ops` (any order).
    pub(crate) fn new(ops: &[COp]) -> Search {
        let mut order: Vec<usize> = (0..ops.len()).collect();
        order.sort_by_key(|&i| (!ops[i].is_definite(), ops[i].invoke, i));
        let sorted: Vec<COp> = order.iter().map(|&i| ops[i]).collect();
        let definite = sorted.iter().filter(|o| o.is_definite()).count();
        let mut s = Search {
            ops: sorted,
            orig: order,
            definite,
            ent: Vec::with_capacity(2 * definite + 1),
            next: Vec::new(),
            prev: Vec::new(),
            op_ent: vec![(NIL, NIL); definite],
            u_next: Vec::new(),
            u_prev: Vec::new(),
            twin: Vec::new(),
            taken: Taken::new(definite, ops.len() - definite),
            watch: None,
            refused_in: Vec::new(),
            paused: None,
        };
        s.link_definite();
        s.link_unknown();
        s
    }

    /// The input index of the watched op is given; refusals of it are recorded.
    pub(crate) fn watch(&mut self, input_op: usize) {
        self.watch = self.orig.iter().position(|&o| o == input_op);
    }

    fn link_definite(&mut self) {
        // The sentinel, entry 0.
        self.ent.push(Entry {
            op: u32::MAX,
            ret: false,
            time: 0,
        });
        let mut entries: Vec<(u64, bool, u32)> = Vec::with_capacity(2 * self.definite);
        for (k, op) in self.ops[..self.definite].iter().enumerate() {
            let ret = op.ret.expect("definite ops have a return");
            entries.push((op.invoke, false, k as u32));
            entries.push((ret, true, k as u32));
        }
        entries.sort_unstable();
        for (e, &(time, is_ret, op)) in entries.iter().enumerate() {
            let e = e as u32 + 1;
            self.ent.push(Entry {
                op,
                ret: is_ret,
                time,
            });
            if is_ret {
                self.op_ent[op as usize].1 = e;
            } else {
                self.op_ent[op as usize].0 = e;
            }
        }
        let n = entries.len() as u32 + 1;
        self.next = (0..n).map(|e| (e + 1) % n).collect();
        self.prev = (0..n).map(|e| (e + n - 1) % n).collect();
    }

    fn link_unknown(&mut self) {
        let unknown = self.ops.len() - self.definite;
        let n = unknown as u32 + 1;
        self.u_next = (0..n).map(|e| (e + 1) % n).collect();
        self.u_prev = (0..n).map(|e| (e + n - 1) % n).collect();
        // A lookup table only, never iterated: nothing here depends on its order.
        let mut last: FastMap<CCall, u32> = FastMap::default();
        self.twin = (0..unknown)
            .map(|k| {
                let op = (self.definite + k) as u32;
                last.insert(self.ops[op as usize].call, op)
                    .unwrap_or(u32::MAX)
            })
            .collect();
    }

    fn lift(&mut self, op: u32) {
        if (op as usize) < self.definite {
            let (call, ret) = self.op_ent[op as usize];
            for e in [call, ret] {
                unlink(&mut self.next, &mut self.prev, e);
            }
        } else {
            unlink(
                &mut self.u_next,
                &mut self.u_prev,
                op - self.definite as u32 + 1,
            );
        }
    }

    fn unlift(&mut self, op: u32) {
        if (op as usize) < self.definite {
            let (call, ret) = self.op_ent[op as usize];
            for e in [ret, call] {
                relink(&mut self.next, &mut self.prev, e);
            }
        } else {
            relink(
                &mut self.u_next,
                &mut self.u_prev,
                op - self.definite as u32 + 1,
            );
        }
    }

    /// Runs the search from `init`. When it finds an answer the lists are restored, so the same
    /// `Search` may run again from another state. When the budget stops it, it pauses: the next
    /// run from the same `init` goes on where this one stopped, with its memo, so a search given
    /// its steps in several instalments takes the same steps as one given them all at once.
    pub(crate) fn run(&mut self, init: Vid, values: &mut Values, budget: &mut Budget) -> Found {
        let Paused {
            mut memo,
            mut stack,
            mut best,
            mut state,
            mut cur,
            ..
        } = match self.paused.take() {
            Some(paused) if paused.init == init => paused,
            other => {
                if let Some(abandoned) = other {
                    self.unwind(abandoned.stack);
                }
                Paused {
                    init,
                    memo: Memo::new(budget.memo_words),
                    stack: Vec::new(),
                    best: Best::default(),
                    state: init,
                    cur: Cursor::Def(self.next[0]),
                }
            }
        };
        let found = loop {
            if let Some(reason) = budget.tick() {
                break Err(reason);
            }
            let (op, deadline) = match cur {
                Cursor::Def(NIL) => break Ok(true),
                Cursor::Def(e) if self.ent[e as usize].ret => {
                    cur = Cursor::Unknown(self.u_next[0], self.ent[e as usize].time);
                    continue;
                }
                Cursor::Def(e) => (self.ent[e as usize].op, 0),
                Cursor::Unknown(NIL, _) => {
                    match self.backtrack(&mut stack, &mut state, &mut best) {
                        Some(c) => cur = c,
                        None => break Ok(false),
                    }
                    continue;
                }
                Cursor::Unknown(u, deadline) => {
                    let op = self.definite as u32 + u - 1;
                    if self.ops[op as usize].invoke > deadline {
                        cur = Cursor::Unknown(NIL, deadline);
                        continue;
                    }
                    (op, deadline)
                }
            };
            match self.try_take(op, state, values, &mut memo) {
                Attempt::Taken { after, forced } => {
                    stack.push(Frame {
                        op,
                        before: state,
                        after,
                        forced,
                        deadline,
                    });
                    best.grow(&stack);
                    self.lift(op);
                    state = after;
                    cur = Cursor::Def(self.next[0]);
                }
                Attempt::Skip => cur = self.after(op, deadline),
                Attempt::DeadEnd => match self.backtrack(&mut stack, &mut state, &mut best) {
                    Some(c) => cur = c,
                    None => break Ok(false),
                },
            }
        };
        let steps = |stack: &[Frame]| -> Vec<Step> {
            stack
                .iter()
                .map(|f| Step {
                    op: self.orig[f.op as usize],
                    after: f.after,
                })
                .collect()
        };
        let result = match found {
            Ok(true) => Found::Linearizable(steps(&stack)),
            Ok(false) => Found::Stuck {
                best: steps(&best.steps),
            },
            Err(reason) => {
                let best_steps = steps(&best.steps);
                self.paused = Some(Paused {
                    init,
                    memo,
                    stack,
                    best,
                    state,
                    cur,
                });
                return Found::Limit {
                    reason,
                    best: best_steps,
                };
            }
        };
        self.unwind(stack);
        result
    }

    /// Forgets what a paused search remembered of the nodes it explored, when it holds more
    /// than `words`: resuming then repeats some work, but never gives another answer.
    pub(crate) fn shed_memo(&mut self, words: usize) {
        if let Some(p) = &mut self.paused
            && p.memo.words() > words
        {
            p.memo = Memo::new(p.memo.cap_words);
        }
    }

    /// Takes back every operation of `stack`, restoring the lists.
    fn unwind(&mut self, mut stack: Vec<Frame>) {
        while let Some(f) = stack.pop() {
            self.unlift(f.op);
            self.taken.clear(f.op as usize, self.definite);
        }
    }

    /// The cursor just past `op` in its own list.
    fn after(&self, op: u32, deadline: u64) -> Cursor {
        if (op as usize) < self.definite {
            Cursor::Def(self.next[self.op_ent[op as usize].0 as usize])
        } else {
            Cursor::Unknown(
                self.u_next[(op - self.definite as u32 + 1) as usize],
                deadline,
            )
        }
    }

    fn try_take(&mut self, op: u32, state: Vid, values: &mut Values, memo: &mut Memo) -> Attempt {
        let o = self.ops[op as usize];
        let definite = o.is_definite();
        if !definite {
            let twin = self.twin[op as usize - self.definite];
            if twin != u32::MAX && !self.taken.has(twin as usize, self.definite) {
                return Attempt::Skip;
            }
        }
        let Some(after) = values.step(state, &o) else {
            if self.watch == Some(op as usize) && !self.refused_in.contains(&state) {
                self.refused_in.push(state);
            }
            return Attempt::Skip;
        };
        let forced = definite && preserves_every_state(&o);
        if !definite && after == state {
            return Attempt::Skip;
        }
        self.taken.set(op as usize, self.definite);
        if memo.insert(self.taken.key(after)) {
            Attempt::Taken { after, forced }
        } else {
            self.taken.clear(op as usize, self.definite);
            if forced {
                Attempt::DeadEnd
            } else {
                Attempt::Skip
            }
        }
    }

    /// Undoes frames until one has an untried alternative; `None`: none has.
    fn backtrack(
        &mut self,
        stack: &mut Vec<Frame>,
        state: &mut Vid,
        best: &mut Best,
    ) -> Option<Cursor> {
        loop {
            let f = stack.pop()?;
            best.shrink(stack.len());
            self.unlift(f.op);
            self.taken.clear(f.op as usize, self.definite);
            *state = f.before;
            if !f.forced {
                return Some(self.after(f.op, f.deadline));
            }
        }
    }
}

/// Whether `op`, wherever it may take effect, leaves the value as it was: an ok read, a failed
/// cas, a successful cas from a value to itself. (A write of the current value does not qualify:
/// elsewhere in the order it would change the value.)
fn preserves_every_state(op: &COp) -> bool {
    match (op.call, op.out) {
        (CCall::Read, _) | (CCall::Cas { .. }, COut::Cas(false)) => true,
        (CCall::Cas { from, to }, COut::Cas(true)) => from == to,
        _ => false,
    }
}

enum Attempt {
    Taken {
        after: Vid,
        forced: bool,
    },
    Skip,
    /// A forced operation led back to an explored node: this node has nothing left.
    DeadEnd,
}

fn unlink(next: &mut [u32], prev: &mut [u32], e: u32) {
    let (p, n) = (prev[e as usize], next[e as usize]);
    next[p as usize] = n;
    prev[n as usize] = p;
}

fn relink(next: &mut [u32], prev: &mut [u32], e: u32) {
    let (p, n) = (prev[e as usize], next[e as usize]);
    next[p as usize] = e;
    prev[n as usize] = e;
}

/// The longest stack seen, kept up to date in amortised O(1) per push: `agree` frames of the
/// current stack are known to equal `steps`.
#[derive(Default)]
struct Best {
    steps: Vec<Frame>,
    agree: usize,
}

impl Best {
    fn grow(&mut self, stack: &[Frame]) {
        if stack.len() > self.steps.len() {
            self.steps.truncate(self.agree);
            self.steps.extend_from_slice(&stack[self.agree..]);
            self.agree = stack.len();
        }
    }

    fn shrink(&mut self, len: usize) {
        self.agree = self.agree.min(len);
    }
}

/// The set of taken operations, as bitsets with the windows the memo key needs.
struct Taken {
    def: Vec<u64>,
    unk: Vec<u64>,
    /// Lowest definite index not taken.
    low: usize,
    /// Every definite word at or above `def_hi` is zero; likewise `unk_hi`.
    def_hi: usize,
    unk_hi: usize,
    definite: usize,
    key: Vec<u64>,
}

impl Taken {
    fn new(definite: usize, unknown: usize) -> Taken {
        Taken {
            def: vec![0; definite / 64 + 1],
            unk: vec![0; unknown / 64 + 1],
            low: 0,
            def_hi: 0,
            unk_hi: 0,
            definite,
            key: Vec::new(),
        }
    }

    fn has(&self, op: usize, definite: usize) -> bool {
        if op < definite {
            self.def[op / 64] >> (op % 64) & 1 == 1
        } else {
            let u = op - definite;
            self.unk[u / 64] >> (u % 64) & 1 == 1
        }
    }

    fn set(&mut self, op: usize, definite: usize) {
        if op < definite {
            self.def[op / 64] |= 1 << (op % 64);
            self.def_hi = self.def_hi.max(op / 64 + 1);
            while self.low < self.definite && self.has(self.low, definite) {
                self.low += 1;
            }
        } else {
            let u = op - definite;
            self.unk[u / 64] |= 1 << (u % 64);
            self.unk_hi = self.unk_hi.max(u / 64 + 1);
        }
    }

    fn clear(&mut self, op: usize, definite: usize) {
        if op < definite {
            self.def[op / 64] &= !(1 << (op % 64));
            self.low = self.low.min(op);
        } else {
            let u = op - definite;
            self.unk[u / 64] &= !(1 << (u % 64));
        }
    }

    /// The exact memo key of (this set, `state`).
    fn key(&mut self, state: Vid) -> &[u64] {
        let lw = self.low / 64;
        while self.def_hi > lw + 1 && self.def[self.def_hi - 1] == 0 {
            self.def_hi -= 1;
        }
        while self.unk_hi > 0 && self.unk[self.unk_hi - 1] == 0 {
            self.unk_hi -= 1;
        }
        let hi = self.def_hi.max(lw + 1).min(self.def.len());
        self.key.clear();
        self.key.push(u64::from(state) | (self.low as u64) << 32);
        self.key.push((hi - lw) as u64);
        self.key.extend_from_slice(&self.def[lw..hi]);
        self.key.extend_from_slice(&self.unk[..self.unk_hi]);
        &self.key
    }
}

/// An exact hash set of memo keys: open addressing over (hash, offset into an arena of words).
struct Memo {
    slots: Vec<(u64, u32)>,
    arena: Vec<u64>,
    len: usize,
    cap_words: usize,
}

impl Memo {
    fn new(cap_words: usize) -> Memo {
        Memo {
            // Small: most searches are short, and zeroing a big table costs more than them.
            slots: vec![(0, 0); 16],
            arena: Vec::new(),
            len: 0,
            cap_words,
        }
    }

    /// Inserts `key`; false if it was already there.
    fn insert(&mut self, key: &[u64]) -> bool {
        let h = hash(key);
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            let (sh, off) = self.slots[i];
            if sh == 0 {
                break;
            }
            if sh == h && self.stored(off) == key {
                return false;
            }
            i = (i + 1) & mask;
        }
        if self.arena.len() + key.len() + 1 > self.cap_words {
            // Forgetting explored nodes only costs repeated work.
            self.clear();
            if key.len() + 1 > self.cap_words {
                return true;
            }
            return self.insert(key);
        }
        let off = self.arena.len() as u32;
        self.arena.push(key.len() as u64);
        self.arena.extend_from_slice(key);
        self.slots[i] = (h, off);
        self.len += 1;
        if self.len * 2 > self.slots.len() {
            self.grow();
        }
        true
    }

    fn clear(&mut self) {
        self.arena.clear();
        self.slots.iter_mut().for_each(|s| *s = (0, 0));
        self.len = 0;
    }

    /// The memory it holds, in words.
    fn words(&self) -> usize {
        self.arena.capacity() + 2 * self.slots.len()
    }

    fn stored(&self, off: u32) -> &[u64] {
        let off = off as usize;
        let len = self.arena[off] as usize;
        &self.arena[off + 1..off + 1 + len]
    }

    fn grow(&mut self) {
        let doubled = vec![(0, 0); self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        let mask = self.slots.len() - 1;
        for (h, off) in old.into_iter().filter(|s| s.0 != 0) {
            let mut i = h as usize & mask;
            while self.slots[i].0 != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = (h, off);
        }
    }
}

/// A fast non-cryptographic hash of words (never 0: 0 marks an empty slot).
fn hash(words: &[u64]) -> u64 {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    for &w in words {
        h = (h.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    h ^= h >> 29;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 32;
    h | 1
}
