//! Generated service names (`adjective_surname`, as moby does when a
//! service is created without a name). Pure: the caller supplies the
//! random number.

const ADJECTIVES: &[&str] = &[
    "admiring",
    "agile",
    "amazing",
    "bold",
    "brave",
    "bright",
    "busy",
    "calm",
    "charming",
    "clever",
    "cool",
    "curious",
    "daring",
    "dazzling",
    "eager",
    "elegant",
    "epic",
    "fervent",
    "focused",
    "friendly",
    "gallant",
    "gentle",
    "happy",
    "hopeful",
    "jolly",
    "keen",
    "kind",
    "lucid",
    "modest",
    "nifty",
    "nimble",
    "optimistic",
    "patient",
    "peaceful",
    "quirky",
    "relaxed",
    "serene",
    "sharp",
    "steady",
    "stoic",
    "sweet",
    "tender",
    "trusting",
    "upbeat",
    "vibrant",
    "vigilant",
    "wizardly",
    "zealous",
];

const SURNAMES: &[&str] = &[
    "agnesi",
    "babbage",
    "bartik",
    "bell",
    "boole",
    "borg",
    "cerf",
    "curie",
    "darwin",
    "dijkstra",
    "einstein",
    "euler",
    "faraday",
    "fermat",
    "feynman",
    "franklin",
    "gauss",
    "goldberg",
    "hamilton",
    "hopper",
    "hypatia",
    "johnson",
    "kepler",
    "knuth",
    "lamarr",
    "lamport",
    "leavitt",
    "liskov",
    "lovelace",
    "maxwell",
    "meitner",
    "mirzakhani",
    "newton",
    "noether",
    "pascal",
    "perlman",
    "ritchie",
    "shannon",
    "sinoussi",
    "tesla",
    "thompson",
    "torvalds",
    "turing",
    "wozniak",
    "yalow",
    "yonath",
];

/// The name for random number `n`: `<adjective>_<surname>`.
pub fn generate(n: u64) -> String {
    let adjective_count = ADJECTIVES.len() as u64;
    let surname_count = SURNAMES.len() as u64;
    let adjective = ADJECTIVES[(n % adjective_count) as usize];
    let surname = SURNAMES[((n / adjective_count) % surname_count) as usize];
    format!("{adjective}_{surname}")
}

/// A fresh random name.
pub fn random() -> String {
    generate(u64::from_le_bytes(rswarm_rt::id::random_bytes::<8>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_valid_service_names() {
        for n in [0u64, 1, 47, 48, 1_000_003, u64::MAX] {
            let name = generate(n);
            let (a, s) = name.split_once('_').expect("underscore");
            assert!(ADJECTIVES.contains(&a) && SURNAMES.contains(&s), "{name}");
            rswarm_types::validate::validate_name(&name).expect("valid");
        }
        assert_ne!(generate(0), generate(ADJECTIVES.len() as u64));
    }
}
