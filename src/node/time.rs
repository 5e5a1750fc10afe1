//! Virtual time: nanoseconds, and the duration strings scenario files use (`"150ms"`, `"2s"`).
//!
//! True time is a `u64` count of nanoseconds since the run began; a node's *local* clock is an
//! `i64` (an offset or a backward jump can take it below zero). Durations are parsed exactly,
//! with integer arithmetic only, so `"0.1s"` is 100,000,000 ns on every machine.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Nanoseconds of true virtual time, or a non-negative span of it.
///
/// ```
/// use sim::node::{Nanos, time::NANOS_PER_MILLI};
/// let deadline: Nanos = 1_500 * NANOS_PER_MILLI;
/// assert_eq!(sim::node::format_instant(deadline), "1.500s");
/// ```
pub type Nanos = u64;

/// A reading of a node's local clock, in nanoseconds. May be negative.
///
/// ```
/// use sim::node::LocalNanos;
/// // A clock that starts 2 ms behind reads below zero at first.
/// let reading: LocalNanos = -2_000_000;
/// assert_eq!(sim::node::format_local_instant(reading), "-0.002s");
/// ```
pub type LocalNanos = i64;

/// Which of a node's two clocks a reading or a deadline is on.
///
/// Real machines have both: the *wall* clock (`CLOCK_REALTIME`) tells the time of day and is
/// stepped by NTP or an operator, forwards or backwards; the *monotonic* clock
/// (`CLOCK_MONOTONIC`, Rust's `Instant`) only measures elapsed time: it drifts with the
/// machine's oscillator but never jumps and never goes backwards. Durations belong on the
/// monotonic clock.
///
/// ```
/// use sim::node::ClockKind;
/// // As a scenario writes it (a Raft lease measured on the wall clock: the broken design).
/// let kind: ClockKind = serde_json::from_str("\"wall\"").unwrap();
/// assert_eq!(kind, ClockKind::Wall);
/// assert_eq!(ClockKind::default(), ClockKind::Monotonic);
/// ```
// The description `sim schema` gives the `clock` key: the prose above, without the example.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(
    description = "Which of a node's two clocks a reading or a deadline is on.\n\nReal machines have both: the *wall* clock (`CLOCK_REALTIME`) tells the time of day and is stepped by NTP or an operator, forwards or backwards; the *monotonic* clock (`CLOCK_MONOTONIC`, Rust's `Instant`) only measures elapsed time: it drifts with the machine's oscillator but never jumps and never goes backwards. Durations belong on the monotonic clock."
)]
pub enum ClockKind {
    /// Offset, drift and jumps: the time of day.
    Wall,
    /// Drift only: never jumps, never goes backwards.
    #[default]
    Monotonic,
}

/// Nanoseconds in a microsecond.
///
/// ```
/// use sim::node::{Duration, time::NANOS_PER_MICRO};
/// assert_eq!("750us".parse::<Duration>().unwrap().nanos(), 750 * NANOS_PER_MICRO);
/// ```
pub const NANOS_PER_MICRO: u64 = 1_000;
/// Nanoseconds in a millisecond.
///
/// ```
/// use sim::node::{Duration, time::NANOS_PER_MILLI};
/// assert_eq!(Duration::from_millis(150).nanos(), 150 * NANOS_PER_MILLI);
/// ```
pub const NANOS_PER_MILLI: u64 = 1_000_000;
/// Nanoseconds in a second.
///
/// ```
/// use sim::node::{Duration, time::NANOS_PER_SEC};
/// assert_eq!(Duration::from_secs(2).nanos(), 2 * NANOS_PER_SEC);
/// ```
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// A non-negative duration written as a string with a unit: `"750us"`, `"150ms"`, `"2s"`,
/// `"1.5s"`, `"2m"`, `"1h"`. Accepted units: `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`.
///
/// ```
/// use sim::node::Duration;
///
/// let d: Duration = "1.5s".parse()?;
/// assert_eq!(d, Duration::from_millis(1500));
/// assert_eq!(d.to_string(), "1.5s");
/// assert!("1.5 fortnights".parse::<Duration>().unwrap_err().contains("unknown unit"));
/// # Ok::<(), String>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(Nanos);

/// A duration that may be negative, for clock offsets and jumps: `"-500ms"`, `"+2s"`.
///
/// ```
/// use sim::node::SignedDuration;
/// let back: SignedDuration = "-500ms".parse()?;
/// assert_eq!(back.nanos(), -500_000_000);
/// assert_eq!(back.to_string(), "-500ms");
/// # Ok::<(), String>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SignedDuration(i64);

impl Duration {
    /// No time at all.
    ///
    /// ```
    /// use sim::node::Duration;
    /// assert_eq!(Duration::ZERO.nanos(), 0);
    /// assert_eq!("0s".parse::<Duration>().unwrap(), Duration::ZERO);
    /// ```
    pub const ZERO: Duration = Duration(0);

    /// A duration of `ns` nanoseconds.
    ///
    /// ```
    /// use sim::node::Duration;
    /// assert_eq!(Duration::from_nanos(3).to_string(), "3ns");
    /// ```
    pub const fn from_nanos(ns: Nanos) -> Self {
        Duration(ns)
    }
    /// A duration of `ms` milliseconds.
    ///
    /// ```
    /// use sim::node::Duration;
    /// assert_eq!(Duration::from_millis(1_500).to_string(), "1.5s");
    /// ```
    pub const fn from_millis(ms: u64) -> Self {
        Duration(ms * NANOS_PER_MILLI)
    }
    /// A duration of `s` seconds.
    ///
    /// ```
    /// use sim::node::Duration;
    /// assert_eq!(Duration::from_secs(120).to_string(), "2m");
    /// ```
    pub const fn from_secs(s: u64) -> Self {
        Duration(s * NANOS_PER_SEC)
    }
    /// The duration in nanoseconds.
    ///
    /// ```
    /// use sim::node::Duration;
    /// assert_eq!("0.1s".parse::<Duration>().unwrap().nanos(), 100_000_000);
    /// ```
    pub const fn nanos(self) -> Nanos {
        self.0
    }
    /// The duration as a local-clock delta.
    ///
    /// ```
    /// use sim::node::Duration;
    /// // A lease deadline on a node's clock: now plus the lease.
    /// let now: i64 = -2_000_000;
    /// assert_eq!(now + Duration::from_millis(500).as_local(), 498_000_000);
    /// ```
    pub fn as_local(self) -> LocalNanos {
        i64::try_from(self.0).unwrap_or(i64::MAX)
    }
}

impl SignedDuration {
    /// A signed duration of `ns` nanoseconds.
    ///
    /// ```
    /// use sim::node::SignedDuration;
    /// assert_eq!(SignedDuration::from_nanos(-1_000_000).to_string(), "-1ms");
    /// ```
    pub const fn from_nanos(ns: i64) -> Self {
        SignedDuration(ns)
    }
    /// The duration in nanoseconds, negative for a step backwards.
    ///
    /// ```
    /// use sim::node::SignedDuration;
    /// assert_eq!("+2s".parse::<SignedDuration>().unwrap().nanos(), 2_000_000_000);
    /// ```
    pub const fn nanos(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

impl fmt::Display for SignedDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration_signed(self.0))
    }
}

impl std::str::FromStr for Duration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (negative, ns) = parse_magnitude(s)?;
        if negative {
            return Err(format!("duration `{s}` must not be negative"));
        }
        Ok(Duration(ns))
    }
}

impl std::str::FromStr for SignedDuration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (negative, ns) = parse_magnitude(s)?;
        let ns = i64::try_from(ns).map_err(|_| format!("duration `{s}` is too large"))?;
        Ok(SignedDuration(if negative { -ns } else { ns }))
    }
}

const UNITS: [(&str, u64); 8] = [
    ("ns", 1),
    ("us", NANOS_PER_MICRO),
    ("µs", NANOS_PER_MICRO),
    ("ms", NANOS_PER_MILLI),
    ("s", NANOS_PER_SEC),
    ("min", 60 * NANOS_PER_SEC),
    ("m", 60 * NANOS_PER_SEC),
    ("h", 3600 * NANOS_PER_SEC),
];

const EXPECTED: &str =
    "expected a duration such as \"150ms\", \"2s\" or \"750us\" (units: ns, us, ms, s, m, h)";

/// Parses `[+-]digits[.digits]unit` exactly. Returns (negative, magnitude in ns).
fn parse_magnitude(raw: &str) -> Result<(bool, u64), String> {
    let s = raw.trim();
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let number_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("`{raw}` has no unit; {EXPECTED}"))?;
    let (number, unit) = (&s[..number_end], s[number_end..].trim());
    let scale = UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, scale)| *scale)
        .ok_or_else(|| format!("`{raw}`: unknown unit `{unit}`; {EXPECTED}"))?;
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.contains('.') {
        return Err(format!("`{raw}` is not a number with a unit; {EXPECTED}"));
    }
    let too_large = || format!("duration `{raw}` is too large");
    let whole: u64 = whole.parse().map_err(|_| too_large())?;
    let mut ns = whole.checked_mul(scale).ok_or_else(too_large)?;
    // The fraction, digit by digit: each digit is worth scale / 10^k nanoseconds, exactly.
    let mut place = scale;
    for digit in frac.bytes() {
        if !digit.is_ascii_digit() {
            return Err(format!("`{raw}` is not a number with a unit; {EXPECTED}"));
        }
        let d = u64::from(digit - b'0');
        if place % 10 != 0 {
            if d != 0 {
                return Err(format!("`{raw}` is finer than one nanosecond"));
            }
            continue;
        }
        place /= 10;
        ns = ns.checked_add(d * place).ok_or_else(too_large)?;
    }
    Ok((negative, ns))
}

/// The shortest exact spelling of a duration: `150ms`, `2s`, `1.5s`, `750us`, `3ns`.
///
/// ```
/// use sim::node::format_duration;
/// assert_eq!(format_duration(150_000_000), "150ms");
/// assert_eq!(format_duration(1_500_000_000), "1.5s");
/// assert_eq!(format_duration(0), "0s");
/// ```
pub fn format_duration(ns: Nanos) -> String {
    if ns == 0 {
        return "0s".to_string();
    }
    for (unit, scale) in [("h", 3600 * NANOS_PER_SEC), ("m", 60 * NANOS_PER_SEC)] {
        if ns.is_multiple_of(scale) {
            return format!("{}{unit}", ns / scale);
        }
    }
    for (unit, scale) in [
        ("s", NANOS_PER_SEC),
        ("ms", NANOS_PER_MILLI),
        ("us", NANOS_PER_MICRO),
    ] {
        if ns >= scale {
            let whole = ns / scale;
            let rest = ns % scale;
            if rest == 0 {
                return format!("{whole}{unit}");
            }
            let digits = scale.ilog10() as usize;
            let frac = format!("{rest:0digits$}");
            let frac = frac.trim_end_matches('0');
            return format!("{whole}.{frac}{unit}");
        }
    }
    format!("{ns}ns")
}

/// A signed duration, always with its sign: `-500ms`, `+2s`.
///
/// ```
/// use sim::node::format_duration_signed;
/// assert_eq!(format_duration_signed(-500_000_000), "-500ms");
/// assert_eq!(format_duration_signed(2_000_000_000), "+2s");
/// ```
pub fn format_duration_signed(ns: i64) -> String {
    let sign = if ns < 0 { '-' } else { '+' };
    format!("{sign}{}", format_duration(ns.unsigned_abs()))
}

/// A point in true time for a story line: seconds with millisecond precision, `12.345s`.
///
/// ```
/// use sim::node::format_instant;
/// assert_eq!(format_instant(12_345_678_901), "12.345s");
/// ```
pub fn format_instant(ns: Nanos) -> String {
    format!(
        "{}.{:03}s",
        ns / NANOS_PER_SEC,
        (ns % NANOS_PER_SEC) / NANOS_PER_MILLI
    )
}

/// A local clock reading (it may be negative: clocks start with an offset) to the millisecond:
/// `2.147s`, `-0.002s`. Messages carry such readings (a heartbeat's `sent_at`).
///
/// ```
/// use sim::node::format_local_instant;
/// assert_eq!(format_local_instant(2_147_000_000), "2.147s");
/// assert_eq!(format_local_instant(-2_000_000), "-0.002s");
/// ```
pub fn format_local_instant(ns: LocalNanos) -> String {
    let sign = if ns < 0 { "-" } else { "" };
    format!("{sign}{}", format_instant(ns.unsigned_abs()))
}

/// Reads a duration string. A visitor rather than `String::deserialize(..).map_err(..)`, so a
/// value of the wrong type says what a duration looks like while every other error (a missing
/// key, say) passes through unchanged.
struct DurationVisitor<T>(std::marker::PhantomData<T>);

impl<T: std::str::FromStr<Err = String>> serde::de::Visitor<'_> for DurationVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(EXPECTED.trim_start_matches("expected "))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(DurationVisitor(std::marker::PhantomData))
    }
}

impl<'de> Deserialize<'de> for SignedDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(DurationVisitor(std::marker::PhantomData))
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl Serialize for SignedDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// The pattern editors check duration strings against.
const DURATION_PATTERN: &str = r"^\+?[0-9]+(\.[0-9]+)?\s*(ns|us|µs|ms|s|m|min|h)$";
const SIGNED_DURATION_PATTERN: &str = r"^[+-]?[0-9]+(\.[0-9]+)?\s*(ns|us|µs|ms|s|m|min|h)$";

impl JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": "A duration with a unit: \"750us\", \"150ms\", \"2s\", \"1.5s\", \"2m\".",
            "examples": ["150ms", "2s"]
        })
    }
}

impl JsonSchema for SignedDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SignedDuration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": SIGNED_DURATION_PATTERN,
            "description": "A duration that may be negative: \"-500ms\", \"+2s\".",
            "examples": ["-500ms", "2s"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> u64 {
        s.parse::<Duration>().unwrap().nanos()
    }

    #[test]
    fn parses_every_unit_exactly() {
        assert_eq!(d("150ms"), 150_000_000);
        assert_eq!(d("2s"), 2_000_000_000);
        assert_eq!(d("750us"), 750_000);
        assert_eq!(d("750µs"), 750_000);
        assert_eq!(d("3ns"), 3);
        assert_eq!(d("2m"), 120_000_000_000);
        assert_eq!(d("2min"), 120_000_000_000);
        assert_eq!(d("1h"), 3_600_000_000_000);
        assert_eq!(d("0.1s"), 100_000_000);
        assert_eq!(d("1.5ms"), 1_500_000);
        assert_eq!(d("1.000000001s"), 1_000_000_001);
        assert_eq!(d(" 5 ms "), 5_000_000);
    }

    #[test]
    fn rejects_bad_durations_with_a_reason() {
        for (input, needle) in [
            ("150", "no unit"),
            ("ms", "not a number"),
            ("10 parsecs", "unknown unit"),
            ("1.5ns", "finer than one nanosecond"),
            ("1..5s", "not a number"),
            ("-5ms", "negative"),
            ("99999999999999999999s", "too large"),
            ("20000000000s", "too large"),
        ] {
            let err = input.parse::<Duration>().unwrap_err();
            assert!(err.contains(needle), "{input}: {err}");
        }
    }

    #[test]
    fn deserialize_names_a_duration_on_a_wrong_type_and_keeps_other_errors() {
        let err = serde_json::from_str::<Duration>("5")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid type: integer `5`, expected a duration such as \"150ms\""),
            "{err}"
        );
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Timeout {
            timeout: Duration,
        }
        let err = serde_json::from_str::<Timeout>("{}")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("missing field `timeout`"), "{err}");
        let err = serde_json::from_str::<SignedDuration>("\"5 parsecs\"").unwrap_err();
        assert!(err.to_string().contains("unknown unit `parsecs`"), "{err}");
    }

    #[test]
    fn signed_durations_keep_their_sign() {
        assert_eq!(
            "-500ms".parse::<SignedDuration>().unwrap().nanos(),
            -500_000_000
        );
        assert_eq!(
            "+2s".parse::<SignedDuration>().unwrap().nanos(),
            2_000_000_000
        );
        assert_eq!(SignedDuration::from_nanos(-1_500_000).to_string(), "-1.5ms");
    }

    #[test]
    fn formats_round_trip() {
        for ns in [
            0,
            1,
            999,
            1_000,
            1_500,
            150_000_000,
            2_000_000_000,
            1_234_567_891,
        ] {
            let text = format_duration(ns);
            assert_eq!(d(&text), ns, "{text}");
        }
        assert_eq!(format_duration(1_500_000_000), "1.5s");
        assert_eq!(format_duration(3_600_000_000_000), "1h");
        assert_eq!(format_duration(120_000_000_000), "2m");
        assert_eq!(format_duration(90_000_000_000), "90s");
        assert_eq!(format_instant(12_345_678_901), "12.345s");
        assert_eq!(format_local_instant(2_000_400_000), "2.000s");
        // A clock that started behind true time reads below zero, and says so.
        assert_eq!(format_local_instant(-2_500_000), "-0.002s");
    }
}
