//! Object metadata shared by every stored object: ID, version and times.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// The version of a stored object: the store index of its last write.
/// Never 0 for a live object (the docker CLI would send `version=0`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Version {
    #[serde(rename = "Index", default)]
    pub index: u64,
}

/// `Meta` of the Engine API, flattened into each object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Meta {
    #[serde(default)]
    pub version: Version,
    #[serde(default = "zero_time", with = "go_time")]
    pub created_at: Timestamp,
    #[serde(default = "zero_time", with = "go_time")]
    pub updated_at: Timestamp,
}

/// Name and labels of an object (`Annotations` in Swarm).
pub type Labels = std::collections::BTreeMap<String, String>;

/// Go's zero time, `0001-01-01T00:00:00Z`.
pub fn zero_time() -> Timestamp {
    chrono::DateTime::from_timestamp(-62_135_596_800, 0).unwrap_or_default()
}

/// Serde for times the way Go writes them: RFC 3339 with up to nine
/// fractional digits and a `Z` suffix.
pub mod go_time {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::Timestamp;

    /// Serializes as Go's `time.RFC3339Nano`: up to nine fractional digits
    /// without trailing zeros (none for a whole second), and `Z`.
    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    /// `t` as Go's `time.RFC3339Nano` writes a UTC time. (Written field
    /// by field: every task in every Raft entry and API answer carries
    /// several timestamps, and a `strftime` pattern is parsed anew on each
    /// call.)
    pub fn format(t: &Timestamp) -> String {
        use chrono::{Datelike, Timelike};
        use std::fmt::Write;

        let mut out = String::with_capacity(30);
        let year = t.year();
        let _ = if (0..=9999).contains(&year) {
            write!(
                out,
                "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        } else {
            write!(out, "{}", t.format("%Y-%m-%dT%H:%M:%S"))
        };
        // A leap second's nanoseconds run past 999,999,999: as chrono.
        let mut nanos = t.nanosecond();
        if nanos > 0 {
            let mut digits = 9;
            while nanos.is_multiple_of(10) {
                nanos /= 10;
                digits -= 1;
            }
            let _ = write!(out, ".{nanos:0digits$}");
        }
        out.push('Z');
        out
    }

    /// Parses any RFC 3339 time.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = String::deserialize(d)?;
        chrono::DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(serde::de::Error::custom)
    }

    /// The same for `Option<Timestamp>`.
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};

        use crate::Timestamp;

        /// Serializes `Some` like [`super::serialize`]; `None` as null.
        pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }

        /// Parses an optional RFC 3339 time.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
            let s: Option<String> = Option::deserialize(d)?;
            match s {
                None => Ok(None),
                Some(s) => chrono::DateTime::parse_from_rfc3339(&s)
                    .map(|t| Some(t.with_timezone(&chrono::Utc)))
                    .map_err(serde::de::Error::custom),
            }
        }
    }
}

/// True for a type's zero value (`0`, `false`): Go's `omitempty` for
/// scalars, as `skip_serializing_if`.
pub(crate) fn is_zero<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// True when `s` looks like a swarm object ID: 25 characters of `[0-9a-z]`.
pub fn is_object_id(s: &str) -> bool {
    s.len() == 25
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

/// Serializes a float as Go's `encoding/json` writes it: a whole number
/// without a fraction (`0`, not `0.0`).
pub fn go_float<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
}

/// Deserializes `null` as the type's default: Go encodes nil maps and
/// slices as `null`.
pub fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_time_is_go_zero() {
        let m = Meta::default();
        let mut m2 = m.clone();
        m2.created_at = zero_time();
        let j = serde_json::to_value(&m2).expect("serialize");
        assert_eq!(j["CreatedAt"], "0001-01-01T00:00:00Z");
    }

    #[test]
    fn meta_round_trips_nanos() {
        let t = chrono::DateTime::parse_from_rfc3339("2025-01-02T03:04:05.123456789Z")
            .expect("parse")
            .with_timezone(&chrono::Utc);
        let m = Meta {
            version: Version { index: 7 },
            created_at: t,
            updated_at: t,
        };
        let j = serde_json::to_string(&m).expect("serialize");
        assert!(j.contains("2025-01-02T03:04:05.123456789Z"), "{j}");
        let back: Meta = serde_json::from_str(&j).expect("parse");
        assert_eq!(back, m);
    }

    #[test]
    fn times_print_as_go_prints_them() {
        let t = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .expect("parse")
                .with_timezone(&chrono::Utc)
        };
        assert_eq!(
            go_time::format(&t("2026-11-30T20:26:45.615041920Z")),
            "2026-11-30T20:26:45.61504192Z"
        );
        assert_eq!(
            go_time::format(&t("2026-11-30T20:26:45.100Z")),
            "2026-11-30T20:26:45.1Z"
        );
        assert_eq!(
            go_time::format(&t("2026-11-30T20:26:45Z")),
            "2026-11-30T20:26:45Z"
        );
        assert_eq!(go_time::format(&zero_time()), "0001-01-01T00:00:00Z");
        // Every fraction length, against chrono's nine digits trimmed.
        for nanos in [1, 10, 120, 3_000, 45_600, 789_000_000, 999_999_999, 7] {
            let x = chrono::DateTime::from_timestamp(1_764_620_000, nanos).expect("time");
            let full = x.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
            let (whole, frac) = full.trim_end_matches('Z').split_once('.').expect("dot");
            let want = format!("{whole}.{}Z", frac.trim_end_matches('0'));
            assert_eq!(go_time::format(&x), want);
        }
    }

    #[test]
    fn floats_print_as_go_prints_them() {
        #[derive(Serialize)]
        struct F(#[serde(serialize_with = "go_float")] f64);
        assert_eq!(serde_json::to_string(&F(0.0)).expect("json"), "0");
        assert_eq!(serde_json::to_string(&F(0.25)).expect("json"), "0.25");
    }

    #[test]
    fn object_ids() {
        assert!(is_object_id("0123456789abcdefghijklmno"));
        assert!(!is_object_id("0123456789ABCDEFGHIJKLMNO"));
        assert!(!is_object_id("web"));
    }
}
