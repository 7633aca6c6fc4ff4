//! Unlock keys (the autolock KEK in human form): `SWMKEY-1-<base64>`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;

use crate::error::{PkiError, Result};

/// Every unlock key starts with this.
pub const UNLOCK_KEY_PREFIX: &str = "SWMKEY-1-";
/// Unlock keys are 32 random bytes.
const KEY_LEN: usize = 32;

/// A fresh unlock key: `SWMKEY-1-` + unpadded standard base64 of 32 random
/// bytes (52 characters in all).
pub fn generate_unlock_key() -> String {
    format_unlock_key(&rswarm_rt::id::random_bytes::<KEY_LEN>())
}

/// The human form of a 32-byte key.
pub fn format_unlock_key(key: &[u8; KEY_LEN]) -> String {
    format!("{UNLOCK_KEY_PREFIX}{}", STANDARD_NO_PAD.encode(key))
}

/// The 32 key bytes of `SWMKEY-1-<base64>`. Surrounding whitespace (a
/// trailing newline from a pasted or piped key) is ignored.
pub fn parse_unlock_key(s: &str) -> Result<[u8; KEY_LEN]> {
    let bad = |why: String| PkiError::InvalidUnlockKey(why);
    let s = s.trim();
    let body = s
        .strip_prefix(UNLOCK_KEY_PREFIX)
        .ok_or_else(|| bad(format!("must start with {UNLOCK_KEY_PREFIX}")))?;
    let bytes = STANDARD_NO_PAD
        .decode(body)
        .map_err(|e| bad(format!("not unpadded base64: {e}")))?;
    <[u8; KEY_LEN]>::try_from(bytes.as_slice())
        .map_err(|_| bad(format!("must hold {KEY_LEN} bytes, holds {}", bytes.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC_KEY: &str = "SWMKEY-1-WuYH/IX284+lRcXuoVf38viIDK3HJEKY13MIHX+tTt8";

    #[test]
    fn generated_key_has_swarm_shape() {
        let k = generate_unlock_key();
        assert_eq!(k.len(), 9 + 43, "{k}");
        assert!(k.starts_with(UNLOCK_KEY_PREFIX));
        assert!(!k.ends_with('='));
        let bytes = parse_unlock_key(&k).expect("parse");
        assert_eq!(format_unlock_key(&bytes), k);
        assert_ne!(generate_unlock_key(), k);
    }

    #[test]
    fn docs_example_parses() {
        let bytes = parse_unlock_key(DOC_KEY).expect("docs key");
        assert_eq!(format_unlock_key(&bytes), DOC_KEY);
        assert_eq!(
            parse_unlock_key(&format!("{DOC_KEY}\n")).expect("newline"),
            bytes
        );
    }

    #[test]
    fn bad_keys_are_rejected_with_reasons() {
        let cases = [
            ("", "must start with SWMKEY-1-"),
            ("SWMKEY-2-WuYH", "must start with SWMKEY-1-"),
            ("SWMTKN-1-abc", "must start with SWMKEY-1-"),
            ("SWMKEY-1-not*base64", "not unpadded base64"),
            ("SWMKEY-1-AAAA", "must hold 32 bytes, holds 3"),
            (
                "SWMKEY-1-WuYH/IX284+lRcXuoVf38viIDK3HJEKY13MIHX+tTt8=",
                "not unpadded base64",
            ),
        ];
        for (key, want) in cases {
            let msg = parse_unlock_key(key).expect_err(key).to_string();
            assert!(msg.starts_with("invalid unlock key: "), "{msg}");
            assert!(msg.contains(want), "{key:?}: {msg:?} lacks {want:?}");
        }
    }
}
