//! Why a task fits nowhere, in Swarm's words.
//!
//! Each node is charged to the first filter that rejected it; the
//! explanation lists the filters with failures, most failures first (ties
//! in pipeline order), joined by `; `, e.g.
//!
//! ```text
//! no suitable node (scheduling constraints not satisfied on 3 nodes; 1 node not available for new tasks)
//! ```

use crate::filters::{Filter, Requirements};
use crate::nodeset::NodeSet;

/// Failure counts per filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Failures {
    counts: [u32; Filter::ALL.len()],
}

impl Failures {
    /// Charges one node to `filter`.
    pub(crate) fn record(&mut self, filter: Filter) {
        let slot = &mut self.counts[filter as usize];
        *slot = slot.saturating_add(1);
    }

    /// Runs the pipeline on every node with the current load and counts
    /// the failures.
    pub(crate) fn survey(set: &NodeSet<'_>, req: &Requirements<'_>) -> Failures {
        let mut failures = Failures::default();
        let counts = set.service_counts(req.service_id);
        for (info, idx) in set.nodes.iter().zip(0u32..) {
            let service_count = counts.and_then(|m| m.get(&idx)).copied().unwrap_or(0);
            if let Err(f) = req.check(info, service_count) {
                failures.record(f);
            }
        }
        failures
    }

    /// The failure list, e.g. `insufficient resources on 2 nodes; 1 node
    /// not available for new tasks`; empty when nothing failed.
    pub(crate) fn explain(&self) -> String {
        let mut failed: Vec<(Filter, u32)> = Filter::ALL
            .into_iter()
            .map(|f| (f, self.counts[f as usize]))
            .filter(|&(_, n)| n > 0)
            .collect();
        // Stable: equal counts keep pipeline order.
        failed.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
        failed
            .into_iter()
            .map(|(f, n)| describe(f, n))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The full task error: `no suitable node (<explanation>)`, or just
    /// `no suitable node` when there was no node to reject.
    pub(crate) fn no_suitable_node(&self) -> String {
        let why = self.explain();
        if why.is_empty() {
            "no suitable node".to_string()
        } else {
            format!("no suitable node ({why})")
        }
    }
}

/// Swarm's wording for `nodes` nodes failing `filter`.
fn describe(filter: Filter, nodes: u32) -> String {
    let nodes_word = if nodes == 1 {
        "1 node".to_string()
    } else {
        format!("{nodes} nodes")
    };
    match filter {
        Filter::Ready => format!("{nodes_word} not available for new tasks"),
        Filter::Resources => format!("insufficient resources on {nodes_word}"),
        Filter::Constraints => format!("scheduling constraints not satisfied on {nodes_word}"),
        Filter::Platform => format!("unsupported platform on {nodes_word}"),
        Filter::HostPort => format!("host-mode port already in use on {nodes_word}"),
        Filter::MaxReplicas => "max replicas per node limit exceed".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failures(list: &[(Filter, u32)]) -> Failures {
        let mut f = Failures::default();
        for &(filter, n) in list {
            for _ in 0..n {
                f.record(filter);
            }
        }
        f
    }

    #[test]
    fn singular_and_plural() {
        assert_eq!(
            describe(Filter::Ready, 1),
            "1 node not available for new tasks"
        );
        assert_eq!(
            describe(Filter::Ready, 4),
            "4 nodes not available for new tasks"
        );
        assert_eq!(
            describe(Filter::Resources, 2),
            "insufficient resources on 2 nodes"
        );
        assert_eq!(
            describe(Filter::Constraints, 3),
            "scheduling constraints not satisfied on 3 nodes"
        );
        assert_eq!(
            describe(Filter::Platform, 1),
            "unsupported platform on 1 node"
        );
        assert_eq!(
            describe(Filter::MaxReplicas, 7),
            "max replicas per node limit exceed"
        );
    }

    #[test]
    fn ordered_by_failure_count_then_pipeline_order() {
        let f = failures(&[
            (Filter::Ready, 1),
            (Filter::Constraints, 3),
            (Filter::Resources, 1),
        ]);
        assert_eq!(
            f.explain(),
            "scheduling constraints not satisfied on 3 nodes; 1 node not available for new tasks; \
             insufficient resources on 1 node"
        );
    }

    #[test]
    fn full_message() {
        let f = failures(&[(Filter::Platform, 2)]);
        assert_eq!(
            f.no_suitable_node(),
            "no suitable node (unsupported platform on 2 nodes)"
        );
        assert_eq!(Failures::default().explain(), "");
        assert_eq!(Failures::default().no_suitable_node(), "no suitable node");
    }
}
