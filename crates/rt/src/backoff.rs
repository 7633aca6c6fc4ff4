//! Exponential backoff with jitter (agent sessions, retries).

use std::time::Duration;

use rand::RngExt;

/// Doubles from `base` up to `max`, plus up to 10 % random jitter.
#[derive(Clone, Debug)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    current: Duration,
}

impl Backoff {
    /// A backoff starting at `base`, capped at `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max,
            current: base,
        }
    }

    /// The next delay.
    pub fn next_delay(&mut self) -> Duration {
        let d = self.current;
        self.current = (self.current * 2).min(self.max);
        let jitter = rand::rng().random_range(0..=d.as_millis() as u64 / 10 + 1);
        d + Duration::from_millis(jitter)
    }

    /// Back to `base` after a success.
    pub fn reset(&mut self) {
        self.current = self.base;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_caps() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(400));
        let d1 = b.next_delay();
        let d2 = b.next_delay();
        let _ = b.next_delay();
        let d4 = b.next_delay();
        assert!(d1 >= Duration::from_millis(100) && d1 < Duration::from_millis(200));
        assert!(d2 >= Duration::from_millis(200));
        assert!(d4 >= Duration::from_millis(400) && d4 <= Duration::from_millis(441));
        b.reset();
        assert!(b.next_delay() < Duration::from_millis(200));
    }
}
