//! Scenarios out: a [`Scenario`] written back as a scenario file that parses to the same
//! scenario (`sim shrink` writes its result this way).
//!
//! The rule it keeps: what is written runs exactly what the in-memory scenario runs. The parts a
//! tool changes — the header (name, description, seed, duration, max_events), `[[faults]]`,
//! `[workload]` when it is scripted, `[expect]` and `[teaching]` — are written from the model; everything
//! else (`[cluster]`, `[protocol]`, `[network]`, `[clocks]`, `[check]`, the `[nemesis]` while
//! the model still has one, tables added later) is copied from the source file as values, so a
//! setting this module does not know is never lost. Comments and key order of copied tables are
//! not kept. Durations are written in their shortest exact spelling.

use toml::{Table, Value};

use crate::node::time::{format_duration, format_duration_signed};
use crate::workload::ScriptOp;
use crate::workload::history::{Call, Value as Value2};
use crate::workload::script::clients_needed;
use crate::world::{FaultAction, FaultSpec, Shape, Target};

use super::{ExpectedVerdict, Scenario};

/// Top-level keys written from the model, never copied.
const FROM_MODEL: [&str; 9] = [
    "name",
    "description",
    "seed",
    "duration",
    "max_events",
    "faults",
    "workload",
    "expect",
    "teaching",
];

/// Tables copied first, in the order a reader expects them; others follow in file order.
const LEADING: [&str; 4] = ["cluster", "protocol", "network", "clocks"];

impl Scenario {
    /// The scenario as a file. Fails only for a fault that has no `[[faults]]` spelling (the
    /// nemesis's final heal).
    ///
    /// ```
    /// use sim::scenario::Scenario;
    /// let text = "name = \"x\"\nduration = \"1s\"\n[cluster]\nnodes = 2\nprotocol = \"raft\"\n";
    /// let scenario = Scenario::parse("x.toml", text)?;
    /// // Written out and read back: the same scenario.
    /// let again = Scenario::parse("x.toml", &scenario.to_toml()?)?;
    /// assert_eq!((again.name.as_str(), again.duration), ("x", scenario.duration));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_toml(&self) -> Result<String, String> {
        let source: Table = toml::from_str(&self.text)
            .map_err(|e| format!("{}: cannot re-read the source: {e}", self.file))?;
        let mut out = String::new();
        self.header(&mut out, &source);
        // The nemesis table only while the model has a nemesis; `workload` is written below.
        let copied = |key: &str| {
            let dropped_nemesis = key == "nemesis" && self.nemesis.is_none();
            !(FROM_MODEL.contains(&key) || dropped_nemesis)
        };
        let tables: Vec<&String> = source
            .iter()
            .filter(|(k, v)| v.is_table() && copied(k))
            .map(|(k, _)| k)
            .collect();
        let leading = LEADING
            .iter()
            .filter_map(|k| tables.iter().find(|t| **t == k));
        let trailing = tables
            .iter()
            .filter(|t| !LEADING.contains(&t.as_str()) && t.as_str() != "check");
        for key in leading.chain(trailing) {
            copy_table(&mut out, &source, key)?;
        }
        for (i, fault) in self.faults.iter().enumerate() {
            out += &self
                .fault(fault)
                .map_err(|e| format!("fault {}: {e}", i + 1))?;
        }
        self.workload(&mut out, &source)?;
        if tables.iter().any(|t| t.as_str() == "check") {
            copy_table(&mut out, &source, "check")?;
        }
        self.expect_table(&mut out);
        self.teaching_table(&mut out);
        Ok(out)
    }

    /// `[teaching]`, from the model: a tool that shortens the run (`sim shrink`) drops the lines
    /// told after its new end, so what it writes still parses.
    fn teaching_table(&self, out: &mut String) {
        let lines: Vec<_> = self
            .narration
            .iter()
            .filter(|l| l.at <= self.duration)
            .collect();
        if lines.is_empty() && self.cites.is_empty() {
            return;
        }
        *out += "\n[teaching]\n";
        if !self.cites.is_empty() {
            let cites: Vec<String> = self.cites.iter().map(|c| quote(c)).collect();
            *out += &format!("cites = [{}]\n", cites.join(", "));
        }
        if lines.is_empty() {
            return;
        }
        *out += "narration = [\n";
        for l in lines {
            *out += &format!(
                "  {{ at = {}, text = {} }},\n",
                quote(&format_duration(l.at)),
                quote(&l.text)
            );
        }
        *out += "]\n";
    }

    fn header(&self, out: &mut String, source: &Table) {
        *out += &format!("name = {}\n", quote(&self.name));
        if !self.description.is_empty() {
            *out += &format!("description = {}\n", quote(&self.description));
        }
        *out += &format!("seed = {}\n", self.seed);
        *out += &format!("duration = {}\n", quote(&format_duration(self.duration)));
        if source.contains_key("max_events") {
            *out += &format!("max_events = {}\n", self.max_events);
        }
        // Top-level values a later version adds: copied as they are.
        for (k, v) in source {
            if !v.is_table() && !v.is_array() && !FROM_MODEL.contains(&k.as_str()) {
                *out += &format!("{} = {v}\n", key(k));
            }
        }
    }

    fn fault(&self, f: &FaultSpec) -> Result<String, String> {
        let mut s = format!("\n[[faults]]\nat = {}\n", quote(&format_duration(f.at)));
        let t = |t: &Target| quote(&self.target(t));
        match &f.action {
            FaultAction::Partition(shape) => {
                s += &format!("partition = {}\n", self.shape(shape));
            }
            FaultAction::Cut { from, to } => {
                s += &format!(
                    "cut = {{ from = {}, to = {} }}\n",
                    self.targets(from),
                    self.targets(to)
                );
            }
            FaultAction::Heal => s += "heal = true\n",
            FaultAction::Crash(x) => s += &format!("crash = {}\n", t(x)),
            FaultAction::Restart(x) => s += &format!("restart = {}\n", t(x)),
            FaultAction::Pause(x) => s += &format!("pause = {}\n", t(x)),
            FaultAction::Resume(x) => s += &format!("resume = {}\n", t(x)),
            FaultAction::ClockJump { target, by } => {
                s += &format!(
                    "clock_jump = {}\nby = {}\n",
                    t(target),
                    quote(&format_duration_signed(*by))
                );
            }
            FaultAction::ClockDrift { target, ppm } => {
                s += &format!("clock_drift = {}\nppm = {ppm}\n", t(target));
            }
            FaultAction::Delay { target, by } => {
                s += &format!(
                    "delay = {}\nby = {}\n",
                    t(target),
                    quote(&format_duration(*by))
                );
            }
            FaultAction::Byzantine(targets) => {
                s += &format!("byzantine = {}\n", self.targets(targets));
            }
            FaultAction::Recover => {
                return Err("the nemesis's final heal has no [[faults]] form; write heal, resume and restart entries".into());
            }
        }
        if let Some(d) = f.lasting {
            s += &format!("for = {}\n", quote(&format_duration(d)));
        }
        Ok(s)
    }

    fn target(&self, t: &Target) -> String {
        match t {
            Target::Node(i) => self.nodes[*i as usize].clone(),
            Target::Leader => "leader".into(),
            Target::Random => "random".into(),
            Target::RandomFollower => "random-follower".into(),
            Target::Minority => "minority".into(),
            Target::Majority => "majority".into(),
        }
    }

    fn targets(&self, ts: &[Target]) -> String {
        let names: Vec<String> = ts.iter().map(|t| quote(&self.target(t))).collect();
        format!("[{}]", names.join(", "))
    }

    fn shape(&self, shape: &Shape) -> String {
        match shape {
            Shape::Groups(groups) => {
                let gs: Vec<String> = groups.iter().map(|g| self.targets(g)).collect();
                format!("[{}]", gs.join(", "))
            }
            Shape::Halves => quote("halves"),
            Shape::MajorityMinority => quote("majority-minority"),
            Shape::Ring => quote("ring"),
            Shape::Isolate(t) => format!("{{ isolate = {} }}", quote(&self.target(t))),
            Shape::Bridge(t) => format!("{{ bridge = {} }}", quote(&self.target(t))),
        }
    }

    /// A drawn workload is copied; a scripted one is written from the model.
    fn workload(&self, out: &mut String, source: &Table) -> Result<(), String> {
        let (Some(w), Some(script)) = (&self.workload, &self.script) else {
            if self.workload.is_some() {
                copy_table(out, source, "workload")?;
            }
            return Ok(());
        };
        *out += "\n[workload]\n";
        if w.clients != clients_needed(script) {
            *out += &format!("clients = {}\n", w.clients);
        }
        *out += &format!("timeout = {}\n", quote(&format_duration(w.timeout)));
        *out += &format!("retry = {}\n", quote(&format_duration(w.retry)));
        *out += "script = [\n";
        for op in script {
            *out += &format!("  {},\n", script_entry(op));
        }
        *out += "]\n";
        Ok(())
    }

    fn expect_table(&self, out: &mut String) {
        let Some(e) = &self.expect else { return };
        *out += "\n[expect]\n";
        match e.verdict {
            ExpectedVerdict::Pass => *out += "verdict = \"pass\"\n",
            ExpectedVerdict::Violation => {
                *out += "verdict = \"violation\"\n";
                if !e.violates.is_empty() {
                    let names: Vec<String> = e.violates.iter().map(|v| quote(v)).collect();
                    *out += &format!("violates = [{}]\n", names.join(", "));
                }
            }
        }
    }
}

/// `{ client = 0, at = "1.2s", op = "put", key = "k0", value = "c0-3" }`, or
/// `{ client = 1, at = "2s", op = "transfer", from = 0, to = 1, amount = 100 }`.
fn script_entry(s: &ScriptOp) -> String {
    let key = s
        .key
        .as_deref()
        .map_or(String::new(), |k| format!(", key = {}", quote(k)));
    let text = |v: &Value2| match v {
        Value2::Str(s) => quote(s),
        Value2::Int(i) => i.to_string(),
    };
    let values = match &s.call {
        Call::Read => format!("op = \"get\"{key}"),
        Call::Write(v) => format!("op = \"put\"{key}, value = {}", text(v)),
        Call::Append(v) => format!("op = \"append\"{key}, value = {}", text(v)),
        Call::Cas { from, to } => format!(
            "op = \"cas\"{key}, expect = {}, new = {}",
            text(from),
            text(to)
        ),
        Call::Transfer { from, to, amount } => {
            format!("op = \"transfer\", from = {from}, to = {to}, amount = {amount}")
        }
        Call::ReadAll => "op = \"read-all\"".to_string(),
        // `from_history` makes no script of a history with these.
        Call::Txn(_) | Call::Acquire | Call::Release => {
            unreachable!("a script holds only operations the simulated clients have")
        }
    };
    format!(
        "{{ client = {}, at = {}, {values} }}",
        s.client,
        quote(&format_duration(s.at))
    )
}

/// A TOML string literal.
fn quote(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// A TOML key: bare when it can be.
fn key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { k.to_string() } else { quote(k) }
}

/// `[key]` and its values, as the source file gave them.
fn copy_table(out: &mut String, source: &Table, name: &str) -> Result<(), String> {
    let Some(value) = source.get(name) else {
        return Ok(());
    };
    let mut one = Table::new();
    one.insert(name.to_string(), value.clone());
    let text = toml::to_string(&one).map_err(|e| format!("cannot write [{name}]: {e}"))?;
    *out += "\n";
    *out += &text;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything a run depends on, as text (the file name and source text aside).
    fn model(s: &Scenario) -> String {
        format!(
            "{:?} {:?}",
            (
                &s.name,
                &s.description,
                s.seed,
                s.duration,
                s.max_events,
                &s.nodes,
                &s.protocol,
                &s.link,
            ),
            (
                &s.clocks,
                &s.faults,
                &s.nemesis,
                &s.workload,
                &s.script,
                &s.check,
                &s.expect,
            )
        )
    }

    fn scenarios() -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).expect("scenarios/ is readable") {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "toml") {
                    files.push(path);
                }
            }
        }
        files.sort();
        files
    }

    #[test]
    fn every_catalogue_scenario_reads_back_as_the_same_scenario() {
        let files = scenarios();
        assert!(files.len() > 10);
        for path in files {
            let Ok(s) = Scenario::load(&path) else {
                continue; // a scenario that needs a feature this build lacks
            };
            let text = s.to_toml().expect("every scripted fault has a spelling");
            let back = Scenario::parse("back.toml", &text)
                .unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()));
            assert_eq!(model(&back), model(&s), "{}:\n{text}", path.display());
            // The [protocol] table survives too.
            assert_eq!(
                format!("{:?}", back.protocol_config::<toml::Table>()),
                format!("{:?}", s.protocol_config::<toml::Table>()),
            );
        }
    }

    const SCRIPTED: &str = r#"
name = "w"
duration = "3s"
[cluster]
nodes = ["A", "B", "C"]
protocol = "raft"
[workload]
timeout = "400ms"
script = [
  { client = 1, at = "1.5s", op = "cas", key = "k0", expect = "a", new = "b\"q" },
  { client = 1, at = "2ms", op = "put", key = "k0", value = "a" },
]
[[faults]]
at = "1s"
partition = [["A"], ["B", "C"]]
for = "250ms"
[[faults]]
at = "2s"
clock_jump = "leader"
by = "-20ms"
"#;

    #[test]
    fn a_scripted_workload_and_explicit_faults_read_back_the_same() {
        let s = Scenario::parse("s.toml", SCRIPTED).expect("valid");
        assert_eq!(s.workload.as_ref().map(|w| w.clients), Some(2));
        let text = s.to_toml().expect("writable");
        assert!(text.contains(r#"b"q"#), "{text}");
        assert!(!text.contains("clients ="), "{text}");
        let back = Scenario::parse("back.toml", &text).expect("parses");
        assert_eq!(model(&back), model(&s), "{text}");
    }

    #[test]
    fn the_final_heal_cannot_be_written() {
        let mut s = Scenario::parse("s.toml", SCRIPTED).expect("valid");
        s.faults.push(FaultSpec {
            at: 5,
            action: FaultAction::Recover,
            lasting: None,
            origin: crate::world::Origin::FinalHeal,
        });
        let err = s.to_toml().unwrap_err();
        assert!(
            err.starts_with("fault 3: the nemesis's final heal"),
            "{err}"
        );
    }
}
