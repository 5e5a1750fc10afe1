//! Where a run was when it panicked: virtual time, trace records so far, the trace hash so far.
//!
//! A panic inside a protocol, a checker or the engine unwinds through the world, which notes its
//! state here (one value per thread) on the way out and lets the panic go on; whoever catches it
//! (a sweep, `sim run`) takes the note and reports the panic as a finding about that seed. Runs
//! that do not panic never touch this: the note costs nothing on the normal path.

use std::cell::RefCell;

use crate::node::Nanos;

/// The world's state when a panic unwound through it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PanicPoint {
    /// True virtual time of the event being handled (or of the end of the run, for a checker
    /// that panicked after it).
    pub(crate) at: Nanos,
    /// Trace records written before the panic.
    pub(crate) events: u64,
    /// The trace hash of those records.
    pub(crate) trace_hash: String,
}

thread_local! {
    static LAST: RefCell<Option<PanicPoint>> = const { RefCell::new(None) };
}

/// Called by the world while a panic unwinds through it. The innermost note is kept: an outer
/// frame of the same world sees the same state.
pub(super) fn note(point: impl FnOnce() -> PanicPoint) {
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.is_none() {
            *last = Some(point());
        }
    });
}

/// Takes this thread's note, leaving none: call before a run to clear a stale one, and after
/// catching its panic to learn where it was.
pub(crate) fn take_panic_point() -> Option<PanicPoint> {
    LAST.with(|last| last.borrow_mut().take())
}
