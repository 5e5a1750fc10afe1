//! How far a sweep has got, on stderr: an indicatif bar on a terminal, a plain line every ~2 s of
//! wall time otherwise (CI logs), and nothing on stdout, which carries results only.
//!
//! This is the one place in a sweep that reads the wall clock; the figures it prints (seeds/s,
//! events/s, ETA) never reach a run or a result.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::report::text::thousands;

use super::SeedResult;

/// How often a plain progress line is printed when stderr is not a terminal.
pub(crate) const PLAIN_EVERY: Duration = Duration::from_secs(2);

/// The progress of the seeds this invocation runs (resumed ones are counted apart).
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    /// Plain lines when not on a terminal; nothing at all when `false` and no bar.
    plain: bool,
    start: Instant,
    last_line: Instant,
    total: u64,
    done: u64,
    failed: u64,
    events: u64,
}

/// Wall-clock figures of a finished (or stopped) sweep.
pub(crate) struct Speed {
    /// Seeds that finished.
    pub(crate) seeds: u64,
    /// Simulation events those seeds processed, summed.
    pub(crate) events: u64,
    /// Wall-clock time the sweep took (for display only; never part of a result).
    pub(crate) elapsed: Duration,
}

impl Speed {
    /// Seeds finished per wall-clock second.
    pub(crate) fn seeds_per_sec(&self) -> f64 {
        self.seeds as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    /// Simulation events processed per wall-clock second, over all threads.
    pub(crate) fn events_per_sec(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl Progress {
    /// `total` seeds to run; `terminal`: draw a bar; otherwise `plain` periodic lines (or none).
    pub(crate) fn new(total: u64, terminal: bool, plain: bool) -> Progress {
        // Wall time for the display only; it never reaches a run.
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        let bar = terminal.then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            // Colour only without NO_COLOR (docs/ARCHITECTURE.md#output).
            let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let bar_style = if color {
                "{bar:30.cyan/blue}"
            } else {
                "{bar:30}"
            };
            let style = ProgressStyle::with_template(&format!(
                "{bar_style} {{pos}}/{{len}} seeds · {{msg}} · ETA {{eta}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_message("0 failed · 0 seeds/s");
            bar
        });
        Progress {
            bar,
            plain: plain && !terminal,
            start: now,
            last_line: now,
            total,
            done: 0,
            failed: 0,
            events: 0,
        }
    }

    /// Counts one finished seed (and whether it failed), moves the bar, and prints a plain line
    /// if one is due.
    pub(crate) fn seed_done(&mut self, r: &SeedResult) {
        self.done += 1;
        self.events += r.events;
        if r.failed() {
            self.failed += 1;
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
            let rate = self.done as f64 / self.start.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!(
                "{} failed · {rate:.0} seeds/s",
                thousands(self.failed)
            ));
        }
        self.tick();
    }

    /// Prints a plain line if ~2 s have passed since the last one.
    pub(crate) fn tick(&mut self) {
        if !self.plain {
            return;
        }
        #[allow(clippy::disallowed_methods)] // display only
        let now = Instant::now();
        if now.duration_since(self.last_line) >= PLAIN_EVERY {
            self.last_line = now;
            eprintln!("{}", self.line(now));
        }
    }

    fn line(&self, now: Instant) -> String {
        let secs = now.duration_since(self.start).as_secs_f64().max(1e-9);
        let rate = self.done as f64 / secs;
        let eta = if rate > 0.0 {
            format!(
                "{:.0}s",
                (self.total - self.done.min(self.total)) as f64 / rate
            )
        } else {
            "?".to_string()
        };
        format!(
            "sweep: {}/{} seeds · {} failed · {rate:.0} seeds/s · ETA {eta}",
            thousands(self.done),
            thousands(self.total),
            thousands(self.failed)
        )
    }

    /// Clears the bar and returns the wall-clock figures.
    pub(crate) fn finish(self) -> Speed {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        Speed {
            seeds: self.done,
            events: self.events,
            elapsed: self.start.elapsed(),
        }
    }
}
