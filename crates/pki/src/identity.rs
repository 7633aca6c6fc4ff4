//! A node's TLS identity and its files under `<data-root>/swarm/certificates`.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rswarm_types::NodeRole;

use crate::cert_info::{CertInfo, parse_node_certificate};
use crate::chain::verify_chain;
use crate::error::{PkiError, Result};
use crate::pem::{certificate_ders, parse_der};
use crate::root_ca::{RootCa, key_matches_cert, parse_key};

/// Which of the three files a validation error is about.
#[derive(Clone, Copy)]
enum File {
    RootCa,
    NodeCert,
    NodeKey,
}

/// Who a node is: its certificate, key and the root it trusts.
#[derive(Clone, PartialEq, Eq)]
pub struct NodeIdentity {
    /// CN of the certificate.
    pub node_id: String,
    /// O of the certificate.
    pub cluster_id: String,
    /// From the OU of the certificate.
    pub role: NodeRole,
    /// The node certificate (leaf first, then any intermediates).
    pub cert_pem: String,
    /// The node's PKCS#8 private key.
    pub key_pem: String,
    /// The cluster root CA certificate(s).
    pub root_ca_pem: String,
}

impl fmt::Debug for NodeIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeIdentity")
            .field("node_id", &self.node_id)
            .field("cluster_id", &self.cluster_id)
            .field("role", &self.role)
            .field("key_pem", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl NodeIdentity {
    /// File name of the root CA certificate (mode 0644).
    pub const ROOT_CA_FILE: &str = "swarm-root-ca.crt";
    /// File name of the node certificate (mode 0644).
    pub const NODE_CERT_FILE: &str = "swarm-node.crt";
    /// File name of the node key (mode 0600).
    pub const NODE_KEY_FILE: &str = "swarm-node.key";

    /// Builds an identity from its three PEMs, reading node ID, cluster ID
    /// and role from the certificate and checking that the key matches the
    /// certificate and the certificate chains to the root.
    pub fn from_pems(
        cert_pem: impl Into<String>,
        key_pem: impl Into<String>,
        root_ca_pem: impl Into<String>,
    ) -> Result<Self> {
        Self::validated(
            cert_pem.into(),
            key_pem.into(),
            root_ca_pem.into(),
            |_, e| e,
        )
    }

    /// The root CA this node trusts (without a key).
    pub fn root_ca(&self) -> Result<RootCa> {
        RootCa::from_cert_pem(self.root_ca_pem.clone())
    }

    /// The TLS info this node reports about its certificate (`None` when
    /// the PEMs do not parse).
    pub fn tls_info(&self) -> Option<rswarm_types::TlsInfo> {
        crate::node_tls_info(&self.cert_pem, &self.root_ca_pem).ok()
    }

    /// The parsed node certificate.
    pub fn cert_info(&self) -> Result<CertInfo> {
        parse_node_certificate(&self.cert_pem)
    }

    /// True when `dir` holds all three identity files.
    pub fn exists(dir: &Path) -> bool {
        [
            Self::ROOT_CA_FILE,
            Self::NODE_CERT_FILE,
            Self::NODE_KEY_FILE,
        ]
        .iter()
        .all(|f| dir.join(f).is_file())
    }

    /// Writes the three files into `dir` (created if needed), each through a
    /// temporary file and a rename. All temporaries are written and synced
    /// before the first rename, so a crash leaves at most a short window in
    /// which old and new files mix; [`NodeIdentity::load`] detects that.
    pub fn save(&self, dir: &Path) -> Result<()> {
        rswarm_rt::private::create_dir_all(dir)
            .map_err(|e| PkiError::io("create directory", dir, e))?;
        // Owner-only, like everything under the data root.
        let mode = rswarm_rt::private::FILE_MODE;
        let files = [
            (Self::ROOT_CA_FILE, &self.root_ca_pem, mode),
            (Self::NODE_CERT_FILE, &self.cert_pem, mode),
            (Self::NODE_KEY_FILE, &self.key_pem, mode),
        ];
        let mut staged = Vec::with_capacity(files.len());
        for (name, contents, mode) in files {
            let tmp = dir.join(format!(".{name}.tmp"));
            write_synced(&tmp, contents.as_bytes(), mode)?;
            staged.push((tmp, dir.join(name)));
        }
        for (tmp, dest) in &staged {
            fs::rename(tmp, dest).map_err(|e| PkiError::io("rename into place", dest, e))?;
        }
        // Make the renames durable.
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| PkiError::io("sync directory", dir, e))
    }

    /// Reads and validates the three files in `dir`.
    ///
    /// Fails with [`PkiError::IdentityFileMissing`] when a file is absent and
    /// [`PkiError::IdentityFileCorrupt`] (naming the file) when a file does
    /// not parse, the key does not match the certificate, or the certificate
    /// is not signed by the root. Expired certificates load (they get renewed).
    pub fn load(dir: &Path) -> Result<Self> {
        let path_of = |f: File| {
            dir.join(match f {
                File::RootCa => Self::ROOT_CA_FILE,
                File::NodeCert => Self::NODE_CERT_FILE,
                File::NodeKey => Self::NODE_KEY_FILE,
            })
        };
        let root_ca_pem = read(&path_of(File::RootCa))?;
        let cert_pem = read(&path_of(File::NodeCert))?;
        let key_pem = read(&path_of(File::NodeKey))?;
        Self::validated(cert_pem, key_pem, root_ca_pem, |f, e| {
            PkiError::IdentityFileCorrupt {
                path: path_of(f),
                reason: e.to_string(),
            }
        })
    }

    /// Checks the PEMs, blaming `file` for each failure through `blame`.
    fn validated(
        cert_pem: String,
        key_pem: String,
        root_ca_pem: String,
        blame: impl Fn(File, PkiError) -> PkiError,
    ) -> Result<Self> {
        let root =
            RootCa::from_cert_pem(root_ca_pem.clone()).map_err(|e| blame(File::RootCa, e))?;
        let info = parse_node_certificate(&cert_pem).map_err(|e| blame(File::NodeCert, e))?;
        let key = parse_key(&key_pem).map_err(|e| blame(File::NodeKey, e))?;

        let ders = certificate_ders(&cert_pem).map_err(|e| blame(File::NodeCert, e))?;
        let leaf = parse_der(&ders[0]).map_err(|e| blame(File::NodeCert, e))?;
        if !key_matches_cert(&key, &leaf) {
            return Err(blame(File::NodeKey, PkiError::KeyMismatch));
        }
        verify_chain(&cert_pem, &root).map_err(|e| blame(File::NodeCert, e))?;

        Ok(NodeIdentity {
            node_id: info.node_id,
            cluster_id: info.cluster_id,
            role: info.role,
            cert_pem,
            key_pem,
            root_ca_pem,
        })
    }
}

/// Reads a whole identity file as UTF-8.
fn read(path: &Path) -> Result<String> {
    match fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| PkiError::IdentityFileCorrupt {
            path: path.to_path_buf(),
            reason: "not UTF-8 PEM text".to_string(),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(PkiError::IdentityFileMissing {
            path: path.to_path_buf(),
        }),
        Err(e) => Err(PkiError::io("read", path, e)),
    }
}

/// Writes `contents` to a fresh `path` with `mode` and syncs it. A stale
/// file at `path` is removed first, so the mode is never wider than asked.
fn write_synced(path: &PathBuf, contents: &[u8], mode: u32) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(PkiError::io("remove stale", path, e)),
    }
    let write = || -> io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(path)?;
        // The umask may have narrowed the mode; set it exactly.
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.write_all(contents)?;
        f.sync_all()
    };
    write().map_err(|e| PkiError::io("write", path, e))
}
