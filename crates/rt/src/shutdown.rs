//! A cloneable shutdown signal: every long-running component takes one and
//! returns from `run` when it fires.

use tokio::sync::watch;

/// Fires once; every clone observes it.
#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: std::sync::Arc<watch::Sender<bool>>,
    rx: watch::Receiver<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// A signal that has not fired.
    pub fn new() -> Self {
        let (tx, rx) = watch::channel(false);
        Shutdown {
            tx: std::sync::Arc::new(tx),
            rx,
        }
    }

    /// Fires the signal.
    pub fn trigger(&self) {
        let _ = self.tx.send(true);
    }

    /// True once fired.
    pub fn is_triggered(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves when the signal fires.
    pub async fn wait(&self) {
        let mut rx = self.rx.clone();
        while !*rx.borrow_and_update() {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// A child signal: fires when this one does, or on its own trigger.
    pub fn child(&self) -> Shutdown {
        let child = Shutdown::new();
        let parent = self.clone();
        let c = child.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = parent.wait() => c.trigger(),
                _ = c.wait() => {}
            }
        });
        child
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn child_fires_with_parent() {
        let p = Shutdown::new();
        let c = p.child();
        assert!(!c.is_triggered());
        p.trigger();
        c.wait().await;
        assert!(c.is_triggered());
    }
}
