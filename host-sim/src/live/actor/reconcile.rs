//! Start-up (market checks, adoption of the venue's positions and of our resting orders),
//! reconciliation with the venue, and the cancel-everything-of-ours path at the end.
//!
//! Reads lag writes, so nothing is concluded from one read: a position or cash difference is
//! adopted only when the same difference shows at two reconciliations in a row, and a
//! tracked order missing from the listing is forgotten only after two misses at least
//! [`GONE_AFTER`](super::GONE_AFTER) apart, and is cancelled anyway when it is.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::{Actor, LiveVenue, Working};
use crate::venue::{Fill, MarketStatus, VenueError};

impl<V: LiveVenue> Actor<V> {
    /// Check each market's price grid and status, then reconcile (adopting the venue's
    /// positions, cash and our resting orders).
    pub(super) fn start_up(&mut self) {
        for i in 0..self.markets.len() {
            self.check_market(i);
        }
        self.reconcile();
    }

    /// Read market `i`'s price grid and status once: a grid the core cannot represent
    /// refuses the market; a paused (`inactive`) market is paused, one that is otherwise not
    /// open is closed. `false` when the venue could not be read (tried again before the
    /// market's next order).
    pub(super) fn check_market(&mut self, i: usize) -> bool {
        if self.markets[i].checked {
            return true;
        }
        let ticker = self.markets[i].ticker.clone();
        match self.venue.market_info(&ticker) {
            Ok(info) => {
                self.markets[i].checked = true;
                match info.check_tradable() {
                    Err(e) => self.refuse_market(i, e.reason),
                    Ok(()) if info.status == MarketStatus::Inactive => {
                        self.pause_market(i, "paused: market status is inactive");
                    }
                    Ok(()) if !info.status.is_tradable() => {
                        let why = format!("market status is {:?}", info.status).to_lowercase();
                        self.close_market(i, &why);
                    }
                    Ok(()) => self.markets[i].close_ts = info.close_time_s,
                }
                true
            }
            Err(e) => {
                self.note(json!({"kind": "market_info", "ticker": ticker, "error": e.to_string()}));
                false
            }
        }
    }

    /// Paused markets whose `activated` message may have been lost (a disconnect): the
    /// venue's status is read again, and an active market trades again.
    fn recheck_paused(&mut self) {
        for i in 0..self.markets.len() {
            if !matches!(self.markets[i].closed, Some(super::Halt::Paused(_))) {
                continue;
            }
            let ticker = self.markets[i].ticker.clone();
            match self.venue.market_info(&ticker) {
                Ok(info) if info.status.is_tradable() => {
                    self.reopen_market(i, "the venue reports the market active");
                }
                Ok(_) => {}
                Err(e) => self
                    .note(json!({"kind": "market_info", "ticker": ticker, "error": e.to_string()})),
            }
        }
    }

    fn refuse_market(&mut self, i: usize, reason: String) {
        if self.markets[i].refused.is_some() {
            return;
        }
        let ticker = self.markets[i].ticker.clone();
        eprintln!(
            "live: market {ticker} is refused for trading: {reason}; the other markets keep trading"
        );
        self.note(json!({"kind": "market_refused", "ticker": ticker, "reason": reason}));
        self.markets[i].refused = Some(reason);
        self.report.markets_refused += 1;
    }

    /// Compare positions, balance and working orders with the venue; log differences and
    /// adopt the venue's numbers as described in the module docs. Returns whether it
    /// completed.
    pub fn reconcile(&mut self) -> bool {
        let first = !self.started;
        let answer = (|| -> Result<_, VenueError> {
            let fills = self.venue.fills()?;
            if self.venue.fills_truncated() {
                self.fills_lost = true;
            }
            Ok((
                fills,
                self.venue.positions()?,
                self.venue.balance()?,
                self.venue.working_orders()?,
            ))
        })();
        let (fills, positions, balance, working) = match answer {
            Ok(x) => x,
            Err(e) => {
                self.note(json!({"kind": "reconcile", "error": e.to_string()}));
                self.report.venue_errors += 1;
                self.needs_reconcile = true;
                return false;
            }
        };
        let live = self.venue.is_live();
        // Fills were left out of a listing (too many to list): the venue's positions and
        // cash are adopted at once, and every fill reported so far counts as applied.
        let lost = std::mem::take(&mut self.fills_lost);
        if lost {
            self.note(json!({"kind": "fills_lost", "first": first,
                "reason": "fills listing cut at its page limit; the venue's positions and balance are adopted"}));
        }
        let mut diffs = Vec::new();
        self.take_fills(&fills, first);
        for p in &positions {
            if p.position_centi % 100 != 0
                && let Some(&i) = self.index.get(&p.ticker)
            {
                self.refuse_market(i, format!("fractional position {}", p.position_centi));
            }
        }
        if live && !first {
            // A determined market the venue has settled while its `settled` message was lost
            // (a disconnect): the venue holds none of it any more; credit the payout once.
            for i in 0..self.markets.len() {
                let m = &self.markets[i];
                let gone = !positions
                    .iter()
                    .any(|p| p.ticker == m.ticker && p.position_contracts != 0);
                if let Some(result) = m.result
                    && !m.settled
                    && m.venue_position != 0
                    && gone
                {
                    self.note(json!({"kind": "settlement_inferred", "ticker": m.ticker,
                        "reason": "determined, and the venue no longer holds the position"}));
                    self.settle_venue(i, result);
                }
            }
        }
        for i in 0..self.markets.len() {
            let m = &mut self.markets[i];
            let theirs = positions
                .iter()
                .find(|p| p.ticker == m.ticker)
                .map_or(0, |p| p.position_contracts);
            let ours = if live {
                m.venue_position
            } else {
                m.session.engine().account().position()
            };
            if first || !live || lost {
                if ours != theirs && !first {
                    diffs.push(json!({"ticker": m.ticker, "field": "position",
                        "ours": ours, "venue": theirs, "adopted": true}));
                }
                m.venue_position = theirs;
                m.position_mismatch = None;
                if lost {
                    for (mi, reported, applied) in self.order_fills.values_mut() {
                        if *mi == i {
                            *applied = (*applied).max(*reported);
                        }
                    }
                }
            } else if ours == theirs {
                m.position_mismatch = None;
                // The venue's position confirms every fill of this market was seen.
                for (mi, reported, applied) in self.order_fills.values_mut() {
                    if *mi == i {
                        *applied = (*applied).max(*reported);
                    }
                }
            } else {
                let adopt = m.position_mismatch == Some(theirs);
                diffs.push(json!({"ticker": m.ticker, "field": "position",
                    "ours": ours, "venue": theirs, "adopted": adopt}));
                if adopt {
                    m.venue_position = theirs;
                    m.position_mismatch = None;
                } else {
                    m.position_mismatch = Some(theirs);
                }
            }
        }
        let ours_cash = if live {
            self.venue_cash
        } else {
            self.markets
                .iter()
                .map(|m| m.session.engine().account().cash().0)
                .sum()
        };
        if first || !live || lost {
            if ours_cash != balance.0 && !first {
                diffs.push(
                    json!({"field": "balance", "ours": ours_cash, "venue": balance.0,
                    "adopted": true}),
                );
            }
            self.adopt_cash(balance.0);
            self.cash_mismatch = None;
        } else if ours_cash == balance.0 {
            self.cash_mismatch = None;
        } else {
            // The same offset twice in a row is adopted (the balance itself moves with every
            // fill; an offset that persists is not a fill in transit).
            let offset = ours_cash - balance.0;
            let adopt = self.cash_mismatch == Some(offset);
            diffs.push(
                json!({"field": "balance", "ours": ours_cash, "venue": balance.0,
                "adopted": adopt}),
            );
            if adopt {
                self.adopt_cash(balance.0);
                self.cash_mismatch = None;
            } else {
                self.cash_mismatch = Some(offset);
            }
        }
        let foreign = self.reconcile_orders(&working, first, &mut diffs);
        if live {
            self.recheck_paused();
        }
        // Forget the fill counts of orders that are done and fully applied.
        let current: HashSet<String> = self
            .markets
            .iter()
            .filter_map(|m| m.working.as_ref().map(|w| w.order_id.clone()))
            .collect();
        self.order_fills
            .retain(|id, (_, reported, applied)| current.contains(id) || reported > applied);
        self.started = true;
        self.report.reconciliations += 1;
        self.report.discrepancies += diffs.len() as u64;
        self.needs_reconcile = false;
        let positions: Value = positions
            .iter()
            .map(|p| (p.ticker.clone(), Value::from(p.position_contracts)))
            .collect::<serde_json::Map<_, _>>()
            .into();
        self.note(
            json!({"kind": "reconcile", "first": first, "positions": positions,
            "balance": balance.0, "working_orders": working.len(),
            "foreign_orders_left_alone": foreign, "discrepancies": diffs}),
        );
        self.drain_warnings();
        true
    }

    /// Take the venue's balance (cents) as the cash. Its fraction of a cent, if any, is
    /// unknown, so no fee credit is carried past it (the safe side: the next fee is rounded
    /// up afresh).
    fn adopt_cash(&mut self, cents: i64) {
        self.venue_cash = cents;
        self.fee_credit_micros = 0;
    }

    /// The REST fills: on the first call the recent past (marked seen, not applied: the
    /// adopted positions include it); later, the ones the `fill` channel missed.
    fn take_fills(&mut self, fills: &[Fill], first: bool) {
        for f in fills {
            if first {
                self.seen_fills.insert(f.fill_id.clone());
            } else {
                self.on_fill(f, "rest");
            }
        }
    }

    /// Our orders (client order id with our prefix) in our markets are tracked or adopted;
    /// an extra one in a market that already has its working order is cancelled; orders we
    /// did not place are left alone. Returns how many of those there were.
    fn reconcile_orders(
        &mut self,
        working: &[crate::venue::WorkingOrder],
        first: bool,
        diffs: &mut Vec<Value>,
    ) -> usize {
        let prefix = self.config.own_prefix();
        let listed: HashSet<&str> = working.iter().map(|w| w.order_id.as_str()).collect();
        let live = self.venue.is_live();
        let mut gone = Vec::new();
        for m in &mut self.markets {
            let Some(w) = m.working.as_mut() else {
                continue;
            };
            if listed.contains(w.order_id.as_str()) {
                w.misses = 0;
                w.first_miss = None;
                continue;
            }
            w.misses += 1;
            let first = *w.first_miss.get_or_insert_with(std::time::Instant::now);
            if !live || (w.misses >= 2 && first.elapsed() >= super::GONE_AFTER) {
                gone.push((m.ticker.clone(), w.order_id.clone()));
            }
        }
        if !gone.is_empty() {
            // Gone as far as the listings can tell; cancelled anyway, in case they still lag.
            let results = if live {
                self.venue.cancel_orders(&gone)
            } else {
                gone.iter().map(|_| Ok(())).collect()
            };
            for ((ticker, id), r) in gone.iter().zip(results) {
                let was_live = r.is_ok() && live;
                diffs.push(json!({"ticker": ticker, "field": "working_order_gone",
                    "order_id": id, "was_still_resting": was_live}));
                if let Some(&i) = self.index.get(ticker) {
                    let m = &mut self.markets[i];
                    m.working = None;
                    if live {
                        m.session.engine_mut().cancel_working();
                    }
                }
            }
        }
        let mut foreign = 0;
        let mut extra = Vec::new();
        for w in working {
            let Some(&i) = self.index.get(&w.ticker) else {
                continue;
            };
            if !w.client_order_id.starts_with(&prefix) {
                foreign += 1;
                continue;
            }
            let m = &mut self.markets[i];
            if m.working.as_ref().is_some_and(|x| x.order_id == w.order_id) {
                continue;
            }
            if m.unresolved_is(&w.client_order_id) {
                m.unresolved = None;
            }
            if m.working.is_none() {
                m.working = Some(Working {
                    order_id: w.order_id.clone(),
                    client_order_id: w.client_order_id.clone(),
                    initial: 0,
                    misses: 0,
                    first_miss: None,
                });
                diffs.push(json!({"ticker": w.ticker, "field": "adopted_order",
                    "order_id": w.order_id, "client_order_id": w.client_order_id,
                    "on_start": first}));
            } else {
                extra.push((w.ticker.clone(), w.order_id.clone()));
            }
        }
        if !extra.is_empty() {
            let results = self.venue.cancel_orders(&extra);
            for ((ticker, id), r) in extra.iter().zip(results) {
                diffs.push(
                    json!({"ticker": ticker, "field": "extra_own_order", "order_id": id,
                    "cancelled": r.is_ok() || matches!(r, Err(VenueError::NotFound(_)))}),
                );
            }
        }
        foreign
    }

    /// Cancel every resting order of ours in our markets (end of run and kill switch), by
    /// batch; orders we did not place are left alone.
    pub(super) fn cancel_all(&mut self) {
        let prefix = self.config.own_prefix();
        // (ticker, order id, client order id)
        let mut targets: Vec<(String, String, String)> = match self.venue.working_orders() {
            Ok(list) => list
                .into_iter()
                .filter(|w| self.index.contains_key(&w.ticker))
                .filter(|w| w.client_order_id.starts_with(&prefix))
                .map(|w| (w.ticker, w.order_id, w.client_order_id))
                .collect(),
            Err(_) => Vec::new(),
        };
        for m in &self.markets {
            if let Some(w) = &m.working
                && !targets.iter().any(|(_, o, _)| o == &w.order_id)
            {
                // Tracked but not listed (reads lag writes): cancel it anyway.
                targets.push((
                    m.ticker.clone(),
                    w.order_id.clone(),
                    w.client_order_id.clone(),
                ));
            }
        }
        let pairs: Vec<(String, String)> = targets
            .iter()
            .map(|(t, o, _)| (t.clone(), o.clone()))
            .collect();
        let results = if pairs.is_empty() {
            Vec::new()
        } else {
            self.venue.cancel_orders(&pairs)
        };
        let mut lines = Vec::new();
        for ((ticker, id, coid), r) in targets.iter().zip(results) {
            let ok = r.is_ok();
            if ok {
                self.report.cancelled_on_stop += 1;
            }
            lines.push(
                json!({"ticker": ticker, "order_id": id, "client_order_id": coid,
                "cancelled": ok, "error": r.err().map(|e| e.to_string())}),
            );
        }
        for m in &mut self.markets {
            m.working = None;
            m.session.engine_mut().cancel_working();
        }
        self.note(json!({"kind": "cancel_all", "orders": lines}));
    }
}
