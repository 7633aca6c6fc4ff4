//! Swarm object IDs: 128 random bits in base 36, zero-padded to 25 chars.

use rand::RngExt;

/// A new random object ID (`identity.NewID` in swarmkit).
pub fn new_id() -> String {
    let n: u128 = rand::rng().random();
    encode_base36(n, 25)
}

/// `n` in lower-case base 36, left-padded with `0` to `width`.
pub fn encode_base36(mut n: u128, width: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::with_capacity(width);
    while n > 0 {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
    }
    while out.len() < width {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Random bytes from the OS generator.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::rng().fill(&mut b[..]);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_25_base36_and_distinct() {
        let a = new_id();
        let b = new_id();
        assert!(rswarm_types::is_object_id(&a), "{a}");
        assert_ne!(a, b);
        assert_eq!(encode_base36(35, 3), "00z");
        assert_eq!(encode_base36(u128::MAX, 25).len(), 25);
    }
}
