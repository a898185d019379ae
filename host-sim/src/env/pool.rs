//! A fixed team of worker threads for [`super::VecEnv::step`]: no task spawning per step, the
//! calling thread takes the first chunk itself, and a worker waits for the next batch by
//! spinning for a few microseconds (a tight training loop steps again within that) before
//! it parks (so a host that spends longer between steps, such as Python sampling actions,
//! gets its core back).
//!
//! [`Team::run`] is scoped: it returns only after every worker has finished the job, so the
//! job may borrow the caller's stack (the same contract as `std::thread::scope`).

use std::cell::UnsafeCell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long an idle worker spins for the next batch before it parks.
const SPIN: Duration = Duration::from_micros(200);

/// The job of one batch: called once with each chunk index `0..team size`.
type Job = dyn Fn(usize) + Sync;

struct Shared {
    /// Bumped once per batch (and at shutdown).
    epoch: AtomicU64,
    /// Workers still running the current batch.
    remaining: AtomicUsize,
    /// A worker's job panicked this batch.
    panicked: AtomicBool,
    shutdown: AtomicBool,
    /// The current job, written by `run` before `epoch` is bumped (release) and read by the
    /// workers after they see the new epoch (acquire); `run` outlives every read.
    job: UnsafeCell<Option<&'static Job>>,
}

// SAFETY: `job` is written only by `run` while no worker reads it (between batches: every
// worker has decremented `remaining`), and read only after the epoch handshake.
unsafe impl Sync for Shared {}

/// `size - 1` worker threads plus the caller.
pub(crate) struct Team {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Team {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Team")
            .field("size", &(self.workers.len() + 1))
            .finish()
    }
}

impl Team {
    /// A team of `size` (≥ 2) threads: the caller and `size - 1` workers.
    pub(crate) fn new(size: usize) -> std::io::Result<Team> {
        let shared = Arc::new(Shared {
            epoch: AtomicU64::new(0),
            remaining: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            job: UnsafeCell::new(None),
        });
        let mut workers = Vec::with_capacity(size.saturating_sub(1));
        for chunk in 1..size {
            let s = Arc::clone(&shared);
            let spawned = thread::Builder::new()
                .name(format!("kalsim-vec-{chunk}"))
                .spawn(move || worker(&s, chunk));
            match spawned {
                Ok(h) => workers.push(h),
                Err(e) => {
                    // Stop the workers already started before reporting.
                    drop(Team { shared, workers });
                    return Err(e);
                }
            }
        }
        Ok(Team { shared, workers })
    }

    /// Team size (workers + the caller).
    pub(crate) fn size(&self) -> usize {
        self.workers.len() + 1
    }

    /// Run `job(k)` for every chunk `k` of the team, `k = 0` on this thread; return when all
    /// have finished. A panic in any chunk is re-raised here after every chunk finished.
    pub(crate) fn run<'a>(&self, job: &'a (dyn Fn(usize) + Sync + 'a)) {
        let s = &*self.shared;
        // SAFETY: the lifetime is erased for the workers' sake only: this function does not
        // return (nor unwind) before every worker has finished with the job.
        let job_static: &'static Job =
            unsafe { std::mem::transmute::<&'a (dyn Fn(usize) + Sync + 'a), &'static Job>(job) };
        // SAFETY: no worker reads `job` between batches (see `Shared`).
        unsafe { *s.job.get() = Some(job_static) };
        s.panicked.store(false, Ordering::Relaxed);
        s.remaining.store(self.workers.len(), Ordering::Relaxed);
        s.epoch.fetch_add(1, Ordering::Release);
        for w in &self.workers {
            w.thread().unpark();
        }
        let mine = catch_unwind(AssertUnwindSafe(|| job(0)));
        let start = Instant::now();
        let mut spins = 0u32;
        while s.remaining.load(Ordering::Acquire) != 0 {
            spins = spins.wrapping_add(1);
            if spins % 64 != 0 || start.elapsed() < SPIN {
                std::hint::spin_loop();
            } else {
                thread::yield_now();
            }
        }
        // SAFETY: every worker is done with the job.
        unsafe { *s.job.get() = None };
        if let Err(p) = mine {
            resume_unwind(p);
        }
        if s.panicked.load(Ordering::Relaxed) {
            panic!("a kalsim worker thread panicked");
        }
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::Release);
        self.shared.epoch.fetch_add(1, Ordering::Release);
        for w in self.workers.drain(..) {
            w.thread().unpark();
            let _ = w.join();
        }
    }
}

fn worker(s: &Shared, chunk: usize) {
    let mut seen = 0u64;
    loop {
        let start = Instant::now();
        let mut spins = 0u32;
        loop {
            let e = s.epoch.load(Ordering::Acquire);
            if e != seen {
                seen = e;
                break;
            }
            spins = spins.wrapping_add(1);
            if spins % 64 != 0 || start.elapsed() < SPIN {
                std::hint::spin_loop();
            } else {
                // A missed unpark is kept as a token: `park` then returns at once.
                thread::park();
            }
        }
        if s.shutdown.load(Ordering::Acquire) {
            return;
        }
        // SAFETY: written before the epoch bump we acquired; `run` waits for us.
        if let Some(job) = unsafe { *s.job.get() }
            && catch_unwind(AssertUnwindSafe(|| job(chunk))).is_err()
        {
            s.panicked.store(true, Ordering::Relaxed);
        }
        s.remaining.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::Team;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn every_chunk_runs_once_per_batch_and_the_team_is_reused() {
        let team = Team::new(3).unwrap();
        assert_eq!(team.size(), 3);
        let counts: Vec<AtomicUsize> = (0..3).map(|_| AtomicUsize::new(0)).collect();
        for _ in 0..1000 {
            team.run(&|k| {
                counts[k].fetch_add(1, Ordering::Relaxed);
            });
        }
        assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1000));
    }

    #[test]
    fn a_panicking_chunk_is_reraised_after_all_finish() {
        let team = Team::new(2).unwrap();
        let done = AtomicUsize::new(0);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            team.run(&|k| {
                if k == 1 {
                    panic!("chunk 1");
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
                done.fetch_add(1, Ordering::Relaxed);
            })
        }));
        assert!(r.is_err());
        assert_eq!(done.load(Ordering::Relaxed), 1, "chunk 0 finished first");
        // Still usable.
        team.run(&|_| {
            done.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(done.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn idle_workers_park_and_wake() {
        let team = Team::new(2).unwrap();
        let n = AtomicUsize::new(0);
        team.run(&|_| {
            n.fetch_add(1, Ordering::Relaxed);
        });
        std::thread::sleep(std::time::Duration::from_millis(20)); // past the spin: parked
        team.run(&|_| {
            n.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(n.load(Ordering::Relaxed), 4);
    }
}
