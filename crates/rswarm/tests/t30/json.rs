//! How t30 compares JSON: per kind of object, which values depend on IDs
//! and times and which keys legitimately differ; the differences found,
//! reported together; Go's time format.

use std::collections::BTreeSet;
use std::sync::Mutex;

use serde_json::Value;

/// How the JSON of one kind of object is compared. No key that only
/// Docker 20.10 prints (KernelMemory and the like) shows up in the objects
/// compared here; one that does fails until it is listed, with its reason,
/// in `legit`.
pub(crate) struct Rules {
    /// Values that depend on IDs, times, keys or ports: key and JSON type
    /// are compared, the value is not.
    volatile: &'static [&'static str],
    /// Keys that legitimately differ: the subtree is left out on both sides.
    legit: &'static [&'static str],
}

/// `service inspect`.
pub(crate) const SERVICE: Rules = Rules {
    volatile: &[
        "ID",
        "Version.Index",
        "CreatedAt",
        "UpdatedAt",
        "UpdateStatus.StartedAt",
        "UpdateStatus.CompletedAt",
    ],
    legit: &[],
};

/// `inspect` of a running task.
pub(crate) const TASK_RUNNING: Rules = Rules {
    volatile: &[
        "ID",
        "Version.Index",
        "CreatedAt",
        "UpdatedAt",
        "ServiceID",
        "NodeID",
        "Status.Timestamp",
        // Docker's container ID; rswarm's process runtime has no container.
        "Status.ContainerStatus.ContainerID",
        // Checked apart: positive on both sides.
        "Status.ContainerStatus.PID",
    ],
    legit: &[],
};

/// `inspect` of a task whose process exited (its `PID` is compared: 0).
pub(crate) const TASK_EXITED: Rules = Rules {
    volatile: &[
        "ID",
        "Version.Index",
        "CreatedAt",
        "UpdatedAt",
        "ServiceID",
        "NodeID",
        "Status.Timestamp",
        "Status.ContainerStatus.ContainerID",
    ],
    legit: &[],
};

/// `node inspect` of the manager itself.
pub(crate) const NODE: Rules = Rules {
    volatile: &[
        "ID",
        "Version.Index",
        "CreatedAt",
        "UpdatedAt",
        "Description.Engine.EngineVersion",
        "Description.TLSInfo.TrustRoot",
        "Description.TLSInfo.CertIssuerPublicKey",
        // Each swarm listens on its own port (checked apart).
        "ManagerStatus.Addr",
    ],
    legit: &[
        // rswarm's engine label `rswarm.runtime`; Docker omits empty Labels.
        "Description.Engine.Labels",
        // Docker lists its log, network and volume plugins; rswarm has none.
        "Description.Engine.Plugins",
    ],
};

/// `docker info --format '{{json .Swarm}}'`.
pub(crate) const SWARM_INFO: Rules = Rules {
    volatile: &[
        "NodeID",
        "RemoteManagers[].NodeID",
        "RemoteManagers[].Addr",
        "Cluster.ID",
        "Cluster.Version.Index",
        "Cluster.CreatedAt",
        "Cluster.UpdatedAt",
        "Cluster.TLSInfo.TrustRoot",
        "Cluster.TLSInfo.CertIssuerPublicKey",
    ],
    legit: &[],
};

/// `GET /swarm`.
pub(crate) const SWARM: Rules = Rules {
    volatile: &[
        "ID",
        "Version.Index",
        "CreatedAt",
        "UpdatedAt",
        "TLSInfo.TrustRoot",
        "TLSInfo.CertIssuerPublicKey",
        "JoinTokens.Worker",
        "JoinTokens.Manager",
    ],
    legit: &[],
};

/// Every object compared exactly (outside a swarm nothing depends on IDs).
pub(crate) const EXACT: Rules = Rules {
    volatile: &[],
    legit: &[],
};

pub(crate) fn is_under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The differences between Docker's JSON (`r`) and rswarm's (`o`), one
/// line per key path (array elements are `[]`).
pub(crate) fn json_diff(r: &Value, o: &Value, rules: &Rules) -> Vec<String> {
    json_diff_as(r, o, rules, ["Docker", "rswarm"])
}

/// [`json_diff`] with other names for the two sides.
pub(crate) fn json_diff_as(r: &Value, o: &Value, rules: &Rules, names: [&str; 2]) -> Vec<String> {
    let mut diffs = Vec::new();
    diff_at("", Some(r), Some(o), rules, names, &mut diffs);
    diffs
}

pub(crate) fn diff_at(
    path: &str,
    r: Option<&Value>,
    o: Option<&Value>,
    rules: &Rules,
    names: [&str; 2],
    out: &mut Vec<String>,
) {
    let [rn, on] = names;
    if rules.legit.iter().any(|p| is_under(path, p)) {
        return;
    }
    let shown = if path.is_empty() { "." } else { path };
    match (r, o) {
        (None, None) => {}
        (Some(r), None) => out.push(format!("{shown}: only in {rn} ({r})")),
        (None, Some(o)) => out.push(format!("{shown}: only in {on} ({o})")),
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let sub = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                diff_at(&sub, a.get(k), b.get(k), rules, names, out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            if a.len() != b.len() {
                out.push(format!(
                    "{shown}: {} elements in {rn}, {} in {on} ({} / {})",
                    a.len(),
                    b.len(),
                    Value::Array(a.clone()),
                    Value::Array(b.clone())
                ));
            }
            for (x, y) in a.iter().zip(b) {
                diff_at(&format!("{path}[]"), Some(x), Some(y), rules, names, out);
            }
        }
        (Some(a), Some(b)) => {
            let volatile = rules.volatile.contains(&path);
            if json_kind(a) != json_kind(b) || (a != b && !volatile) {
                out.push(format!("{shown}: {rn} {a}, {on} {b}"));
            }
        }
    }
}

/// The differences found, reported together at the end of the test so that
/// one run shows all of them.
#[derive(Default)]
pub(crate) struct Findings(Mutex<Vec<String>>);

impl Findings {
    pub(crate) fn push(&self, finding: String) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(finding);
    }

    /// Records where rswarm's JSON differs from Docker's under `rules`,
    /// and every time rswarm writes otherwise than Go would.
    pub(crate) fn json(&self, what: &str, r: &Value, o: &Value, rules: &Rules) {
        let mut diffs = json_diff(r, o, rules);
        let mut times = Vec::new();
        collect_times("", o, &mut times);
        for (path, t) in times {
            if !is_go_time(&t) {
                diffs.push(format!(
                    "{path}: rswarm writes {t:?}; Go's RFC 3339 has no trailing zero in the fraction"
                ));
            }
        }
        if !diffs.is_empty() {
            self.push(format!("{what}:\n    {}", diffs.join("\n    ")));
        }
    }

    /// Records a difference between rswarm's value and Docker's.
    pub(crate) fn eq<T: PartialEq + std::fmt::Debug>(&self, what: &str, ours: T, reference: T) {
        if ours != reference {
            self.push(format!(
                "{what}:\n    Docker: {reference:?}\n    rswarm: {ours:?}"
            ));
        }
    }

    pub(crate) fn assert_none(&self) {
        let f = self.0.lock().unwrap_or_else(|e| e.into_inner());
        assert!(
            f.is_empty(),
            "rswarm differs from Docker Swarm in {} place(s):\n{}",
            f.len(),
            f.join("\n")
        );
    }
}

/// The string values of time keys (`...At`, `Timestamp`) under `path`.
pub(crate) fn collect_times(path: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let sub = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match x {
                    Value::String(t) if k.ends_with("At") || k == "Timestamp" => {
                        out.push((sub, t.clone()))
                    }
                    _ => collect_times(&sub, x, out),
                }
            }
        }
        Value::Array(a) => {
            for x in a {
                collect_times(&format!("{path}[]"), x, out);
            }
        }
        _ => {}
    }
}

/// A time as Go's `time.Time` marshals it (`RFC3339Nano`, UTC):
/// `2006-01-02T15:04:05.999999999Z`, fraction without trailing zeros.
pub(crate) fn is_go_time(t: &str) -> bool {
    let Some(rest) = t.strip_suffix('Z') else {
        return false;
    };
    let (secs, frac) = rest.split_once('.').unwrap_or((rest, "1"));
    let shape = secs.len() == 19
        && secs.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            _ => b.is_ascii_digit(),
        });
    shape
        && (1..=9).contains(&frac.len())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !frac.ends_with('0')
}
