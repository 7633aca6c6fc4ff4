//! Resolving a service's `User` (`name`, `uid`, `name:group`, `uid:gid`)
//! against the node's passwd and group databases.

use std::path::PathBuf;

use nix::unistd::{Group, Uid, User};

/// Who a task's process runs as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// User ID.
    pub uid: u32,
    /// Primary group ID.
    pub gid: u32,
    /// Home directory from the passwd entry, if there is one.
    pub home: Option<PathBuf>,
}

/// Resolves `spec`; `Ok(None)` for an empty spec (run as the agent's user).
///
/// A user name must exist. A numeric user ID need not: without a passwd
/// entry its group is 0, as Docker does. The group defaults to the user's
/// primary group; a given group may be a name (which must exist) or a
/// number. Supplementary groups are not set (the agent's own are dropped).
/// Blocking (NSS lookups): call from a blocking context.
pub fn resolve_user(spec: &str) -> Result<Option<Identity>, String> {
    let spec = spec.trim();
    if spec.is_empty() {
        return Ok(None);
    }
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g).filter(|g| !g.is_empty())),
        None => (spec, None),
    };
    if user.is_empty() {
        return Err(format!(
            "invalid user {spec:?}: expected name, uid, name:group or uid:gid"
        ));
    }
    let mut id = match numeric(user) {
        Some(uid) => match User::from_uid(Uid::from_raw(uid))
            .map_err(|e| format!("looking up uid {uid}: {e}"))?
        {
            Some(u) => Identity {
                uid,
                gid: u.gid.as_raw(),
                home: Some(u.dir),
            },
            None => Identity {
                uid,
                gid: 0,
                home: None,
            },
        },
        None => {
            match User::from_name(user).map_err(|e| format!("looking up user {user:?}: {e}"))? {
                Some(u) => Identity {
                    uid: u.uid.as_raw(),
                    gid: u.gid.as_raw(),
                    home: Some(u.dir),
                },
                None => {
                    return Err(format!(
                        "unable to find user {user:?}: no matching entries in passwd file"
                    ));
                }
            }
        }
    };
    if let Some(group) = group {
        id.gid = match numeric(group) {
            Some(gid) => gid,
            None => match Group::from_name(group)
                .map_err(|e| format!("looking up group {group:?}: {e}"))?
            {
                Some(g) => g.gid.as_raw(),
                None => {
                    return Err(format!(
                        "unable to find group {group:?}: no matching entries in group file"
                    ));
                }
            },
        };
    }
    Ok(Some(id))
}

fn numeric(s: &str) -> Option<u32> {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn resolves_the_forms() {
        assert_eq!(resolve_user(""), Ok(None));
        let root = resolve_user("root").unwrap().unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(root.home, Some(PathBuf::from("/root")));
        let by_id = resolve_user("0").unwrap().unwrap();
        assert_eq!((by_id.uid, by_id.gid), (0, 0));
        let with_gid = resolve_user("root:12").unwrap().unwrap();
        assert_eq!((with_gid.uid, with_gid.gid), (0, 12));
        let with_group = resolve_user("0:root").unwrap().unwrap();
        assert_eq!((with_group.uid, with_group.gid), (0, 0));
        let unknown_uid = resolve_user("54321:7").unwrap().unwrap();
        assert_eq!(
            (unknown_uid.uid, unknown_uid.gid, unknown_uid.home),
            (54321, 7, None)
        );
        let unknown_uid = resolve_user("54321").unwrap().unwrap();
        assert_eq!(unknown_uid.gid, 0);
    }

    #[test]
    fn rejects_unknown_names() {
        let e = resolve_user("no-such-user-rswarm").unwrap_err();
        assert!(e.contains("no-such-user-rswarm"), "{e}");
        assert!(
            resolve_user("root:no-such-group-rswarm")
                .unwrap_err()
                .contains("no-such-group-rswarm")
        );
        assert!(resolve_user(":0").is_err());
    }
}
