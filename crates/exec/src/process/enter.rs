//! Running a task inside the network namespace its node's data plane
//! made for it, with the resolv.conf it wrote: between fork and exec the
//! child joins the namespace (`setns(CLONE_NEWNET)` on a file opened
//! before the fork), gets a private mount namespace of its own (`/` made
//! recursively slave, so nothing it mounts reaches the host) and
//! bind-mounts the file on `/etc/resolv.conf`; then it takes the task's
//! user (after the mounts, which need the agent's privileges).
//!
//! Everything is prepared before the fork (file descriptor, C strings);
//! the child only makes raw system calls, which are async-signal-safe.
//! This is the crate's only unsafe code (`pre_exec`).
#![allow(unsafe_code)]

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;

use tokio::process::Command;

use super::user::Identity;
use crate::{ExecError, TaskNetwork};

const ROOT: &std::ffi::CStr = c"/";
const RESOLV_CONF: &std::ffi::CStr = c"/etc/resolv.conf";

/// Makes `cmd` start inside `net`, as `identity` when given (the caller
/// must not set the command's uid/gid: they would apply before the
/// namespace calls).
pub(crate) fn install(
    cmd: &mut Command,
    net: &TaskNetwork,
    identity: Option<&Identity>,
) -> Result<(), ExecError> {
    let netns = File::open(&net.netns).map_err(|e| {
        ExecError::StartFailed(format!(
            "cannot open the task's network namespace {}: {e}",
            net.netns.display()
        ))
    })?;
    let resolv = CString::new(net.resolv_conf.as_os_str().as_bytes()).map_err(|_| {
        ExecError::StartFailed(format!(
            "invalid resolv.conf path {}",
            net.resolv_conf.display()
        ))
    })?;
    let ids = identity.map(|i| (i.uid, i.gid));
    // SAFETY: the closure makes only raw system calls on data prepared
    // above (an open descriptor, C strings), which is async-signal-safe;
    // it allocates nothing and takes no lock.
    unsafe {
        cmd.pre_exec(move || enter(&netns, &resolv, ids));
    }
    Ok(())
}

/// In the child, between fork and exec.
fn enter(netns: &File, resolv: &CString, ids: Option<(u32, u32)>) -> io::Result<()> {
    let check = |r: libc::c_int| {
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    };
    // SAFETY: plain system calls with valid pointers to NUL-terminated
    // strings that outlive them.
    unsafe {
        check(libc::setns(netns.as_raw_fd(), libc::CLONE_NEWNET))?;
        check(libc::unshare(libc::CLONE_NEWNS))?;
        check(libc::mount(
            std::ptr::null(),
            ROOT.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_SLAVE,
            std::ptr::null(),
        ))?;
        check(libc::mount(
            resolv.as_ptr(),
            RESOLV_CONF.as_ptr(),
            std::ptr::null(),
            libc::MS_BIND,
            std::ptr::null(),
        ))?;
        if let Some((uid, gid)) = ids {
            if libc::getuid() == 0 {
                check(libc::setgroups(0, std::ptr::null()))?;
            }
            check(libc::setgid(gid))?;
            check(libc::setuid(uid))?;
        }
    }
    Ok(())
}
