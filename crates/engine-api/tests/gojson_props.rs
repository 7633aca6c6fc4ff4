//! Property: for every request body type, a body whose keys are rewritten
//! in random letter case and whose random fields are replaced by `null`
//! decodes to the same value as the original body with those fields left
//! out (Go `encoding/json` semantics, as moby decodes requests).

use proptest::prelude::*;
use rswarm_engine_api::gojson::from_value;
use rswarm_engine_api::{InitRequest, JoinRequest};
use rswarm_types::{NodeSpec, ServiceSpec, SwarmSpec};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

/// Keys whose object value is a map of user data, not a struct: their own
/// keys are data and keep their case.
const MAP_FIELDS: [&str; 4] = ["Labels", "Options", "Sysctls", "DriverOpts"];

fn service_body() -> Value {
    json!({
        "Name": "web", "Labels": {"Com.Example": "x"},
        "TaskTemplate": {
            "ContainerSpec": {
                "Image": "busybox:latest", "Labels": {"L": "1"}, "Command": ["sh"], "Args": ["-c", "sleep 1"],
                "Hostname": "h", "Env": ["A=1"], "Dir": "/tmp", "User": "1000", "Groups": ["wheel"],
                "Privileges": {"CredentialSpec": {"Config": "c", "File": "f", "Registry": "r"},
                    "SELinuxContext": {"Disable": true, "User": "u", "Role": "r", "Type": "t", "Level": "l"},
                    "Seccomp": {"Mode": "default"}, "AppArmor": {"Mode": "disabled"}, "NoNewPrivileges": true},
                "Init": true, "StopSignal": "SIGINT", "TTY": true, "OpenStdin": true, "ReadOnly": true,
                "Mounts": [{"Type": "volume", "Source": "v", "Target": "/v", "ReadOnly": true, "Consistency": "cached",
                    "BindOptions": {"Propagation": "rprivate", "NonRecursive": true},
                    "VolumeOptions": {"NoCopy": true, "Labels": {"a": "b"}, "Subpath": "s",
                        "DriverConfig": {"Name": "local", "Options": {"o": "p"}}},
                    "TmpfsOptions": {"SizeBytes": 10, "Mode": 448, "Options": [["noexec"]]}}],
                "StopGracePeriod": 1000, "Healthcheck": {"Test": ["CMD", "true"], "Interval": 1, "Timeout": 2,
                    "StartPeriod": 3, "StartInterval": 4, "Retries": 5},
                "Hosts": ["10.0.0.1 db"], "DNSConfig": {"Nameservers": ["1.1.1.1"], "Search": ["x"], "Options": ["ndots:2"]},
                "Secrets": [{"File": {"Name": "s", "UID": "0", "GID": "0", "Mode": 292}, "SecretID": "sid", "SecretName": "s"}],
                "Configs": [{"File": {"Name": "c", "UID": "0", "GID": "0", "Mode": 292}, "ConfigID": "cid", "ConfigName": "c"}],
                "Isolation": "default", "Sysctls": {"net.core.somaxconn": "1024"},
                "CapabilityAdd": ["CAP_NET_ADMIN"], "CapabilityDrop": ["CAP_CHOWN"],
                "Ulimits": [{"Name": "nofile", "Soft": 1, "Hard": 2}], "OomScoreAdj": 10
            },
            "Resources": {"Limits": {"NanoCPUs": 1, "MemoryBytes": 2, "Pids": 3},
                "Reservations": {"NanoCPUs": 4, "MemoryBytes": 5,
                    "GenericResources": [{"DiscreteResourceSpec": {"Kind": "gpu", "Value": 1}},
                        {"NamedResourceSpec": {"Kind": "ssd", "Value": "a"}}]}},
            "RestartPolicy": {"Condition": "on-failure", "Delay": 1, "MaxAttempts": 2, "Window": 3},
            "Placement": {"Constraints": ["node.role==worker"], "Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.az"}}],
                "MaxReplicas": 2, "Platforms": [{"Architecture": "amd64", "OS": "linux"}]},
            "Networks": [{"Target": "net", "Aliases": ["a"], "DriverOpts": {"k": "v"}}],
            "LogDriver": {"Name": "json-file", "Options": {"max-size": "1m"}},
            "ForceUpdate": 3, "Runtime": "container"
        },
        "Mode": {"Replicated": {"Replicas": 3}},
        "UpdateConfig": {"Parallelism": 2, "Delay": 1, "FailureAction": "rollback", "Monitor": 2,
            "MaxFailureRatio": 0.5, "Order": "start-first"},
        "RollbackConfig": {"Parallelism": 1, "FailureAction": "continue", "MaxFailureRatio": 0, "Order": "stop-first"},
        "EndpointSpec": {"Mode": "dnsrr", "Ports": [{"Name": "http", "Protocol": "tcp", "TargetPort": 80,
            "PublishedPort": 8080, "PublishMode": "host"}]}
    })
}

fn swarm_spec_body() -> Value {
    json!({
        "Name": "default", "Labels": {"a": "b"},
        "Orchestration": {"TaskHistoryRetentionLimit": 3},
        "Raft": {"SnapshotInterval": 1, "KeepOldSnapshots": 2, "LogEntriesForSlowFollowers": 3,
            "ElectionTick": 10, "HeartbeatTick": 1},
        "Dispatcher": {"HeartbeatPeriod": 5000000000_i64},
        "CAConfig": {"NodeCertExpiry": 1, "ExternalCAs": [{"Protocol": "cfssl", "URL": "https://ca",
            "Options": {"o": "p"}, "CACert": "pem"}], "SigningCACert": "c", "SigningCAKey": "k", "ForceRotate": 1},
        "TaskDefaults": {"LogDriver": {"Name": "json-file", "Options": {"a": "b"}}},
        "EncryptionConfig": {"AutoLockManagers": true}
    })
}

fn init_body() -> Value {
    json!({
        "ListenAddr": "0.0.0.0:2377", "AdvertiseAddr": "127.0.0.1", "DataPathAddr": "127.0.0.1",
        "DataPathPort": 4789, "ForceNewCluster": true, "Spec": swarm_spec_body(),
        "AutoLockManagers": true, "Availability": "drain", "DefaultAddrPool": ["10.10.0.0/16"], "SubnetSize": 24
    })
}

fn join_body() -> Value {
    json!({
        "ListenAddr": "0.0.0.0:2377", "AdvertiseAddr": "127.0.0.2", "DataPathAddr": "127.0.0.2",
        "RemoteAddrs": ["127.0.0.1:2377"], "JoinToken": "SWMTKN-1-x", "Availability": "pause"
    })
}

fn node_body() -> Value {
    json!({"Name": "n", "Labels": {"Zone": "East"}, "Role": "manager", "Availability": "drain"})
}

/// Random decisions, used in turn (and again from the start when used up).
struct Choices {
    bits: Vec<(bool, bool, u16)>,
    next: usize,
}

impl Choices {
    fn take(&mut self) -> (bool, bool, u16) {
        let c = self.bits[self.next % self.bits.len()];
        self.next += 1;
        c
    }
}

fn recase(key: &str, pattern: u16) -> String {
    key.chars()
        .enumerate()
        .map(|(i, c)| {
            if pattern >> (i % 16) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// Returns `(mutated, expected)`: keys recased and some fields nulled in
/// the first; the same fields simply absent in the second.
fn mutate(v: &Value, data_map: bool, ch: &mut Choices) -> (Value, Value) {
    match v {
        Value::Object(o) => {
            let (mut m, mut e) = (Map::new(), Map::new());
            for (k, val) in o {
                let child_is_map = MAP_FIELDS.contains(&k.as_str());
                let (mv, ev) = mutate(val, child_is_map, ch);
                if data_map {
                    m.insert(k.clone(), mv);
                    e.insert(k.clone(), ev);
                    continue;
                }
                let (flip, null, pattern) = ch.take();
                let key = if flip { recase(k, pattern) } else { k.clone() };
                if null && pattern % 3 == 0 {
                    m.insert(key, Value::Null);
                } else {
                    m.insert(key, mv);
                    e.insert(k.clone(), ev);
                }
            }
            (Value::Object(m), Value::Object(e))
        }
        Value::Array(a) => {
            let (m, e) = a.iter().map(|x| mutate(x, false, ch)).unzip();
            (Value::Array(m), Value::Array(e))
        }
        other => (other.clone(), other.clone()),
    }
}

fn check<T: DeserializeOwned + PartialEq + std::fmt::Debug>(
    body: Value,
    bits: Vec<(bool, bool, u16)>,
) -> Result<(), TestCaseError> {
    let original: T = from_value(body.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let mut ch = Choices { bits, next: 0 };
    let (mutated, expected) = mutate(&body, false, &mut ch);
    let got: T = from_value(mutated.clone())
        .map_err(|e| TestCaseError::fail(format!("{e} decoding {mutated}")))?;
    let want: T = from_value(expected).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&got, &want, "body {}", mutated);
    if ch.bits.iter().all(|(_, null, p)| !(*null && p % 3 == 0)) {
        prop_assert_eq!(got, original);
    }
    Ok(())
}

fn bits() -> impl Strategy<Value = Vec<(bool, bool, u16)>> {
    prop::collection::vec(any::<(bool, bool, u16)>(), 1..200)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn service_spec(b in bits()) { check::<ServiceSpec>(service_body(), b)?; }

    #[test]
    fn swarm_spec(b in bits()) { check::<SwarmSpec>(swarm_spec_body(), b)?; }

    #[test]
    fn init_request(b in bits()) { check::<InitRequest>(init_body(), b)?; }

    #[test]
    fn join_request(b in bits()) { check::<JoinRequest>(join_body(), b)?; }

    #[test]
    fn node_spec(b in bits()) { check::<NodeSpec>(node_body(), b)?; }
}

#[test]
fn samples_set_every_field() {
    // Each sample decodes and re-encodes to itself (modulo defaults), so a
    // field missing from the types would show up here as a lost key.
    let spec: ServiceSpec = from_value(service_body()).expect("service");
    let back = serde_json::to_value(&spec).expect("json");
    assert_eq!(back, service_body());
    let swarm: SwarmSpec = from_value(swarm_spec_body()).expect("swarm");
    assert_eq!(
        serde_json::to_value(&swarm).expect("json"),
        swarm_spec_body()
    );
}

#[test]
fn all_lowercase_keys_decode_the_same() {
    fn lower(v: &Value, data_map: bool) -> Value {
        match v {
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| {
                        let key = if data_map {
                            k.clone()
                        } else {
                            k.to_lowercase()
                        };
                        (key, lower(x, MAP_FIELDS.contains(&k.as_str())))
                    })
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(|x| lower(x, false)).collect()),
            other => other.clone(),
        }
    }
    let a: ServiceSpec = from_value(service_body()).expect("original");
    let b: ServiceSpec = from_value(lower(&service_body(), false)).expect("lowercase");
    assert_eq!(a, b);
}
