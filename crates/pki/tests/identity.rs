//! Saving and loading a node identity.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use chrono::{DateTime, Utc};
use rswarm_pki::{NodeIdentity, PkiError, RootCa};
use rswarm_types::NodeRole;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).expect("fixed time")
}

fn identity(root: &RootCa, role: NodeRole) -> NodeIdentity {
    let (cert, key) = root
        .issue_self("node1", role, "cluster1", now())
        .expect("issue");
    NodeIdentity::from_pems(cert, key, root.cert_pem()).expect("identity")
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

#[test]
fn from_pems_reads_the_certificate() {
    let root = RootCa::generate(now()).expect("root");
    let id = identity(&root, NodeRole::Manager);
    assert_eq!(id.node_id, "node1");
    assert_eq!(id.cluster_id, "cluster1");
    assert_eq!(id.role, NodeRole::Manager);
    assert_eq!(id.root_ca().expect("root").digest(), root.digest());
    assert_eq!(id.cert_info().expect("info").node_id, "node1");
    let dbg = format!("{id:?}");
    assert!(!dbg.contains("PRIVATE KEY"), "{dbg}");
}

#[test]
fn save_load_round_trip_with_modes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("swarm").join("certificates");
    let root = RootCa::generate(now()).expect("root");
    let id = identity(&root, NodeRole::Worker);

    assert!(!NodeIdentity::exists(&dir));
    id.save(&dir).expect("save");
    assert!(NodeIdentity::exists(&dir));

    assert_eq!(mode(&dir.join("swarm-root-ca.crt")), 0o600);
    assert_eq!(mode(&dir.join("swarm-node.crt")), 0o600);
    assert_eq!(mode(&dir.join("swarm-node.key")), 0o600);
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&tmp.path().join("swarm")), 0o700);
    assert_eq!(
        fs::read_to_string(dir.join("swarm-root-ca.crt")).expect("read"),
        root.cert_pem()
    );
    // No temporaries left behind, and the root key is never written.
    let names: Vec<String> = fs::read_dir(&dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    let root_file = fs::read_to_string(dir.join("swarm-root-ca.crt")).expect("root file");
    assert!(!root_file.contains("PRIVATE KEY"));

    let loaded = NodeIdentity::load(&dir).expect("load");
    assert_eq!(loaded, id);
    assert_eq!(loaded.root_ca().expect("root").digest(), root.digest());
}

#[test]
fn save_overwrites_and_tightens_modes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let root = RootCa::generate(now()).expect("root");
    identity(&root, NodeRole::Worker).save(dir).expect("first");

    // A stale world-readable temp file must not leak its mode to the key.
    let stale = dir.join(".swarm-node.key.tmp");
    fs::write(&stale, "stale").expect("stale");
    fs::set_permissions(&stale, fs::Permissions::from_mode(0o666)).expect("chmod");
    fs::set_permissions(
        dir.join("swarm-node.key"),
        fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");

    let promoted = identity(&root, NodeRole::Manager);
    promoted.save(dir).expect("second");
    assert_eq!(mode(&dir.join("swarm-node.key")), 0o600);
    assert!(!stale.exists());
    let loaded = NodeIdentity::load(dir).expect("load");
    assert_eq!(loaded.role, NodeRole::Manager);
    assert_eq!(loaded, promoted);
}

#[test]
fn missing_files_are_named() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let err = NodeIdentity::load(dir).expect_err("empty dir");
    assert!(matches!(err, PkiError::IdentityFileMissing { .. }), "{err}");
    assert!(
        err.to_string().contains("swarm-root-ca.crt is missing"),
        "{err}"
    );

    let root = RootCa::generate(now()).expect("root");
    identity(&root, NodeRole::Worker).save(dir).expect("save");
    fs::remove_file(dir.join("swarm-node.key")).expect("rm");
    let err = NodeIdentity::load(dir).expect_err("no key");
    assert!(
        err.to_string().contains("swarm-node.key is missing"),
        "{err}"
    );
}

#[test]
fn corrupt_files_are_named() {
    let root = RootCa::generate(now()).expect("root");
    let id = identity(&root, NodeRole::Worker);
    let cases: [(&str, &str, &str); 4] = [
        ("swarm-root-ca.crt", "garbage", "no PEM certificate"),
        (
            "swarm-node.crt",
            "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n",
            "malformed PEM",
        ),
        ("swarm-node.key", "garbage", "invalid private key"),
        ("swarm-node.key", "", "invalid private key"),
    ];
    for (file, contents, want) in cases {
        let tmp = tempfile::tempdir().expect("tempdir");
        id.save(tmp.path()).expect("save");
        fs::write(tmp.path().join(file), contents).expect("corrupt");
        let err = NodeIdentity::load(tmp.path()).expect_err(file);
        assert!(matches!(err, PkiError::IdentityFileCorrupt { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains(&format!("{file} is corrupt")), "{msg}");
        assert!(msg.contains(want), "{file}: {msg:?} lacks {want:?}");
    }

    let tmp = tempfile::tempdir().expect("tempdir");
    id.save(tmp.path()).expect("save");
    fs::write(tmp.path().join("swarm-node.crt"), [0xff, 0xfe, 0x00]).expect("binary");
    let err = NodeIdentity::load(tmp.path()).expect_err("binary");
    assert!(err.to_string().contains("not UTF-8"), "{err}");
}

#[test]
fn mismatched_key_and_foreign_root_are_detected() {
    let root = RootCa::generate(now()).expect("root");
    let id = identity(&root, NodeRole::Worker);
    let other = identity(&root, NodeRole::Worker);

    let tmp = tempfile::tempdir().expect("tempdir");
    id.save(tmp.path()).expect("save");
    fs::write(tmp.path().join("swarm-node.key"), &other.key_pem).expect("swap key");
    let err = NodeIdentity::load(tmp.path()).expect_err("key mismatch");
    let msg = err.to_string();
    assert!(msg.contains("swarm-node.key is corrupt"), "{msg}");
    assert!(msg.contains("does not match"), "{msg}");

    let foreign = RootCa::generate(now()).expect("foreign");
    let tmp = tempfile::tempdir().expect("tempdir");
    id.save(tmp.path()).expect("save");
    fs::write(tmp.path().join("swarm-root-ca.crt"), foreign.cert_pem()).expect("swap root");
    let err = NodeIdentity::load(tmp.path()).expect_err("foreign root");
    let msg = err.to_string();
    assert!(msg.contains("swarm-node.crt is corrupt"), "{msg}");
    assert!(msg.contains("not signed by the cluster root CA"), "{msg}");

    let err = NodeIdentity::from_pems(&id.cert_pem, &other.key_pem, root.cert_pem())
        .expect_err("from_pems mismatch");
    assert!(matches!(err, PkiError::KeyMismatch), "{err}");
}
