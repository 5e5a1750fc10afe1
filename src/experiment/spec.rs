//! The experiment file: a base scenario, the series of values to try, how many trials, and
//! what to measure. Every value is checked before anything runs, and every error names the
//! file, the line, the column and what was expected.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::node::{Duration, Nanos};
use crate::run::registry::Registry;
use crate::scenario::{Scenario, ScenarioError};

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
    vary: Vec<Spanned<Vary>>,
    measure: Spanned<Measure>,
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
    /// election_downtime: the leader is crashed at `crash_at` plus a uniform draw in
    /// `[0, crash_window)`.
    crash_at: Option<Spanned<Duration>>,
    /// A duration, or a scenario key naming one (the heartbeat interval).
    crash_window: Option<Spanned<String>>,
}

/// What a trial measures.
///
/// ```
/// use sim::experiment::Metric;
/// assert_eq!(Metric::parse("election_downtime"), Some(Metric::ElectionDowntime));
/// assert_eq!(Metric::ElectionDowntime.name(), "election_downtime");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// From the leader's crash until a node first hears the next leader (a message the new
    /// leader sent once it led: its first heartbeat).
    ElectionDowntime,
}

impl Metric {
    /// The metric a name names.
    ///
    /// ```
    /// use sim::experiment::Metric;
    /// assert_eq!(Metric::parse("throughput"), None);
    /// ```
    pub fn parse(name: &str) -> Option<Metric> {
        match name {
            "election_downtime" => Some(Metric::ElectionDowntime),
            _ => None,
        }
    }

    /// The metric's name, as files and the CSV spell it.
    ///
    /// ```
    /// use sim::experiment::Metric;
    /// assert_eq!(Metric::ElectionDowntime.name(), "election_downtime");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Metric::ElectionDowntime => "election_downtime",
        }
    }
}

/// One line of a plot: a value of the varied key, its scenario, and its trials.
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
    /// The window the crash instant is drawn from (election_downtime).
    pub crash_window: Nanos,
}

/// One `[[vary]]`: a series of lines over one key, drawn as one plot.
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
    /// The varied key.
    pub key: String,
    /// One per value.
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
    /// When the leader is crashed, before the drawn part.
    pub crash_at: Nanos,
    /// The series, in file order.
    pub series: Vec<Series>,
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
    /// assert!(err.message.contains("election_downtime"), "{}", err.message);
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
        let metric = Metric::parse(raw.measure.get_ref().metric.get_ref()).ok_or_else(|| {
            src.error(
                raw.measure.get_ref().metric.span(),
                format!(
                    "unknown metric `{}`; expected `election_downtime`",
                    raw.measure.get_ref().metric.get_ref()
                ),
            )
        })?;
        let measure = raw.measure.get_ref();
        let crash_at = measure.crash_at.as_ref().map_or(0, |d| d.get_ref().nanos());
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
        let mut series = Vec::new();
        for vary in &raw.vary {
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
            let mut lines = Vec::new();
            for (i, value) in values.iter().enumerate() {
                let mut table = base.clone();
                let mut settings = vec![(v.key.get_ref().clone(), plain(value.get_ref()))];
                set(&mut table, v.key.get_ref(), value.get_ref().clone())
                    .map_err(|m| src.error(v.key.span(), m))?;
                for (key, list) in &also {
                    set(&mut table, key, list[i].clone()).map_err(|m| src.error(vary.span(), m))?;
                    settings.push((key.clone(), plain(&list[i])));
                }
                let text = toml::to_string(&table).expect("a table serializes");
                let scenario = registry.scenario(&base_file, &text).map_err(|e| {
                    src.error(
                        value.span(),
                        format!(
                            "with {} = {}: {}",
                            v.key.get_ref(),
                            value.get_ref(),
                            e.message
                        ),
                    )
                })?;
                super::measure::check(&scenario).map_err(|m| {
                    src.error(
                        value.span(),
                        format!("with {} = {}: {m}", v.key.get_ref(), value.get_ref()),
                    )
                })?;
                let crash_window = match &measure.crash_window {
                    None => 0,
                    Some(w) => window(&table, w.get_ref()).map_err(|m| src.error(w.span(), m))?,
                };
                let label = match &v.labels {
                    Some(l) => l.get_ref()[i].clone(),
                    None => plain(value.get_ref()),
                };
                let trials = v
                    .trials
                    .as_ref()
                    .map_or(*raw.trials.get_ref(), |t| t.get_ref()[i]);
                lines.push(Line {
                    label,
                    settings,
                    scenario,
                    trials,
                    crash_window,
                });
            }
            series.push(Series {
                title: v.title.clone().unwrap_or_else(|| v.key.get_ref().clone()),
                key: v.key.get_ref().clone(),
                lines,
            });
        }
        Ok(Experiment {
            file: file.to_string(),
            name: raw.name.into_inner(),
            description: raw.description,
            seed: raw.seed,
            metric,
            crash_at,
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
            "crash_window must be a duration such as \"75ms\", or a scenario key holding one \
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
