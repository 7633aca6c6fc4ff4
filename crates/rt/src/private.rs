//! Files only the daemon's user may read. The data root holds the cluster
//! CA's private key and every node's key, so everything under it is
//! created owner-only, whatever the umask: directories `0700`, files
//! `0600` (Docker keeps `/var/lib/docker/swarm` so).

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Mode of directories under the data root.
pub const DIR_MODE: u32 = 0o700;
/// Mode of files under the data root.
pub const FILE_MODE: u32 = 0o600;
/// Permission bits nobody but the owner may have.
const NOT_OWNER: u32 = 0o077;

/// Creates `dir` and its missing parents with mode `0700`.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Open options that create files with mode `0600`; add `write`,
/// `append`, `create`... as needed.
pub fn file_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.mode(FILE_MODE);
    o
}

/// Writes `bytes` to `path` (created `0600`, or truncated and narrowed to
/// `0600` when it exists).
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut f = file_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    f.set_permissions(Permissions::from_mode(FILE_MODE))?;
    f.write_all(bytes)
}

/// What [`tighten`] changed: a path and its mode before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tightened {
    /// The file or directory.
    pub path: PathBuf,
    /// Its permission bits before.
    pub was: u32,
}

/// Removes group and other permissions from `root` and everything under
/// it (symlinks and sockets are left alone: a socket's mode is who may
/// connect). Returns what changed.
pub fn tighten(root: &Path) -> io::Result<Vec<Tightened>> {
    let mut changed = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        let meta = std::fs::symlink_metadata(&path)?;
        let ft = meta.file_type();
        if ft.is_symlink() || ft.is_socket() {
            continue;
        }
        let mode = meta.permissions().mode() & 0o7777;
        if mode & NOT_OWNER != 0 {
            std::fs::set_permissions(&path, Permissions::from_mode(mode & !NOT_OWNER))?;
            changed.push(Tightened {
                path: path.clone(),
                was: mode & 0o777,
            });
        }
        if ft.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                stack.push(entry?.path());
            }
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn created_owner_only_and_tightened() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().join("data");
        create_dir_all(&root.join("a").join("b")).expect("dirs");
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&root.join("a").join("b")), 0o700);
        let f = root.join("a").join("f");
        write(&f, b"x").expect("write");
        assert_eq!(mode(&f), 0o600);
        std::fs::set_permissions(&f, Permissions::from_mode(0o644)).expect("chmod");
        write(&f, b"y").expect("rewrite");
        assert_eq!(mode(&f), 0o600, "rewriting narrows the mode");

        std::fs::set_permissions(&root, Permissions::from_mode(0o755)).expect("chmod");
        std::fs::set_permissions(&f, Permissions::from_mode(0o640)).expect("chmod");
        let exe = root.join("exe");
        write(&exe, b"").expect("exe");
        std::fs::set_permissions(&exe, Permissions::from_mode(0o755)).expect("chmod");
        std::os::unix::fs::symlink("/etc/passwd", root.join("link")).expect("symlink");
        let sock = root.join("s.sock");
        let _l = std::os::unix::net::UnixListener::bind(&sock).expect("socket");
        std::fs::set_permissions(&sock, Permissions::from_mode(0o660)).expect("chmod");

        let mut changed = tighten(&root).expect("tighten");
        changed.sort_by(|a, b| a.path.cmp(&b.path));
        let got: Vec<(PathBuf, u32)> = changed.into_iter().map(|t| (t.path, t.was)).collect();
        assert_eq!(
            got,
            [
                (root.clone(), 0o755),
                (f.clone(), 0o640),
                (exe.clone(), 0o755)
            ]
        );
        assert_eq!((mode(&root), mode(&f), mode(&exe)), (0o700, 0o600, 0o700));
        assert_eq!(mode(&sock), 0o660, "sockets keep their mode");
        assert_eq!(
            mode(Path::new("/etc/passwd")) & 0o004,
            0o004,
            "not followed"
        );
        assert!(tighten(&root).expect("again").is_empty());
    }
}
