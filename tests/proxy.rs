//! The proxy lessons (`scenarios/proxies/`) tell the stories they promise: the only proxy's
//! crash stops every message and a second proxy behind a heartbeat keeps them flowing; a random
//! proxy per message lets a later message overtake an earlier one and a sticky proxy keeps them
//! in order; a sticky proxy that pauses makes its sender fail over and its messages arrive
//! behind newer ones, and a backend that orders by sequence number holds under every proxy
//! fault.

use crate::common;

use common::{count_lines, find_line, lesson_variant, replay, run};

const ONE: &str = "scenarios/proxies/one-proxy-crash.toml";
const TWO: &str = "scenarios/proxies/two-proxies-heartbeat.toml";
const RANDOM: &str = "scenarios/proxies/random-proxy-reorders.toml";
const STICKY: &str = "scenarios/proxies/sticky-proxy.toml";
const FAILOVER: &str = "scenarios/proxies/sticky-failover-reorders.toml";
const SEQUENCE: &str = "scenarios/proxies/sequence-numbers-nemesis.toml";

const MS: u64 = 1_000_000;

#[test]
fn the_only_proxy_crashing_stops_every_message_and_a_second_behind_a_heartbeat_does_not() {
    let r = run(ONE, &[]);
    assert_eq!(r.code, 3, "a liveness failure: {}", r.stderr);
    assert!(r.expectation_met());
    let (at, nodes, message, evidence) = r.violation("no_lost_message");
    assert_eq!(at, 3_000 * MS, "2s after the crash at 1s");
    assert_eq!(nodes, ["s1", "backend"]);
    assert!(
        message.starts_with(
            "message 50 of s1, first sent at 1.000s, was not applied by the backend within 2s"
        ),
        "{message}"
    );
    assert!(
        evidence.contains(&"1.000s p1 crashed".to_string()),
        "{evidence:?}"
    );
    assert_eq!(
        r.status("fifo_per_sender"),
        "pass",
        "nothing is reordered, only lost"
    );
    let lines = replay(ONE, &[]);
    let crash = find_line(&lines, &["crash p1"]);
    let suspected = find_line(&lines, &["s1 suspects p1"]);
    assert!(crash < suspected);
    // After the crash every send, first or again, goes to the dead proxy: none is forwarded.
    let after = &lines[crash..];
    assert!(count_lines(after, &["s1 → p1 Send(#", "dropped"]) > 10);
    assert_eq!(count_lines(after, &["p1 → backend Forward("]), 0);

    // Two proxies behind the heartbeat: p1 crashes again and again, p2 pauses, and every
    // message is applied; the senders suspect p1 and send through p2 meanwhile.
    let r = run(TWO, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.status("no_lost_message"), "pass");
    let lines = replay(TWO, &[]);
    let crash = find_line(&lines, &["crash p1"]);
    let suspected = crash + find_line(&lines[crash..], &["suspects p1"]);
    find_line(&lines[suspected..], &["→ p2 Send(#"]);
    find_line(&lines, &["pause p2"]);
}

#[test]
fn a_random_proxy_per_message_lets_a_later_message_overtake_and_a_sticky_one_does_not() {
    let r = run(RANDOM, &[]);
    assert_eq!(r.code, 1, "a safety failure: {}", r.stderr);
    assert!(r.expectation_met());
    let (at, nodes, message, evidence) = r.violation("fifo_per_sender");
    assert_eq!(at / MS, 36, "{at}: message 2 arrives at 36ms");
    assert_eq!(nodes, ["s1", "p1", "p2", "backend"]);
    assert_eq!(
        message,
        "the backend applied message 2 of s1 after message 3: message 3 overtook it"
    );
    assert_eq!(
        evidence,
        [
            "0.010s s1 sent message 2 through p1",
            "0.015s s1 sent message 3 through p2",
            "0.027s message 3 of s1 arrived at the backend from p2",
            "0.027s the backend applied message 3 of s1",
            "0.036s message 2 of s1 arrived at the backend from p1",
            "0.036s the backend applied message 2 of s1",
        ]
    );
    // Nothing failed and nothing was lost: two paths, each in order, and no order between them.
    assert_eq!(r.status("no_lost_message"), "pass");
    let lines = replay(RANDOM, &[]);
    let second = find_line(&lines, &["s1 → p1 Send(#2) sent"]);
    let third = find_line(&lines, &["s1 → p2 Send(#3) sent"]);
    let third_in = find_line(&lines, &["p2 → backend Forward(s1 #3) delivered"]);
    let second_in = find_line(&lines, &["p1 → backend Forward(s1 #2) delivered"]);
    assert!(second < third && third < third_in && third_in < second_in);

    // The same senders with a sticky proxy each, under delay spikes: in order, all of them.
    let r = run(STICKY, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.status("fifo_per_sender"), "pass");
    assert_eq!(r.status("no_lost_message"), "pass");
    let lines = replay(STICKY, &[]);
    assert_eq!(
        count_lines(&lines, &["s1 → p2 Send("]),
        0,
        "s1 always by p1"
    );
    assert_eq!(
        count_lines(&lines, &["s2 → p1 Send("]),
        0,
        "s2 always by p2"
    );
    assert!(count_lines(&lines, &["s1 → p1 Send(", "sent"]) == 300);
    find_line(&lines, &["slow the links of p1 by"]);
}

#[test]
fn a_paused_sticky_proxy_sends_its_sender_to_the_other_and_an_old_message_arrives_behind_new_ones()
{
    let r = run(FAILOVER, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.expectation_met());
    let (at, nodes, message, evidence) = r.violation("fifo_per_sender");
    assert_eq!(
        at / MS,
        1_311,
        "{at}: the resend of 50 through p2 arrives at 1.311s"
    );
    assert_eq!(nodes, ["s1", "p2", "backend"]);
    assert_eq!(
        message,
        "the backend applied message 50 of s1 after message 64: message 64 overtook it"
    );
    for line in [
        "1.000s s1 sent message 50 through p1",
        "1.000s p1 paused",
        "1.280s s1 sent message 64 through p2",
        "1.300s s1 sent message 50 again through p2",
        "1.311s the backend applied message 50 of s1",
    ] {
        assert!(evidence.contains(&line.to_string()), "{line}: {evidence:?}");
    }
    let lines = replay(FAILOVER, &[]);
    let pause = find_line(&lines, &["pause p1 for 600ms"]);
    let suspected = find_line(&lines, &["s1 suspects p1"]);
    let newer = find_line(&lines, &["p2 → backend Forward(s1 #64) delivered"]);
    let resent = find_line(&lines, &["p2 → backend Forward(s1 #50) delivered"]);
    let resume = find_line(&lines, &["resume p1"]);
    // The copy p1 held all along arrives last of all.
    let held = find_line(&lines, &["p1 → backend Forward(s1 #50) delivered"]);
    assert!(pause < suspected && suspected < newer && newer < resent);
    assert!(resent < resume && resume < held);
    // Nothing is lost: the resends got through p2.
    assert_eq!(r.status("no_lost_message"), "pass");

    // The same pause with a backend that orders by sequence number: message 50 is applied
    // first, the ones after it held until it comes, the late copies dropped.
    let ordered = lesson_variant(
        FAILOVER,
        "order = \"arrival\"",
        "order = \"sequence\"",
        "proxy-sequence",
    );
    let r = run(&ordered, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.status("fifo_per_sender"), "pass");
    assert_eq!(r.status("no_lost_message"), "pass");
    let lines = replay(&ordered, &[]);
    let held = find_line(&lines, &["backend states Held(next 50, sender 3, seq"]);
    let applied = find_line(&lines, &["backend states Applied(sender 3, seq 50)"]);
    assert!(held < applied);
    find_line(&lines, &["backend states Dropped(sender 3, seq 50)"]);
}

#[test]
fn sequence_numbers_keep_order_and_delivery_under_proxy_crashes_pauses_and_loss() {
    let r = run(SEQUENCE, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.expectation_met());
    assert_eq!(r.status("fifo_per_sender"), "pass");
    assert_eq!(r.status("no_lost_message"), "pass");
    let lines = replay(SEQUENCE, &[]);
    assert!(
        count_lines(&lines, &["crash p1"]) >= 3,
        "p1 crashes again and again"
    );
    assert!(
        count_lines(&lines, &["pause p2"]) >= 3,
        "p2 pauses again and again"
    );
    // The backend had work to do: messages held for a gap, and copies dropped.
    assert!(count_lines(&lines, &["backend states Held("]) > 0);
    assert!(count_lines(&lines, &["backend states Dropped("]) > 0);
    // Every message of both senders applied once: 1,000 each.
    assert_eq!(
        count_lines(&lines, &["backend states Applied(sender 3,"]),
        1000
    );
    assert_eq!(
        count_lines(&lines, &["backend states Applied(sender 4,"]),
        1000
    );
}
