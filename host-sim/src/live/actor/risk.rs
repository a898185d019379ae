//! Per-market circuit breakers (closed → open after consecutive failures → half-open after
//! a cool-down: one probe order; success closes, failure reopens) and the account-level
//! stops (daily loss limit, maximum drawdown).

use std::time::{Duration, Instant};

use super::config::AccountRisk;

/// What a breaker allows now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Orders flow.
    Closed,
    /// The cool-down passed: one probe order may go.
    Probe,
    /// No orders.
    Open,
}

/// One market's circuit breaker.
#[derive(Clone, Debug)]
pub(crate) struct Breaker {
    threshold: u32,
    cool_down: Duration,
    failures: u32,
    opened_at: Option<Instant>,
    probing: bool,
}

impl Breaker {
    pub(crate) fn new(threshold: u32, cool_down: Duration) -> Breaker {
        Breaker {
            threshold: threshold.max(1),
            cool_down,
            failures: 0,
            opened_at: None,
            probing: false,
        }
    }

    pub(crate) fn gate(&mut self, now: Instant) -> Gate {
        match self.opened_at {
            None => Gate::Closed,
            Some(t) if now.duration_since(t) >= self.cool_down => {
                self.probing = true;
                Gate::Probe
            }
            Some(_) => Gate::Open,
        }
    }

    pub(crate) fn is_open(&self) -> bool {
        self.opened_at.is_some()
    }

    pub(crate) fn success(&mut self) {
        self.failures = 0;
        self.opened_at = None;
        self.probing = false;
    }

    /// Record a failure; `true` when this one opened (or reopened) the breaker.
    pub(crate) fn failure(&mut self, now: Instant) -> bool {
        if self.probing {
            self.probing = false;
            self.opened_at = Some(now);
            return true;
        }
        self.failures += 1;
        if self.opened_at.is_none() && self.failures >= self.threshold {
            self.opened_at = Some(now);
            return true;
        }
        false
    }
}

/// The account-level stops.
#[derive(Clone, Debug, Default)]
pub(crate) struct RiskState {
    limits: AccountRisk,
    day: Option<u64>,
    day_start_pv: i64,
    peak_pv: Option<i64>,
    /// Why new exposure is stopped, once it is (until restart).
    pub(crate) stopped: Option<String>,
}

impl RiskState {
    pub(crate) fn new(limits: AccountRisk) -> RiskState {
        RiskState {
            limits,
            ..RiskState::default()
        }
    }

    /// Feed the account's portfolio value at Unix day `day`; returns the stop reason the
    /// first time a limit is crossed.
    pub(crate) fn observe(&mut self, pv_cents: i64, day: u64) -> Option<String> {
        if self.day != Some(day) {
            self.day = Some(day);
            self.day_start_pv = pv_cents;
        }
        let peak = self.peak_pv.map_or(pv_cents, |p| p.max(pv_cents));
        self.peak_pv = Some(peak);
        if self.stopped.is_some() {
            return None;
        }
        let loss = self.day_start_pv - pv_cents;
        let drawdown = peak - pv_cents;
        let why = match (
            self.limits.daily_loss_limit_cents,
            self.limits.max_drawdown_cents,
        ) {
            (Some(l), _) if loss >= l => Some(format!(
                "daily_loss_limit: portfolio value {pv_cents}¢ is {loss}¢ below the day's start \
                 {}¢ (limit {l}¢)",
                self.day_start_pv
            )),
            (_, Some(d)) if drawdown >= d => Some(format!(
                "max_drawdown: portfolio value {pv_cents}¢ is {drawdown}¢ below its peak {peak}¢ \
                 (limit {d}¢)"
            )),
            _ => None,
        };
        if why.is_some() {
            self.stopped.clone_from(&why);
        }
        why
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaker_opens_half_opens_and_closes() {
        let t0 = Instant::now();
        let mut b = Breaker::new(2, Duration::from_secs(10));
        assert_eq!(b.gate(t0), Gate::Closed);
        assert!(!b.failure(t0));
        assert!(b.failure(t0), "second failure opens");
        assert_eq!(b.gate(t0 + Duration::from_secs(5)), Gate::Open);
        assert_eq!(b.gate(t0 + Duration::from_secs(10)), Gate::Probe);
        assert!(
            b.failure(t0 + Duration::from_secs(10)),
            "a failed probe reopens"
        );
        assert_eq!(b.gate(t0 + Duration::from_secs(15)), Gate::Open);
        assert_eq!(b.gate(t0 + Duration::from_secs(21)), Gate::Probe);
        b.success();
        assert_eq!(b.gate(t0 + Duration::from_secs(21)), Gate::Closed);
        assert!(!b.is_open());
    }

    #[test]
    fn daily_loss_and_drawdown_stop_once() {
        let mut r = RiskState::new(AccountRisk {
            daily_loss_limit_cents: Some(1_000),
            max_drawdown_cents: Some(600),
        });
        assert_eq!(r.observe(100_000, 1), None);
        assert_eq!(r.observe(100_800, 1), None);
        let why = r.observe(100_200, 1).unwrap();
        assert!(why.starts_with("max_drawdown"), "{why}");
        assert_eq!(r.observe(90_000, 1), None, "reported once");
        assert!(r.stopped.is_some());
        let mut r = RiskState::new(AccountRisk {
            daily_loss_limit_cents: Some(1_000),
            max_drawdown_cents: None,
        });
        r.observe(50_000, 7);
        assert!(
            r.observe(49_000, 7)
                .unwrap()
                .starts_with("daily_loss_limit")
        );
    }
}
