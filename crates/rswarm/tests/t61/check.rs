//! What the final state must say about the recorded writes: every
//! acknowledged write is there, nothing is there twice, and nothing is
//! there that nobody asked for.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::workload::{COUNTER_LABEL, HISTORY_LABEL, Kind, OP_LABEL, Op};

/// Counts for the test's output.
#[derive(Debug, Default)]
pub struct Summary {
    pub acked: usize,
    /// Answered with 503 (no leader, leader unreachable).
    pub unavailable: usize,
    /// No answer at all (manager killed or down).
    pub no_answer: usize,
    /// Refused for another reason (out of sequence, not found...).
    pub refused: usize,
    /// Writes not acknowledged that the final state shows anyway.
    pub unacked_applied: usize,
    pub services: usize,
    pub updates_applied: usize,
}

fn label<'a>(s: &'a Value, key: &str) -> &'a str {
    s["Spec"]["Labels"][key].as_str().unwrap_or_default()
}

/// Checks `services` (the state every manager agreed on) against `ops`;
/// returns the violations found and the counts.
pub fn check(ops: &[Op], services: &[Value]) -> (Vec<String>, Summary) {
    let mut bad = Vec::new();
    let mut sum = Summary::default();
    for op in ops {
        match op.status {
            0 => sum.no_answer += 1,
            503 => sum.unavailable += 1,
            s if (200..300).contains(&s) => sum.acked += 1,
            _ => sum.refused += 1,
        }
    }
    let ours: Vec<&Value> = services
        .iter()
        .filter(|s| !label(s, OP_LABEL).is_empty())
        .collect();
    sum.services = ours.len();
    let by_id: HashMap<&str, &Value> = ours
        .iter()
        .map(|s| (s["ID"].as_str().unwrap_or_default(), *s))
        .collect();
    let by_op: HashMap<&str, &Op> = ops.iter().map(|o| (o.id.as_str(), o)).collect();
    let removal_tried: HashSet<&str> = ops
        .iter()
        .filter_map(|o| match &o.kind {
            Kind::Remove { service } => Some(service.as_str()),
            _ => None,
        })
        .collect();

    // Creates: each at most once, acknowledged ones present.
    let mut created_by: HashMap<&str, Vec<&str>> = HashMap::new();
    for s in &ours {
        let op = label(s, OP_LABEL);
        created_by
            .entry(op)
            .or_default()
            .push(s["ID"].as_str().unwrap_or_default());
        match by_op.get(op).map(|o| &o.kind) {
            Some(Kind::Create { name }) if s["Spec"]["Name"].as_str() == Some(name) => {}
            _ => bad.push(format!(
                "service {} claims to come from {op}, which created no such name",
                s["ID"]
            )),
        }
    }
    for (op, ids) in &created_by {
        if ids.len() > 1 {
            bad.push(format!("create {op} applied {} times: {ids:?}", ids.len()));
        }
    }
    for op in ops {
        let Kind::Create { name } = &op.kind else {
            continue;
        };
        let found = created_by.get(op.id.as_str());
        if op.status == 409 {
            bad.push(format!(
                "create {} of the new name {name} conflicted: {}",
                op.id, op.answer
            ));
        }
        if !op.acked() {
            sum.unacked_applied += usize::from(found.is_some());
            continue;
        }
        if found.is_some_and(|ids| ids.iter().any(|i| *i != op.answer)) {
            bad.push(format!(
                "create {} answered ID {} but made {found:?}",
                op.id, op.answer
            ));
        }
        if found.is_none() && !removal_tried.contains(op.answer.as_str()) {
            bad.push(format!(
                "acknowledged create {} ({name}, {}) on manager {} lost",
                op.id, op.answer, op.manager
            ));
        }
    }

    // Removes: acknowledged ones stay removed.
    for op in ops {
        if let Kind::Remove { service } = &op.kind
            && op.acked()
            && by_id.contains_key(service.as_str())
        {
            bad.push(format!("acknowledged remove {} of {service} undone", op.id));
        }
    }

    // Updates: the history of each service.
    for (id, s) in &by_id {
        let history = label(s, HISTORY_LABEL);
        let entries: Vec<&str> = history.split(',').filter(|e| !e.is_empty()).collect();
        sum.updates_applied += entries.len();
        if label(s, COUNTER_LABEL) != entries.len().to_string() {
            bad.push(format!(
                "service {id}: counter {} but {} updates in its history",
                label(s, COUNTER_LABEL),
                entries.len()
            ));
        }
        let mut seen = HashSet::new();
        for e in &entries {
            if !seen.insert(*e) {
                bad.push(format!("update {e} applied twice to {id}: {history}"));
            }
            match by_op.get(e) {
                Some(o) if matches!(&o.kind, Kind::Update { service, .. } if service == id) => {
                    sum.unacked_applied += usize::from(!o.acked());
                }
                _ => bad.push(format!("service {id} shows update {e}, never sent to it")),
            }
        }
        let position: HashMap<&str, usize> =
            entries.iter().enumerate().map(|(i, e)| (*e, i)).collect();
        let acked: Vec<&Op> = ops
            .iter()
            .filter(|o| o.acked())
            .filter(|o| matches!(&o.kind, Kind::Update { service, .. } if service == id))
            .collect();
        for o in &acked {
            if !position.contains_key(o.id.as_str()) {
                bad.push(format!(
                    "acknowledged update {} of {id} on manager {} lost: history {history}",
                    o.id, o.manager
                ));
            }
        }
        // Real-time order: an update acknowledged before another started
        // comes first in the history.
        for a in &acked {
            for b in &acked {
                if let (Some(pa), Some(pb)) =
                    (position.get(a.id.as_str()), position.get(b.id.as_str()))
                    && a.end < b.start
                    && pa > pb
                {
                    bad.push(format!(
                        "{id}: {} acknowledged before {} started, but applied after it",
                        a.id, b.id
                    ));
                }
            }
        }
    }
    (bad, sum)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;

    fn op(id: &str, kind: Kind, status: u16, answer: &str, at: u64) -> Op {
        Op {
            id: id.into(),
            manager: 0,
            kind,
            status,
            answer: answer.into(),
            start: Duration::from_millis(at),
            end: Duration::from_millis(at + 5),
        }
    }

    fn create(id: &str, status: u16, service: &str) -> Op {
        let name = format!("f-{id}");
        op(id, Kind::Create { name }, status, service, 0)
    }

    fn update(id: &str, service: &str, status: u16, at: u64) -> Op {
        let kind = Kind::Update {
            service: service.into(),
        };
        op(id, kind, status, "", at)
    }

    fn service(id: &str, op: &str, history: &[&str]) -> Value {
        json!({
            "ID": id,
            "Spec": {
                "Name": format!("f-{op}"),
                "Labels": {
                    OP_LABEL: op,
                    HISTORY_LABEL: history.join(","),
                    COUNTER_LABEL: history.len().to_string(),
                }
            }
        })
    }

    fn ops() -> Vec<Op> {
        vec![
            create("c0-1", 201, "s1"),
            update("c0-2", "s1", 200, 10),
            update("c0-3", "s1", 503, 20),
            update("c0-4", "s1", 200, 30),
        ]
    }

    #[test]
    fn a_consistent_history_passes() {
        let (bad, sum) = check(&ops(), &[service("s1", "c0-1", &["c0-2", "c0-4"])]);
        assert_eq!(bad, Vec::<String>::new());
        assert_eq!((sum.acked, sum.unavailable, sum.updates_applied), (3, 1, 2));
        // The unacknowledged update may have happened.
        let (bad, sum) = check(&ops(), &[service("s1", "c0-1", &["c0-2", "c0-3", "c0-4"])]);
        assert_eq!(bad, Vec::<String>::new());
        assert_eq!(sum.unacked_applied, 1);
    }

    #[test]
    fn lost_doubled_reordered_and_invented_writes_are_found() {
        let cases: [(&[Value], &str); 6] = [
            (&[], "acknowledged create c0-1"),
            (
                &[service("s1", "c0-1", &["c0-2"])],
                "acknowledged update c0-4 of s1",
            ),
            (
                &[service("s1", "c0-1", &["c0-2", "c0-2", "c0-4"])],
                "applied twice",
            ),
            (
                &[service("s1", "c0-1", &["c0-4", "c0-2"])],
                "acknowledged before",
            ),
            (
                &[service("s1", "c0-1", &["c0-2", "c0-4", "c9-9"])],
                "never sent",
            ),
            (
                &[
                    service("s1", "c0-1", &["c0-2", "c0-4"]),
                    service("s2", "c0-1", &[]),
                ],
                "create c0-1 applied 2 times",
            ),
        ];
        for (services, want) in cases {
            let (bad, _) = check(&ops(), services);
            assert!(bad.iter().any(|b| b.contains(want)), "{want}: {bad:?}");
        }
        let mut removed = ops();
        removed.push(op(
            "c0-5",
            Kind::Remove {
                service: "s1".into(),
            },
            200,
            "",
            40,
        ));
        let (bad, _) = check(&removed, &[service("s1", "c0-1", &["c0-2", "c0-4"])]);
        assert!(bad.iter().any(|b| b.contains("undone")), "{bad:?}");
        let (bad, _) = check(&removed, &[]);
        assert_eq!(bad, Vec::<String>::new());
    }
}
