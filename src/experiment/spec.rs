//! The experiment file: a base scenario, the series of values to try, how many trials, and
//! what to measure. Every value is checked before anything runs, and every error names the
//! file, the line, the column and what was expected.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::node::{Duration, Nanos};
use crate::run::registry::Registry;
use crate::scenario::{Scenario, ScenarioError};

use super::metric::Metric;

/// The experiment file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    /// The base scenario: a path, relative to the experiment file.
    scenario: Spanned<String>,
    /// Trials per line, unless a `[[vary]]` says otherwise per value.
    trials: Spanned<u64>,
    /// Trial `i` of every line runs with seed `seed + i`.
    #[serde(default = "one")]
    seed: u64,
    /// false (the default): each `[[vary]]` is a series of its own, one line per value.
    /// true: the `[[vary]]` tables are the axes of one grid, one line per combination of their
    /// values (their cross product).
    #[serde(default)]
    grid: bool,
    vary: Vec<Spanned<Vary>>,
    measure: Spanned<Measure>,
    nemesis: Option<Spanned<NemesisFile>>,
}

fn one() -> u64 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Vary {
    /// A title for this series' plot; default the key.
    title: Option<String>,
    /// A scenario key as a dotted path, e.g. "protocol.election_timeout".
    key: Spanned<String>,
    /// One line per value.
    values: Spanned<Vec<Spanned<toml::Value>>>,
    /// The lines' names; default the values as written.
    labels: Option<Spanned<Vec<String>>>,
    /// Trials per value; default the file's `trials`.
    trials: Option<Spanned<Vec<u64>>>,
    /// Other keys set with each value, one list each, as long as `values`.
    #[serde(default)]
    also: toml::Table,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Measure {
    metric: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NemesisFile {
    /// What to crash: "leader".
    crash: Spanned<String>,
    /// Look for a stable leader from this instant on. Default 0.
    after: Option<Duration>,
    /// A leader is stable once it has led this long. Default 0: as soon as there is one.
    stable_for: Option<Duration>,
    /// The crash falls at a uniform instant of this window after the leader is found stable:
    /// a duration, or a scenario key naming one (the heartbeat interval). Default 0.
    within: Option<Spanned<String>>,
}

/// The experiment's nemesis: crash the current leader once, at a random instant of a window
/// after it is stable.
///
/// From `after` on, the trial looks every 10 ms of virtual time for a node that has led for at
/// least `stable_for`; at the first look that finds one, it draws the crash instant uniformly in
/// `[look, look + within)` (each line's `within`, [`Line::crash_window`]) from a stream of the
/// trial's seed that the run itself never draws from, and crashes whichever node leads at that
/// instant (the `leader` fault target: the crash is skipped if none does). Whatever the look's
/// phase against the leader's heartbeats, a window of one heartbeat interval makes the crash's
/// phase uniform in it: Figure 16's "crashed at a random point of its heartbeat interval".
///
/// ```
/// # let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/experiments"));
/// let experiment = sim::experiment::Experiment::load(&dir.join("raft-election-downtime.toml"), &sim::run::registry::Registry::builtin())?;
/// let crash = experiment.nemesis.expect("Figure 16 crashes the leader");
/// assert_eq!((crash.after, crash.stable_for), (2_000_000_000, 0));
/// # Ok::<(), sim::scenario::ScenarioError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrashLeader {
    /// Look for a stable leader from this instant on.
    pub after: Nanos,
    /// How long a node must have led to be stable.
    pub stable_for: Nanos,
}

/// One line of a plot: a value of the varied key (or a combination of the grid's values), its
/// scenario, and its trials.
/// ```
/// # let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/experiments"));
/// let experiment = sim::experiment::Experiment::load(&dir.join("raft-election-downtime.toml"), &sim::run::registry::Registry::builtin())?;
/// let line = &experiment.series[0].lines[2];
/// assert_eq!((line.label.as_str(), line.trials), ("150-155ms", 1000));
/// assert_eq!(line.crash_window, 75_000_000, "the heartbeat interval");
/// # Ok::<(), sim::scenario::ScenarioError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Line {
    /// The line's name in the plot, the table and the CSV.
    pub label: String,
    /// Every key set for this line, as (dotted key, value as TOML writes it).
    pub settings: Vec<(String, String)>,
    /// The base scenario with this line's values.
    pub scenario: Scenario,
    /// How many trials.
    pub trials: u64,
    /// The window the nemesis's crash instant is drawn from (0 without a nemesis).
    pub crash_window: Nanos,
}

/// A series of lines drawn as one plot: one `[[vary]]` over one key, or a whole grid.
/// ```
/// # let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/experiments"));
/// let experiment = sim::experiment::Experiment::load(&dir.join("raft-election-downtime.toml"), &sim::run::registry::Registry::builtin())?;
/// let bottom = &experiment.series[1];
/// assert_eq!(bottom.key, "protocol.election_timeout");
/// assert_eq!(bottom.lines.len(), 5);
/// # Ok::<(), sim::scenario::ScenarioError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Series {
    /// The plot's title.
    pub title: String,
    /// The varied key; a grid's keys joined with " × ".
    pub key: String,
    /// One per value (per combination, in a grid).
    pub lines: Vec<Line>,
}

/// A checked experiment, ready to run.
/// ```
/// # let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/experiments"));
/// let experiment = sim::experiment::Experiment::load(&dir.join("raft-election-downtime.toml"), &sim::run::registry::Registry::builtin())?;
/// assert_eq!(experiment.metric, sim::experiment::Metric::ElectionDowntime);
/// assert_eq!(experiment.series.len(), 2, "Figure 16's two graphs");
/// # Ok::<(), sim::scenario::ScenarioError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Experiment {
    /// The file as given.
    pub file: String,
    /// Its `name`.
    pub name: String,
    /// Its `description`.
    pub description: String,
    /// Trial `i` of every line runs with seed `seed + i`.
    pub seed: u64,
    /// What each trial measures.
    pub metric: Metric,
    /// The `[nemesis]`, if any.
    pub nemesis: Option<CrashLeader>,
    /// The series, in file order (one, for a grid).
    pub series: Vec<Series>,
}

impl Experiment {
    /// Every varied key, in the order lines first set them: the CSV's columns.
    ///
    /// ```
    /// # let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/experiments"));
    /// let experiment = sim::experiment::Experiment::load(&dir.join("raft-election-downtime.toml"), &sim::run::registry::Registry::builtin())?;
    /// assert_eq!(experiment.keys(), ["protocol.election_timeout", "protocol.heartbeat_interval"]);
    /// # Ok::<(), sim::scenario::ScenarioError>(())
    /// ```
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        for line in self.series.iter().flat_map(|s| &s.lines) {
            for (k, _) in &line.settings {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
        keys
    }
}

struct Src<'a> {
    file: &'a str,
    text: &'a str,
}

impl Src<'_> {
    fn error(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> ScenarioError {
        ScenarioError::at_offset(self.file, self.text, span.start, message)
    }
}

/// One value of a `[[vary]]`: its label, the keys it sets, its trials, where it is written.
#[derive(Clone)]
struct Entry {
    label: String,
    settings: Vec<(String, toml::Value)>,
    trials: Option<u64>,
    span: std::ops::Range<usize>,
}

/// The values of one `[[vary]]`, checked.
fn entries(src: &Src<'_>, vary: &Spanned<Vary>) -> Result<Vec<Entry>, ScenarioError> {
    let v = vary.get_ref();
    let values = v.values.get_ref();
    if values.is_empty() {
        return Err(src.error(v.values.span(), "values must not be empty"));
    }
    let n = values.len();
    let check_len = |span, len: usize, what: &str| {
        if len == n {
            Ok(())
        } else {
            Err(src.error(
                span,
                format!("{what} has {len} entries; expected {n}, one per value"),
            ))
        }
    };
    if let Some(l) = &v.labels {
        check_len(l.span(), l.get_ref().len(), "labels")?;
    }
    if let Some(t) = &v.trials {
        check_len(t.span(), t.get_ref().len(), "trials")?;
        if t.get_ref().contains(&0) {
            return Err(src.error(t.span(), "every trial count must be at least 1"));
        }
    }
    let mut also = Vec::new();
    for (key, list) in &v.also {
        let Some(list) = list.as_array() else {
            return Err(src.error(
                vary.span(),
                format!("also.\"{key}\" must be a list of values, one per value"),
            ));
        };
        check_len(vary.span(), list.len(), &format!("also.\"{key}\""))?;
        also.push((key.clone(), list.clone()));
    }
    Ok(values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let mut settings = vec![(v.key.get_ref().clone(), value.get_ref().clone())];
            settings.extend(also.iter().map(|(k, list)| (k.clone(), list[i].clone())));
            Entry {
                label: match &v.labels {
                    Some(l) => l.get_ref()[i].clone(),
                    None => plain(value.get_ref()),
                },
                settings,
                trials: v.trials.as_ref().map(|t| t.get_ref()[i]),
                span: value.span(),
            }
        })
        .collect())
}

/// The series of a file: one per `[[vary]]`, or, for a grid, one whose lines are every
/// combination of the tables' values, the first table's outermost (its value changes slowest),
/// labelled with their labels joined by ", ".
fn combine(src: &Src<'_>, raw: &File) -> Result<Vec<(String, String, Vec<Entry>)>, ScenarioError> {
    let mut axes = Vec::new();
    for vary in &raw.vary {
        axes.push((vary, entries(src, vary)?));
    }
    if !raw.grid {
        return Ok(axes
            .into_iter()
            .map(|(vary, entries)| {
                let v = vary.get_ref();
                let title = v.title.clone().unwrap_or_else(|| v.key.get_ref().clone());
                (title, v.key.get_ref().clone(), entries)
            })
            .collect());
    }
    let mut keys: Vec<String> = Vec::new();
    for (vary, _) in &axes {
        let v = vary.get_ref();
        if v.trials.is_some() {
            return Err(src.error(
                v.trials.as_ref().map_or(vary.span(), Spanned::span),
                "a grid's lines are combinations: give their trials as the file's `trials`, \
                 not per value",
            ));
        }
        let mine = std::iter::once(v.key.get_ref()).chain(v.also.keys());
        for key in mine {
            if keys.contains(key) {
                return Err(src.error(
                    v.key.span(),
                    format!("`{key}` is set by two [[vary]] tables of the grid; each key must be one axis"),
                ));
            }
            keys.push(key.clone());
        }
    }
    let mut lines = vec![Entry {
        label: String::new(),
        settings: Vec::new(),
        trials: None,
        span: 0..0,
    }];
    for (_, entries) in &axes {
        let mut next = Vec::new();
        for done in &lines {
            for e in entries {
                let mut settings = done.settings.clone();
                settings.extend(e.settings.iter().cloned());
                next.push(Entry {
                    label: if done.label.is_empty() {
                        e.label.clone()
                    } else {
                        format!("{}, {}", done.label, e.label)
                    },
                    settings,
                    trials: None,
                    span: e.span.clone(),
                });
            }
        }
        lines = next;
    }
    let titles: Vec<String> = axes
        .iter()
        .map(|(v, _)| {
            let v = v.get_ref();
            v.title.clone().unwrap_or_else(|| v.key.get_ref().clone())
        })
        .collect();
    let varied: Vec<String> = axes
        .iter()
        .map(|(v, _)| v.get_ref().key.get_ref().clone())
        .collect();
    Ok(vec![(titles.join(" × "), varied.join(" × "), lines)])
}

impl Experiment {
    /// Reads and checks an experiment file; the base scenario is read relative to it.
    ///
    /// ```
    /// let err = sim::experiment::Experiment::load(std::path::Path::new("missing.toml"), &sim::run::registry::Registry::builtin()).unwrap_err();
    /// assert_eq!(err.line, 0, "a file that cannot be read has no position");
    /// ```
    pub fn load(path: &Path, registry: &Registry) -> Result<Experiment, ScenarioError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ScenarioError::unlocated(&file, format!("cannot read: {e}")))?;
        Experiment::parse(
            &file,
            &text,
            path.parent().unwrap_or(Path::new(".")),
            registry,
        )
    }

    /// [`Experiment::load`] from text; `dir` is where the base scenario's path starts.
    ///
    /// ```
    /// use sim::experiment::Experiment;
    /// use sim::run::registry::Registry;
    /// let text = "name = \"x\"\nscenario = \"s.toml\"\ntrials = 3\nvary = []\n[measure]\nmetric = \"speed\"\n";
    /// let err = Experiment::parse("x.toml", text, std::path::Path::new("."), &Registry::builtin()).unwrap_err();
    /// assert_eq!((err.line, err.column), (6, 10));
    /// assert!(err.message.contains("election_downtime, commit_latency, stale_read_rate, in_doubt_time"), "{}", err.message);
    /// ```
    pub fn parse(
        file: &str,
        text: &str,
        dir: &Path,
        registry: &Registry,
    ) -> Result<Experiment, ScenarioError> {
        let src = Src { file, text };
        let raw: File = toml::from_str(text).map_err(|e| {
            let at = e.span().map_or(0, |s| s.start);
            ScenarioError::at_offset(file, text, at, e.message().to_string())
        })?;
        let metric_at = raw.measure.get_ref().metric.span();
        let metric = Metric::parse(raw.measure.get_ref().metric.get_ref()).ok_or_else(|| {
            src.error(
                metric_at.clone(),
                format!(
                    "unknown metric `{}`; expected one of {}",
                    raw.measure.get_ref().metric.get_ref(),
                    super::metric::names().join(", ")
                ),
            )
        })?;
        let nemesis = match &raw.nemesis {
            None => None,
            Some(n) => {
                let crash = &n.get_ref().crash;
                if crash.get_ref() != "leader" {
                    return Err(src.error(
                        crash.span(),
                        format!(
                            "unknown crash target `{}`; expected \"leader\" (the node leading when the crash falls)",
                            crash.get_ref()
                        ),
                    ));
                }
                Some(CrashLeader {
                    after: n.get_ref().after.map_or(0, |d| d.nanos()),
                    stable_for: n.get_ref().stable_for.map_or(0, |d| d.nanos()),
                })
            }
        };
        let nemesis_at = raw.nemesis.as_ref().map_or(0..0, Spanned::span);
        if *raw.trials.get_ref() == 0 {
            return Err(src.error(raw.trials.span(), "trials must be at least 1"));
        }
        if raw.vary.is_empty() {
            return Err(src.error(
                0..0,
                "an experiment needs at least one [[vary]] table: a key and its values",
            ));
        }
        let base_path = dir.join(raw.scenario.get_ref());
        let base_text = std::fs::read_to_string(&base_path).map_err(|e| {
            src.error(
                raw.scenario.span(),
                format!("cannot read the scenario {}: {e}", base_path.display()),
            )
        })?;
        let base_file = base_path.display().to_string();
        // The base must stand on its own: its errors are its own file's.
        registry.scenario(&base_file, &base_text)?;
        let base: toml::Table = toml::from_str(&base_text).map_err(|e| {
            ScenarioError::at_offset(&base_file, &base_text, 0, e.message().to_string())
        })?;
        let catalog = registry.catalog();
        let mut series = Vec::new();
        for (title, key, entries) in combine(&src, &raw)? {
            let mut lines = Vec::new();
            for e in entries {
                let mut table = base.clone();
                let shown: Vec<String> = e
                    .settings
                    .iter()
                    .map(|(k, v)| format!("{k} = {v}"))
                    .collect();
                let with = shown.join(", ");
                for (k, v) in &e.settings {
                    set(&mut table, k, v.clone()).map_err(|m| src.error(e.span.clone(), m))?;
                }
                let text = toml::to_string(&table).expect("a table serializes");
                let scenario = registry.scenario(&base_file, &text).map_err(|err| {
                    src.error(e.span.clone(), format!("with {with}: {}", err.message))
                })?;
                super::measure::check(&scenario)
                    .map_err(|m| src.error(e.span.clone(), format!("with {with}: {m}")))?;
                let info = catalog
                    .iter()
                    .find(|p| p.name == scenario.protocol)
                    .ok_or_else(|| {
                        src.error(
                            e.span.clone(),
                            format!("with {with}: no protocol `{}`", scenario.protocol),
                        )
                    })?;
                if nemesis.is_some() && !super::metric::elects(info) {
                    return Err(src.error(
                        nemesis_at.clone(),
                        format!(
                            "crash = \"leader\" needs a protocol that elects one; `{}` does not",
                            info.name
                        ),
                    ));
                }
                metric
                    .applies(info, scenario.workload.is_some(), nemesis.is_some())
                    .map_err(|m| src.error(metric_at.clone(), m))?;
                let crash_window = match raw
                    .nemesis
                    .as_ref()
                    .and_then(|n| n.get_ref().within.as_ref())
                {
                    None => 0,
                    Some(w) => window(&table, w.get_ref()).map_err(|m| src.error(w.span(), m))?,
                };
                lines.push(Line {
                    label: e.label,
                    settings: e
                        .settings
                        .iter()
                        .map(|(k, v)| (k.clone(), plain(v)))
                        .collect(),
                    scenario,
                    trials: e.trials.unwrap_or(*raw.trials.get_ref()),
                    crash_window,
                });
            }
            series.push(Series { title, key, lines });
        }
        Ok(Experiment {
            file: file.to_string(),
            name: raw.name.into_inner(),
            description: raw.description,
            seed: raw.seed,
            metric,
            nemesis,
            series,
        })
    }
}

/// Sets the dotted `key` of a scenario table, creating tables on the way.
fn set(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!(
            "`{key}` is no dotted key such as \"protocol.election_timeout\""
        ));
    }
    let (last, path) = parts.split_last().expect("split gives one part at least");
    let mut at = table;
    for part in path {
        let next = at
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        at = next
            .as_table_mut()
            .ok_or_else(|| format!("`{part}` in `{key}` is not a table of the scenario"))?;
    }
    at.insert(last.to_string(), value);
    Ok(())
}

/// A crash window: a duration as written, or the duration at a scenario key.
fn window(table: &toml::Table, written: &str) -> Result<Nanos, String> {
    if let Ok(d) = written.parse::<Duration>() {
        return Ok(d.nanos());
    }
    let mut at = Some(&toml::Value::Table(table.clone()));
    for part in written.split('.') {
        at = at.and_then(|v| v.get(part));
    }
    match at.and_then(|v| v.as_str()) {
        Some(s) => s
            .parse::<Duration>()
            .map(|d| d.nanos())
            .map_err(|e| format!("`{written}` = \"{s}\": {e}")),
        None => Err(format!(
            "within must be a duration such as \"75ms\", or a scenario key holding one \
             such as \"protocol.heartbeat_interval\"; `{written}` is neither"
        )),
    }
}

/// A value as the CSV and labels show it: no quotes, no commas (`[150ms 300ms]`).
fn plain(value: &toml::Value) -> String {
    value
        .to_string()
        .replace('"', "")
        .replace(", ", " ")
        .replace(',', " ")
}
