//! The filter pipeline: what a task requires of a node, checked in Swarm's
//! order. A node is rejected by the *first* filter it fails, which is the
//! one counted when explaining why nothing fits.
//!
//! | filter        | on when                     | kind    |
//! |---------------|-----------------------------|---------|
//! | `Ready`       | always                      | static  |
//! | `Resources`   | reservations are non-zero   | dynamic |
//! | `Constraints` | constraints are given       | static  |
//! | `Platform`    | platforms are given         | static  |
//! | `HostPort`    | host-mode ports published   | dynamic |
//! | `MaxReplicas` | `max_replicas > 0`          | dynamic |
//!
//! Static filters depend on the node alone; dynamic ones on its load,
//! which only grows during a call, so a node failing a dynamic filter
//! keeps failing it.

use rswarm_types::validate::Constraint;
use rswarm_types::{Node, Platform, Task};

use crate::constraint;
use crate::nodeset::{HostPort, NodeInfo, Reservation, host_ports};
use crate::spread::SpreadLabel;

/// One stage of the pipeline, in pipeline order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Filter {
    /// Node is ready and its availability is active.
    Ready,
    /// Reservations fit in the node's free CPU and memory.
    Resources,
    /// Placement constraints hold.
    Constraints,
    /// The node's OS/architecture is one of the task's platforms.
    Platform,
    /// None of the task's host-mode ports is published on the node yet.
    HostPort,
    /// Fewer than `max_replicas` tasks of the service on the node.
    MaxReplicas,
}

impl Filter {
    /// Every filter, in pipeline order.
    pub(crate) const ALL: [Filter; 6] = [
        Filter::Ready,
        Filter::Resources,
        Filter::Constraints,
        Filter::Platform,
        Filter::HostPort,
        Filter::MaxReplicas,
    ];
}

/// What one task (or a group of tasks with the same spec) needs from a node.
#[derive(Clone, Debug)]
pub(crate) struct Requirements<'a> {
    pub service_id: &'a str,
    pub reservation: Reservation,
    /// Parsed constraints; `Err` (a malformed expression) matches no node.
    constraints: Result<Vec<Constraint>, String>,
    platforms: &'a [Platform],
    pub max_replicas: u64,
    /// `spread` placement preferences, in precedence order.
    pub spread: Vec<SpreadLabel>,
    /// Host-mode ports the task publishes.
    pub host_ports: Vec<HostPort>,
}

impl<'a> Requirements<'a> {
    /// The requirements of a task's spec.
    pub(crate) fn of(task: &'a Task) -> Requirements<'a> {
        let placement = task.spec.placement.as_ref();
        Requirements {
            service_id: &task.service_id,
            reservation: Reservation::of(task),
            constraints: placement
                .map_or_else(|| Ok(Vec::new()), |p| constraint::parse_all(&p.constraints)),
            platforms: placement.map_or(&[], |p| p.platforms.as_slice()),
            max_replicas: placement.map_or(0, |p| p.max_replicas),
            spread: placement.map_or_else(Vec::new, |p| SpreadLabel::parse_all(&p.preferences)),
            host_ports: host_ports(task),
        }
    }

    /// Runs the whole pipeline on one node, given the number of active
    /// tasks of this service on it.
    pub(crate) fn check(&self, info: &NodeInfo<'_>, service_count: u32) -> Result<(), Filter> {
        if !info.ready {
            return Err(Filter::Ready);
        }
        if !self.reservation.is_zero() && !info.fits(self.reservation) {
            return Err(Filter::Resources);
        }
        if !self.constraints_hold(info.node) {
            return Err(Filter::Constraints);
        }
        if !platform_supported(self.platforms, &info.node.description.platform) {
            return Err(Filter::Platform);
        }
        if !self.ports_free(info) {
            return Err(Filter::HostPort);
        }
        if !self.below_max_replicas(service_count) {
            return Err(Filter::MaxReplicas);
        }
        Ok(())
    }

    /// Re-checks only the load-dependent filters on a node that passed
    /// [`Requirements::check`] earlier in the same call.
    pub(crate) fn still_fits(&self, info: &NodeInfo<'_>, service_count: u32) -> bool {
        (self.reservation.is_zero() || info.fits(self.reservation))
            && self.ports_free(info)
            && self.below_max_replicas(service_count)
    }

    fn ports_free(&self, info: &NodeInfo<'_>) -> bool {
        self.host_ports.iter().all(|p| !info.host_ports.contains(p))
    }

    fn constraints_hold(&self, node: &Node) -> bool {
        match &self.constraints {
            Ok(cs) => constraint::node_matches(cs, node),
            Err(_) => false,
        }
    }

    fn below_max_replicas(&self, service_count: u32) -> bool {
        self.max_replicas == 0 || u64::from(service_count) < self.max_replicas
    }
}

/// Platform filter: an empty list accepts any node; otherwise one entry
/// must match, where an empty field is a wildcard and `x86_64`≡`amd64`,
/// `aarch64`≡`arm64`.
pub(crate) fn platform_supported(wanted: &[Platform], node: &Platform) -> bool {
    if wanted.is_empty() {
        return true;
    }
    let node_arch = normalize_arch(&node.architecture);
    wanted.iter().any(|p| {
        let arch_ok = p.architecture.is_empty()
            || normalize_arch(&p.architecture).eq_ignore_ascii_case(node_arch);
        let os_ok = p.os.is_empty() || p.os.eq_ignore_ascii_case(&node.os);
        arch_ok && os_ok
    })
}

fn normalize_arch(arch: &str) -> &str {
    if arch.eq_ignore_ascii_case("x86_64") {
        "amd64"
    } else if arch.eq_ignore_ascii_case("aarch64") {
        "arm64"
    } else {
        arch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::{
        Availability, NodeState, Placement, ResourceRequirements, Resources, TaskState,
    };

    fn node(state: NodeState, availability: Availability) -> Node {
        let mut n = Node {
            id: "n1".into(),
            ..Default::default()
        };
        n.status.state = state;
        n.spec.availability = availability;
        n.description.platform = Platform {
            architecture: "x86_64".into(),
            os: "linux".into(),
        };
        n.description.resources = Resources {
            nano_cpus: 2_000_000_000,
            memory_bytes: 1 << 30,
            ..Default::default()
        };
        n.spec.labels.insert("zone".into(), "a".into());
        n
    }

    fn info(node: &Node) -> NodeInfo<'_> {
        let r = &node.description.resources;
        let ready =
            node.status.state == NodeState::Ready && node.spec.availability == Availability::Active;
        NodeInfo {
            node,
            ready,
            free_cpu: r.nano_cpus,
            free_mem: r.memory_bytes,
            total: 0,
            host_ports: Default::default(),
        }
    }

    fn task(placement: Placement, cpu: i64, mem: i64) -> Task {
        let mut t = Task {
            service_id: "svc".into(),
            desired_state: TaskState::Running,
            ..Default::default()
        };
        t.spec.placement = Some(placement);
        let r = Resources {
            nano_cpus: cpu,
            memory_bytes: mem,
            ..Default::default()
        };
        t.spec.resources = Some(ResourceRequirements {
            limits: None,
            reservations: Some(r),
        });
        t
    }

    fn plat(arch: &str, os: &str) -> Platform {
        Platform {
            architecture: arch.into(),
            os: os.into(),
        }
    }

    #[test]
    fn ready_filter_needs_ready_and_active() {
        let t = task(Placement::default(), 0, 0);
        let req = Requirements::of(&t);
        let ok = node(NodeState::Ready, Availability::Active);
        assert_eq!(req.check(&info(&ok), 0), Ok(()));
        for (s, a) in [
            (NodeState::Ready, Availability::Drain),
            (NodeState::Ready, Availability::Pause),
            (NodeState::Down, Availability::Active),
            (NodeState::Unknown, Availability::Active),
            (NodeState::Disconnected, Availability::Active),
        ] {
            assert_eq!(
                req.check(&info(&node(s, a)), 0),
                Err(Filter::Ready),
                "{s:?} {a:?}"
            );
        }
    }

    #[test]
    fn resource_filter_uses_free_resources() {
        let n = node(NodeState::Ready, Availability::Active);
        let t = task(Placement::default(), 1_500_000_000, 1 << 20);
        let req = Requirements::of(&t);
        let mut i = info(&n);
        assert_eq!(req.check(&i, 0), Ok(()));
        i.free_cpu = 1_000_000_000;
        assert_eq!(req.check(&i, 0), Err(Filter::Resources));
        assert!(!req.still_fits(&i, 0));
        i.free_cpu = 2_000_000_000;
        i.free_mem = 1 << 19;
        assert_eq!(req.check(&i, 0), Err(Filter::Resources));
        // No reservations: the filter is off even on an overcommitted node.
        let t0 = task(Placement::default(), 0, 0);
        i.free_mem = -5;
        assert_eq!(Requirements::of(&t0).check(&i, 0), Ok(()));
    }

    #[test]
    fn constraint_filter() {
        let n = node(NodeState::Ready, Availability::Active);
        let p = |c: &str| Placement {
            constraints: vec![c.into()],
            ..Default::default()
        };
        let ok = task(p("node.labels.zone==A"), 0, 0);
        assert_eq!(Requirements::of(&ok).check(&info(&n), 0), Ok(()));
        let bad = task(p("node.labels.zone==b"), 0, 0);
        assert_eq!(
            Requirements::of(&bad).check(&info(&n), 0),
            Err(Filter::Constraints)
        );
        let malformed = task(p("node.labels.zone=a"), 0, 0);
        assert_eq!(
            Requirements::of(&malformed).check(&info(&n), 0),
            Err(Filter::Constraints)
        );
    }

    #[test]
    fn platform_filter_normalizes_arch() {
        let node_p = plat("x86_64", "linux");
        assert!(platform_supported(&[], &node_p));
        assert!(platform_supported(&[plat("amd64", "linux")], &node_p));
        assert!(platform_supported(&[plat("", "linux")], &node_p));
        assert!(platform_supported(&[plat("amd64", "")], &node_p));
        assert!(platform_supported(
            &[plat("arm64", "linux"), plat("amd64", "Linux")],
            &node_p
        ));
        assert!(!platform_supported(&[plat("arm64", "linux")], &node_p));
        assert!(!platform_supported(&[plat("amd64", "windows")], &node_p));
        assert!(platform_supported(
            &[plat("arm64", "linux")],
            &plat("aarch64", "linux")
        ));
        assert!(platform_supported(
            &[plat("aarch64", "linux")],
            &plat("arm64", "linux")
        ));
        let n = node(NodeState::Ready, Availability::Active);
        let t = task(
            Placement {
                platforms: vec![plat("arm64", "linux")],
                ..Default::default()
            },
            0,
            0,
        );
        assert_eq!(
            Requirements::of(&t).check(&info(&n), 0),
            Err(Filter::Platform)
        );
    }

    #[test]
    fn max_replicas_filter() {
        let n = node(NodeState::Ready, Availability::Active);
        let t = task(
            Placement {
                max_replicas: 2,
                ..Default::default()
            },
            0,
            0,
        );
        let req = Requirements::of(&t);
        assert_eq!(req.check(&info(&n), 1), Ok(()));
        assert_eq!(req.check(&info(&n), 2), Err(Filter::MaxReplicas));
        assert!(req.still_fits(&info(&n), 1));
        assert!(!req.still_fits(&info(&n), 2));
        let unlimited = task(Placement::default(), 0, 0);
        assert_eq!(Requirements::of(&unlimited).check(&info(&n), 1000), Ok(()));
    }

    #[test]
    fn first_failing_filter_is_reported() {
        // Down node with a bad constraint and too few resources: Ready wins.
        let n = node(NodeState::Down, Availability::Active);
        let p = Placement {
            constraints: vec!["node.labels.zone==b".into()],
            ..Default::default()
        };
        let t = task(p, i64::MAX, 0);
        assert_eq!(Requirements::of(&t).check(&info(&n), 0), Err(Filter::Ready));
        let n = node(NodeState::Ready, Availability::Active);
        assert_eq!(
            Requirements::of(&t).check(&info(&n), 0),
            Err(Filter::Resources)
        );
    }
}
