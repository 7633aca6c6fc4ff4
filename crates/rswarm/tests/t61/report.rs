//! What the clients saw, for whoever reads the test's output: how many
//! writes ended with each answer and, with `T61_TIMELINE=1`, the answers
//! second by second (when failovers and quorum losses happened).

use std::collections::BTreeMap;

use crate::workload::Op;

/// The answer in a few words (status and the start of the message).
fn answer(o: &Op) -> String {
    if o.acked() {
        return format!("{} acknowledged", o.status);
    }
    let words: String = o.answer.chars().take(80).collect();
    format!("{} {words}", o.status)
}

/// Prints the count of each answer, and the timeline if asked.
pub fn print(ops: &[Op], timeline: bool) {
    let mut answers = BTreeMap::<String, usize>::new();
    for o in ops {
        *answers.entry(answer(o)).or_default() += 1;
    }
    for (a, n) in answers {
        eprintln!("{n:6} × {a}");
    }
    if !timeline {
        return;
    }
    // Per second: acknowledged, 503, no answer, other refusals.
    let mut bins = BTreeMap::<u64, [usize; 4]>::new();
    for o in ops {
        let k = match o.status {
            _ if o.acked() => 0,
            503 => 1,
            0 => 2,
            _ => 3,
        };
        bins.entry(o.start.as_secs()).or_default()[k] += 1;
    }
    for (t, [ok, unavailable, none, other]) in bins {
        eprintln!(
            "t={t:3}s acked {ok:4}  503 {unavailable:4}  no answer {none:4}  refused {other:4}"
        );
    }
}
