//! Jepsen etcd logs: one event per line, a single compare-and-set register.
//!
//! `INFO  jepsen.util - 3\t:invoke\t:cas\t[1 4]`: a process, an event type, a function and its
//! argument, separated by tabs or runs of spaces; anything before `jepsen.util - ` is the logger's
//! and other log lines are skipped. The semantics are Porcupine's `etcdModel`, under which the
//! published verdicts hold (see the data set's README):
//!
//! - The register starts absent (nil). `:ok :read nil` reads absent.
//! - `:fail :cas` is an *observed* failed compare: it happened, the value was not `from`
//!   ([`Output::Cas`]`(false)`). (Knossos would drop it, a weaker reading.)
//! - `:fail :read` and `:info :read`: a read whose output is unknown ([`Outcome::Info`]).
//! - `:info :write` / `:info :cas`: unknown, and pending to the end of the history: it may take
//!   effect at any later instant. `:fail :write` did not happen ([`Outcome::Fail`]).
//! - An invocation never completed is unknown too.

use super::builder::{Builder, Kind};
use super::datum::{Datum, Node, ParseError, Pos};
use super::knossos::{pair, value};
use super::{Call, History, ModelKind, ModelSpec, Outcome, Output, TimeUnit, edn};

/// What separates the logger's prefix from the event.
const PREFIX_END: &str = "jepsen.util - ";

/// Whether a line looks like a Jepsen history event (used to detect the format).
///
/// ```
/// use sim::workload::history::jepsen::looks_like;
/// assert!(looks_like("INFO  jepsen.util - 0\t:invoke\t:read\tnil"));
/// assert!(!looks_like("INFO  starting the test"));
/// ```
pub fn looks_like(line: &str) -> bool {
    let event = line.split_once(PREFIX_END).map_or(line, |(_, e)| e);
    let fields: Vec<&str> = event.split_whitespace().collect();
    fields.len() >= 3
        && matches!(fields[1], ":invoke" | ":ok" | ":fail" | ":info")
        && fields[2].starts_with(':')
}

/// Reads a Jepsen log.
///
/// ```
/// use sim::node::history::{Call, Outcome};
/// use sim::workload::history::jepsen::parse;
/// let log = "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\t3\n";
/// let history = parse(log)?;
/// assert_eq!(history.ops.len(), 1);
/// assert_eq!(history.ops[0].call, Call::Read);
/// assert!(matches!(history.ops[0].outcome, Outcome::Ok(_)));
/// # Ok::<(), sim::workload::history::datum::ParseError>(())
/// ```
pub fn parse(text: &str) -> Result<History, ParseError> {
    let mut builder = Builder::default();
    for (index, line) in text.lines().enumerate() {
        let (event, col) = match line.split_once(PREFIX_END) {
            Some((before, event)) => (event, before.chars().count() + PREFIX_END.len()),
            None if looks_like(line) => (line, 0),
            None => continue,
        };
        let fields = fields(event, index as u32 + 1, col as u32 + 1);
        apply(&mut builder, &fields, line_end(index, line))?;
    }
    Ok(History {
        ops: builder.finish(),
        time_unit: TimeUnit::Event,
        model: Some(ModelSpec {
            kind: ModelKind::CasRegister,
            init: None,
        }),
    })
}

fn line_end(index: usize, line: &str) -> Pos {
    Pos {
        line: index as u32 + 1,
        col: line.chars().count() as u32 + 1,
    }
}

/// The whitespace-separated fields of an event, with their positions. The fourth field is the
/// rest of the line (`[1 4]` contains a space).
fn fields(event: &str, line: u32, first_col: u32) -> Vec<(Pos, &str)> {
    let mut out = Vec::new();
    let mut rest = event;
    let mut col = first_col;
    while !rest.is_empty() {
        let trimmed = rest.trim_start();
        col += (rest.chars().count() - trimmed.chars().count()) as u32;
        if trimmed.is_empty() {
            break;
        }
        let at = Pos { line, col };
        if out.len() == 3 {
            out.push((at, trimmed.trim_end()));
            break;
        }
        let end = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
        out.push((at, &trimmed[..end]));
        col += trimmed[..end].chars().count() as u32;
        rest = &trimmed[end..];
    }
    out
}

/// Reads one field as EDN, positions shifted to where it sits in the file.
fn datum(at: Pos, text: &str) -> Result<Node, ParseError> {
    let shift = |p: Pos| Pos {
        line: at.line,
        col: at.col + p.col - 1,
    };
    let forms = edn::read_all(text).map_err(|e| ParseError::new(shift(e.at), e.message))?;
    match <[Node; 1]>::try_from(forms) {
        Ok([node]) => Ok(Node {
            at: shift(node.at),
            datum: shift_all(node.datum, &shift),
        }),
        Err(_) => Err(ParseError::new(at, "expected one value")),
    }
}

fn shift_all(datum: Datum, shift: &impl Fn(Pos) -> Pos) -> Datum {
    let node = |n: Node| Node {
        at: shift(n.at),
        datum: shift_all(n.datum, shift),
    };
    match datum {
        Datum::Seq(items) => Datum::Seq(items.into_iter().map(node).collect()),
        Datum::Set(items) => Datum::Set(items.into_iter().map(node).collect()),
        Datum::Map(entries) => Datum::Map(
            entries
                .into_iter()
                .map(|(k, v)| (node(k), node(v)))
                .collect(),
        ),
        other => other,
    }
}

fn apply(builder: &mut Builder, fields: &[(Pos, &str)], end: Pos) -> Result<(), ParseError> {
    let field = |i: usize, what: &str| {
        fields.get(i).copied().ok_or_else(|| {
            ParseError::new(end, format!("expected {what}, found the end of the line"))
        })
    };
    let (at, process) = field(0, "a process number")?;
    if process == ":nemesis" {
        return Ok(());
    }
    let process: u64 = process.parse().map_err(|_| {
        ParseError::new(at, format!("expected a process number, found `{process}`"))
    })?;
    let (type_at, typ) = field(1, "an event type")?;
    let (f_at, f) = field(2, "a function")?;
    let kind = match f {
        ":read" => Kind::Read,
        ":write" => Kind::Write,
        ":cas" => Kind::Cas,
        _ => {
            return Err(ParseError::new(
                f_at,
                format!("expected :read, :write or :cas, found `{f}`"),
            ));
        }
    };
    let (arg_at, arg) = field(3, "an argument (nil, a number or [from to])")?;
    match typ {
        ":invoke" => {
            let call = match kind {
                Kind::Read => Call::Read,
                Kind::Write => Call::Write(value(&datum(arg_at, arg)?)?),
                _ => {
                    let (from, to) = pair(&datum(arg_at, arg)?)?;
                    Call::Cas { from, to }
                }
            };
            builder.invoke(at, process, None, call)
        }
        ":ok" | ":fail" | ":info" => {
            builder.open_call(at, process, kind)?;
            let outcome = outcome(typ, kind, arg_at, arg)?;
            builder.complete(process, outcome);
            Ok(())
        }
        _ => Err(ParseError::new(
            type_at,
            format!("expected :invoke, :ok, :fail or :info, found `{typ}`"),
        )),
    }
}

/// What a completion means under Porcupine's etcd semantics (module docs).
fn outcome(typ: &str, kind: Kind, arg_at: Pos, arg: &str) -> Result<Outcome, ParseError> {
    Ok(match (typ, kind) {
        (":ok", Kind::Read) => {
            let node = datum(arg_at, arg)?;
            match node.datum {
                Datum::Nil => Outcome::Ok(Output::Value(None)),
                _ => Outcome::Ok(Output::Value(Some(value(&node)?))),
            }
        }
        (":ok", Kind::Cas) => Outcome::Ok(Output::Cas(true)),
        (":ok", _) => Outcome::Ok(Output::Done),
        (":fail", Kind::Cas) => Outcome::Ok(Output::Cas(false)),
        (":fail", Kind::Read) => Outcome::Info,
        (":fail", _) => Outcome::Fail,
        _ => Outcome::Info,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::history::Value;

    fn ops(text: &str) -> Vec<crate::workload::history::Operation> {
        parse(text).expect("parses").ops
    }

    #[test]
    fn reads_writes_and_swaps_in_the_etcd_log_format() {
        let h = ops("INFO  jepsen.util - 0\t:invoke\t:read\tnil\n\
                     INFO  jepsen.util - 2\t:invoke\t:cas\t[3 0]\n\
                     INFO  jepsen.util - 0\t:ok\t:read\tnil\n\
                     INFO  jepsen.util - 2\t:ok\t:cas\t[3 0]\n\
                     INFO  jepsen.util - 1   :invoke  :write  4\n\
                     INFO  jepsen.util - 1   :ok      :write  4\n");
        assert_eq!(h.len(), 3);
        assert_eq!(h[0].outcome, Outcome::Ok(Output::Value(None)));
        assert_eq!((h[0].invoke, h[0].complete), (0, Some(2)));
        assert_eq!(
            h[1].call,
            Call::Cas {
                from: Value::Int(3),
                to: Value::Int(0)
            }
        );
        assert_eq!(h[1].outcome, Outcome::Ok(Output::Cas(true)));
        assert_eq!(h[2].call, Call::Write(Value::Int(4)));
        assert_eq!(h[2].outcome, Outcome::Ok(Output::Done));
        let model = parse("").unwrap().model.unwrap();
        assert_eq!((model.kind, model.init), (ModelKind::CasRegister, None));
    }

    #[test]
    fn a_failed_cas_was_observed_to_compare_false() {
        let h = ops("INFO  jepsen.util - 4\t:invoke\t:cas\t[1 2]\n\
                     INFO  jepsen.util - 4\t:fail\t:cas\t[1 2]\n");
        assert_eq!(h[0].outcome, Outcome::Ok(Output::Cas(false)));
        assert_eq!(h[0].complete, Some(1));
    }

    #[test]
    fn a_failed_or_timed_out_read_is_unknown_and_a_failed_write_did_not_happen() {
        let h = ops("INFO  jepsen.util - 1\t:invoke\t:read\tnil\n\
                     INFO  jepsen.util - 1\t:fail\t:read\t:timed-out\n\
                     INFO  jepsen.util - 2\t:invoke\t:write\t3\n\
                     INFO  jepsen.util - 2\t:fail\t:write\t3\n");
        assert_eq!(h[0].outcome, Outcome::Info);
        assert_eq!(h[0].complete, Some(1));
        assert_eq!(h[1].outcome, Outcome::Fail);
    }

    #[test]
    fn info_writes_and_swaps_and_unmatched_invocations_are_unknown() {
        let h = ops("INFO  jepsen.util - 1\t:invoke\t:write\t3\n\
                     INFO  jepsen.util - 2\t:invoke\t:cas\t[0 1]\n\
                     INFO  jepsen.util - 3\t:invoke\t:write\t1\n\
                     INFO  jepsen.util - 1\t:info\t:write\t:timed-out\n\
                     INFO  jepsen.util - 2\t:info\t:cas\t:timed-out\n\
                     INFO jepsen.core - some other log line\n\
                     INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n");
        assert!(h.iter().all(|op| op.outcome == Outcome::Info));
        assert_eq!(h[2].complete, None);
        assert_eq!(h[0].call, Call::Write(Value::Int(3)));
    }

    fn error(text: &str) -> String {
        parse(text).expect_err("rejected").to_string()
    }

    #[test]
    fn errors_name_the_line_and_column() {
        assert_eq!(
            error("INFO  jepsen.util - 0\t:invoke\t:frob\tnil\n"),
            "1:31: expected :read, :write or :cas, found `:frob`"
        );
        assert_eq!(
            error(
                "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\tx\n"
            ),
            "2:33: expected a value (an integer or a string), found the symbol x"
        );
        assert_eq!(
            error("INFO  jepsen.util - 0\t:invoke\t:cas\t[1 x]\n"),
            "1:39: expected a value (an integer or a string), found the symbol x"
        );
        assert_eq!(
            error("INFO  jepsen.util - 0\t:invoke\t:write\n"),
            "1:37: expected an argument (nil, a number or [from to]), found the end of the line"
        );
        assert_eq!(
            error("INFO  jepsen.util - 7\t:ok\t:write\t1\n"),
            "1:21: expected an invocation by process 7 before this completion; it has no operation open"
        );
        assert_eq!(
            error("INFO  jepsen.util - x\t:ok\t:write\t1\n"),
            "1:21: expected a process number, found `x`"
        );
    }
}
