use super::*;
use crate::check::linearizable::{Limits, check};
use crate::workload::history::{ModelKind, Value, json};

/// Client 0 writes 1; client 1 reads 2 after it, from node B; client 2's write of 3, begun
/// after the read ended, is unknown. The read cannot be placed.
fn stale() -> (History, ModelSpec) {
    let h = json::parse(
        r#"{"format":"sim-history","version":1,"time_unit":"ns","ops":[
        {"process":0,"key":"<k>","f":"write","value":1,"invoke":0,"complete":10,"type":"ok","node":"A"},
        {"process":1,"key":"<k>","f":"read","invoke":20,"complete":30,"type":"ok","output":2,"node":"B"},
        {"process":2,"key":"<k>","f":"write","value":3,"invoke":35,"type":"info"}]}"#,
    )
    .unwrap();
    let model = ModelSpec {
        kind: ModelKind::Kv,
        init: None,
    };
    (h, model)
}

fn page_of(h: &History, model: &ModelSpec) -> (Analysis, String) {
    let analysis = check(h, model, &Limits::default()).unwrap();
    let explanation = match analysis.verdict {
        LinVerdict::NotLinearizable => linearizable::explain(h, &analysis),
        _ => String::new(),
    };
    let page = render(h, model, &analysis, &explanation, "t.json");
    (analysis, page)
}

#[test]
fn the_picture_marks_the_operation_that_cannot_be_placed_says_why_and_escapes_text() {
    let (h, model) = stale();
    let (analysis, page) = page_of(&h, &model);
    assert_eq!(analysis.verdict, LinVerdict::NotLinearizable);
    assert!(page.starts_with("<!DOCTYPE html>"));
    // The marked operation is the read, the one the page scrolls to.
    assert_eq!(page.matches("id=\"violation\"").count(), 1);
    assert!(page.contains("data-op=\"1\" id=\"violation\""), "{page}");
    // One sentence why, naming the node that answered and the write that settles it.
    assert!(
        page.contains(
            "The read of &lt;k&gt; by client 1 (answered by node B) at 0.00000002s returned 2, \
             but at every point where it could take effect &lt;k&gt; was 1: client 0's write of \
             1 to &lt;k&gt; completed at 0.00000001s, before this read began, and replaced \
             absent."
        ),
        "{page}"
    );
    assert!(
        page.contains("<b id=\"prefix-count\">1</b> operation of key &lt;k&gt;"),
        "{page}"
    );
    assert!(page.contains("r 2 @B"), "the label names the node");
    assert!(!page.contains("<k>"), "the key is escaped");
    assert!(
        page.contains("stroke-dasharray"),
        "the unknown write runs on"
    );
    for external in ["src=", "href=\"http", "url(", "@import", "<link"] {
        assert!(!page.contains(external), "self-contained: no {external}");
    }
}

#[test]
fn a_linearizable_history_says_so_and_has_no_violation_marker() {
    let (mut h, model) = stale();
    h.ops[1].outcome = Outcome::Ok(Output::Value(Some(Value::Int(1))));
    let (analysis, page) = page_of(&h, &model);
    assert_eq!(analysis.verdict, LinVerdict::Linearizable);
    assert!(page.contains("The history is linearizable"));
    assert!(!page.contains("id=\"violation\""));
    assert!(!page.contains("violation-band"));
    assert!(!page.contains("id=\"go-violation\""));
    assert!(page.contains("position 2 in the linearization found"));
}

#[test]
fn operations_after_the_violation_are_faded_and_the_window_is_outlined() {
    let (mut h, model) = stale();
    h.ops.push(Operation {
        process: 0,
        key: Some("<k>".into()),
        call: Call::Read,
        invoke: 40,
        complete: Some(50),
        outcome: Outcome::Ok(Output::Value(Some(Value::Int(1)))),
        node: None,
    });
    let (_, page) = page_of(&h, &model);
    // The unknown write and the late read both began after the stuck read ended.
    assert_eq!(page.matches("opacity=\"0.35\"").count(), 2);
    assert!(page.contains("<table class=\"around\">"));
    assert!(page.contains("cannot be placed</td>"));
}

#[test]
fn every_model_gets_a_sentence_from_what_the_checker_proved() {
    // A mutex acquired twice without a release in between.
    let h = json::parse(
        r#"{"format":"sim-history","version":1,"time_unit":"event","model":{"kind":"mutex","init":null},"ops":[
        {"process":0,"f":"acquire","invoke":0,"complete":1,"type":"ok"},
        {"process":1,"f":"acquire","invoke":2,"complete":3,"type":"ok"}]}"#,
    )
    .unwrap();
    let model = h.model.clone().unwrap();
    let (_, page) = page_of(&h, &model);
    assert!(
        page.contains(
            "The acquire by process 1 at 2 acquired the mutex, but at every point where it could \
             take effect the mutex was held: process 0's acquire completed at 1, before this \
             acquire began, and replaced free."
        ),
        "{page}"
    );
    // A failed cas that should have succeeded.
    let h = json::parse(
        r#"{"format":"sim-history","version":1,"time_unit":"event","model":{"kind":"cas-register","init":0},"ops":[
        {"process":0,"f":"cas","value":[0,1],"invoke":0,"complete":1,"type":"ok","output":false}]}"#,
    )
    .unwrap();
    let model = h.model.clone().unwrap();
    let (_, page) = page_of(&h, &model);
    assert!(
        page.contains("The cas from 0 to 1 by process 0 at 0 failed, so the register was not 0; but at every point where it could take effect the register was 0"),
        "{page}"
    );
}

#[test]
fn render_for_run_checks_the_history_it_is_given() {
    let (mut h, model) = stale();
    h.model = Some(model);
    let page = render_for_run(&h, "history.json").expect("the history names its model");
    assert!(page.contains("id=\"violation\""));
    h.model = None;
    assert!(render_for_run(&h, "history.json").is_none());
}
