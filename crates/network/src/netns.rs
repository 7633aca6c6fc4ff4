//! Network namespaces: entering one from a throwaway thread, creating and
//! deleting the bind-mounted namespace files under the data plane's root.
//!
//! `setns(2)` is per thread and tokio moves tasks between threads, so
//! everything that must happen *inside* a namespace (opening a socket,
//! writing a sysctl, spawning `nft`) runs on a fresh `std::thread` that
//! enters it, does its job and exits ([`run_in`]). A socket opened there
//! stays in that namespace for its whole life, wherever it is used from.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, setns, unshare};

use crate::error::NetError;

/// A network namespace.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Netns {
    /// The namespace the daemon itself runs in.
    Own,
    /// A namespace file: a bind mount made by [`create`], `/run/netns/X`,
    /// or `/proc/PID/ns/net`.
    At(PathBuf),
}

impl Netns {
    /// The namespace file, `None` for [`Netns::Own`].
    pub fn path(&self) -> Option<&Path> {
        match self {
            Netns::Own => None,
            Netns::At(p) => Some(p),
        }
    }

    /// Opens the namespace file (for `IFLA_NET_NS_FD`); the daemon's own
    /// through the calling thread, which never left it (only [`run_in`]'s
    /// threads do).
    pub fn open(&self) -> Result<File, NetError> {
        match self {
            Netns::Own => open(Path::new("/proc/thread-self/ns/net")),
            Netns::At(p) => open(p),
        }
    }

    /// A name for messages.
    pub fn label(&self) -> String {
        match self {
            Netns::Own => "the daemon's namespace".to_string(),
            Netns::At(p) => p.display().to_string(),
        }
    }
}

/// Runs `f` on a new thread inside `ns` and returns its result.
pub async fn run_in<T, F>(ns: &Netns, f: F) -> Result<T, NetError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, NetError> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    let path = ns.path().map(Path::to_path_buf);
    std::thread::Builder::new()
        .name("rsw-netns".into())
        .spawn(move || {
            let r = match &path {
                Some(p) => enter(p).and_then(|()| f()),
                None => f(),
            };
            let _ = tx.send(r);
        })
        .map_err(NetError::io("spawn namespace thread"))?;
    rx.await
        .map_err(|_| NetError::Thread(ns.path().map(Path::to_path_buf).unwrap_or_default()))?
}

/// Moves the calling thread into the namespace at `path`.
fn enter(path: &Path) -> Result<(), NetError> {
    let f = open(path)?;
    setns(&f, CloneFlags::CLONE_NEWNET).map_err(NetError::sys(format!("setns {}", path.display())))
}

/// Opens a namespace file (for `setns` or `IFLA_NET_NS_FD`).
pub fn open(path: &Path) -> Result<File, NetError> {
    File::open(path).map_err(NetError::io(format!("open {}", path.display())))
}

/// Makes `root` a shared mount point (as iproute2 does for `/run/netns`),
/// so a namespace file unmounted here is unmounted in every mount
/// namespace copied from ours later (a task's private mount namespace
/// would otherwise keep the network namespace alive).
pub fn prepare_root(root: &Path) -> Result<(), NetError> {
    crate::netns::create_private_dir(root)?;
    let shared = MsFlags::MS_SHARED | MsFlags::MS_REC;
    let make_shared = || mount(None::<&str>, root, None::<&str>, shared, None::<&str>);
    match make_shared() {
        Ok(()) => return Ok(()),
        Err(Errno::EINVAL) => {}
        Err(e) => return Err(NetError::sys(format!("make {} shared", root.display()))(e)),
    }
    mount(
        Some(root),
        root,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(NetError::sys(format!("bind {} on itself", root.display())))?;
    make_shared().map_err(NetError::sys(format!("make {} shared", root.display())))
}

/// Creates a new, empty network namespace and pins it at `path` (a bind
/// mount of the namespace of a throwaway thread).
pub async fn create(path: &Path) -> Result<(), NetError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(NetError::io(format!("create {}", path.display())))?;
    let target = path.to_path_buf();
    let r = run_in(&Netns::Own, move || {
        unshare(CloneFlags::CLONE_NEWNET).map_err(NetError::sys("unshare(CLONE_NEWNET)"))?;
        mount(
            Some("/proc/thread-self/ns/net"),
            &target,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(NetError::sys(format!("bind netns on {}", target.display())))
    })
    .await;
    if r.is_err() {
        let _ = std::fs::remove_file(path);
    }
    r
}

/// Unpins the namespace at `path` and removes the file. The namespace
/// itself goes when nothing else holds it (no process, no socket).
/// Missing files are fine.
pub fn delete(path: &Path) -> Result<(), NetError> {
    for _ in 0..8 {
        match umount2(path, MntFlags::MNT_DETACH) {
            Ok(()) => continue,
            Err(Errno::EINVAL | Errno::ENOENT) => break,
            Err(e) => return Err(NetError::sys(format!("unmount {}", path.display()))(e)),
        }
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(NetError::io(format!("remove {}", path.display()))(e))
        }
        _ => Ok(()),
    }
}

/// The namespace files under `root` (none when it does not exist).
pub fn list(root: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    v.sort();
    v
}

/// Creates `dir` and its missing parents owner-only (0700), and makes an
/// existing `dir` owner-only: they live in the daemon's data root, where
/// nothing is readable by other users.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), NetError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let what = || format!("create {}", dir.display());
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(NetError::io(what()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(NetError::io(what()))
}
