//! The multi-register and mutex models, on small Knossos histories whose verdicts are derived by
//! hand in each test's comment. Each model has a broken history it must refuse and a correct
//! one it must accept; the multi-register's torn read is the one a per-key check would pass.

use super::{Limits, LinVerdict, check};
use crate::workload::history::knossos;

fn verdict(edn: &str) -> LinVerdict {
    let h = knossos::parse(edn).expect("a valid history");
    let model = h.model.clone().expect("implied");
    check(&h, &model, &Limits::default())
        .expect("judged")
        .verdict
}

/// x and y start at 0 together; p1 sets both to 1 in one transaction while p2 reads both.
fn concurrent_read(seen: &str) -> String {
    format!(
        "[{{:process 0 :type :invoke :f :txn :value [[:w :x 0] [:w :y 0]]}}
          {{:process 0 :type :ok     :f :txn :value [[:w :x 0] [:w :y 0]]}}
          {{:process 1 :type :invoke :f :txn :value [[:w :x 1] [:w :y 1]]}}
          {{:process 2 :type :invoke :f :txn :value [[:r :x nil] [:r :y nil]]}}
          {{:process 2 :type :ok     :f :txn :value {seen}}}
          {{:process 1 :type :ok     :f :txn :value [[:w :x 1] [:w :y 1]]}}]"
    )
}

#[test]
fn a_torn_read_across_registers_is_not_linearizable() {
    // x = 1 and y = 0 at one instant: the write of both is either before it (y = 1) or after it
    // (x = 0). Per key, each read alone would fit (x's read overlaps x's write, y's precedes
    // y's), which is why a transaction's registers are judged together.
    assert_eq!(
        verdict(&concurrent_read("[[:r :x 1] [:r :y 0]]")),
        LinVerdict::NotLinearizable
    );
    // Both old or both new: the read takes effect before or after the write.
    for seen in ["[[:r :x 0] [:r :y 0]]", "[[:r :x 1] [:r :y 1]]"] {
        assert_eq!(
            verdict(&concurrent_read(seen)),
            LinVerdict::Linearizable,
            "{seen}"
        );
    }
    // A read of nil constrains nothing (Knossos's rule), whatever the other one saw.
    assert_eq!(
        verdict(&concurrent_read("[[:r :x 1] [:r :y nil]]")),
        LinVerdict::Linearizable
    );
}

#[test]
fn a_transaction_of_unknown_outcome_may_have_happened_whole_or_not_at_all() {
    let history = |writer: &str, seen: &str| {
        format!(
            "[{{:process 1 :type :invoke :f :txn :value [[:w :x 1] [:w :y 1]]}}
              {{:process 1 :type {writer} :f :txn :value [[:w :x 1] [:w :y 1]]}}
              {{:process 2 :type :invoke :f :txn :value [[:r :x nil] [:r :y nil]]}}
              {{:process 2 :type :ok     :f :txn :value {seen}}}]"
        )
    };
    // Timed out, then both registers read 1: it happened.
    assert_eq!(
        verdict(&history(":info", "[[:r :x 1] [:r :y 1]]")),
        LinVerdict::Linearizable
    );
    // It happens whole or not at all: x = 1 with y = 5 fits neither.
    assert_eq!(
        verdict(&history(":info", "[[:r :x 1] [:r :y 5]]")),
        LinVerdict::NotLinearizable
    );
    // Failed: it did not happen, so nobody can read its 1.
    assert_eq!(
        verdict(&history(":fail", "[[:r :x 1] [:r :y 1]]")),
        LinVerdict::NotLinearizable
    );
    // Registers start at 0 (Knossos's convention): a read of 0 needs no write.
    let initial = "[{:process 2 :type :invoke :f :txn :value [[:r :x nil] [:r :y nil]]}
                    {:process 2 :type :ok     :f :txn :value [[:r :x 0] [:r :y 0]]}]";
    assert_eq!(verdict(initial), LinVerdict::Linearizable);
    // Never completed at all: pending to the end, it may take effect before the read.
    let pending = "[{:process 1 :type :invoke :f :txn :value [[:w :x 1]]}
                    {:process 2 :type :invoke :f :txn :value [[:r :x nil]]}
                    {:process 2 :type :ok     :f :txn :value [[:r :x 1]]}]";
    assert_eq!(verdict(pending), LinVerdict::Linearizable);
}

#[test]
fn registers_no_transaction_joins_are_judged_apart_and_named_by_their_keys() {
    let h = knossos::parse(
        "[{:process 0 :type :invoke :f :txn :value [[:w :a 1] [:w :b 1]]}
          {:process 0 :type :ok     :f :txn :value [[:w :a 1] [:w :b 1]]}
          {:process 1 :type :invoke :f :txn :value [[:w :c 2]]}
          {:process 1 :type :ok     :f :txn :value [[:w :c 2]]}
          {:process 2 :type :invoke :f :txn :value [[:r :b nil] [:w :d 3]]}
          {:process 2 :type :ok     :f :txn :value [[:r :b 2] [:w :d 3]]}]",
    )
    .unwrap();
    let a = check(&h, &h.model.clone().unwrap(), &Limits::default()).unwrap();
    let keys: Vec<Option<&str>> = a.partitions.iter().map(|p| p.key.as_deref()).collect();
    // b's transaction chains a, b and d into one object; c stands alone.
    assert_eq!(keys, [Some("a+b+d"), Some("c")]);
    // b was written 1 and read 2: the violation is in a+b+d, and c is left unsearched.
    assert_eq!(a.verdict, LinVerdict::NotLinearizable);
    assert_eq!(a.partitions[0].verdict, LinVerdict::NotLinearizable);
    assert_eq!(a.partitions[0].stuck, Some(2));
}

#[test]
fn a_mutex_held_twice_is_not_linearizable() {
    // p0 holds it from 1 on and never releases; p1's acquire starts after that: held twice.
    let twice = "[{:process 0 :type :invoke :f :acquire}
                  {:process 0 :type :ok     :f :acquire}
                  {:process 1 :type :invoke :f :acquire}
                  {:process 1 :type :ok     :f :acquire}]";
    assert_eq!(verdict(twice), LinVerdict::NotLinearizable);
    // Released in between, or released concurrently with the second acquire: fine.
    let handed_over = "[{:process 0 :type :invoke :f :acquire}
                        {:process 0 :type :ok     :f :acquire}
                        {:process 0 :type :invoke :f :release}
                        {:process 1 :type :invoke :f :acquire}
                        {:process 1 :type :ok     :f :acquire}
                        {:process 0 :type :ok     :f :release}]";
    assert_eq!(verdict(handed_over), LinVerdict::Linearizable);
    // Releasing a free mutex is impossible.
    let free = "[{:process 0 :type :invoke :f :release}
                 {:process 0 :type :ok     :f :release}]";
    assert_eq!(verdict(free), LinVerdict::NotLinearizable);
}

#[test]
fn a_mutex_release_of_unknown_outcome_may_free_it_and_a_failed_one_does_not() {
    let history = |release: &str| {
        format!(
            "[{{:process 0 :type :invoke :f :acquire}}
              {{:process 0 :type :ok     :f :acquire}}
              {{:process 0 :type :invoke :f :release}}
              {{:process 0 :type {release} :f :release}}
              {{:process 1 :type :invoke :f :acquire}}
              {{:process 1 :type :ok     :f :acquire}}]"
        )
    };
    assert_eq!(verdict(&history(":info")), LinVerdict::Linearizable);
    assert_eq!(verdict(&history(":fail")), LinVerdict::NotLinearizable);
    assert_eq!(verdict(&history(":ok")), LinVerdict::Linearizable);
}

#[test]
fn models_refuse_operations_they_do_not_have() {
    let h = knossos::parse(
        "[{:process 0 :type :invoke :f :acquire} {:process 0 :type :ok :f :acquire}
          {:process 1 :type :invoke :f :write :value 1} {:process 1 :type :ok :f :write :value 1}]",
    )
    .unwrap();
    let e = check(&h, &h.model.clone().unwrap(), &Limits::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "operation #1: the mutex (acquire/release) model does not support write"
    );
}
