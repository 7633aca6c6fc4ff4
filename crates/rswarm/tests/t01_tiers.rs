//! The workspace layout of `DESIGN.md`: crates sit in tiers and a crate
//! depends only on crates of its own tier or lower ones. Read from `cargo
//! metadata`, so a new dependency that points upwards (or a new crate
//! without a tier) fails here.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Every workspace crate's tier (DESIGN.md's table; `tls` sits with
/// `store` and `raft`, the transport under them).
const TIERS: &[(&str, u8)] = &[
    ("rswarm-types", 0),
    ("rswarm-proto", 0),
    ("rswarm-rt", 0),
    ("rswarm-pki", 1),
    ("rswarm-scheduler", 1),
    ("rswarm-compose", 1),
    ("rswarm-orchestrator", 1),
    ("rswarm-tls", 2),
    ("rswarm-store", 2),
    ("rswarm-raft", 2),
    ("rswarm-manager", 3),
    ("rswarm-agent", 3),
    ("rswarm-exec", 3),
    ("rswarm-network", 3),
    ("rswarm-engine-api", 4),
    ("rswarm-ui", 4),
    ("rswarm-cli", 4),
    ("rswarm-daemon", 4),
    ("rswarm", 5),
];

/// `(package, its workspace dependencies)` of every workspace member
/// (normal and build dependencies; dev-dependencies may reach anywhere).
fn workspace_dependencies() -> Vec<(String, Vec<String>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(&root)
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata json");
    let members: Vec<String> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect();
    meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            let name = p["name"].as_str().unwrap_or_default().to_string();
            let deps = p["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|d| d["kind"].as_str() != Some("dev"))
                .filter_map(|d| d["name"].as_str())
                .filter(|d| members.iter().any(|m| m == d))
                .map(str::to_string)
                .collect();
            (name, deps)
        })
        .collect()
}

/// What breaks the rule in `packages`.
fn violations(packages: &[(String, Vec<String>)]) -> Vec<String> {
    let tiers: BTreeMap<&str, u8> = TIERS.iter().copied().collect();
    let mut wrong = Vec::new();
    for (name, deps) in packages {
        let Some(&tier) = tiers.get(name.as_str()) else {
            wrong.push(format!(
                "{name} has no tier: add it to DESIGN.md and to TIERS"
            ));
            continue;
        };
        for dep in deps {
            match tiers.get(dep.as_str()) {
                Some(&t) if t <= tier => {}
                Some(&t) => wrong.push(format!("{name} (tier {tier}) depends on {dep} (tier {t})")),
                None => wrong.push(format!("{dep} has no tier")),
            }
        }
    }
    wrong
}

#[test]
fn lower_tiers_never_depend_on_higher_ones() {
    let packages = workspace_dependencies();
    assert!(packages.len() > 10, "{packages:?}");
    let wrong = violations(&packages);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_check_catches_an_upward_dependency() {
    let edge = |a: &str, b: &str| (a.to_string(), vec![b.to_string()]);
    assert_eq!(
        violations(&[edge("rswarm-types", "rswarm-manager")]),
        ["rswarm-types (tier 0) depends on rswarm-manager (tier 3)"]
    );
    assert_eq!(
        violations(&[edge("rswarm-newthing", "rswarm-types")]),
        ["rswarm-newthing has no tier: add it to DESIGN.md and to TIERS"]
    );
    assert!(violations(&[edge("rswarm-agent", "rswarm-network")]).is_empty());
}
