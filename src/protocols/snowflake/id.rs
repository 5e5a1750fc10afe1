//! The layout of a Snowflake id: one 63-bit number, from the top down, the generator's wall
//! clock in milliseconds since the id epoch, the generator's node number, and a sequence
//! number within the millisecond. Ids made later in one generator compare greater as long as
//! its clock never goes back: that is where their order, and their uniqueness, come from.

use std::fmt;

use serde::Serialize;

use crate::node::LocalNanos;

/// How far before the run's time zero the id epoch lies: one hour, so that a wall clock set
/// back (an offset, an NTP step) still reads a positive number of milliseconds. Twitter's epoch
/// is a fixed date; the run's clocks start near zero, so ours is fixed relative to them.
pub const EPOCH_BEFORE_START: LocalNanos = 3_600 * 1_000_000_000;

const NANOS_PER_MILLI: LocalNanos = 1_000_000;

/// The millisecond a wall clock reading falls in, counted from the id epoch; `None` before the
/// epoch (a clock set back by more than an hour), where no id can be made.
///
/// ```
/// use sim::protocols::snowflake::id::millis_of;
/// assert_eq!(millis_of(0), Some(3_600_000));
/// assert_eq!(millis_of(1_999_999), Some(3_600_001));
/// assert_eq!(millis_of(-3_600_000_000_001), None);
/// ```
pub fn millis_of(wall: LocalNanos) -> Option<u64> {
    let since = wall.checked_add(EPOCH_BEFORE_START)?;
    (since >= 0).then_some((since / NANOS_PER_MILLI) as u64)
}

/// Where millisecond `millis` begins on the wall clock.
///
/// ```
/// use sim::protocols::snowflake::id::{millis_of, start_of};
/// assert_eq!(millis_of(start_of(3_600_005)), Some(3_600_005));
/// assert_eq!(millis_of(start_of(3_600_005) - 1), Some(3_600_004));
/// ```
pub fn start_of(millis: u64) -> LocalNanos {
    millis as LocalNanos * NANOS_PER_MILLI - EPOCH_BEFORE_START
}

/// How an id's 63 bits are shared: `node_bits` for the node, `sequence_bits` for the sequence,
/// the rest (at least 41) for the millisecond.
///
/// ```
/// use sim::protocols::snowflake::id::{Layout, Parts};
/// let twitter = Layout { node_bits: 10, sequence_bits: 12 };
/// let parts = Parts { millis: 5, node: 3, sequence: 7 };
/// assert_eq!(twitter.compose(parts), (5 << 22) | (3 << 12) | 7);
/// assert_eq!(twitter.decompose(twitter.compose(parts)), parts);
/// assert_eq!(twitter.max_sequence(), 4_095);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Bits of the node number: up to 2^node_bits generators.
    pub node_bits: u32,
    /// Bits of the sequence: up to 2^sequence_bits ids per millisecond per generator.
    pub sequence_bits: u32,
}

/// An id taken apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Parts {
    /// The generator's wall clock, in milliseconds since the id epoch.
    pub millis: u64,
    /// The generator's node number.
    pub node: u64,
    /// The sequence within the millisecond, from 0.
    pub sequence: u64,
}

impl fmt::Display for Parts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "millisecond {}, node {}, sequence {}",
            self.millis, self.node, self.sequence
        )
    }
}

impl Layout {
    /// The largest sequence number a millisecond has room for.
    pub fn max_sequence(&self) -> u64 {
        (1 << self.sequence_bits) - 1
    }

    /// How many nodes the node bits can number.
    pub fn max_nodes(&self) -> u64 {
        1 << self.node_bits
    }

    /// The id of these parts.
    pub fn compose(&self, parts: Parts) -> u64 {
        (parts.millis << (self.node_bits + self.sequence_bits))
            | (parts.node << self.sequence_bits)
            | parts.sequence
    }

    /// The parts of an id.
    pub fn decompose(&self, id: u64) -> Parts {
        Parts {
            millis: id >> (self.node_bits + self.sequence_bits),
            node: (id >> self.sequence_bits) & (self.max_nodes() - 1),
            sequence: id & self.max_sequence(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_millisecond_always_compares_greater() {
        let layout = Layout {
            node_bits: 2,
            sequence_bits: 1,
        };
        let late_small = layout.compose(Parts {
            millis: 8,
            node: 0,
            sequence: 0,
        });
        let early_big = layout.compose(Parts {
            millis: 7,
            node: 3,
            sequence: 1,
        });
        assert!(late_small > early_big);
    }

    #[test]
    fn milliseconds_round_down_before_and_after_zero() {
        assert_eq!(millis_of(-1), Some(3_599_999));
        assert_eq!(millis_of(-EPOCH_BEFORE_START), Some(0));
        assert_eq!(millis_of(LocalNanos::MAX), None);
    }
}
