//! Hand-written histories with known verdicts, and generated ones at scale.

use super::generate::{self, Shape};
use super::*;
use crate::workload::history::{Call, Operation, Outcome, Output, TimeUnit};

fn int(i: i64) -> Value {
    Value::Int(i)
}

fn s(x: &str) -> Value {
    Value::Str(x.to_string())
}

fn op(process: u64, call: Call, invoke: u64, complete: u64, outcome: Outcome) -> Operation {
    Operation {
        process,
        key: None,
        call,
        invoke,
        complete: Some(complete),
        outcome,
        node: None,
    }
}

fn w(p: u64, v: i64, t: (u64, u64)) -> Operation {
    op(p, Call::Write(int(v)), t.0, t.1, Outcome::Ok(Output::Done))
}

fn r(p: u64, v: Option<i64>, t: (u64, u64)) -> Operation {
    op(
        p,
        Call::Read,
        t.0,
        t.1,
        Outcome::Ok(Output::Value(v.map(int))),
    )
}

fn cas(p: u64, from: i64, to: i64, ok: bool, t: (u64, u64)) -> Operation {
    let call = Call::Cas {
        from: int(from),
        to: int(to),
    };
    op(p, call, t.0, t.1, Outcome::Ok(Output::Cas(ok)))
}

fn info(mut o: Operation) -> Operation {
    o.outcome = Outcome::Info;
    o
}

fn keyed(k: &str, mut o: Operation) -> Operation {
    o.key = Some(k.to_string());
    o
}

fn history(ops: Vec<Operation>) -> History {
    History {
        ops,
        time_unit: TimeUnit::Event,
        model: None,
    }
}

fn spec(kind: ModelKind) -> ModelSpec {
    ModelSpec { kind, init: None }
}

fn verdict(ops: Vec<Operation>, kind: ModelKind) -> LinVerdict {
    check(&history(ops), &spec(kind), &Limits::default())
        .expect("a valid history")
        .verdict
}

use LinVerdict::{Linearizable as Lin, NotLinearizable as NotLin};

fn siblings(p: u64, vs: &[i64], t: (u64, u64)) -> Operation {
    let vs = vs.iter().map(|&v| int(v)).collect();
    op(p, Call::Read, t.0, t.1, Outcome::Ok(Output::Siblings(vs)))
}

#[test]
fn a_read_of_siblings_is_legal_when_the_value_is_one_of_them() {
    // Two concurrent writes, then a read of both as siblings: the value is one of them.
    let both = vec![
        w(0, 1, (0, 2)),
        w(1, 2, (1, 3)),
        siblings(2, &[1, 2], (4, 5)),
    ];
    assert_eq!(verdict(both, ModelKind::Register), Lin);
    // After 3 is written, a read of the siblings {1, 2} is stale: 3 is neither.
    let stale = vec![
        w(0, 1, (0, 2)),
        w(1, 2, (1, 3)),
        w(0, 3, (4, 5)),
        siblings(2, &[1, 2], (6, 7)),
    ];
    assert_eq!(verdict(stale, ModelKind::Register), NotLin);
    // The siblings say which values were current: a later plain read of 1 after siblings
    // {1, 2} is fine, of a value never written is not.
    let then = |v| {
        vec![
            w(0, 1, (0, 2)),
            w(1, 2, (1, 3)),
            siblings(2, &[1, 2], (4, 5)),
            r(2, Some(v), (6, 7)),
        ]
    };
    assert_eq!(verdict(then(1), ModelKind::Kv), Lin);
    assert_eq!(verdict(then(9), ModelKind::Kv), NotLin);
}

#[test]
fn sequential_write_then_read_is_linearizable() {
    let ops = vec![w(0, 1, (0, 1)), r(1, Some(1), (2, 3))];
    assert_eq!(verdict(ops, ModelKind::Register), Lin);
}

#[test]
fn stale_read_after_a_completed_write_is_a_violation() {
    let ops = vec![w(0, 1, (0, 1)), w(0, 2, (2, 3)), r(1, Some(1), (4, 5))];
    assert_eq!(verdict(ops, ModelKind::Register), NotLin);
}

#[test]
fn lost_write_is_a_violation() {
    // Write 2 completed, then every later read still sees the initial value.
    let ops = vec![w(0, 2, (0, 1)), r(1, None, (2, 3))];
    assert_eq!(verdict(ops, ModelKind::Register), NotLin);
}

#[test]
fn concurrent_writes_may_order_either_way() {
    let both = |last: i64| {
        vec![
            w(0, 1, (0, 10)),
            w(1, 2, (1, 11)),
            r(2, Some(last), (12, 13)),
        ]
    };
    assert_eq!(verdict(both(1), ModelKind::Register), Lin);
    assert_eq!(verdict(both(2), ModelKind::Register), Lin);
}

#[test]
fn a_read_overlapping_a_write_may_see_either_value_but_not_go_back() {
    let ops = vec![
        w(0, 1, (0, 1)),
        w(0, 2, (2, 10)),
        r(1, Some(2), (3, 4)),
        r(1, Some(1), (5, 6)),
    ];
    assert_eq!(verdict(ops, ModelKind::Register), NotLin);
}

#[test]
fn an_info_write_that_took_effect_is_linearizable() {
    let ops = vec![info(w(0, 5, (0, 1))), r(1, Some(5), (10, 11))];
    assert_eq!(verdict(ops, ModelKind::Register), Lin);
}

#[test]
fn an_info_write_that_never_took_effect_is_linearizable() {
    let ops = vec![
        info(w(0, 5, (0, 1))),
        r(1, None, (10, 11)),
        r(1, None, (12, 13)),
    ];
    assert_eq!(verdict(ops, ModelKind::Register), Lin);
}

#[test]
fn an_info_write_may_take_effect_long_after_its_client_gave_up() {
    let ops = vec![
        info(w(0, 5, (0, 1))),
        r(1, None, (10, 11)),
        r(1, Some(5), (12, 13)),
    ];
    assert_eq!(verdict(ops, ModelKind::Register), Lin);
}

#[test]
fn an_info_write_seen_then_unseen_is_a_violation() {
    let ops = vec![
        info(w(0, 5, (0, 1))),
        r(1, Some(5), (10, 11)),
        r(1, None, (12, 13)),
    ];
    assert_eq!(verdict(ops, ModelKind::Register), NotLin);
}

#[test]
fn a_pending_op_with_no_completion_is_unknown() {
    let mut pending = w(0, 5, (0, 1));
    pending.complete = None; // an ok without a completion is read as unknown
    let ops = vec![pending, r(1, None, (10, 11)), r(1, Some(5), (12, 13))];
    assert_eq!(verdict(ops, ModelKind::Register), Lin);
}

#[test]
fn failed_operations_are_skipped() {
    let mut failed = w(0, 5, (0, 1));
    failed.outcome = Outcome::Fail;
    let seen = vec![failed.clone(), r(1, Some(5), (10, 11))];
    assert_eq!(verdict(seen, ModelKind::Register), NotLin);
    let unseen = vec![failed, r(1, None, (10, 11))];
    assert_eq!(verdict(unseen, ModelKind::Register), Lin);
}

#[test]
fn a_cas_chain_is_linearizable() {
    let ops = vec![
        w(0, 0, (0, 1)),
        cas(1, 0, 1, true, (2, 3)),
        cas(2, 1, 2, true, (4, 5)),
        r(0, Some(2), (6, 7)),
    ];
    assert_eq!(verdict(ops, ModelKind::CasRegister), Lin);
}

#[test]
fn a_broken_cas_chain_is_a_violation() {
    // Both cas 0->1 succeed sequentially: the second cannot have seen 0.
    let ops = vec![
        w(0, 0, (0, 1)),
        cas(1, 0, 1, true, (2, 3)),
        cas(2, 0, 1, true, (4, 5)),
    ];
    assert_eq!(verdict(ops, ModelKind::CasRegister), NotLin);
}

#[test]
fn a_failed_cas_means_the_value_differed_and_nothing_changed() {
    let differs = vec![
        w(0, 1, (0, 1)),
        cas(1, 0, 9, false, (2, 3)),
        r(0, Some(1), (4, 5)),
    ];
    assert_eq!(verdict(differs, ModelKind::CasRegister), Lin);
    let was_equal = vec![w(0, 0, (0, 1)), cas(1, 0, 9, false, (2, 3))];
    assert_eq!(verdict(was_equal, ModelKind::CasRegister), NotLin);
    let changed = vec![
        w(0, 1, (0, 1)),
        cas(1, 0, 9, false, (2, 3)),
        r(0, Some(9), (4, 5)),
    ];
    assert_eq!(verdict(changed, ModelKind::CasRegister), NotLin);
}

#[test]
fn an_unknown_cas_applies_only_if_the_value_matches() {
    let unknown_cas = |from: i64| info(cas(1, from, 7, true, (2, 3)));
    let applied = vec![w(0, 1, (0, 1)), unknown_cas(1), r(0, Some(7), (10, 11))];
    assert_eq!(verdict(applied, ModelKind::CasRegister), Lin);
    let cannot = vec![w(0, 1, (0, 1)), unknown_cas(2), r(0, Some(7), (10, 11))];
    assert_eq!(verdict(cannot, ModelKind::CasRegister), NotLin);
}

#[test]
fn kv_checks_each_key_and_names_the_bad_one() {
    let ops = vec![
        keyed("a", w(0, 1, (0, 1))),
        keyed("b", w(1, 1, (0, 1))),
        keyed("a", r(2, Some(1), (2, 3))),
        keyed("b", w(1, 2, (2, 3))),
        keyed("b", r(2, Some(1), (4, 5))),
    ];
    let analysis = check(&history(ops), &spec(ModelKind::Kv), &Limits::default()).unwrap();
    assert_eq!(analysis.verdict, NotLin);
    let keys: Vec<_> = analysis
        .partitions
        .iter()
        .map(|p| (p.key.clone(), p.verdict.clone()))
        .collect();
    assert_eq!(
        keys,
        vec![(Some("a".into()), Lin), (Some("b".into()), NotLin)]
    );
    assert_eq!(analysis.partitions[1].stuck, Some(4));
}

#[test]
fn append_concatenates_and_starts_from_absent() {
    let app =
        |p, v: &str, t: (u64, u64)| op(p, Call::Append(s(v)), t.0, t.1, Outcome::Ok(Output::Done));
    let get = |p, v: &str, t: (u64, u64)| {
        op(
            p,
            Call::Read,
            t.0,
            t.1,
            Outcome::Ok(Output::Value(Some(s(v)))),
        )
    };
    let ok = vec![
        app(0, "x", (0, 1)),
        app(1, "y", (2, 3)),
        get(2, "xy", (4, 5)),
    ];
    assert_eq!(verdict(ok, ModelKind::Kv), Lin);
    let reordered = vec![
        app(0, "x", (0, 1)),
        app(1, "y", (2, 3)),
        get(2, "yx", (4, 5)),
    ];
    assert_eq!(verdict(reordered, ModelKind::Kv), NotLin);
    let concurrent = vec![
        app(0, "x", (0, 10)),
        app(1, "y", (1, 11)),
        get(2, "yx", (12, 13)),
    ];
    assert_eq!(verdict(concurrent, ModelKind::Kv), Lin);
}

#[test]
fn append_to_an_integer_is_a_model_error() {
    let ops = vec![
        w(0, 1, (0, 1)),
        op(1, Call::Append(s("x")), 2, 3, Outcome::Ok(Output::Done)),
    ];
    let err = check(&history(ops), &spec(ModelKind::Kv), &Limits::default()).unwrap_err();
    assert_eq!(err.op, Some(0));
    assert!(err.message.contains("append concatenates strings"), "{err}");
}

#[test]
fn a_call_the_model_lacks_is_an_error_not_a_panic() {
    let ops = vec![cas(0, 0, 1, true, (0, 1))];
    let err = check(
        &history(ops),
        &spec(ModelKind::Register),
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(err.op, Some(0));
    assert!(err.to_string().contains("does not support cas"), "{err}");
    let bad_output = vec![op(0, Call::Read, 0, 1, Outcome::Ok(Output::Done))];
    let err = check(
        &history(bad_output),
        &spec(ModelKind::Register),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(err.message.contains("read cannot return done"), "{err}");
}

/// Many overlapping writes and a final read of a value nobody wrote: every order is tried.
fn hard_violation() -> Vec<Operation> {
    let mut ops: Vec<Operation> = (0..14).map(|i| w(i, i as i64, (0, 100))).collect();
    ops.push(r(20, Some(99), (101, 102)));
    ops
}

#[test]
fn a_step_budget_ends_in_unknown() {
    let limits = Limits {
        max_steps: Some(50),
        cancel: None,
        verdict_only: false,
    };
    let analysis = check(
        &history(hard_violation()),
        &spec(ModelKind::Register),
        &limits,
    )
    .unwrap();
    let LinVerdict::Unknown { reason } = analysis.verdict else {
        panic!("expected unknown, got {:?}", analysis.verdict)
    };
    assert!(reason.contains("step budget of 50"), "{reason}");
    assert!(analysis.steps <= 51, "{}", analysis.steps);
}

#[test]
fn a_search_paused_by_its_budget_resumes_where_it_stopped() {
    let h = history(hard_violation());
    let mut parts = compile(&h, &spec(ModelKind::Register)).unwrap();
    let part = &mut parts[0];
    let budget = |max| Budget {
        max_steps: Some(max),
        cancel: None,
        used: 0,
        memo_words: MEMO_WORDS,
        stopped: None,
    };
    let mut whole = budget(u64::MAX);
    let once = Search::new(&part.ops).run(part.init, &mut part.values, &mut whole);
    assert!(matches!(once, Found::Stuck { .. }), "{once:?}");
    // In instalments of 1,000 steps: each pause counts one step it did not take.
    let mut search = Search::new(&part.ops);
    let (mut taken, mut pauses) = (0, 0);
    let last = loop {
        let mut b = budget(1_000);
        let found = search.run(part.init, &mut part.values, &mut b);
        taken += b.used;
        match found {
            Found::Limit { .. } => pauses += 1,
            other => break other,
        }
    };
    assert!(matches!(last, Found::Stuck { .. }), "{last:?}");
    assert!(
        pauses > 10,
        "the search is long enough to pause often: {pauses}"
    );
    assert_eq!(taken - pauses, whole.used);
}

#[test]
fn the_first_bad_key_of_a_round_proves_the_verdict_and_later_keys_are_left() {
    // Big enough to be searched on every core; two keys made bad.
    let (h, model) = generate::history(&Shape::large(3, 4_000));
    let mut bad = h.clone();
    let mut spoiled: Vec<String> = Vec::new();
    for i in 0..bad.ops.len() {
        let key = bad.ops[i].key.clone().expect("keyed");
        if spoiled.len() < 2
            && !spoiled.contains(&key)
            && bad.ops[i].call == Call::Read
            && matches!(bad.ops[i].outcome, Outcome::Ok(_))
            && (key.ends_with('3') || key.ends_with('7'))
        {
            bad.ops[i].outcome = Outcome::Ok(Output::Value(Some(int(-1))));
            spoiled.push(key);
        }
    }
    spoiled.sort();
    let first = check(&bad, &model, &Limits::default()).unwrap();
    assert_eq!(first.verdict, NotLin);
    let at = first
        .partitions
        .iter()
        .position(|p| p.verdict == NotLin)
        .unwrap();
    assert_eq!(
        first.partitions[at].key.as_deref(),
        Some(spoiled[0].as_str())
    );
    assert!(first.partitions[..at].iter().all(|p| p.verdict == Lin));
    for p in &first.partitions[at + 1..] {
        let LinVerdict::Unknown { reason } = &p.verdict else {
            panic!("{:?} after the bad key: {:?}", p.key, p.verdict)
        };
        assert!(reason.contains("already not linearizable"), "{reason}");
    }
    for _ in 0..5 {
        assert_eq!(check(&bad, &model, &Limits::default()).unwrap(), first);
    }
}

#[test]
fn cancellation_ends_in_unknown() {
    let cancel = || true;
    let limits = Limits {
        max_steps: None,
        cancel: Some(&cancel),
        verdict_only: false,
    };
    let analysis = check(
        &history(hard_violation()),
        &spec(ModelKind::Register),
        &limits,
    )
    .unwrap();
    let LinVerdict::Unknown { reason } = analysis.verdict else {
        panic!("expected unknown, got {:?}", analysis.verdict)
    };
    assert!(reason.contains("cancelled"), "{reason}");
}

#[test]
fn the_explanation_of_a_stale_read_names_key_stuck_op_and_prefix() {
    let ops = vec![
        keyed("k1", w(0, 1, (0, 1))),
        keyed("k1", w(0, 2, (2, 3))),
        keyed("k1", w(0, 3, (4, 5))),
        keyed("k1", r(1, Some(1), (6, 7))),
        keyed("k2", w(2, 1, (0, 1))),
    ];
    let h = history(ops);
    let analysis = check(&h, &spec(ModelKind::Kv), &Limits::default()).unwrap();
    let p = &analysis.partitions[0];
    assert_eq!(p.key.as_deref(), Some("k1"));
    assert_eq!(p.stuck, Some(3));
    assert_eq!(p.linearization, vec![0, 1, 2]);
    assert_eq!(p.states, vec![Some(int(1)), Some(int(2)), Some(int(3))]);
    assert_eq!(p.refused_in, vec![Some(int(3))]);
    // Write 3 completed before the read began, whatever came before: the window is the two.
    assert_eq!(p.window, vec![2, 3]);
    let text = explain(&h, &analysis);
    assert!(text.contains("key \"k1\": not linearizable"), "{text}");
    assert!(text.contains("cannot place: #3 p1 read k1 -> 1"), "{text}");
    assert!(
        text.contains(
            "it returned 1, but at any point where it could take effect the value can only be 3"
        ),
        "{text}"
    );
    assert!(text.contains("#2 p0 write k1 3 -> ok  [4, 5]"), "{text}");
    assert!(!text.contains("key \"k2\""), "{text}");
}

#[test]
fn the_window_keeps_overlapping_writes_as_possibilities() {
    // The read may follow either write, but sees neither value.
    let ops = vec![w(0, 1, (0, 10)), w(1, 2, (1, 11)), r(2, Some(3), (12, 13))];
    let h = history(ops);
    let analysis = check(&h, &spec(ModelKind::Register), &Limits::default()).unwrap();
    let p = &analysis.partitions[0];
    assert_eq!(p.stuck, Some(2));
    assert_eq!(p.refused_in, vec![Some(int(1)), Some(int(2))]);
    let text = explain(&h, &analysis);
    assert!(text.contains("the value can only be 1 or 2"), "{text}");
}

#[test]
fn a_generated_etcd_like_history_is_linearizable() {
    for seed in 0..20 {
        let (h, model) = generate::history(&Shape::etcd_like(seed));
        let a = check(&h, &model, &Limits::default()).unwrap();
        assert_eq!(a.verdict, Lin, "seed {seed}");
    }
}

#[test]
fn a_large_generated_history_is_linearizable_and_one_bad_read_is_found() {
    let (h, model) = generate::history(&Shape::large(7, 20_000));
    let a = check(&h, &model, &Limits::default()).unwrap();
    assert_eq!(a.verdict, Lin);
    assert_eq!(a.partitions.len(), 10);
    let (bad, i) = generate::with_bad_read(&h);
    let a = check(&bad, &model, &Limits::default()).unwrap();
    assert_eq!(a.verdict, NotLin);
    let p = a
        .partitions
        .iter()
        .find(|p| p.verdict == NotLin)
        .expect("a bad key");
    assert_eq!(p.key, bad.ops[i].key);
    assert_eq!(p.stuck, Some(i));
}

#[test]
fn a_generated_kv_append_history_is_linearizable() {
    let (h, model) = generate::history(&Shape::c50_like(3));
    let a = check(&h, &model, &Limits::default()).unwrap();
    assert_eq!(a.verdict, Lin);
    let (bad, _) = generate::with_bad_read(&h);
    assert_eq!(
        check(&bad, &model, &Limits::default()).unwrap().verdict,
        NotLin
    );
}

#[test]
fn the_same_history_gets_the_same_analysis() {
    let (h, model) = generate::history(&Shape::large(1, 3_000));
    let (bad, _) = generate::with_bad_read(&h);
    let a = check(&bad, &model, &Limits::default()).unwrap();
    let b = check(&bad, &model, &Limits::default()).unwrap();
    assert_eq!(a, b);
    assert_eq!(explain(&bad, &a), explain(&bad, &b));
}

/// The definition, by brute force: some order of the ops that respects real time, in which every
/// ok op is legal and each unknown op appears at most once (or not at all).
fn brute_force(ops: &[Operation], init: Option<Value>) -> bool {
    fn legal(state: &Option<Value>, o: &Operation) -> Option<Option<Value>> {
        let out = match &o.outcome {
            Outcome::Ok(out) if o.complete.is_some() => Some(out),
            _ => None,
        };
        match (&o.call, out) {
            (Call::Read, Some(Output::Value(v))) => (v == state).then(|| state.clone()),
            (Call::Read, _) => Some(state.clone()),
            (Call::Write(v), _) => Some(Some(v.clone())),
            (Call::Cas { from, to }, Some(Output::Cas(true))) => {
                (state.as_ref() == Some(from)).then(|| Some(to.clone()))
            }
            (Call::Cas { from, .. }, Some(Output::Cas(false))) => {
                (state.as_ref() != Some(from)).then(|| state.clone())
            }
            (Call::Cas { from, to }, _) => Some(if state.as_ref() == Some(from) {
                Some(to.clone())
            } else {
                state.clone()
            }),
            (
                Call::Append(_)
                | Call::Txn(_)
                | Call::Acquire
                | Call::Release
                | Call::Transfer { .. }
                | Call::ReadAll,
                _,
            ) => {
                unreachable!("not generated")
            }
        }
    }
    fn go(ops: &[Operation], done: &mut Vec<bool>, state: Option<Value>) -> bool {
        let definite = |o: &Operation| matches!(o.outcome, Outcome::Ok(_)) && o.complete.is_some();
        if (0..ops.len()).all(|i| done[i] || !definite(&ops[i])) {
            return true;
        }
        for i in 0..ops.len() {
            if done[i] || ops[i].outcome == Outcome::Fail {
                continue;
            }
            // Every op that completed before i was invoked must already be done.
            let blocked = (0..ops.len())
                .any(|j| !done[j] && definite(&ops[j]) && ops[j].complete.unwrap() < ops[i].invoke);
            if blocked {
                continue;
            }
            if let Some(next) = legal(&state, &ops[i]) {
                done[i] = true;
                let ok = go(ops, done, next);
                done[i] = false;
                if ok {
                    return true;
                }
            }
        }
        false
    }
    go(ops, &mut vec![false; ops.len()], init)
}

#[test]
fn the_search_agrees_with_brute_force_on_small_random_histories() {
    let mut disagreements = Vec::new();
    let mut seen = [0usize; 2];
    for seed in 0..400 {
        let mut shape = Shape::etcd_like(seed);
        shape.ops = 7;
        shape.clients = 3;
        shape.values = 3;
        let (mut h, model) = generate::history(&shape);
        // Perturb one op's output in half the cases, so both verdicts occur.
        if seed % 2 == 1 {
            let i = (seed as usize / 2) % h.ops.len();
            h.ops[i].outcome = match &h.ops[i].outcome {
                Outcome::Ok(Output::Value(_)) => {
                    Outcome::Ok(Output::Value(Some(int((seed % 3) as i64))))
                }
                Outcome::Ok(Output::Cas(b)) => Outcome::Ok(Output::Cas(!b)),
                Outcome::Info => Outcome::Fail,
                other => other.clone(),
            };
        }
        let expected = brute_force(&h.ops, model.init.clone());
        seen[expected as usize] += 1;
        let got = check(&h, &model, &Limits::default()).unwrap().verdict;
        if got != if expected { Lin } else { NotLin } {
            disagreements.push((seed, got, h));
        }
    }
    assert!(disagreements.is_empty(), "{:#?}", disagreements.first());
    assert!(
        seen[0] > 20 && seen[1] > 20,
        "both verdicts exercised: {seen:?}"
    );
}

#[test]
fn simulator_times_read_as_seconds_and_imported_ones_as_positions() {
    let o = r(2, Some(1), (2_251_644_981, 2_300_000_000));
    assert_eq!(
        explain::describe(164, &o, TimeUnit::Nanos),
        "#164 p2 read -> 1  [2.251644981s, 2.3s]"
    );
    let o = r(2, Some(1), (6, 7));
    assert_eq!(
        explain::describe(3, &o, TimeUnit::Event),
        "#3 p2 read -> 1  [6, 7]"
    );
    let o = w(0, 5, (3_000_000_000, 4_000_000_000));
    assert!(explain::describe(0, &o, TimeUnit::Nanos).ends_with("[3s, 4s]"));
}
