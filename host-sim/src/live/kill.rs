//! The kill watchdog: a thread that watches the [`KillSwitch`] and, the moment it trips,
//! stops the actor's venue from retrying (its abort flag) and cancels every resting order of
//! ours through an independent client ([`KillSweeper`]), sweeping until none is listed or
//! the bound passes, so the bound holds even while the actor's thread is blocked in a call.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::signal::KillSwitch;
use super::venues::KillSweeper;

/// What the watchdog did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KillOutcome {
    /// When the switch was seen tripped.
    pub tripped: bool,
    /// From the trip to a listing with none of ours resting, milliseconds.
    pub cleared_ms: Option<u64>,
    /// Sweeps made.
    pub sweeps: u32,
    /// The last sweep error, if any.
    pub last_error: Option<String>,
}

/// A running watchdog; [`KillWatchdog::finish`] stops it and returns what it did.
#[derive(Debug)]
pub struct KillWatchdog {
    done: Arc<AtomicBool>,
    outcome: Arc<Mutex<KillOutcome>>,
    handle: Option<JoinHandle<()>>,
}

impl KillWatchdog {
    /// Watch `kill`; on a trip set `abort` and sweep our orders (ids starting with
    /// `own_prefix` in `tickers`) for at most `deadline`, then keep sweeping while the actor
    /// has not stopped (`finish` not called) up to twice the deadline.
    pub fn spawn(
        kill: KillSwitch,
        abort: Option<Arc<AtomicBool>>,
        mut sweeper: Box<dyn KillSweeper>,
        own_prefix: String,
        tickers: Vec<String>,
        deadline: Duration,
    ) -> KillWatchdog {
        let done = Arc::new(AtomicBool::new(false));
        let outcome = Arc::new(Mutex::new(KillOutcome::default()));
        let (d, o) = (Arc::clone(&done), Arc::clone(&outcome));
        let handle = std::thread::spawn(move || {
            while kill.tripped().is_none() {
                if d.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let t0 = Instant::now();
            if let Some(a) = &abort {
                a.store(true, Ordering::SeqCst);
            }
            let mut clean_streak = 0;
            loop {
                let r = sweeper.sweep(&own_prefix, &tickers);
                let mut out = o.lock().unwrap_or_else(|p| p.into_inner());
                out.tripped = true;
                out.sweeps += 1;
                match r {
                    Ok(0) => {
                        clean_streak += 1;
                        if out.cleared_ms.is_none() {
                            out.cleared_ms = Some(t0.elapsed().as_millis() as u64);
                        }
                    }
                    Ok(_) => clean_streak = 0,
                    Err(e) => {
                        clean_streak = 0;
                        out.last_error = Some(e.to_string());
                    }
                }
                drop(out);
                let elapsed = t0.elapsed();
                // Done: clean twice in a row once the actor stopped (no call of its can
                // land a new order), or past twice the bound.
                let stopped = d.load(Ordering::SeqCst);
                if (stopped && clean_streak >= 2) || elapsed >= deadline * 2 {
                    return;
                }
                std::thread::sleep(Duration::from_millis(if clean_streak > 0 {
                    100
                } else {
                    20
                }));
            }
        });
        KillWatchdog {
            done,
            outcome,
            handle: Some(handle),
        }
    }

    /// Tell the watchdog the actor has stopped; wait for it; what it did.
    pub fn finish(mut self) -> KillOutcome {
        self.done.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        self.outcome
            .lock()
            .map(|o| o.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }
}
