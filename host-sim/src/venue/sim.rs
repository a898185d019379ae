//! [`SimVenue`]: the core's matching behind the [`Venue`] trait.
//!
//! One [`Engine`] per market, fed book events (a replayed or synthetic tape, or live market
//! data through [`PaperVenue`](super::PaperVenue)). An [`OrderRequest`] is executed by the
//! engine's own step, so fills, fees, netting, limits and the single working order are exactly
//! the environment's (SPEC §3–§6):
//!
//! - the request's `(contract, action)` names the intent and its `count` must be the size of
//!   one tier under the engine's sizing mode; its price must be the price the engine's pricing
//!   mode gives that intent on the current book. Anything else is refused
//!   ([`VenueError::Rejected`]): the core only executes orders its action space can express;
//! - an order the limits refuse is [`VenueError::Rejected`] with the limit's name;
//! - placing an order in a market with a working order cancels it first (one working order
//!   per market, SPEC §3);
//! - a `client_order_id` already seen returns the original acknowledgement and books nothing.
//!
//! Each market's engine has its own account starting with the configured initial cash (the
//! environment's per-episode allocation); [`Venue::balance`] is the sum over markets.

use std::collections::{BTreeMap, HashMap};

use kalsim_core::{
    Action, CentiContracts, Cents, Contracts, Engine, EngineConfig, EventOutcome, Intent,
    LimitViolation, Price, Rng, Side, Tier, action::encode,
};

use super::{
    Fill, OrderAck, OrderAction, OrderRequest, OrderStatus, PositionInfo, Venue, VenueError,
    WorkingOrder, valid_client_order_id,
};
use crate::data::{BookEvent, MarketTape};
use crate::wire::fixed::MICROS_PER_CENT;

/// The intent an order names (SPEC §3's table read backwards).
pub fn request_intent(contract: Side, action: OrderAction) -> Intent {
    match (contract, action) {
        (Side::Yes, OrderAction::Buy) => Intent::BuyYes,
        (Side::Yes, OrderAction::Sell) => Intent::SellYes,
        (Side::No, OrderAction::Buy) => Intent::BuyNo,
        (Side::No, OrderAction::Sell) => Intent::SellNo,
    }
}

/// A refusal by the simulated venue (code: the limit's or rule's name).
fn rejected(code: &str, reason: String) -> VenueError {
    VenueError::Rejected {
        endpoint: "sim place_order".into(),
        status: 400,
        code: code.to_owned(),
        reason,
    }
}

/// The first tier that trades `count` contracts under the engine's sizing mode.
pub fn tier_for_count(config: &EngineConfig, count: Contracts) -> Option<Tier> {
    Tier::ALL
        .into_iter()
        .find(|t| config.sizes.size(*t) == count)
}

#[derive(Clone, Debug)]
struct SimOrder {
    order_id: String,
    client_order_id: String,
    contract: Side,
    action: OrderAction,
    price: Price,
}

/// One market: its engine and the venue's record of the working order.
#[derive(Clone, Debug)]
pub struct SimMarket {
    engine: Engine,
    working: Option<SimOrder>,
}

impl SimMarket {
    /// The market's engine (book, account, working order).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

/// The simulated venue: the environment's rules behind [`Venue`].
#[derive(Clone, Debug)]
pub struct SimVenue {
    markets: BTreeMap<String, SimMarket>,
    acks: HashMap<String, OrderAck>,
    bookings: HashMap<String, u32>,
    fills: Vec<Fill>,
    fills_reported: usize,
    next_id: u64,
}

impl SimVenue {
    /// A venue over `markets`, each with an engine built from `config_for(ticker)` and seeded
    /// from `seed` and the market's index (`Rng::derive(seed, index + 1)`).
    pub fn new(
        tickers: &[String],
        seed: u64,
        mut config_for: impl FnMut(&str) -> EngineConfig,
    ) -> SimVenue {
        let markets = tickers
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let engine = Engine::new(config_for(t), Rng::derive(seed, i as u64 + 1).next_u64());
                (
                    t.clone(),
                    SimMarket {
                        engine,
                        working: None,
                    },
                )
            })
            .collect();
        SimVenue {
            markets,
            acks: HashMap::new(),
            bookings: HashMap::new(),
            fills: Vec::new(),
            fills_reported: 0,
            next_id: 1,
        }
    }

    /// The market `ticker`, if the venue trades it.
    pub fn market(&self, ticker: &str) -> Option<&SimMarket> {
        self.markets.get(ticker)
    }

    /// Orders booked per `client_order_id` (above 1 would be a duplicate; it never is).
    pub fn orders_per_client_order_id(&self) -> &HashMap<String, u32> {
        &self.bookings
    }

    fn market_mut(&mut self, ticker: &str) -> Result<&mut SimMarket, VenueError> {
        self.markets
            .get_mut(ticker)
            .ok_or_else(|| VenueError::NotFound(format!("market {ticker}")))
    }

    /// Replace `ticker`'s book with a snapshot, then match its working order.
    pub fn apply_snapshot(
        &mut self,
        ticker: &str,
        yes: &[(Price, CentiContracts)],
        no: &[(Price, CentiContracts)],
    ) -> Result<EventOutcome, VenueError> {
        let m = self.market_mut(ticker)?;
        let out = m
            .engine
            .apply_snapshot(yes, no)
            .map_err(|e| VenueError::InvalidRequest(format!("{ticker} snapshot: {e}")))?;
        self.after_event(ticker, out);
        Ok(out)
    }

    /// Apply a depth change to `ticker`'s book, then match its working order.
    pub fn apply_delta(
        &mut self,
        ticker: &str,
        side: Side,
        price: Price,
        delta_centi: i64,
    ) -> Result<EventOutcome, VenueError> {
        let m = self.market_mut(ticker)?;
        let out = m
            .engine
            .apply_delta(side, price, delta_centi)
            .map_err(|e| VenueError::InvalidRequest(format!("{ticker} delta: {e}")))?;
        self.after_event(ticker, out);
        Ok(out)
    }

    /// Apply event `index` of a replayed tape to its market.
    pub fn apply_tape_event(
        &mut self,
        tape: &MarketTape,
        index: usize,
    ) -> Result<EventOutcome, VenueError> {
        let ev = tape.events.get(index).ok_or_else(|| {
            VenueError::InvalidRequest(format!("{}: no event {index}", tape.ticker))
        })?;
        match ev.event {
            BookEvent::Snapshot { yes, no } => self.apply_snapshot(
                &tape.ticker,
                tape.snapshot_levels(yes),
                tape.snapshot_levels(no),
            ),
            BookEvent::Delta {
                side,
                price,
                delta_centi,
            } => self.apply_delta(&tape.ticker, side, price, delta_centi),
        }
    }

    /// Settle `ticker` (SPEC §5): its working order is cancelled and winners paid.
    pub fn settle(&mut self, ticker: &str, result: Side) -> Result<Cents, VenueError> {
        let m = self.market_mut(ticker)?;
        m.working = None;
        Ok(m.engine.settle(result))
    }

    fn next_id(&mut self, prefix: &str) -> String {
        let id = format!("{prefix}-{:06}", self.next_id);
        self.next_id += 1;
        id
    }

    /// Record the resting fills of an event and forget a working order that is done.
    fn after_event(&mut self, ticker: &str, out: EventOutcome) {
        let Some(m) = self.markets.get(ticker) else {
            return;
        };
        let done = m.engine.working_order().is_none();
        if let (Some(w), true) = (m.working.clone(), out.filled > 0) {
            let fill_id = self.next_id("sim-fill");
            self.fills.push(Fill {
                fill_id,
                order_id: w.order_id,
                ticker: ticker.to_owned(),
                contract: w.contract,
                action: w.action,
                count: Contracts(out.filled),
                price: w.price,
                is_taker: false,
                fee_cents: out.fee_cents,
                fee_micros: out.fee_cents * MICROS_PER_CENT,
            });
        }
        if done && let Some(m) = self.markets.get_mut(ticker) {
            m.working = None;
        }
    }
}

impl Venue for SimVenue {
    fn place_order(&mut self, order: &OrderRequest) -> Result<OrderAck, VenueError> {
        if !valid_client_order_id(&order.client_order_id) {
            return Err(VenueError::InvalidRequest(format!(
                "client_order_id {:?} must be 1..=64 chars of [A-Za-z0-9_:+=/-]",
                order.client_order_id
            )));
        }
        if let Some(ack) = self.acks.get(&order.client_order_id) {
            return Ok(ack.clone());
        }
        let m = self.market_mut(&order.ticker)?;
        let intent = request_intent(order.contract, order.action);
        let config = *m.engine.config();
        let tier = tier_for_count(&config, order.count).ok_or_else(|| {
            rejected(
                "not_a_tier",
                format!("{} contracts is not a size tier", order.count.0),
            )
        })?;
        let plan = m
            .engine
            .plan_order(intent, tier)
            .map_err(|v: LimitViolation| rejected(v.name(), v.to_string()))?;
        if plan.intent_price != order.price {
            return Err(rejected(
                "not_the_engine_price",
                format!(
                    "limit {}¢ is not the engine's {:?} price {}¢",
                    order.price.cents(),
                    config.pricing,
                    plan.intent_price.cents()
                ),
            ));
        }
        // The per-level fills of the take the step is about to do: the same `take` on a copy
        // of the same book.
        let mut levels: Vec<(u32, Price)> = Vec::new();
        let mut preview = m.engine.book().clone();
        preview.take(
            plan.buys.other(),
            plan.buy_limit.complement(),
            plan.size.0,
            |p, n| levels.push((n, p.complement())),
        );
        let outcome = m
            .engine
            .step_action(u32::from(encode(intent, tier)))
            .map_err(|e| rejected("step_refused", e.to_string()))?;
        if let Some(reason) = outcome.invalid {
            return Err(rejected(reason.name(), reason.to_string()));
        }
        debug_assert!(matches!(outcome.executed, Action::Trade { .. }));
        let remaining = m.engine.working_order().map_or(0, |w| w.remaining);
        let order_id = self.next_id("sim-ord");
        let mut fills = Vec::with_capacity(levels.len());
        let last = levels.len().saturating_sub(1);
        for (i, (n, bought_price)) in levels.into_iter().enumerate() {
            let fill_id = self.next_id("sim-fill");
            // A sale of a contract is a purchase of the other one at the complement.
            let price = if intent.is_sell() {
                bought_price.complement()
            } else {
                bought_price
            };
            fills.push(Fill {
                fill_id,
                order_id: order_id.clone(),
                ticker: order.ticker.clone(),
                contract: order.contract,
                action: order.action,
                count: Contracts(n),
                price,
                is_taker: true,
                // The step's fee rides on its last fill, so fills sum to the charge.
                fee_cents: if i == last { outcome.fee_cents } else { 0 },
                fee_micros: if i == last {
                    outcome.fee_cents * MICROS_PER_CENT
                } else {
                    0
                },
            });
        }
        self.fills.extend(fills);
        let m = self.market_mut(&order.ticker)?;
        m.working = (remaining > 0).then(|| SimOrder {
            order_id: order_id.clone(),
            client_order_id: order.client_order_id.clone(),
            contract: order.contract,
            action: order.action,
            price: order.price,
        });
        let ack = OrderAck {
            order_id,
            client_order_id: order.client_order_id.clone(),
            status: if remaining > 0 {
                OrderStatus::Resting
            } else {
                OrderStatus::Executed
            },
            filled: Contracts(outcome.filled),
            remaining: Contracts(remaining),
        };
        self.acks.insert(order.client_order_id.clone(), ack.clone());
        *self
            .bookings
            .entry(order.client_order_id.clone())
            .or_insert(0) += 1;
        Ok(ack)
    }

    fn cancel_order(&mut self, ticker: &str, order_id: &str) -> Result<(), VenueError> {
        let m = self.market_mut(ticker)?;
        match &m.working {
            Some(w) if w.order_id == order_id => {
                m.engine.cancel_working();
                m.working = None;
                Ok(())
            }
            _ => Err(VenueError::NotFound(format!(
                "no working order {order_id} in {ticker}"
            ))),
        }
    }

    fn working_orders(&mut self) -> Result<Vec<WorkingOrder>, VenueError> {
        Ok(self
            .markets
            .iter()
            .filter_map(|(t, m)| {
                let w = m.working.as_ref()?;
                let remaining = m.engine.working_order()?.remaining;
                Some(WorkingOrder {
                    order_id: w.order_id.clone(),
                    client_order_id: w.client_order_id.clone(),
                    ticker: t.clone(),
                    contract: w.contract,
                    action: w.action,
                    price: w.price,
                    remaining: Contracts(remaining),
                })
            })
            .collect())
    }

    fn positions(&mut self) -> Result<Vec<PositionInfo>, VenueError> {
        Ok(self
            .markets
            .iter()
            .filter(|(_, m)| m.engine.account().position() != 0)
            .map(|(t, m)| PositionInfo {
                ticker: t.clone(),
                position_contracts: m.engine.account().position(),
                position_centi: m.engine.account().position() * 100,
            })
            .collect())
    }

    fn balance(&mut self) -> Result<Cents, VenueError> {
        Ok(Cents(
            self.markets
                .values()
                .map(|m| m.engine.account().cash().0)
                .sum(),
        ))
    }

    fn fills(&mut self) -> Result<Vec<Fill>, VenueError> {
        let fresh = self.fills[self.fills_reported..].to_vec();
        self.fills_reported = self.fills.len();
        Ok(fresh)
    }

    fn find_order(
        &mut self,
        _ticker: &str,
        client_order_id: &str,
    ) -> Result<Option<OrderAck>, VenueError> {
        Ok(self.acks.get(client_order_id).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(c: u8) -> Price {
        Price::new(c).unwrap()
    }

    fn venue() -> SimVenue {
        let mut v = SimVenue::new(&["KX-A".to_owned()], 1, |_| EngineConfig {
            pricing: kalsim_core::PricingMode::Aggressive,
            ..EngineConfig::default()
        });
        let lv = |c: u8, n: u64| (p(c), CentiContracts(n * 100));
        v.apply_snapshot(
            "KX-A",
            &[lv(40, 100), lv(39, 50)],
            &[lv(55, 100), lv(54, 50)],
        )
        .unwrap();
        v
    }

    fn req(intent: Intent, n: u32, price: u8, coid: &str) -> OrderRequest {
        OrderRequest::from_intent("KX-A", intent, Contracts(n), p(price), coid).unwrap()
    }

    #[test]
    fn orders_run_through_the_engine() {
        let mut v = venue();
        // BUY_YES 10 at the YES ask 45 (aggressive pricing).
        let ack = v.place_order(&req(Intent::BuyYes, 10, 45, "a-1")).unwrap();
        assert_eq!(
            (ack.status, ack.filled),
            (OrderStatus::Executed, Contracts(10))
        );
        assert_eq!(v.positions().unwrap()[0].position_contracts, 10);
        // 10 × 45 + fee ceil(7 × 10 × 45 × 55 / 10 000) = 18.
        assert_eq!(v.balance().unwrap(), Cents(100_000 - 450 - 18));
        let fills = v.fills().unwrap();
        assert_eq!(fills.len(), 1);
        assert_eq!((fills[0].count, fills[0].price), (Contracts(10), p(45)));
        assert!(v.fills().unwrap().is_empty());
        // Same client order id: the original answer, nothing booked.
        let again = v.place_order(&req(Intent::BuyYes, 10, 45, "a-1")).unwrap();
        assert_eq!(again, ack);
        assert_eq!(v.orders_per_client_order_id()["a-1"], 1);
        // Not a tier, not the engine's price, a reduce-only sell without holdings: refused.
        assert!(matches!(
            v.place_order(&req(Intent::BuyYes, 7, 45, "a-2")),
            Err(VenueError::Rejected { .. })
        ));
        assert!(matches!(
            v.place_order(&req(Intent::BuyYes, 10, 44, "a-3")),
            Err(VenueError::Rejected { .. })
        ));
        let e = v
            .place_order(&req(Intent::SellNo, 5, 55, "a-4"))
            .unwrap_err();
        assert!(
            matches!(&e, VenueError::Rejected { code, .. } if code == "insufficient_holdings"),
            "{e}"
        );
    }

    #[test]
    fn resting_orders_fill_on_events_and_cancel() {
        let mut v = SimVenue::new(&["KX-A".to_owned()], 1, |_| EngineConfig {
            pricing: kalsim_core::PricingMode::Passive,
            ..EngineConfig::default()
        });
        let lv = |c: u8, n: u64| (p(c), CentiContracts(n * 100));
        v.apply_snapshot("KX-A", &[lv(40, 10)], &[lv(55, 10)])
            .unwrap();
        // Passive BUY_YES joins the YES bid at 40 behind 10 contracts.
        let ack = v.place_order(&req(Intent::BuyYes, 5, 40, "r-1")).unwrap();
        assert_eq!(ack.status, OrderStatus::Resting);
        assert_eq!(v.working_orders().unwrap().len(), 1);
        // The queue ahead trades away: nothing of ours fills yet.
        v.apply_delta("KX-A", Side::Yes, p(40), -1_000).unwrap();
        let fills = v.fills().unwrap();
        assert_eq!(fills.len(), 0);
        // The NO bid 61 is a YES ask of 39, through our bid at 40: 3 fill at our limit.
        v.apply_snapshot("KX-A", &[lv(38, 10)], &[lv(61, 3)])
            .unwrap();
        let fills = v.fills().unwrap();
        assert_eq!(fills.iter().map(|f| f.count.0).sum::<u32>(), 3);
        assert!(!fills[0].is_taker);
        let w = v.working_orders().unwrap();
        assert_eq!(w[0].remaining, Contracts(2));
        assert!(v.cancel_order("KX-A", "nope").is_err());
        v.cancel_order("KX-A", &ack.order_id).unwrap();
        assert!(v.working_orders().unwrap().is_empty());
        assert_eq!(v.positions().unwrap()[0].position_contracts, 3);
    }
}
