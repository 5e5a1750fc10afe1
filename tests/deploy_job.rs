//! deploy/kubernetes-sweep-job.yaml, run here: its pods' command, read out of the manifest and
//! expanded as Kubernetes expands it, runs as one local process per completion index; a pod
//! killed mid-shard is retried and resumes; a bad scenario exits with a code the manifest's
//! podFailurePolicy makes fatal; the merge command from the manifest's header prints the
//! unsharded sweep's table. Only the seed range (and, for the exit codes, the scenario) is set
//! by the tests: the manifest's 100,000 seeds would take minutes.

use crate::common;

use std::fs;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output};

use common::deploy::{BAD_SCENARIO, assert_merge_is_the_unsharded_sweep, script, workdir};
use common::xml::Xml;
use common::yaml::Yaml;
use common::{code, root, scratch, show, sim, text, wait_for_lines};

const MANIFEST: &str = "deploy/kubernetes-sweep-job.yaml";
const DOCKERFILE: &str = "deploy/Dockerfile";
const COMPLETION_INDEX: &str = "metadata.annotations['batch.kubernetes.io/job-completion-index']";

/// What the Job controller does with a pod that ended with an exit code.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// Exit 0: the index is complete.
    Succeeded,
    /// A podFailurePolicy rule's action (`FailJob`, `FailIndex`, `Ignore`, `Count`).
    Rule(String),
    /// No rule matched: the failure counts against backoffLimitPerIndex and the pod is retried.
    Retried,
}

/// One podFailurePolicy rule on exit codes.
struct Rule {
    action: String,
    container: Option<String>,
    operator: String,
    values: Vec<i32>,
}

/// The Indexed Job as the manifest writes it.
struct Job {
    completions: usize,
    container: String,
    /// The container's `command` then `args`, before Kubernetes expands `$(VAR)`.
    argv: Vec<String>,
    /// The container's env entries in order: a literal value, or None for the completion index.
    env: Vec<(String, Option<String>)>,
    working_dir: String,
    mount: String,
    rules: Vec<Rule>,
    /// The merge command the manifest's header gives.
    merge: String,
}

fn job() -> Job {
    let src = fs::read_to_string(root().join(MANIFEST)).unwrap();
    let docs = Yaml::documents(&src);
    let kind = |k: &str| {
        docs.iter()
            .find(|d| d.get("kind").str() == k)
            .unwrap_or_else(|| panic!("a {k} in {MANIFEST}"))
    };
    let (job, claim) = (kind("Job"), kind("PersistentVolumeClaim"));
    let spec = job.get("spec");
    assert_eq!(spec.get("completionMode").str(), "Indexed");
    let pod = spec.at("template.spec");
    // A failed pod is replaced by a new one that runs the same command on the same volume.
    assert_eq!(pod.get("restartPolicy").str(), "Never");
    let containers = pod.get("containers").seq();
    assert_eq!(containers.len(), 1, "one container, the sweep");
    let c = &containers[0];
    let mut argv = c.get("command").strs();
    argv.extend(c.get("args").strs());
    let env = c
        .get("env")
        .seq()
        .iter()
        .map(|e| {
            let name = e.get("name").str().to_string();
            match e.try_get("value") {
                Some(v) => (name, Some(v.str().to_string())),
                None => {
                    assert_eq!(
                        e.at("valueFrom.fieldRef.fieldPath").str(),
                        COMPLETION_INDEX,
                        "{name}: the only env taken from the pod is the completion index"
                    );
                    (name, None)
                }
            }
        })
        .collect();
    // The pod writes to the claim's volume.
    let mounts = c.get("volumeMounts").seq();
    assert_eq!(mounts.len(), 1);
    let volume = pod.get("volumes").item("name", mounts[0].get("name").str());
    assert_eq!(
        volume.at("persistentVolumeClaim.claimName").str(),
        claim.at("metadata.name").str()
    );
    let rules = spec
        .at("podFailurePolicy.rules")
        .seq()
        .iter()
        .filter_map(|r| {
            let on = r.try_get("onExitCodes")?;
            Some(Rule {
                action: r.get("action").str().to_string(),
                container: on.try_get("containerName").map(|n| n.str().to_string()),
                operator: on.get("operator").str().to_string(),
                values: on
                    .get("values")
                    .strs()
                    .iter()
                    .map(|v| v.parse().unwrap())
                    .collect(),
            })
        })
        .collect();
    let merges: Vec<&str> = src
        .lines()
        .filter_map(|l| l.strip_prefix('#')?.trim().strip_prefix("sim merge "))
        .collect();
    assert_eq!(merges.len(), 1, "one `sim merge` line in the header");
    Job {
        completions: spec.get("completions").str().parse().unwrap(),
        container: c.get("name").str().to_string(),
        argv: argv.into_iter().map(String::from).collect(),
        env,
        working_dir: c.get("workingDir").str().to_string(),
        mount: mounts[0].get("mountPath").str().to_string(),
        rules,
        merge: format!("sim merge {}", merges[0]),
    }
}

/// Kubernetes's expansion of `command` and `args`: `$(VAR)` becomes the value of the container's
/// env var VAR, `$$` becomes `$`, and a reference to no env var stays as written.
fn expand(s: &str, env: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if let Some(r) = rest.strip_prefix("$$") {
            out.push('$');
            rest = r;
            continue;
        }
        if let Some(body) = rest.strip_prefix("$(")
            && let Some(close) = body.find(')')
            && let Some((_, value)) = env.iter().find(|(k, _)| *k == body[..close])
        {
            out.push_str(value);
            rest = &body[close + 1..];
            continue;
        }
        out.push('$');
        rest = &rest[1..];
    }
    out.push_str(rest);
    out
}

/// The image and the volume, here: the image's working directory with the scenarios, and a
/// directory standing for the volume, which replaces the mount path in the pod's command.
struct Node {
    workdir: PathBuf,
    volume: PathBuf,
}

impl Node {
    fn new(dir: &Path, job: &Job) -> Node {
        // The image puts the scenarios in the working directory the container runs in, and sim
        // on the PATH (which `script` gives this build's sim).
        let dockerfile = fs::read_to_string(root().join(DOCKERFILE)).unwrap();
        for line in [
            format!("COPY scenarios {}/scenarios", job.working_dir),
            "COPY --from=build /src/target/release/sim /usr/local/bin/sim".to_string(),
        ] {
            assert!(
                dockerfile.lines().any(|l| l == line),
                "{DOCKERFILE}: {line}"
            );
        }
        let volume = dir.join("volume");
        fs::create_dir_all(&volume).unwrap();
        Node {
            workdir: workdir(&dir.join("image")),
            volume,
        }
    }
}

impl Job {
    /// The pod for completion `index`: its env as the manifest declares it, with `set` replacing
    /// declared values, and its command expanded by those variables.
    fn pod(&self, index: usize, set: &[(&str, &str)], node: &Node) -> Command {
        for (name, _) in set {
            assert!(
                self.env.iter().any(|(n, _)| n == name),
                "{name} is not an env var of the manifest"
            );
        }
        let env: Vec<(String, String)> = self
            .env
            .iter()
            .map(|(name, value)| {
                let set = set
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.to_string());
                let value = value.clone().unwrap_or_else(|| index.to_string());
                (name.clone(), set.unwrap_or(value))
            })
            .collect();
        let argv: Vec<String> = self
            .argv
            .iter()
            .map(|a| self.on_volume(&expand(a, &env), node))
            .collect();
        let mut cmd = script(&argv, &node.workdir, &env);
        // Its own process group, so that killing the pod kills the shell and its sim together.
        cmd.process_group(0);
        cmd
    }

    fn on_volume(&self, s: &str, node: &Node) -> String {
        s.replace(
            &format!("{}/", self.mount),
            &format!("{}/", node.volume.display()),
        )
    }

    /// The header's merge command, run in a pod that mounts the volume.
    fn merge(&self, node: &Node) -> Output {
        let line = self.on_volume(&self.merge, node);
        let argv = ["/bin/sh".to_string(), "-c".to_string(), line];
        script(&argv, &node.workdir, &[]).output().unwrap()
    }

    /// The Job controller's reading of a pod's end: exit 0 completes the index, else the first
    /// podFailurePolicy rule on exit codes that matches decides, else the pod is retried.
    fn outcome(&self, exit: i32) -> Outcome {
        if exit == 0 {
            return Outcome::Succeeded;
        }
        self.rules
            .iter()
            .find(|r| {
                r.container.as_ref().is_none_or(|c| *c == self.container)
                    && match r.operator.as_str() {
                        "In" => r.values.contains(&exit),
                        "NotIn" => !r.values.contains(&exit),
                        op => panic!("operator {op} is not Kubernetes's"),
                    }
            })
            .map_or(Outcome::Retried, |r| Outcome::Rule(r.action.clone()))
    }

    fn env_value(&self, name: &str) -> String {
        self.env
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no value for {name} in the manifest"))
    }
}

/// The exit code Kubernetes reports for a container: a signal's is 128 + the signal.
fn exit_code(status: ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap()
}

/// The Job as the manifest writes it, and a scratch directory with the image and volume.
fn cluster(name: &str) -> (Job, PathBuf, Node) {
    let job = job();
    let dir = scratch(name);
    let node = Node::new(&dir, &job);
    (job, dir, node)
}

/// The pod's end completes its index.
fn assert_completes(job: &Job, pod: &Output) {
    let outcome = job.outcome(exit_code(pod.status));
    assert_eq!(outcome, Outcome::Succeeded, "{}", show(pod));
}

fn kill_pod(pod: &mut Child) {
    let group = format!("-{}", pod.id());
    let status = Command::new("kill")
        .args(["-KILL", "--", &group])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn the_pods_sweep_their_shards_a_killed_one_resumes_and_the_merge_is_the_unsharded_table() {
    let (job, dir, node) = cluster("k8s-job");
    let n = job.completions;
    let scenario = job.env_value("SCENARIO");
    // 150 seeds per shard instead of the manifest's 12,500.
    let seeds = format!("1..{}", 150 * n + 1);
    let set = [("SEEDS", seeds.as_str())];

    // Every index at once (parallelism permitting), as the Job starts them.
    let mut pods: Vec<Child> = (0..n)
        .map(|i| {
            job.pod(i, &set, &node)
                .spawn()
                .expect("the pod's shell starts")
        })
        .collect();
    let victim = n / 2;
    let victim_results = node.volume.join(format!("shard-{victim}/results.jsonl"));
    wait_for_lines(&mut pods[victim], &victim_results, 10);
    kill_pod(&mut pods[victim]); // evicted or OOM-killed: no chance to clean up
    for (i, pod) in pods.into_iter().enumerate() {
        let out = pod.wait_with_output().unwrap();
        let exit = exit_code(out.status);
        if i == victim {
            assert_eq!(exit, 137, "{}", show(&out));
            assert_eq!(
                job.outcome(exit),
                Outcome::Retried,
                "a killed pod is retried"
            );
        } else {
            assert_completes(&job, &out);
            let stdout = text(&out.stdout);
            assert!(
                stdout.contains(&format!("shard {i}/{n} · 150 seeds")),
                "{stdout}"
            );
        }
    }
    let kept = fs::read_to_string(&victim_results).unwrap();
    let done = kept.lines().filter(|l| l.ends_with('}')).count();
    assert!(
        (10..150).contains(&done),
        "{done} seeds done before the kill"
    );

    // The retry: the same pod again, which finds its shard's results on the volume.
    let retry = job.pod(victim, &set, &node).output().unwrap();
    assert_completes(&job, &retry);
    let note = format!("{done} seeds already done, {} to run", 150 - done);
    assert!(text(&retry.stderr).contains(&note), "{}", show(&retry));
    let stored = fs::read_to_string(&victim_results).unwrap();
    let mut stored_seeds: Vec<&str> = stored.lines().map(|l| &l[..l.find(',').unwrap()]).collect();
    stored_seeds.sort_unstable();
    stored_seeds.dedup();
    assert_eq!(
        stored_seeds.len(),
        150,
        "every seed of the shard, each once"
    );

    let merged = job.merge(&node);
    assert_merge_is_the_unsharded_sweep(&merged, &scenario, &seeds);
    let junit = Xml::parse(&fs::read_to_string(node.volume.join("junit.xml")).unwrap());
    assert_eq!(junit.kids.len(), n, "one <testsuite> per pod");
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn a_bad_scenario_fails_the_job_at_once_and_failing_seeds_complete_their_shard() {
    let (job, dir, node) = cluster("k8s-exit-codes");
    let n = job.completions;

    // Bad input: sim says where, exits 2, and the podFailurePolicy fails the whole Job.
    fs::write(node.workdir.join("bad.toml"), BAD_SCENARIO).unwrap();
    let bad = job
        .pod(0, &[("SCENARIO", "bad.toml"), ("SEEDS", "1..9")], &node)
        .output()
        .unwrap();
    assert_eq!(exit_code(bad.status), 2, "{}", show(&bad));
    assert!(text(&bad.stderr).contains("bad.toml:2:"), "{}", show(&bad));
    assert_eq!(job.outcome(2), Outcome::Rule("FailJob".into()));

    // Failing seeds are an answer, not a failed pod: every index completes, and the merge
    // reports the verdict (exit 1, as the unsharded sweep).
    let scenario = "scenarios/failover/naive-swarm.toml";
    let seeds = format!("1..{}", 5 * n + 1);
    let set = [("SCENARIO", scenario), ("SEEDS", seeds.as_str())];
    for i in 0..n {
        let out = job.pod(i, &set, &node).output().unwrap();
        assert_completes(&job, &out);
    }
    let direct = sim(&["sweep", scenario, "--seeds", &seeds]);
    assert_eq!(code(&direct), 1, "the pods succeeded although seeds failed");
    let merged = job.merge(&node);
    assert_merge_is_the_unsharded_sweep(&merged, scenario, &seeds);
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn the_reader_takes_the_manifest_apart_as_kubernetes_does() {
    let job = job();
    assert_eq!(job.argv[..2], ["/bin/sh", "-c"]);
    let env = [("JOB_COMPLETION_INDEX".to_string(), "5".to_string())];
    assert_eq!(
        expand(
            "--out /results/shard-$(JOB_COMPLETION_INDEX) $(NOPE) $$(JOB_COMPLETION_INDEX) $x",
            &env
        ),
        "--out /results/shard-5 $(NOPE) $(JOB_COMPLETION_INDEX) $x"
    );
    // The shard and --out of each pod are its completion index, on the volume.
    let script = expand(&job.argv[2], &env);
    assert!(script.contains("--shard 5/$SHARDS"), "{script}");
    assert!(
        script.contains(&format!("--out {}/shard-5", job.mount)),
        "{script}"
    );
    assert_eq!(job.env_value("SHARDS"), job.completions.to_string());
    // Only exit 2 is fatal; a killed pod (137) and any other error are retried.
    assert_eq!(job.outcome(2), Outcome::Rule("FailJob".into()));
    assert_eq!(job.outcome(137), Outcome::Retried);
    assert_eq!(job.outcome(1), Outcome::Retried);
}
