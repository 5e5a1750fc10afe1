//! The simulated network: latency, loss, duplication, reordering and partitions.
//!
//! Every message draws its fate from its *sender's* network stream, in a fixed order (loss,
//! latency, duplication, the duplicate's latency) and whether or not a cut will drop it, so
//! removing a fault or a message elsewhere leaves the latencies of the others unchanged.
//! Links are FIFO unless `reorder` is on: a message never overtakes an earlier one on the same
//! link. Connectivity is a petgraph graph of *cut* directed links; each cut counts the
//! partitions that hold it, so ending one timed partition never repairs another's cut.

use petgraph::graphmap::DiGraphMap;

use crate::node::{Nanos, Rng, Stream};

/// A one-way latency distribution. All parameters are nanoseconds.
///
/// ```
/// use sim::world::Latency;
/// const MS: u64 = 1_000_000;
/// // 1-8 ms, uniformly: no message arrives sooner than 1 ms.
/// assert_eq!(Latency::Uniform { min: MS, max: 8 * MS }.floor(), MS);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Latency {
    /// Every message takes exactly this long.
    Constant(Nanos),
    /// Uniform between `min` and `max`, both included.
    Uniform {
        /// The shortest latency, in nanoseconds.
        min: Nanos,
        /// The longest latency, in nanoseconds.
        max: Nanos,
    },
    /// Clamped at zero.
    Normal {
        /// The mean latency, in nanoseconds.
        mean: Nanos,
        /// The standard deviation, in nanoseconds.
        stddev: Nanos,
    },
    /// `median * exp(sigma * Z)`: a long right tail.
    LogNormal {
        /// The median latency, in nanoseconds.
        median: Nanos,
        /// The spread of `ln(latency)`; 0 makes every latency the median.
        sigma: f64,
    },
    /// `min + Exp(mean)`: a floor plus a memoryless tail.
    Exponential {
        /// The mean of the tail above `min`, in nanoseconds.
        mean: Nanos,
        /// The floor no message beats, in nanoseconds.
        min: Nanos,
    },
}

/// Latencies are capped at an hour: a draw from a long tail must not overflow time.
const LATENCY_CAP: f64 = 3_600_000_000_000.0;

impl Latency {
    /// Draws one latency in nanoseconds from `rng` (capped at an hour, never negative).
    pub(crate) fn sample(&self, rng: &mut Rng) -> Nanos {
        match *self {
            Latency::Constant(ns) => ns,
            Latency::Uniform { min, max } => rng.between(min, max),
            Latency::Normal { mean, stddev } => {
                to_nanos(mean as f64 + stddev as f64 * rng.standard_normal())
            }
            Latency::LogNormal { median, sigma } => {
                to_nanos(median as f64 * libm::exp(sigma * rng.standard_normal()))
            }
            Latency::Exponential { mean, min } => {
                min.saturating_add(to_nanos(rng.exponential(mean as f64)))
            }
        }
    }

    /// The smallest latency the distribution can produce.
    ///
    /// ```
    /// use sim::world::Latency;
    /// assert_eq!(Latency::Constant(1_000_000).floor(), 1_000_000);
    /// assert_eq!(Latency::LogNormal { median: 5_000_000, sigma: 0.5 }.floor(), 0, "no lower bound");
    /// ```
    pub fn floor(&self) -> Nanos {
        match *self {
            Latency::Constant(ns) => ns,
            Latency::Uniform { min, .. } => min,
            Latency::Exponential { min, .. } => min,
            Latency::Normal { .. } | Latency::LogNormal { .. } => 0,
        }
    }
}

fn to_nanos(x: f64) -> Nanos {
    libm::round(x.clamp(0.0, LATENCY_CAP)) as Nanos
}

/// How every link behaves.
///
/// ```
/// use sim::world::{Latency, LinkModel};
/// // A lossy link: 1 ms, one message in ten lost, one in a hundred duplicated, reordered.
/// let lossy = LinkModel { latency: Latency::Constant(1_000_000), loss: 0.1, duplicate: 0.01, reorder: true };
/// assert_eq!(LinkModel::default().loss, 0.0);
/// assert!(lossy.reorder);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LinkModel {
    /// How long a message takes from send to arrival.
    pub latency: Latency,
    /// Probability a message is lost.
    pub loss: f64,
    /// Probability a delivered message arrives twice.
    pub duplicate: f64,
    /// Let later messages overtake earlier ones on the same link.
    pub reorder: bool,
}

impl Default for LinkModel {
    fn default() -> Self {
        LinkModel {
            latency: Latency::Constant(1_000_000),
            loss: 0.0,
            duplicate: 0.0,
            reorder: false,
        }
    }
}

/// What happens to a message at the moment it is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    /// The network lost it (`loss`); it is never delivered.
    Lost,
    /// The link is cut right now.
    Cut,
    /// It arrives once, at this true time in nanoseconds.
    Arrive(Nanos),
    /// Delivered twice: at both instants.
    Twice(Nanos, Nanos),
}

/// The cut links: a petgraph graph whose edge weights count the partitions holding each cut.
#[derive(Default, Debug)]
pub(crate) struct Cuts {
    graph: DiGraphMap<u32, u32>,
    active: Vec<(u32, Vec<(u32, u32)>)>,
    next_id: u32,
}

impl Cuts {
    /// True if messages from node `from` to node `to` are dropped by a cut right now.
    #[inline]
    pub(crate) fn is_cut(&self, from: u32, to: u32) -> bool {
        self.graph.edge_count() != 0 && self.graph.contains_edge(from, to)
    }

    /// Cuts `edges` (directed) and returns the id that repairs exactly these cuts.
    pub(crate) fn add(&mut self, edges: Vec<(u32, u32)>) -> u32 {
        for &(a, b) in &edges {
            match self.graph.edge_weight_mut(a, b) {
                Some(count) => *count += 1,
                None => {
                    self.graph.add_edge(a, b, 1);
                }
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        self.active.push((id, edges));
        id
    }

    /// Repairs the cuts of one partition. False if it was already healed.
    pub(crate) fn remove(&mut self, id: u32) -> bool {
        let Some(pos) = self.active.iter().position(|(i, _)| *i == id) else {
            return false;
        };
        let (_, edges) = self.active.remove(pos);
        for (a, b) in edges {
            let count = self
                .graph
                .edge_weight_mut(a, b)
                .expect("an active cut is in the graph");
            *count -= 1;
            if *count == 0 {
                self.graph.remove_edge(a, b);
            }
        }
        true
    }

    /// Repairs everything.
    pub(crate) fn clear(&mut self) {
        self.graph.clear();
        self.active.clear();
    }

    /// True if no partition or cut is in force.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.active.is_empty()
    }
}

/// The links between a set of endpoints (nodes, or clients): what each message sent on them
/// becomes, drawn from one network stream per sender, and which links are cut.
pub(crate) struct Network {
    model: LinkModel,
    endpoints: usize,
    rngs: Vec<Rng>,
    /// Latest arrival per directed link, for FIFO links.
    fifo_tail: Vec<Nanos>,
    /// The cut links, added by partitions and cuts and removed as they heal.
    pub cuts: Cuts,
    /// Per endpoint, the extra latency of the delay spikes on it now (summed, as spikes that
    /// overlap add up). A message takes the larger of its two ends'.
    slow: Vec<Nanos>,
}

impl Network {
    /// A network of `endpoints` senders whose links all behave as `model`, its streams derived
    /// from the run's `seed`.
    pub(crate) fn new(model: LinkModel, endpoints: usize, seed: u64) -> Self {
        let rngs = (0..endpoints as u32)
            .map(|i| Rng::derive(seed, Stream::Network(i)))
            .collect();
        let fifo_tail = if model.reorder {
            Vec::new()
        } else {
            vec![0; endpoints * endpoints]
        };
        Network {
            model,
            endpoints,
            rngs,
            fifo_tail,
            cuts: Cuts::default(),
            slow: vec![0; endpoints],
        }
    }

    /// A delay spike on `node` starts: its messages, both ways, take `by` longer.
    pub(crate) fn slow_down(&mut self, node: u32, by: Nanos) {
        let slow = &mut self.slow[node as usize];
        *slow = slow.saturating_add(by);
    }

    /// A delay spike on `node` ends: it loses the `by` that spike added.
    pub(crate) fn speed_up(&mut self, node: u32, by: Nanos) {
        let slow = &mut self.slow[node as usize];
        debug_assert!(*slow >= by, "a spike ends that never started");
        *slow = slow.saturating_sub(by);
    }

    /// Decides the fate of a message sent now from `from` to `to`.
    #[inline]
    pub(crate) fn send(&mut self, from: u32, to: u32, now: Nanos) -> Fate {
        let rng = &mut self.rngs[from as usize];
        let lost = rng.chance(self.model.loss);
        // A delay spike on either end adds to the drawn latency without drawing anything, so
        // the stream (and every other message's fate) is the same with or without spikes.
        let extra = self.slow[from as usize].max(self.slow[to as usize]);
        let first = now
            .saturating_add(self.model.latency.sample(rng))
            .saturating_add(extra);
        let twice = rng.chance(self.model.duplicate);
        let second = if twice {
            Some(
                now.saturating_add(self.model.latency.sample(rng))
                    .saturating_add(extra),
            )
        } else {
            None
        };
        if lost {
            return Fate::Lost;
        }
        if self.cuts.is_cut(from, to) {
            return Fate::Cut;
        }
        let first = self.in_order(from, to, first);
        match second {
            None => Fate::Arrive(first),
            Some(second) => Fate::Twice(first, self.in_order(from, to, second)),
        }
    }

    fn in_order(&mut self, from: u32, to: u32, at: Nanos) -> Nanos {
        if self.model.reorder {
            return at;
        }
        let tail = &mut self.fifo_tail[from as usize * self.endpoints + to as usize];
        *tail = (*tail).max(at);
        *tail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn net(model: LinkModel) -> Network {
        Network::new(model, 3, 9)
    }

    #[test]
    fn constant_latency_and_no_loss_always_arrive() {
        let mut n = net(LinkModel::default());
        assert_eq!(n.send(0, 1, 5 * MS), Fate::Arrive(6 * MS));
    }

    #[test]
    fn a_delay_spike_adds_to_either_end_and_draws_nothing() {
        let model = LinkModel {
            latency: Latency::Uniform {
                min: MS,
                max: 9 * MS,
            },
            ..LinkModel::default()
        };
        let mut calm = net(model.clone());
        let mut spiked = net(model);
        spiked.slow_down(1, 100 * MS);
        for t in 0..50 {
            let (Fate::Arrive(a), Fate::Arrive(b)) = (calm.send(0, 1, t), spiked.send(0, 1, t))
            else {
                panic!()
            };
            // The same draw, plus the spike: to node 1 and, below, from it.
            assert_eq!(b, a + 100 * MS);
        }
        assert!(matches!(spiked.send(1, 2, 0), Fate::Arrive(at) if at >= 101 * MS));
        assert!(matches!(spiked.send(0, 2, 0), Fate::Arrive(at) if at <= 9 * MS));
        spiked.speed_up(1, 100 * MS);
        let mut again = net(LinkModel::default());
        again.slow_down(2, 5 * MS);
        again.speed_up(2, 5 * MS);
        assert_eq!(again.send(0, 2, 0), Fate::Arrive(MS));
    }

    #[test]
    fn loss_one_loses_everything_and_duplicate_one_doubles() {
        let mut n = net(LinkModel {
            loss: 1.0,
            ..LinkModel::default()
        });
        assert_eq!(n.send(0, 1, 0), Fate::Lost);
        let mut n = net(LinkModel {
            duplicate: 1.0,
            ..LinkModel::default()
        });
        assert_eq!(n.send(0, 1, 0), Fate::Twice(MS, MS));
    }

    #[test]
    fn fifo_links_never_reorder_but_reorder_can() {
        let model = LinkModel {
            latency: Latency::Uniform {
                min: MS,
                max: 50 * MS,
            },
            ..LinkModel::default()
        };
        let mut fifo = net(model.clone());
        let mut last = 0;
        for t in 0..200 {
            let Fate::Arrive(at) = fifo.send(0, 1, t * 100_000) else {
                panic!()
            };
            assert!(at >= last);
            last = at;
        }
        let mut free = net(LinkModel {
            reorder: true,
            ..model
        });
        let arrivals: Vec<Nanos> = (0..200)
            .map(|t| match free.send(0, 1, t * 100_000) {
                Fate::Arrive(at) => at,
                f => panic!("{f:?}"),
            })
            .collect();
        assert!(
            arrivals.windows(2).any(|w| w[1] < w[0]),
            "expected some reordering"
        );
    }

    #[test]
    fn a_one_way_cut_drops_one_direction_only() {
        let mut n = net(LinkModel::default());
        n.cuts.add(vec![(0, 1)]);
        assert_eq!(n.send(0, 1, 0), Fate::Cut);
        assert_eq!(n.send(1, 0, 0), Fate::Arrive(MS));
    }

    #[test]
    fn overlapping_cuts_heal_separately() {
        let mut c = Cuts::default();
        let a = c.add(vec![(0, 1), (1, 0)]);
        let b = c.add(vec![(0, 1)]);
        assert!(c.remove(a));
        assert!(c.is_cut(0, 1) && !c.is_cut(1, 0));
        assert!(!c.remove(a));
        assert!(c.remove(b));
        assert!(!c.is_cut(0, 1));
        assert!(c.is_empty());
    }

    #[test]
    fn a_cut_does_not_shift_the_latency_stream() {
        let model = LinkModel {
            latency: Latency::Uniform {
                min: MS,
                max: 9 * MS,
            },
            ..LinkModel::default()
        };
        let mut plain = net(model.clone());
        let mut cut = net(model);
        cut.cuts.add(vec![(0, 2)]);
        let _ = plain.send(0, 2, 0);
        assert_eq!(cut.send(0, 2, 0), Fate::Cut);
        assert_eq!(plain.send(0, 1, 10 * MS), cut.send(0, 1, 10 * MS));
    }

    #[test]
    fn distributions_stay_in_their_support() {
        let mut rng = Rng::derive(1, Stream::Network(0));
        for dist in [
            Latency::Normal {
                mean: MS,
                stddev: 5 * MS,
            },
            Latency::LogNormal {
                median: MS,
                sigma: 1.0,
            },
            Latency::Exponential {
                mean: MS,
                min: 2 * MS,
            },
            Latency::Uniform {
                min: 3 * MS,
                max: 4 * MS,
            },
        ] {
            for _ in 0..1000 {
                let x = dist.sample(&mut rng);
                assert!(x >= dist.floor(), "{dist:?} gave {x}");
            }
        }
        let mean = (0..10_000)
            .map(|_| Latency::Exponential { mean: MS, min: 0 }.sample(&mut rng))
            .sum::<u64>()
            / 10_000;
        assert!((mean as f64 - MS as f64).abs() < 0.05 * MS as f64, "{mean}");
    }
}
