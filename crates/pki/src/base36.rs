//! Base 36 (`0-9a-z`) for 256-bit digests, and hex, as join tokens need them.

const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// Width of a 256-bit number in base 36: ceil(log36(2^256)) = 50.
pub(crate) const DIGEST_WIDTH: usize = 50;

/// Why a base-36 string could not be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Base36Error {
    /// A character outside `0-9a-z`.
    BadChar(char),
    /// The number does not fit in the target width.
    Overflow,
}

fn digit_value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 10),
        _ => None,
    }
}

/// A big-endian 256-bit number in lower-case base 36, zero-padded to 50.
pub(crate) fn encode_256(bytes: &[u8; 32]) -> String {
    let mut n = *bytes;
    let mut out = Vec::with_capacity(DIGEST_WIDTH);
    while n.iter().any(|&b| b != 0) {
        // Long division of n by 36, most significant byte first.
        let mut rem: u32 = 0;
        for b in n.iter_mut() {
            let cur = (rem << 8) | u32::from(*b);
            *b = (cur / 36) as u8;
            rem = cur % 36;
        }
        out.push(DIGITS[rem as usize]);
    }
    while out.len() < DIGEST_WIDTH {
        out.push(b'0');
    }
    out.reverse();
    out.into_iter().map(char::from).collect()
}

/// Reads a base-36 string (lower case) into a big-endian 256-bit number.
pub(crate) fn decode_256(s: &str) -> Result<[u8; 32], Base36Error> {
    let mut n = [0u8; 32];
    for c in s.bytes() {
        let d = digit_value(c).ok_or(Base36Error::BadChar(char::from(c)))?;
        // n = n * 36 + d, least significant byte first.
        let mut carry = d;
        for b in n.iter_mut().rev() {
            let cur = u32::from(*b) * 36 + carry;
            *b = (cur & 0xff) as u8;
            carry = cur >> 8;
        }
        if carry != 0 {
            return Err(Base36Error::Overflow);
        }
    }
    Ok(n)
}

/// Reads a base-36 string (lower case) into a 128-bit number.
pub(crate) fn decode_128(s: &str) -> Result<u128, Base36Error> {
    let mut n: u128 = 0;
    for c in s.bytes() {
        let d = digit_value(c).ok_or(Base36Error::BadChar(char::from(c)))?;
        n = n
            .checked_mul(36)
            .and_then(|n| n.checked_add(u128::from(d)))
            .ok_or(Base36Error::Overflow)?;
    }
    Ok(n)
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_and_max() {
        assert_eq!(encode_256(&[0; 32]), "0".repeat(50));
        let max = encode_256(&[0xff; 32]);
        assert_eq!(max.len(), 50);
        assert_eq!(decode_256(&max), Ok([0xff; 32]));
    }

    #[test]
    fn small_values_match_u128_encoding() {
        for v in [1u128, 35, 36, 1295, 123_456_789_012_345, u128::MAX] {
            let mut bytes = [0u8; 32];
            bytes[16..].copy_from_slice(&v.to_be_bytes());
            let s = encode_256(&bytes);
            assert_eq!(s, rswarm_rt::id::encode_base36(v, 50));
            assert_eq!(decode_256(&s), Ok(bytes));
            assert_eq!(decode_128(&s), Ok(v));
        }
    }

    #[test]
    fn round_trip_arbitrary() {
        let mut bytes = [0u8; 32];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(97).wrapping_add(13);
        }
        assert_eq!(decode_256(&encode_256(&bytes)), Ok(bytes));
    }

    #[test]
    fn rejects_bad_chars_and_overflow() {
        assert_eq!(decode_256("12A"), Err(Base36Error::BadChar('A')));
        assert_eq!(decode_256("1-"), Err(Base36Error::BadChar('-')));
        assert_eq!(decode_256(&"z".repeat(50)), Err(Base36Error::Overflow));
        assert_eq!(decode_128(&"z".repeat(25)), Err(Base36Error::Overflow));
        assert_eq!(
            decode_128(&rswarm_rt::id::encode_base36(u128::MAX, 25)),
            Ok(u128::MAX)
        );
    }

    #[test]
    fn hex_is_lower_case() {
        assert_eq!(hex(&[0x00, 0xab, 0x0f, 0xf0]), "00ab0ff0");
    }
}
