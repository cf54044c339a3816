//! The only signal-hook user: SIGTERM and SIGINT (Ctrl-C) raise a flag that a
//! long-running command checks between its steps, so it ends cleanly instead of in the
//! middle of a commit. Nothing is done inside the handler itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::exit::Failure;

/// Set once SIGTERM or SIGINT arrived.
#[derive(Clone)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    /// Installs the handlers for this process.
    pub fn install() -> Result<Stop, Failure> {
        let flag = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            signal_hook::flag::register(signal, Arc::clone(&flag))
                .map_err(|e| Failure::failed(format!("cannot handle signal {signal}: {e}")))?;
        }
        Ok(Stop(flag))
    }

    pub fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Sleeps for `total`, waking early when a stop is requested; true if it was.
    pub fn sleep(&self, total: Duration) -> bool {
        let end = Instant::now() + total;
        while !self.requested() {
            let now = Instant::now();
            if now >= end {
                return false;
            }
            std::thread::sleep((end - now).min(Duration::from_millis(100)));
        }
        true
    }
}
