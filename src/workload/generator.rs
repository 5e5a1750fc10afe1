//! What a workload asks for (`[workload]` in a scenario, checked) and how one operation is
//! drawn from it.
//!
//! Draws come only from the client's own stream, in a fixed order per operation (the kind, then
//! the key), so a client's sequence of operations depends on the seed, its index and what it
//! has seen — never on another client or on the nodes' randomness.

use crate::node::{Nanos, Rng};

/// A checked `[workload]`.
///
/// ```
/// use sim::node::ClientId;
/// use sim::workload::{KvClient, Mix, WorkloadSpec};
///
/// const MS: u64 = 1_000_000;
/// // Two clients, about 20 operations a second each (50 ms think time), reading twice as often
/// // as they write, over ten keys, from 100 ms to 2 s of virtual time.
/// let spec = WorkloadSpec {
///     clients: 2,
///     think_mean: 50 * MS,
///     mix: Mix { get: 2.0, put: 1.0, append: 0.0, cas: 0.0 },
///     keys: 10,
///     timeout: 500 * MS,
///     retry: 100 * MS,
///     start: 100 * MS,
///     stop: 2_000 * MS,
/// };
/// let clients: Vec<KvClient> =
///     (0..spec.clients).map(|i| KvClient::new(ClientId(i), &spec)).collect();
/// assert!(clients.iter().all(|c| c.operations().is_empty()), "nothing happens before a run");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadSpec {
    /// How many virtual clients.
    pub clients: u32,
    /// The mean think time between one operation's end and the next one's start, per client:
    /// the inverse of `rate`. Think times are exponential with this mean.
    pub think_mean: Nanos,
    /// The relative weights of get, put, append and cas.
    pub mix: Mix,
    /// Keys `k0` to `k{keys-1}`, chosen uniformly.
    pub keys: u32,
    /// A client gives up on an operation this long after invoking it (outcome `info`).
    pub timeout: Nanos,
    /// Without a reply for this long, a client resends the same request to the next node.
    pub retry: Nanos,
    /// When clients begin (their first think time starts here).
    pub start: Nanos,
    /// When clients stop starting new operations.
    pub stop: Nanos,
}

///
/// ```
/// use sim::node::{Rng, Stream};
/// use sim::workload::Mix;
/// use sim::workload::generator::Kind;
///
/// let mix = Mix { get: 3.0, put: 1.0, append: 0.0, cas: 0.0 };
/// assert_eq!(mix.total(), 4.0);
/// let mut rng = Rng::derive(42, Stream::Client(0));
/// let kinds: Vec<Kind> = (0..100).map(|_| mix.draw(&mut rng)).collect();
/// assert!(kinds.iter().all(|k| matches!(k, Kind::Get | Kind::Put)), "a weight of 0 never draws");
/// ```
/// Relative weights of the operation kinds; at least one is positive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mix {
    /// The weight of reads of one key.
    pub get: f64,
    /// The weight of blind writes of one key.
    pub put: f64,
    /// The weight of appends to one key's value.
    pub append: f64,
    /// The weight of compare-and-sets of one key: write a new value if it holds the expected one.
    pub cas: f64,
}

impl Default for Mix {
    /// Reads and writes, half and half.
    fn default() -> Self {
        Mix {
            get: 1.0,
            put: 1.0,
            append: 0.0,
            cas: 0.0,
        }
    }
}

/// An operation kind, before its key and values are chosen.
///
/// ```
/// use sim::node::{Rng, Stream};
/// use sim::workload::Mix;
/// use sim::workload::generator::Kind;
/// let only_cas = Mix { get: 0.0, put: 0.0, append: 0.0, cas: 1.0 };
/// assert_eq!(only_cas.draw(&mut Rng::derive(1, Stream::Client(0))), Kind::Cas);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Read a key.
    Get,
    /// Overwrite a key with a fresh value.
    Put,
    /// Append a fresh value to a key's value.
    Append,
    /// Compare-and-set: replace a key's value only if it is the expected one.
    Cas,
}

impl Mix {
    /// The sum of the weights: the denominator of each kind's probability.
    ///
    /// ```
    /// use sim::workload::Mix;
    /// assert_eq!(Mix { get: 0.5, put: 0.25, append: 0.25, cas: 0.0 }.total(), 1.0);
    /// ```
    pub fn total(&self) -> f64 {
        self.get + self.put + self.append + self.cas
    }

    /// A kind with probability proportional to its weight. Draws one number.
    ///
    /// ```
    /// use sim::node::{Rng, Stream};
    /// use sim::workload::Mix;
    /// use sim::workload::generator::Kind;
    /// let mix = Mix { get: 1.0, put: 1.0, append: 0.0, cas: 0.0 };
    /// let mut rng = Rng::derive(9, Stream::Client(0));
    /// let gets = (0..10_000).filter(|_| mix.draw(&mut rng) == Kind::Get).count();
    /// assert!((4_700..5_300).contains(&gets), "about half: {gets}");
    /// ```
    pub fn draw(&self, rng: &mut Rng) -> Kind {
        let mut x = rng.unit() * self.total();
        for (kind, weight) in [
            (Kind::Get, self.get),
            (Kind::Put, self.put),
            (Kind::Append, self.append),
            (Kind::Cas, self.cas),
        ] {
            if weight > 0.0 && x < weight {
                return kind;
            }
            x -= weight;
        }
        // Rounding left `x` just past the last positive weight.
        self.last_positive()
    }

    fn last_positive(&self) -> Kind {
        if self.cas > 0.0 {
            Kind::Cas
        } else if self.append > 0.0 {
            Kind::Append
        } else if self.put > 0.0 {
            Kind::Put
        } else {
            Kind::Get
        }
    }
}

/// The key for index `i`.
pub(crate) fn key_name(i: u64) -> String {
    format!("k{i}")
}

/// A think time: exponential with mean `mean`, in whole nanoseconds, at least 1 so that a
/// client never starts two operations at one instant.
pub(crate) fn think_time(rng: &mut Rng, mean: Nanos) -> Nanos {
    let x = rng.exponential(mean as f64);
    // An hour caps the tail, as for latencies.
    (libm::round(x.clamp(0.0, 3.6e12)) as Nanos).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Stream;

    #[test]
    fn the_mix_draws_in_proportion_and_never_a_zero_weight() {
        let mix = Mix {
            get: 3.0,
            put: 1.0,
            append: 0.0,
            cas: 0.0,
        };
        let mut rng = Rng::derive(1, Stream::Client(0));
        let mut gets = 0;
        for _ in 0..4000 {
            match mix.draw(&mut rng) {
                Kind::Get => gets += 1,
                Kind::Put => {}
                other => panic!("drew {other:?} with weight 0"),
            }
        }
        assert!((2800..3200).contains(&gets), "{gets}");
    }

    #[test]
    fn think_times_average_their_mean_and_are_never_zero() {
        let mut rng = Rng::derive(2, Stream::Client(1));
        let mean = 50_000_000;
        let draws: Vec<Nanos> = (0..10_000).map(|_| think_time(&mut rng, mean)).collect();
        assert!(draws.iter().all(|&d| d >= 1));
        let avg = draws.iter().sum::<u64>() / draws.len() as u64;
        assert!(avg.abs_diff(mean) < mean / 20, "{avg}");
    }
}
