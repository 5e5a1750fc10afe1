//! A panic inside a run — a protocol's, a checker's or the engine's — is a finding about that
//! seed, not the end of the program: [`catch`] turns it into a [`Panic`] that says what panicked,
//! where in the source, and where in virtual time.
//!
//! The default panic hook would print `thread '…' panicked at …` on stderr for every panicking
//! seed of a sweep, in the middle of its progress bar. While [`catch`] runs on a thread, the hook
//! installed here records the panic's location for it and prints nothing, unless
//! `RUST_BACKTRACE` asks for the backtrace; every other thread's panics go to the previous hook,
//! unchanged.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use crate::node::{Nanos, format_duration};
use crate::world::{PanicPoint, take_panic_point};

/// A caught panic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Panic {
    /// The panic's message.
    pub(crate) message: String,
    /// `file:line:col` of the `panic!` (or failed assertion), when the hook saw it.
    pub(crate) location: Option<String>,
    /// Where the world was, when the panic unwound through one (`None`: before the world ran,
    /// e.g. while a protocol's first state was built).
    pub(crate) point: Option<PanicPoint>,
}

impl Panic {
    /// Virtual time of the panic, when it happened inside (or after) the run.
    pub(crate) fn at(&self) -> Option<Nanos> {
        self.point.as_ref().map(|p| p.at)
    }

    /// `panicked at src/x.rs:10:5: the message`, as the default hook words it.
    pub(crate) fn describe(&self) -> String {
        match &self.location {
            Some(at) => format!("panicked at {at}: {}", self.message),
            None => format!("panicked: {}", self.message),
        }
    }

    /// One line for a person: what, where in the source, when in virtual time.
    #[cfg(test)]
    pub(crate) fn sentence(&self) -> String {
        format!("{} ({})", self.describe(), when(self.at()))
    }
}

/// When a panic struck, in words: `at 1.500s of virtual time`, or before the run started.
pub(crate) fn when(at: Option<Nanos>) -> String {
    match at {
        Some(at) => format!("at {} of virtual time", format_duration(at)),
        None => "before the run started".to_string(),
    }
}

thread_local! {
    /// This thread is inside [`catch`].
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    /// The location the hook saw, for [`catch`] to pick up.
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

fn install_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !CATCHING.with(Cell::get) {
                return previous(info);
            }
            let location = info.location().map(|l| l.to_string());
            LOCATION.with(|l| *l.borrow_mut() = location);
            if backtrace_asked() {
                previous(info);
            }
        }));
    });
}

fn backtrace_asked() -> bool {
    std::env::var_os("RUST_BACKTRACE").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Runs `f`, turning a panic inside it into a [`Panic`]. Nested calls on one thread are fine.
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Panic> {
    install_hook();
    take_panic_point();
    let was = CATCHING.with(|c| c.replace(true));
    // Unwind safety: after a panic, nothing `f` touched is used again; only the note is read.
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(was));
    let location = LOCATION.with(|l| l.borrow_mut().take());
    let point = take_panic_point();
    result.map_err(|payload| Panic {
        message: message(payload.as_ref()),
        location,
        point,
    })
}

fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic whose payload is not text".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_value_with_its_message_and_location() {
        let caught = catch(|| -> u32 { panic!("the log went backwards at index {}", 7) });
        let p = caught.unwrap_err();
        assert_eq!(p.message, "the log went backwards at index 7");
        let location = p.location.as_deref().expect("the hook saw where");
        assert!(location.starts_with("src/run/panic.rs:"), "{location}");
        assert_eq!(p.point, None, "no world ran");
        assert!(p.sentence().ends_with("(before the run started)"), "{p:?}");
    }

    #[test]
    fn no_panic_is_the_value() {
        assert_eq!(catch(|| 41 + 1), Ok(42));
    }
}
