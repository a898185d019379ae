//! One decision: observe, act, check, send.

use std::time::Instant;

use kalsim_core::{
    ACTION_COUNT, Action, Cents, Intent, LimitViolation, OBS_DIM, OrderPlan, Side, Tier,
    action::decode, check_order, limits::Exposure,
};
use serde_json::{Value, json};

use super::risk::Gate;
use super::{Actor, LiveVenue, Working, unix_now_s};
use crate::live::log::obs_hash;
use crate::live::record::{DecisionRecord, Verdict};
use crate::venue::{OrderAck, OrderRequest, OrderStatus, VenueError};

fn ack_json(ack: &OrderAck) -> Value {
    json!({
        "order_id": ack.order_id,
        "status": ack.status.name(),
        "filled": ack.filled.0,
        "remaining": ack.remaining.0,
    })
}

fn err_json(stage: &str, e: &VenueError) -> Value {
    json!({ "error": e.to_string(), "stage": stage })
}

impl<V: LiveVenue> Actor<V> {
    pub(super) fn decide(&mut self, i: usize) -> DecisionRecord {
        let seq = self.seq;
        self.seq += 1;
        let m = &mut self.markets[i];
        let step = m.session.decisions();
        let mut obs = [0f32; OBS_DIM];
        // The environment's order (one MarketSession): the mask, then the observation.
        let mask = *match m.dt_override {
            Some(dt) => m.session.observe_with_dt(dt, &mut obs),
            None => m.session.observe(&mut obs),
        };
        m.session.begin_decision();
        let policy_mask = if self.config.venue_mask && self.venue.is_live() {
            self.venue_restricted(i, mask)
        } else {
            mask
        };
        let action = self.policy.act(&obs, &policy_mask);
        let m = &mut self.markets[i];
        let mut rec = DecisionRecord {
            seq,
            ticker: m.ticker.clone(),
            step,
            obs_hash: obs_hash(&obs),
            action,
            intent: Intent::Hold,
            tier: None,
            size: 0,
            price_cents: 0,
            verdict: Verdict::Hold,
            client_order_id: None,
            venue: Value::Null,
            position: 0,
            cash_cents: 0,
            note: None,
        };
        match decode(action) {
            Ok(Action::Hold) => {}
            Ok(Action::Trade { intent, tier }) => {
                rec.intent = intent;
                rec.tier = Some(tier);
                self.trade(i, intent, tier, &mut rec);
            }
            Err(_) => rec.verdict = Verdict::InvalidAction,
        }
        let acct = self.markets[i].session.engine().account();
        rec.position = acct.position();
        rec.cash_cents = acct.cash().0;
        self.report.decisions += 1;
        self.note(rec.to_json());
        self.drain_warnings();
        rec
    }

    /// `mask` less the trades the venue's own position and account would refuse (the
    /// observation keeps the engine's mask).
    fn venue_restricted(&self, i: usize, mut mask: [bool; ACTION_COUNT]) -> [bool; ACTION_COUNT] {
        for (a, allowed) in mask.iter_mut().enumerate().skip(1) {
            if let Ok(Action::Trade { intent, tier }) = decode(a as u32) {
                *allowed = self.plan_for(i, intent, tier).is_ok();
            }
        }
        mask
    }

    /// The order for a trade action: the engine's plan (its mask's rules), or, with
    /// `venue_mask` on a live venue, the engine's price checked against the venue's own
    /// position and account instead of the mirror's.
    fn plan_for(&self, i: usize, intent: Intent, tier: Tier) -> Result<OrderPlan, LimitViolation> {
        let engine = self.markets[i].session.engine();
        if !(self.config.venue_mask && self.venue.is_live()) {
            return engine.plan_order(intent, tier);
        }
        let cfg = engine.config();
        let price = kalsim_core::order::intent_price(
            engine.book(),
            intent,
            cfg.pricing,
            cfg.max_slippage_cents,
        )
        .map_err(|_| LimitViolation::NoPrice)?;
        let plan = OrderPlan::new(intent, cfg.sizes.size(tier), price);
        self.venue_guard(i, &plan)?;
        Ok(plan)
    }

    /// Whether `plan` only reduces the venue position (never refused by account stops).
    fn only_reduces(&self, i: usize, plan: &OrderPlan) -> bool {
        let pos = self.markets[i].venue_position;
        let opposite_held = match plan.buys {
            Side::Yes => (-pos).max(0),
            Side::No => pos.max(0),
        };
        i64::from(plan.size.0) <= opposite_held
    }

    fn trade(&mut self, i: usize, intent: Intent, tier: Tier, rec: &mut DecisionRecord) {
        let plan = match self.plan_for(i, intent, tier) {
            Ok(p) => p,
            Err(v) => {
                rec.verdict = Verdict::Masked(v);
                return;
            }
        };
        rec.size = plan.size.0;
        rec.price_cents = plan.intent_price.cents();
        let live = self.venue.is_live();
        if !self.check_market(i) {
            rec.verdict = Verdict::VenueError;
            rec.venue = json!({"error": "market information unavailable", "stage": "market_info"});
            return;
        }
        if let Some(why) = self.markets[i].refused.clone() {
            rec.verdict = Verdict::MarketRefused;
            rec.note = Some(why);
            return;
        }
        if let Some(halt) = &self.markets[i].closed {
            rec.verdict = Verdict::MarketClosed;
            rec.note = Some(halt.reason().to_owned());
            return;
        }
        let pv = self.account_pv();
        if let Some(why) = self.risk.observe(pv, unix_now_s() / 86_400) {
            self.note(json!({"kind": "risk_stop", "reason": why, "portfolio_value": pv}));
            eprintln!("live: new exposure stopped on every market: {why}");
        }
        if let Some(why) = self.risk.stopped.clone()
            && !self.only_reduces(i, &plan)
        {
            rec.verdict = Verdict::RiskStop;
            rec.note = Some(why);
            return;
        }
        if live && let Err(v) = self.venue_guard(i, &plan) {
            rec.verdict = Verdict::VenueLimit(v);
            return;
        }
        let now = Instant::now();
        let gate = self.markets[i].breaker.gate(now);
        if gate == Gate::Open {
            rec.verdict = Verdict::BreakerOpen;
            return;
        }
        if self.config.dry_run {
            rec.verdict = Verdict::DryRun;
            return;
        }
        if !self.config.min_order_interval.is_zero()
            && self.markets[i]
                .last_order_at
                .is_some_and(|t| now.duration_since(t) < self.config.min_order_interval)
        {
            rec.verdict = Verdict::Throttled;
            return;
        }
        if self.needs_reconcile && !self.reconcile() {
            rec.verdict = Verdict::VenueError;
            rec.venue = json!({"error": "reconciliation failed", "stage": "reconcile"});
            return;
        }
        if !self.resolve_unresolved(i) {
            rec.verdict = Verdict::Unresolved;
            rec.note = self.markets[i]
                .unresolved
                .as_ref()
                .map(|u| u.client_order_id.clone());
            return;
        }
        let ticker = self.markets[i].ticker.clone();
        // One working order per market: cancel it first; if that fails, send nothing.
        let mut sync = false;
        let had_working = self.markets[i].working.is_some();
        if let Some(w) = self.markets[i].working.clone() {
            match self.venue.cancel_order_reduced(&ticker, &w.order_id) {
                Ok(reduced) => {
                    self.markets[i].working = None;
                    if let Some(r) = reduced
                        && w.initial > 0
                    {
                        // What the cancel did not take off the book had filled.
                        let filled = w.initial.saturating_sub(r.0);
                        let e = self
                            .order_fills
                            .entry(w.order_id.clone())
                            .or_insert((i, 0, 0));
                        e.1 = e.1.max(filled);
                    }
                }
                Err(VenueError::NotFound(_)) => {
                    // Gone already: executed, expired or cancelled by the exchange; its
                    // last fills may still be on their way.
                    self.markets[i].working = None;
                    sync = live;
                }
                Err(e) => {
                    rec.verdict = Verdict::VenueError;
                    rec.venue = err_json("cancel", &e);
                    self.venue_failed(i, &e);
                    return;
                }
            }
        }
        if live && (sync || self.fills_pending(i).is_some()) {
            for attempt in 0..3 {
                if attempt > 0 {
                    std::thread::sleep(super::RESOLVE_PAUSE);
                }
                if !self.sync_fills() || self.fills_pending(i).is_none() {
                    break;
                }
            }
            if let Some(why) = self.fills_pending(i) {
                rec.verdict = Verdict::Unresolved;
                rec.note = Some(why);
                self.markets[i].session.engine_mut().cancel_working();
                return;
            }
        }
        // Last checks on the position as it is now (reconciliation and fill syncs above may
        // have moved it). A refusal here leaves nothing working: the mirror follows.
        if let Some(why) = self.risk.stopped.clone()
            && !self.only_reduces(i, &plan)
        {
            rec.verdict = Verdict::RiskStop;
            rec.note = Some(why);
            if had_working {
                self.markets[i].session.engine_mut().cancel_working();
            }
            return;
        }
        if live && let Err(v) = self.venue_guard(i, &plan) {
            rec.verdict = Verdict::VenueLimit(v);
            if had_working {
                self.markets[i].session.engine_mut().cancel_working();
            }
            return;
        }
        let coid = format!(
            "{}{}-{}-{}",
            self.config.own_prefix(),
            self.config.run_id,
            i,
            rec.seq
        );
        let engine_cfg = *self.markets[i].session.engine().config();
        let options = self
            .config
            .order_entry
            .options(&engine_cfg, intent, unix_now_s());
        let Some(req) =
            OrderRequest::from_intent(&ticker, intent, plan.size, plan.intent_price, &coid)
        else {
            return;
        };
        let req = req.with_options(options);
        rec.client_order_id = Some(coid.clone());
        self.markets[i].last_order_at = Some(now);
        match self.venue.place_order(&req) {
            Ok(ack) => {
                self.markets[i].breaker.success();
                self.report.orders_sent += 1;
                rec.verdict = Verdict::Sent;
                rec.venue = ack_json(&ack);
                let m = &mut self.markets[i];
                // The mirror executes the same action (on a simulated venue: the same step).
                let _ = m.session.engine_mut().step_action(rec.action);
                m.working = (ack.remaining.0 > 0 && !ack.status.is_terminal()).then(|| Working {
                    order_id: ack.order_id.clone(),
                    client_order_id: ack.client_order_id.clone(),
                    // The exchange may have capped the count (reduce-only): what it booked.
                    initial: ack.filled.0 + ack.remaining.0,
                    misses: 0,
                    first_miss: None,
                });
                if live {
                    let e = self
                        .order_fills
                        .entry(ack.order_id.clone())
                        .or_insert((i, 0, 0));
                    e.1 = e.1.max(ack.filled.0);
                }
                let m = &mut self.markets[i];
                if live {
                    // The venue is the truth: nothing of ours rests there, so nothing rests
                    // in the mirror either (immediate-or-cancel remainders).
                    if m.working.is_none() {
                        m.session.engine_mut().cancel_working();
                    }
                    // Positions move with the fills (the `fill` channel, or the REST
                    // back-fill at reconciliation), never with the acknowledgement.
                } else {
                    m.venue_position = m.session.engine().account().position();
                }
            }
            Err(e) => {
                rec.verdict = Verdict::VenueError;
                rec.venue = err_json("place", &e);
                // Whatever was working was cancelled above; the mirror follows.
                self.markets[i].session.engine_mut().cancel_working();
                if let VenueError::Unresolved {
                    client_order_id, ..
                } = &e
                {
                    self.markets[i].unresolved =
                        Some(super::Unresolved::new(client_order_id.clone()));
                }
                if e.is_market_paused() {
                    // Paused, not closed: the `activated` that ends the pause reopens it.
                    self.pause_market(i, "paused: the venue refused an order as paused");
                } else if e.is_market_closed() {
                    self.close_market(i, "closed: the venue refused an order as closed");
                } else {
                    self.venue_failed(i, &e);
                }
            }
        }
    }

    /// Settle a submit that had no clear answer before anything else is sent in market `i`:
    /// found resting → it becomes the working order (cancelled next); found done → forgotten;
    /// absent → forgotten only after two look-up misses at least [`GONE_AFTER`] apart, as
    /// a tracked order (a listing that lags must not make a live submit forgotten and a
    /// second order sent beside it). At most one look-up per call and per
    /// [`LOOK_UP_EVERY`](super::LOOK_UP_EVERY), no waiting: the other markets keep trading
    /// meanwhile. `false` while it cannot be settled.
    ///
    /// [`GONE_AFTER`]: super::GONE_AFTER
    fn resolve_unresolved(&mut self, i: usize) -> bool {
        let Some(coid) = self.markets[i]
            .unresolved
            .as_ref()
            .map(|u| u.client_order_id.clone())
        else {
            return true;
        };
        let ticker = self.markets[i].ticker.clone();
        let now = Instant::now();
        if let Some(u) = self.markets[i].unresolved.as_mut() {
            // Look-ups spaced out: a decision in between is only refused.
            if u.last_look
                .is_some_and(|t| now.duration_since(t) < super::LOOK_UP_EVERY)
            {
                return false;
            }
            u.last_look = Some(now);
        }
        match self.venue.find_order(&ticker, &coid) {
            Ok(Some(ack)) => {
                let m = &mut self.markets[i];
                m.unresolved = None;
                if ack.status == OrderStatus::Resting || ack.status == OrderStatus::Pending {
                    m.working = Some(Working {
                        order_id: ack.order_id.clone(),
                        client_order_id: coid.clone(),
                        initial: ack.filled.0 + ack.remaining.0,
                        misses: 0,
                        first_miss: None,
                    });
                }
                if self.venue.is_live() {
                    let e = self
                        .order_fills
                        .entry(ack.order_id.clone())
                        .or_insert((i, 0, 0));
                    e.1 = e.1.max(ack.filled.0);
                }
                self.note(json!({"kind": "resolved", "ticker": ticker,
                    "client_order_id": coid, "found": ack_json(&ack)}));
                true
            }
            Ok(None) => {
                let Some(u) = self.markets[i].unresolved.as_mut() else {
                    return true;
                };
                u.misses += 1;
                let first = *u.first_miss.get_or_insert_with(Instant::now);
                if u.misses >= 2 && first.elapsed() >= super::GONE_AFTER {
                    let misses = u.misses;
                    self.markets[i].unresolved = None;
                    self.note(json!({"kind": "resolved", "ticker": ticker,
                        "client_order_id": coid, "found": Value::Null, "misses": misses}));
                    true
                } else {
                    false
                }
            }
            Err(e) => {
                self.note(json!({"kind": "resolve_error", "ticker": ticker,
                    "client_order_id": coid, "error": e.to_string()}));
                false
            }
        }
    }

    /// SPEC §6 against the venue's own position and the shared account: rules 1–2 on this
    /// market's position, 3–4 on the account's portfolio value and cash (less what our
    /// resting buys may still spend).
    fn venue_guard(&self, i: usize, plan: &OrderPlan) -> Result<(), LimitViolation> {
        let m = &self.markets[i];
        let cfg = m.session.engine().config();
        let exposure = Exposure {
            position: m.venue_position,
            cash: Cents(self.venue_cash - self.reserved_cash(Some(i))),
            portfolio_value: Cents(self.venue_pv()),
        };
        check_order(
            plan,
            cfg.sell_mode,
            &cfg.limits.prepare(exposure),
            &cfg.fees,
        )
    }

    /// Worst-case cash our working orders in other markets may still spend, cents.
    fn reserved_cash(&self, except: Option<usize>) -> i64 {
        self.markets
            .iter()
            .enumerate()
            .filter(|(j, m)| Some(*j) != except && m.working.is_some())
            .filter_map(|(_, m)| m.session.engine().working_order())
            .map(|w| i64::from(w.remaining) * i64::from(w.plan.buy_limit.cents()))
            .sum()
    }

    /// The venue's cash plus every position marked as the engine marks its own (the
    /// configured mark of SPEC §5, with the core's rounding), cents.
    pub(super) fn venue_pv(&self) -> i64 {
        let marks: i64 = self
            .markets
            .iter()
            .filter(|m| !m.settled)
            .map(|m| {
                let engine = m.session.engine();
                let marks = engine
                    .last_prices()
                    .marks(engine.book(), engine.config().mark);
                let (n, mark_x2) = if m.venue_position >= 0 {
                    (m.venue_position, marks.yes_x2)
                } else {
                    (-m.venue_position, marks.no_x2)
                };
                n * i64::from(mark_x2) / 2
            })
            .sum();
        self.venue_cash + marks
    }

    /// The account's portfolio value: the venue's on live venues, the mirrors' otherwise.
    fn account_pv(&self) -> i64 {
        if self.venue.is_live() {
            self.venue_pv()
        } else {
            self.markets
                .iter()
                .map(|m| m.session.engine().portfolio_value().0)
                .sum()
        }
    }

    /// A venue failure in market `i`: its breaker counts it (aborts do not).
    pub(super) fn venue_failed(&mut self, i: usize, e: &VenueError) {
        self.report.venue_errors += 1;
        self.needs_reconcile = true;
        if matches!(e, VenueError::Aborted(_)) {
            return;
        }
        if self.markets[i].breaker.failure(Instant::now()) {
            self.report.breaker_trips += 1;
            let ticker = self.markets[i].ticker.clone();
            self.note(json!({"kind": "breaker_open", "ticker": ticker,
                "error": e.to_string(), "cool_down_ms": self.config.breaker_cool_down.as_millis() as u64}));
        }
    }
}
