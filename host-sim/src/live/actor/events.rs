//! What the venue tells the actor between decisions: fills (each trade id once; position,
//! cash and fees move as they happen), order updates, market lifecycle (pauses, closes,
//! results and settlement, SPEC §5).

use kalsim_core::Side;
use serde_json::json;

use super::{Actor, Halt, LiveVenue};
use crate::venue::{Fill, LifecycleEvent, OrderUpdate, VenueError};
use crate::wire::fixed::{MICROS_PER_CENT, micros_to_cents_up};

/// Cash change of a fill under Kalshi netting (SPEC §5), fee excluded: buying `n` of a
/// contract at `p` closes the other contract first (each closed pair returns 100¢), then
/// opens at `p`; selling a contract at `p` is buying the other at `100 − p`.
pub(crate) fn fill_cash(position: i64, fill: &Fill) -> i64 {
    let n = i64::from(fill.count.0);
    let p = i64::from(fill.price.cents());
    let (bought, price) = match fill.action {
        crate::venue::OrderAction::Buy => (fill.contract, p),
        crate::venue::OrderAction::Sell => (fill.contract.other(), 100 - p),
    };
    let opposite_held = match bought {
        Side::Yes => (-position).max(0),
        Side::No => position.max(0),
    };
    let closed = n.min(opposite_held);
    closed * (100 - price) - (n - closed) * price
}

/// The whole cents to take for a fee of `fee_micros` given the credit left by earlier
/// round-ups, and the credit after it. The account keeps whole cents while Kalshi charges
/// fees to $0.0001: a fee is rounded **up**, and what that took beyond the exact fee (under a
/// cent) pays the next fees first. The cents taken so far are therefore always the exact fees
/// so far rounded up as a whole — never less than the venue took (cash checks stay
/// conservative), never a cent more, so the cash equals a balance the venue rounds down.
pub(crate) fn fee_charge(fee_micros: i64, credit_micros: i64) -> (i64, i64) {
    let owed = fee_micros - credit_micros;
    let cents = micros_to_cents_up(owed);
    (cents, cents * MICROS_PER_CENT - owed)
}

impl<V: LiveVenue> Actor<V> {
    /// Whether an order of ours in market `i` has fills the venue reported that were not
    /// applied yet.
    pub(super) fn fills_pending(&self, i: usize) -> Option<String> {
        self.order_fills
            .iter()
            .find(|(_, (m, reported, applied))| *m == i && reported > applied)
            .map(|(id, (_, r, a))| {
                format!("order {id}: {r} contracts reported filled, {a} applied")
            })
    }

    /// Apply the venue's recent fills (REST), for when a fill message was lost or is late;
    /// `false` when the venue could not be read.
    pub(super) fn sync_fills(&mut self) -> bool {
        match self.venue.fills() {
            Ok(fills) => {
                for f in &fills {
                    self.on_fill(f, "rest");
                }
                if self.venue.fills_truncated() {
                    // Fills were left out: the next reconciliation adopts the venue's numbers.
                    self.fills_lost = true;
                    self.needs_reconcile = true;
                }
                true
            }
            Err(e) => {
                self.note(json!({"kind": "fills_sync", "error": e.to_string()}));
                self.needs_reconcile = true;
                false
            }
        }
    }

    /// Apply a fill once (by trade id); `source` is `ws` or `rest` for the log.
    pub(super) fn on_fill(&mut self, fill: &Fill, source: &str) {
        if !self.seen_fills.insert(fill.fill_id.clone()) {
            return;
        }
        let Some(&i) = self.index.get(&fill.ticker) else {
            return;
        };
        if !self.venue.is_live() {
            // The mirror is the simulated venue's book of record; the fill is only logged.
            self.note(
                json!({"kind": "fill", "source": source, "fill_id": fill.fill_id,
                "ticker": fill.ticker, "count": fill.count.0, "price": fill.price.cents()}),
            );
            return;
        }
        let e = self
            .order_fills
            .entry(fill.order_id.clone())
            .or_insert((i, 0, 0));
        e.2 += fill.count.0;
        e.1 = e.1.max(e.2);
        let (fee, credit) = fee_charge(fill.fee_micros, self.fee_credit_micros);
        self.fee_credit_micros = credit;
        let m = &mut self.markets[i];
        let cash = fill_cash(m.venue_position, fill) - fee;
        m.venue_position += fill.signed_count();
        self.venue_cash += cash;
        self.report.fills_applied += 1;
        let (pos, bal) = (m.venue_position, self.venue_cash);
        self.note(
            json!({"kind": "fill", "source": source, "fill_id": fill.fill_id,
            "order_id": fill.order_id, "ticker": fill.ticker, "contract": fill.contract.name(),
            "action": fill.action.name(), "count": fill.count.0, "price": fill.price.cents(),
            "taker": fill.is_taker, "fee_cents": fee, "fee_micros": fill.fee_micros,
            "position": pos, "cash_cents": bal}),
        );
    }

    /// Our order changed: a terminal status ends the working order.
    pub(super) fn on_order_update(&mut self, o: &OrderUpdate) {
        let Some(&i) = self.index.get(&o.ticker) else {
            return;
        };
        // Fill counts are tracked for orders being followed: the working order, a submit
        // being resolved, or one whose fills are not all applied. A late update of an order
        // already done and reconciled must not bring it back as "fills pending".
        let followed = self.order_fills.contains_key(&o.order_id)
            || self.markets[i]
                .working
                .as_ref()
                .is_some_and(|w| w.order_id == o.order_id)
            || self.markets[i].unresolved_is(&o.client_order_id);
        if self.venue.is_live()
            && followed
            && o.client_order_id.starts_with(&self.config.own_prefix())
        {
            let e = self
                .order_fills
                .entry(o.order_id.clone())
                .or_insert((i, 0, 0));
            e.1 = e.1.max(o.filled.0);
        }
        let m = &mut self.markets[i];
        let ours = m.working.as_ref().is_some_and(|w| w.order_id == o.order_id);
        if ours && o.status.is_terminal() {
            m.working = None;
            if self.venue.is_live() {
                m.session.engine_mut().cancel_working();
            }
        }
        if m.unresolved_is(&o.client_order_id) && !o.client_order_id.is_empty() {
            m.unresolved = None;
            if !o.status.is_terminal() {
                m.working = Some(super::Working {
                    order_id: o.order_id.clone(),
                    client_order_id: o.client_order_id.clone(),
                    initial: o.filled.0 + o.remaining.0,
                    misses: 0,
                    first_miss: None,
                });
            }
        }
        self.note(
            json!({"kind": "order_update", "ticker": o.ticker, "order_id": o.order_id,
            "client_order_id": o.client_order_id, "status": o.status.name(),
            "filled": o.filled.0, "remaining": o.remaining.0}),
        );
    }

    /// Stop trading market `i` for good, cleanly: cancel our order there, no breaker trip.
    /// A paused market that closes stays closed.
    pub(super) fn close_market(&mut self, i: usize, why: &str) {
        self.halt_market(i, Halt::Closed(why.to_owned()));
    }

    /// Stop trading market `i` until the venue reports it active again (see
    /// [`reopen_market`](Self::reopen_market)); a closed market stays closed.
    pub(super) fn pause_market(&mut self, i: usize, why: &str) {
        self.halt_market(i, Halt::Paused(why.to_owned()));
    }

    /// A paused market `i` is active again: it trades again. Kalshi cancels every resting
    /// order when it reactivates a market, so nothing of ours works there any more. A market
    /// closed for good, or trading, is left as it is.
    pub(super) fn reopen_market(&mut self, i: usize, how: &str) {
        let m = &mut self.markets[i];
        let Some(Halt::Paused(why)) = m.closed.take_if(|h| matches!(h, Halt::Paused(_))) else {
            return;
        };
        m.working = None;
        m.session.engine_mut().cancel_working();
        let ticker = m.ticker.clone();
        self.note(
            json!({"kind": "market_reopened", "ticker": ticker, "paused": why,
            "reason": how}),
        );
    }

    fn halt_market(&mut self, i: usize, halt: Halt) {
        match (&self.markets[i].closed, &halt) {
            (None, _) | (Some(Halt::Paused(_)), Halt::Closed(_)) => {}
            _ => return,
        }
        let (why, paused) = (halt.reason().to_owned(), matches!(halt, Halt::Paused(_)));
        self.markets[i].closed = Some(halt);
        let ticker = self.markets[i].ticker.clone();
        let mut cancelled = None;
        if let Some(w) = self.markets[i].working.take() {
            let r = self.venue.cancel_order(&ticker, &w.order_id);
            // The exchange cancels resting orders of a closed market itself; NotFound is fine.
            cancelled = Some(matches!(r, Ok(()) | Err(VenueError::NotFound(_))));
        }
        self.markets[i].session.engine_mut().cancel_working();
        self.note(
            json!({"kind": "market_closed", "ticker": ticker, "reason": why, "paused": paused,
            "working_order_cancelled": cancelled}),
        );
    }

    pub(super) fn on_lifecycle(&mut self, l: &LifecycleEvent) {
        let Some(&i) = self.index.get(&l.ticker) else {
            return;
        };
        self.note(
            json!({"kind": "lifecycle", "ticker": l.ticker, "event_type": l.event_type,
            "close_ts": l.close_ts, "result": l.result.map(Side::name)}),
        );
        if let Some(close) = l.close_ts {
            // The observation's time to settlement, as replay reads it from the lifecycle.
            self.markets[i]
                .session
                .set_close_ts_ms(Some(crate::data::integer_timestamp_ms(close)));
        }
        match l.event_type.as_str() {
            "deactivated" => self.pause_market(i, "paused by the exchange (deactivated)"),
            "activated" => {
                self.reopen_market(i, "activated");
                // Kalshi cancels every resting order when it reactivates a market.
                let m = &mut self.markets[i];
                m.working = None;
                m.session.engine_mut().cancel_working();
            }
            "close_date_updated" => {
                self.markets[i].close_ts = l.close_ts;
                self.check_close_times();
            }
            "determined" => {
                self.close_market(i, "closed: result determined");
                if let Some(r) = l.result {
                    self.record_result(i, r);
                }
            }
            "settled" => {
                self.close_market(i, "closed: settled");
                if let Some(r) = l.result.or(self.markets[i].result) {
                    self.record_result(i, r);
                    self.settle_venue(i, r);
                }
            }
            _ => {}
        }
    }

    /// The result is known: the mirror settles exactly as the core settles in replay.
    fn record_result(&mut self, i: usize, result: Side) {
        let m = &mut self.markets[i];
        if m.result.is_some() {
            return;
        }
        m.result = Some(result);
        let payout = m.session.engine_mut().settle(result);
        let ticker = m.ticker.clone();
        let _ = self.venue.on_result(&ticker, result);
        if !self.venue.is_live() {
            self.markets[i].venue_position = 0;
        }
        self.note(
            json!({"kind": "result", "ticker": ticker, "result": result.name(),
            "mirror_payout_cents": payout.0}),
        );
    }

    /// The venue paid out: credit the winning contracts once (SPEC §5, no fee).
    pub(super) fn settle_venue(&mut self, i: usize, result: Side) {
        let m = &mut self.markets[i];
        if m.settled || !self.venue.is_live() {
            return;
        }
        m.settled = true;
        let pos = m.venue_position;
        let winners = match result {
            Side::Yes => pos.max(0),
            Side::No => (-pos).max(0),
        };
        m.venue_position = 0;
        self.venue_cash += 100 * winners;
        self.report.settlements += 1;
        let (ticker, cash) = (m.ticker.clone(), self.venue_cash);
        self.note(
            json!({"kind": "settlement", "ticker": ticker, "result": result.name(),
            "position": pos, "payout_cents": 100 * winners, "cash_cents": cash}),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::venue::OrderAction;
    use kalsim_core::{Contracts, Price};

    fn fill(contract: Side, action: OrderAction, n: u32, p: u8) -> Fill {
        Fill {
            fill_id: "f".into(),
            order_id: "o".into(),
            ticker: "T".into(),
            contract,
            action,
            count: Contracts(n),
            price: Price::new(p).unwrap(),
            is_taker: true,
            fee_cents: 0,
            fee_micros: 0,
        }
    }

    #[test]
    fn fill_cash_nets_per_spec_5() {
        assert_eq!(
            fill_cash(0, &fill(Side::Yes, OrderAction::Buy, 10, 45)),
            -450
        );
        // Selling 14 YES at 40 with 10 held: 10 close at 60 NO (+400), 4 open NO at 60 (−240).
        assert_eq!(
            fill_cash(10, &fill(Side::Yes, OrderAction::Sell, 14, 40)),
            160
        );
        // Buying 4 YES at 45 while short 4 (NO held): closes, +55 each.
        assert_eq!(
            fill_cash(-4, &fill(Side::Yes, OrderAction::Buy, 4, 45)),
            220
        );
        assert_eq!(fill_cash(0, &fill(Side::No, OrderAction::Buy, 3, 30)), -90);
    }

    #[test]
    fn sub_cent_fees_are_rounded_up_as_a_whole() {
        // Four fees of $0.0175 (1 contract at 50¢, rounded to $0.0001): 2¢, 2¢, 2¢, then 1¢ —
        // 7¢ in all, the exact $0.07, not the 8¢ of rounding each fee up.
        let mut credit = 0;
        let mut taken = Vec::new();
        for _ in 0..4 {
            let (c, next) = fee_charge(17_500, credit);
            taken.push(c);
            credit = next;
            assert!((0..MICROS_PER_CENT).contains(&credit));
        }
        assert_eq!((taken.as_slice(), credit), ([2, 2, 2, 1].as_slice(), 0));
        assert_eq!(fee_charge(17_500, 0), (2, 2_500));
        assert_eq!(fee_charge(0, 2_500), (0, 2_500));
        // Whole-cent fees leave no credit and take exactly their cents.
        assert_eq!(fee_charge(180_000, 0), (18, 0));
        // A credit covers a smaller fee entirely.
        assert_eq!(fee_charge(2_000, 5_000), (0, 3_000));
    }
}
