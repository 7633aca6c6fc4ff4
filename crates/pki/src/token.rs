//! Join tokens: `SWMTKN-1-<CA digest>-<secret>`.
//!
//! The digest pins the root CA a joining node must see; the secret is what
//! the CA server compares (whole token, constant time) to decide the role.

use std::fmt;

use crate::base36::{self, Base36Error, DIGEST_WIDTH};
use crate::error::{PkiError, Result};
use crate::root_ca::RootCa;

/// Every join token starts with this.
pub const JOIN_TOKEN_PREFIX: &str = "SWMTKN";
/// Width of the secret: 128 bits in base 36.
const SECRET_WIDTH: usize = 25;

/// A parsed join token.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinToken {
    /// The root CA digest, base 36, 50 characters.
    pub digest_base36: String,
    /// The secret, base 36, 25 characters.
    pub secret: String,
    /// A version-2 (`SWMTKN-2-1-...`) token of a FIPS cluster.
    pub fips: bool,
}

impl fmt::Debug for JoinToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinToken")
            .field("digest_base36", &self.digest_base36)
            .field("secret", &"<redacted>")
            .field("fips", &self.fips)
            .finish()
    }
}

impl fmt::Display for JoinToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let version = if self.fips { "2-1" } else { "1" };
        write!(
            f,
            "{JOIN_TOKEN_PREFIX}-{version}-{}-{}",
            self.digest_base36, self.secret
        )
    }
}

impl JoinToken {
    /// A v1 token for `root` with the given 128-bit secret.
    pub fn new(root: &RootCa, secret: [u8; 16]) -> Self {
        JoinToken {
            digest_base36: root.digest_base36(),
            secret: rswarm_rt::id::encode_base36(u128::from_be_bytes(secret), SECRET_WIDTH),
            fips: false,
        }
    }

    /// The pinned root digest as `sha256:<64 hex digits>`.
    pub fn ca_digest(&self) -> Result<String> {
        let bytes = base36::decode_256(&self.digest_base36).map_err(|e| digest_error(&e))?;
        Ok(format!("sha256:{}", base36::hex(&bytes)))
    }

    /// True when this token pins `root`.
    pub fn matches_ca(&self, root: &RootCa) -> bool {
        constant_time_eq(&self.digest_base36, &root.digest_base36())
    }
}

/// A fresh v1 join token for `root`, with 16 random bytes of secret.
pub fn generate_join_token(root: &RootCa) -> String {
    JoinToken::new(root, rswarm_rt::id::random_bytes::<16>()).to_string()
}

/// Parses `SWMTKN-1-<digest>-<secret>` (or the FIPS form
/// `SWMTKN-2-<0|1>-<digest>-<secret>`), checking lengths and characters.
pub fn parse_join_token(token: &str) -> Result<JoinToken> {
    let bad = |why: String| PkiError::InvalidJoinToken(why);
    let parts: Vec<&str> = token.split('-').collect();
    if parts[0] != JOIN_TOKEN_PREFIX {
        return Err(bad(format!("must start with {JOIN_TOKEN_PREFIX}-")));
    }
    let (fips, digest, secret) = match parts.get(1).copied() {
        Some("1") => {
            if parts.len() != 4 {
                return Err(bad(format!(
                    "a version 1 token has 4 dash-separated parts, this one has {}",
                    parts.len()
                )));
            }
            (false, parts[2], parts[3])
        }
        Some("2") => {
            if parts.len() != 5 {
                return Err(bad(format!(
                    "a version 2 token has 5 dash-separated parts, this one has {}",
                    parts.len()
                )));
            }
            let fips = match parts[2] {
                "0" => false,
                "1" => true,
                other => return Err(bad(format!("unknown FIPS flag {other:?}"))),
            };
            (fips, parts[3], parts[4])
        }
        Some(v) => return Err(bad(format!("unsupported version {v:?}"))),
        None => return Err(bad("missing version".to_string())),
    };

    if digest.len() != DIGEST_WIDTH {
        return Err(bad(format!(
            "CA digest must be {DIGEST_WIDTH} characters, got {}",
            digest.len()
        )));
    }
    base36::decode_256(digest).map_err(|e| digest_error(&e))?;
    if secret.len() != SECRET_WIDTH {
        return Err(bad(format!(
            "secret must be {SECRET_WIDTH} characters, got {}",
            secret.len()
        )));
    }
    base36::decode_128(secret).map_err(|e| match e {
        Base36Error::BadChar(c) => bad(format!("secret has {c:?}; only 0-9 and a-z are allowed")),
        Base36Error::Overflow => bad("secret is larger than 128 bits".to_string()),
    })?;
    Ok(JoinToken {
        digest_base36: digest.to_string(),
        secret: secret.to_string(),
        fips,
    })
}

/// True when `token` parses and pins `root`.
pub fn token_matches_ca(token: &str, root: &RootCa) -> bool {
    parse_join_token(token).is_ok_and(|t| t.matches_ca(root))
}

/// Compares two secrets in time that depends only on their lengths.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn digest_error(e: &Base36Error) -> PkiError {
    PkiError::InvalidJoinToken(match e {
        Base36Error::BadChar(c) => format!("CA digest has {c:?}; only 0-9 and a-z are allowed"),
        Base36Error::Overflow => "CA digest is larger than 256 bits".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    const DOC_TOKEN: &str =
        "SWMTKN-1-0j52ln6hxjpxk2wgk917abcnxywj3xed0y8vi1e5m9t3uttrtu-7bnxvvlz2mrcpfonjuztmtts9";

    fn root() -> RootCa {
        RootCa::generate(Utc::now()).expect("root")
    }

    fn is_base36(s: &str) -> bool {
        s.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    }

    #[test]
    fn generated_token_has_swarm_shape() {
        let root = root();
        let token = generate_join_token(&root);
        assert_eq!(token.len(), 85, "{token}");
        assert!(token.starts_with("SWMTKN-1-"), "{token}");
        let parts: Vec<&str> = token.split('-').collect();
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[2].len(), 50);
        assert_eq!(parts[3].len(), 25);
        assert!(is_base36(parts[2]) && is_base36(parts[3]), "{token}");
        assert_eq!(parts[2], root.digest_base36());

        let parsed = parse_join_token(&token).expect("parse");
        assert_eq!(parsed.to_string(), token);
        assert!(!parsed.fips);
        assert_eq!(parsed.ca_digest().expect("digest"), root.digest());
    }

    #[test]
    fn tokens_differ_only_in_secret() {
        let root = root();
        let a = generate_join_token(&root);
        let b = generate_join_token(&root);
        assert_ne!(a, b);
        assert_eq!(a[..59], b[..59]);
    }

    #[test]
    fn fixed_secret_renders_zero_padded() {
        let root = root();
        let t = JoinToken::new(&root, [0; 16]);
        assert_eq!(t.secret, "0".repeat(25));
        let t = JoinToken::new(&root, [0xff; 16]);
        assert_eq!(t.secret, rswarm_rt::id::encode_base36(u128::MAX, 25));
        assert_eq!(t.to_string().len(), 85);
    }

    #[test]
    fn docs_example_parses() {
        let t = parse_join_token(DOC_TOKEN).expect("docs token");
        assert_eq!(t.secret, "7bnxvvlz2mrcpfonjuztmtts9");
        let digest = t.ca_digest().expect("digest");
        assert!(
            digest.starts_with("sha256:") && digest.len() == 71,
            "{digest}"
        );
        assert_eq!(t.to_string(), DOC_TOKEN);
    }

    #[test]
    fn fips_tokens_parse_and_round_trip() {
        let v2 = DOC_TOKEN.replacen("SWMTKN-1-", "SWMTKN-2-1-", 1);
        let t = parse_join_token(&v2).expect("v2");
        assert!(t.fips);
        assert_eq!(t.to_string(), v2);
        let v2_off = DOC_TOKEN.replacen("SWMTKN-1-", "SWMTKN-2-0-", 1);
        assert!(!parse_join_token(&v2_off).expect("v2 off").fips);
    }

    #[test]
    fn token_pins_its_ca_only() {
        let (a, b) = (root(), root());
        let token = generate_join_token(&a);
        assert!(token_matches_ca(&token, &a));
        assert!(!token_matches_ca(&token, &b));
        assert!(token_matches_ca(&token, &a.without_key()));
        assert!(!token_matches_ca("garbage", &a));
    }

    #[test]
    fn bad_tokens_are_rejected_with_reasons() {
        let digest = "0".repeat(50);
        let secret = "1".repeat(25);
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "must start with SWMTKN-"),
            ("SWMKEY-1-abc".into(), "must start with SWMTKN-"),
            ("SWMTKN".into(), "missing version"),
            (
                format!("SWMTKN-3-{digest}-{secret}"),
                "unsupported version \"3\"",
            ),
            (
                format!("SWMTKN-1-{digest}"),
                "4 dash-separated parts, this one has 3",
            ),
            (format!("SWMTKN-1-{digest}-{secret}-x"), "has 5"),
            (
                format!("SWMTKN-2-{digest}-{secret}"),
                "version 2 token has 5",
            ),
            (format!("SWMTKN-2-7-{digest}-{secret}"), "unknown FIPS flag"),
            (
                format!("SWMTKN-1-{}-{secret}", "0".repeat(49)),
                "CA digest must be 50 characters, got 49",
            ),
            (
                format!("SWMTKN-1-{}A-{secret}", "0".repeat(49)),
                "CA digest has 'A'",
            ),
            (
                format!("SWMTKN-1-{}-{secret}", "z".repeat(50)),
                "larger than 256 bits",
            ),
            (
                format!("SWMTKN-1-{digest}-{}", "1".repeat(24)),
                "secret must be 25 characters, got 24",
            ),
            (
                format!("SWMTKN-1-{digest}-{}_", "1".repeat(24)),
                "secret has '_'",
            ),
            (
                format!("SWMTKN-1-{digest}-{}", "z".repeat(25)),
                "larger than 128 bits",
            ),
            (
                format!(" SWMTKN-1-{digest}-{secret}"),
                "must start with SWMTKN-",
            ),
        ];
        for (token, want) in cases {
            let err = parse_join_token(&token).expect_err(&token);
            let msg = err.to_string();
            assert!(msg.starts_with("invalid join token: "), "{msg}");
            assert!(msg.contains(want), "{token:?}: {msg:?} lacks {want:?}");
        }
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq("", ""));
        assert!(constant_time_eq(DOC_TOKEN, DOC_TOKEN));
        assert!(!constant_time_eq(DOC_TOKEN, &DOC_TOKEN[..84]));
        let mut other = DOC_TOKEN.to_string();
        other.replace_range(84.., "8");
        assert!(!constant_time_eq(DOC_TOKEN, &other));
    }

    #[test]
    fn debug_hides_the_secret() {
        let t = parse_join_token(DOC_TOKEN).expect("parse");
        let dbg = format!("{t:?}");
        assert!(!dbg.contains(&t.secret), "{dbg}");
    }
}
