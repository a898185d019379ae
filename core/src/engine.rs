//! The step: decode → mask/limits → cancel/place → match → account (SPEC §3–§7).
//!
//! [`Engine`] owns one market's book, the agent's account, its single working order and the
//! seeded RNG. A front-end drives it with [`Engine::step_action`] (the agent's action against
//! the book at event `t`), then [`Engine::apply_snapshot`] / [`Engine::apply_delta`] (advance
//! the data to event `t + 1`, which also matches the working order), then reads
//! [`Engine::portfolio_value`] for the reward. Nothing here allocates.

use core::fmt;

use crate::account::{Account, LastPrices, MarkMode};
use crate::action::{ACTION_COUNT, Action, ActionError, Intent, SizeTable, Tier, decode};
use crate::book::{BookError, OrderBook, Side};
use crate::fees::{FeeSchedule, level_weight};
use crate::limits::{Exposure, LimitViolation, Limits, PreparedLimits};
use crate::order::{
    DEFAULT_MAX_SLIPPAGE_CENTS, OrderPlan, PricingMode, SellMode, SweepRemainder, intent_contract,
    intent_price, intent_prices,
};
use crate::queue::{QueueModel, QueueModelKind};
use crate::rng::Rng;
use crate::units::{CentiContracts, Cents, Price};

/// Everything that configures the rules of one environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EngineConfig {
    /// Size tiers and sizing mode (default 5/10/20/50/100, variable).
    pub sizes: SizeTable,
    /// Position limits (default: the plan's).
    pub limits: Limits,
    /// How limit prices are chosen (default sweep, SPEC §3).
    pub pricing: PricingMode,
    /// `sweep` pricing: worst-price allowance beyond the best price, cents (default 2).
    pub max_slippage_cents: u8,
    /// `sweep` pricing: cancel (default) or rest the unfilled remainder.
    pub sweep_remainder: SweepRemainder,
    /// Reduce-only sells (default) or sell-to-open.
    pub sell_mode: SellMode,
    /// Fee schedule (default Kalshi, maker fees off).
    pub fees: FeeSchedule,
    /// Portfolio marking (default liquidation).
    pub mark: MarkMode,
    /// When true a masked action is an error instead of a HOLD (default false).
    pub strict: bool,
    /// Cash at reset, cents (default 100 000 = $1 000).
    pub initial_cash: Cents,
    /// Queue model of resting orders (default FIFO).
    pub queue: QueueModelKind,
}

impl Default for EngineConfig {
    fn default() -> EngineConfig {
        EngineConfig {
            sizes: SizeTable::DEFAULT,
            limits: Limits::PLAN,
            pricing: PricingMode::Sweep,
            max_slippage_cents: DEFAULT_MAX_SLIPPAGE_CENTS,
            sweep_remainder: SweepRemainder::Cancel,
            sell_mode: SellMode::ReduceOnly,
            fees: FeeSchedule::KALSHI,
            mark: MarkMode::Liquidation,
            strict: false,
            initial_cash: Cents(100_000),
            queue: QueueModelKind::Fifo,
        }
    }
}

/// Why an action was executed as HOLD (or refused in strict mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InvalidAction {
    /// Actions 21..=24.
    Reserved,
    /// A limit, holdings or price rule (SPEC §6).
    Limit(LimitViolation),
}

impl InvalidAction {
    /// Stable snake_case code: `reserved` or the limit's name.
    pub const fn name(self) -> &'static str {
        match self {
            InvalidAction::Reserved => "reserved",
            InvalidAction::Limit(l) => l.name(),
        }
    }

    /// Stable numeric code for C/WASM: 0 is "none", 1..=7 the [`LimitViolation`]s, 8 reserved.
    pub const fn code(self) -> u8 {
        match self {
            InvalidAction::Reserved => 8,
            InvalidAction::Limit(l) => l as u8,
        }
    }

    /// The invalid action of a [`code`](Self::code); `None` for 0 ("none") and unknown codes.
    pub const fn from_code(code: u8) -> Option<InvalidAction> {
        match code {
            8 => Some(InvalidAction::Reserved),
            c => match LimitViolation::from_code(c) {
                Some(l) => Some(InvalidAction::Limit(l)),
                None => None,
            },
        }
    }
}

/// Largest `info.invalid_action` code ([`InvalidAction::code`]).
pub const INVALID_ACTION_MAX_CODE: u8 = 8;

/// Name of an `info.invalid_action` code, the one definition every front-end uses: `none`
/// (0), a rule's name (1..=7), `reserved` (8), `unknown` otherwise.
pub const fn invalid_action_name(code: u8) -> &'static str {
    match InvalidAction::from_code(code) {
        Some(a) => a.name(),
        None if code == 0 => "none",
        None => "unknown",
    }
}

impl fmt::Display for InvalidAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidAction::Reserved => f.write_str("reserved action (21..=24)"),
            InvalidAction::Limit(l) => fmt::Display::fmt(l, f),
        }
    }
}

/// A step that could not be executed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepError {
    /// The id is not in the action space (≥ 25): always an error.
    Action(ActionError),
    /// Strict mode: the action is masked, for this reason.
    Masked {
        /// The action id.
        action: u8,
        /// Why it is masked.
        reason: InvalidAction,
    },
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::Action(e) => fmt::Display::fmt(e, f),
            StepError::Masked { action, reason } => {
                write!(f, "action {action} is masked: {reason}")
            }
        }
    }
}

impl core::error::Error for StepError {}

/// The agent's most recent order, as reported in `info` (SPEC §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrderEcho {
    /// The intent.
    pub intent: Intent,
    /// The tier the action named.
    pub tier: Tier,
    /// Order size, contracts (`last_order_size`).
    pub size: u32,
    /// Limit price in the intent's contract, cents.
    pub limit: Price,
    /// Contracts filled so far (taker and resting).
    pub filled: u32,
    /// Σ fill price × contracts in the intent's contract price, cents (avg = notional / filled).
    pub notional_cents: i64,
    /// Fees charged to this order so far, cents.
    pub fees_cents: i64,
}

impl OrderEcho {
    /// Average fill price in the intent's contract, cents, or 0 when nothing filled.
    pub fn avg_fill_price(&self) -> f64 {
        if self.filled == 0 {
            0.0
        } else {
            self.notional_cents as f64 / self.filled as f64
        }
    }
}

/// What one action did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepOutcome {
    /// The action id received.
    pub action: u8,
    /// What was executed (HOLD when the action was invalid).
    pub executed: Action,
    /// Why the action was executed as HOLD, if it was.
    pub invalid: Option<InvalidAction>,
    /// The order placed by this action, if any.
    pub placed: Option<OrderEcho>,
    /// Contracts of the previous working order cancelled by this action.
    pub cancelled: u32,
    /// Contracts filled immediately (taker).
    pub filled: u32,
    /// Taker fee charged, cents.
    pub fee_cents: i64,
}

/// What a book event did to the working order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventOutcome {
    /// Contracts of the working order filled by this event.
    pub filled: u32,
    /// Maker fee charged, cents.
    pub fee_cents: i64,
}

/// The single working order of the agent in this market.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkingOrder {
    /// The order.
    pub plan: OrderPlan,
    /// Contracts not yet filled.
    pub remaining: u32,
    /// Displayed depth ahead of it at its level, centi-contracts.
    pub queue_ahead_centi: u64,
    /// Fill credit below one whole contract carried between events, centi-contracts.
    pub carry_centi: u64,
}

/// Upper bound on distinct fill levels of one order (prices 1..=99).
const MAX_LEVELS: usize = 99;

/// One market's rules engine. `Q` is the queue model (default: the configurable built-ins).
#[derive(Clone, Debug)]
pub struct Engine<Q: QueueModel = QueueModelKind> {
    config: EngineConfig,
    book: OrderBook,
    account: Account,
    working: Option<WorkingOrder>,
    last_order: Option<OrderEcho>,
    last_prices: LastPrices,
    queue: Q,
    rng: Rng,
    /// The working order's maker fills this step: `Σ cᵢ·Pᵢ·(100 − Pᵢ)` and the maker fee
    /// charged for them so far (SPEC §4: one fee per order per step, rounded up once).
    maker_step: MakerStep,
}

/// The working order's maker fills within the current step (see [`Engine::begin_step`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct MakerStep {
    weight: u64,
    charged: i64,
}

impl Engine<QueueModelKind> {
    /// An engine using the configured built-in queue model.
    pub fn new(config: EngineConfig, seed: u64) -> Engine<QueueModelKind> {
        Engine::with_queue_model(config, config.queue, seed)
    }
}

/// SPEC §6 for one planned order under `limits` prepared for an account: a reduce-only
/// sell must be covered by the contracts held at the prepared position, then the four
/// limits at the plan's limit price. The engine checks its own account with it (the mask,
/// `plan_order`, `check_planned`); the live actor checks the venue's position and cash
/// with it, so the rule lives once.
#[inline]
pub fn check_order(
    plan: &OrderPlan,
    sell_mode: SellMode,
    limits: &PreparedLimits,
    fees: &FeeSchedule,
) -> Result<(), LimitViolation> {
    if plan.intent.is_sell()
        && sell_mode == SellMode::ReduceOnly
        && crate::account::held(limits.position(), intent_contract(plan.intent))
            < u64::from(plan.size.0)
    {
        return Err(LimitViolation::InsufficientHoldings);
    }
    limits.check(plan.buys, plan.size.0, plan.buy_limit, fees)
}

impl<Q: QueueModel> Engine<Q> {
    /// An engine with a custom queue model.
    pub fn with_queue_model(config: EngineConfig, queue: Q, seed: u64) -> Engine<Q> {
        Engine {
            config,
            book: OrderBook::new(),
            account: Account::new(config.initial_cash),
            working: None,
            last_order: None,
            last_prices: LastPrices::UNQUOTED,
            queue,
            rng: Rng::new(seed),
            maker_step: MakerStep::default(),
        }
    }

    /// Start a new episode: empty book, fresh account, no orders, RNG reseeded.
    pub fn reset(&mut self, seed: u64) {
        self.book.clear();
        self.account = Account::new(self.config.initial_cash);
        self.working = None;
        self.last_order = None;
        self.last_prices = LastPrices::UNQUOTED;
        self.rng = Rng::new(seed);
        self.maker_step = MakerStep::default();
    }

    /// A new step begins (SPEC §4 charges the maker fee once per order per step, over all
    /// its fills in the step). [`Engine::step_action`] calls it; a host that decides with
    /// [`Engine::decide`] and executes later calls it at each decision.
    #[inline]
    pub fn begin_step(&mut self) {
        self.maker_step = MakerStep::default();
    }

    /// The configuration.
    pub const fn config(&self) -> &EngineConfig {
        &self.config
    }
    /// The book (with the agent's overlay).
    pub const fn book(&self) -> &OrderBook {
        &self.book
    }
    /// The ledger.
    pub const fn account(&self) -> &Account {
        &self.account
    }
    /// The working order, if any.
    pub const fn working_order(&self) -> Option<&WorkingOrder> {
        self.working.as_ref()
    }
    /// The most recent order placed this episode.
    pub const fn last_order(&self) -> Option<&OrderEcho> {
        self.last_order.as_ref()
    }
    /// The last valid prices (fallback marks).
    pub const fn last_prices(&self) -> &LastPrices {
        &self.last_prices
    }

    /// Portfolio value `cash + mark(position)`, cents (SPEC §5).
    pub fn portfolio_value(&self) -> Cents {
        self.account
            .portfolio_value(self.last_prices.marks(&self.book, self.config.mark))
    }

    /// Unrealised P&L of the open position, cents.
    pub fn unrealized_pnl(&self) -> Cents {
        self.account
            .unrealized_pnl(self.last_prices.marks(&self.book, self.config.mark))
    }

    #[inline]
    fn exposure(&self) -> Exposure {
        Exposure {
            position: self.account.position(),
            cash: self.account.cash(),
            portfolio_value: self.portfolio_value(),
        }
    }

    /// The limit price of `intent` now, in the intent's contract (SPEC §3).
    #[inline]
    fn limit_price(&self, intent: Intent) -> Option<Price> {
        intent_price(
            &self.book,
            intent,
            self.config.pricing,
            self.config.max_slippage_cents,
        )
        .ok()
    }

    /// Plan an order for a trade action, or say why it may not be placed (SPEC §3, §6).
    pub fn plan_order(&self, intent: Intent, tier: Tier) -> Result<OrderPlan, LimitViolation> {
        let price = self.limit_price(intent).ok_or(LimitViolation::NoPrice)?;
        let plan = OrderPlan::new(intent, self.config.sizes.size(tier), price);
        self.check_plan(&plan, &self.prepared_limits())?;
        Ok(plan)
    }

    /// The limits prepared against the account now (the state-only terms once).
    #[inline]
    fn prepared_limits(&self) -> PreparedLimits {
        self.config.limits.prepare(self.exposure())
    }

    #[inline]
    fn check_plan(&self, plan: &OrderPlan, limits: &PreparedLimits) -> Result<(), LimitViolation> {
        check_order(plan, self.config.sell_mode, limits, &self.config.fees)
    }

    /// The mask of SPEC §6: HOLD always, reserved never, a trade iff priced, within limits
    /// and (reduce-only sells) covered by holdings.
    pub fn action_mask(&self) -> [bool; ACTION_COUNT] {
        // One bit per action (HOLD always), spread into the bools at the end: byte stores of
        // a few tiers each, then the array read whole, stalled store forwarding.
        let mut bits: u32 = 1;
        // The state-only terms of the limits once, and the four intents' prices once from
        // the two best bids (the pricing mode matched once, not per intent).
        let limits = self.prepared_limits();
        let prices = intent_prices(
            &self.book,
            self.config.pricing,
            self.config.max_slippage_cents,
        );
        for (k, (intent, price)) in Intent::TRADES.into_iter().zip(prices).enumerate() {
            let Some(price) = price else {
                continue;
            };
            // Every rule is monotone in the order size (holdings needed, |position|, position
            // value, cost and worst-case fee all grow with it; an order that only closes passes
            // and a larger one is checked), and tier sizes never decrease. So the allowed tiers
            // of an intent are a prefix: find the largest allowed one from the top and stop.
            // The mask-consistency property checks this against `step_action`, tier by tier.
            for tier in Tier::ALL.into_iter().rev() {
                let plan = OrderPlan::new(intent, self.config.sizes.size(tier), price);
                if self.check_plan(&plan, &limits).is_ok() {
                    bits |= ((2u32 << tier.index()) - 1) << (1 + k * 5);
                    break;
                }
            }
        }
        core::array::from_fn(|i| bits >> i & 1 != 0)
    }

    /// Why `action` would be executed as HOLD, or `None` if it is allowed (errors for ids ≥ 25).
    pub fn action_invalid_reason(&self, action: u32) -> Result<Option<InvalidAction>, ActionError> {
        match decode(action) {
            Ok(Action::Hold) => Ok(None),
            Ok(Action::Trade { intent, tier }) => Ok(self
                .plan_order(intent, tier)
                .err()
                .map(InvalidAction::Limit)),
            Err(ActionError::Reserved(_)) => Ok(Some(InvalidAction::Reserved)),
            Err(e) => Err(e),
        }
    }

    /// Execute one action against the current book (SPEC §3, §6): a valid trade action cancels
    /// the working order, takes what it can up to its limit (taker fee, the levels it walks
    /// summed per SPEC §4) and rests the rest — except a `sweep` order, whose remainder is
    /// cancelled unless `sweep_remainder = rest`. A masked action is executed as HOLD with its
    /// reason, or refused when `strict`.
    pub fn step_action(&mut self, action: u32) -> Result<StepOutcome, StepError> {
        let (mut outcome, planned) = self.decide(action)?;
        self.begin_step();
        if let Some((plan, tier)) = planned {
            let (cancelled, filled, fee) = self.execute_plan(plan, tier);
            outcome.cancelled = cancelled;
            outcome.filled = filled;
            outcome.fee_cents = fee;
            outcome.placed = self.last_order;
        }
        Ok(outcome)
    }

    /// Decide what `action` does now without executing it (SPEC §6): the outcome of a HOLD
    /// or of a masked action (executed as HOLD with its reason; an error when `strict`), or,
    /// for an allowed trade, the outcome so far with the plan to send to the book — now
    /// ([`Engine::step_action`]) or later, after a simulated order latency
    /// ([`Engine::execute_plan`]). Ids ≥ 25 are an error.
    pub fn decide(
        &self,
        action: u32,
    ) -> Result<(StepOutcome, Option<(OrderPlan, Tier)>), StepError> {
        let planned = match decode(action) {
            Ok(Action::Hold) => Ok(None),
            Ok(Action::Trade { intent, tier }) => self
                .plan_order(intent, tier)
                .map(|p| Some((p, tier)))
                .map_err(InvalidAction::Limit),
            Err(ActionError::Reserved(_)) => Err(InvalidAction::Reserved),
            Err(e) => return Err(StepError::Action(e)),
        };
        let mut outcome = StepOutcome {
            action: action as u8,
            executed: Action::Hold,
            invalid: None,
            placed: None,
            cancelled: 0,
            filled: 0,
            fee_cents: 0,
        };
        match planned {
            Ok(None) => Ok((outcome, None)),
            Ok(Some((plan, tier))) => {
                outcome.executed = Action::Trade {
                    intent: plan.intent,
                    tier,
                };
                Ok((outcome, Some((plan, tier))))
            }
            Err(reason) if self.config.strict => Err(StepError::Masked {
                action: action as u8,
                reason,
            }),
            Err(reason) => {
                outcome.invalid = Some(reason);
                Ok((outcome, None))
            }
        }
    }

    /// Send a planned order to the book (an order that was planned earlier and arrives now,
    /// e.g. after a simulated order latency): cancel the working order, take up to the
    /// plan's limit, rest or cancel the remainder. The caller checked the plan
    /// ([`Engine::check_planned`]). Returns the contracts cancelled, filled and the fee.
    pub fn execute_plan(&mut self, plan: OrderPlan, tier: Tier) -> (u32, u32, i64) {
        let cancelled = self.working.take().map_or(0, |w| w.remaining);

        // Take: buying contract X up to limit L walks the other ladder at prices ≥ 100 − L.
        let mut fills = heapless::Vec::<(u32, Price), MAX_LEVELS>::new();
        let taken = self.book.take(
            plan.buys.other(),
            plan.buy_limit.complement(),
            plan.size.0,
            |p, n| {
                // At most one entry per price level: cannot overflow 99 entries.
                let _ = fills.push((n, p.complement()));
            },
        );
        let mut echo = OrderEcho {
            intent: plan.intent,
            tier,
            size: plan.size.0,
            limit: plan.intent_price,
            filled: taken,
            notional_cents: 0,
            fees_cents: 0,
        };
        let mut weight = 0u64;
        for &(n, price) in fills.iter() {
            self.account.buy(plan.buys, n, price);
            weight += level_weight(n, price);
            echo.notional_cents += n as i64 * intent_fill_price(&plan, price).cents() as i64;
        }
        let fee = self.config.fees.taker_from_weight(weight);
        self.account.charge_fee(fee);
        echo.fees_cents = fee.0;
        let remaining = plan.size.0 - taken;
        let rests = self.config.pricing != PricingMode::Sweep
            || self.config.sweep_remainder == SweepRemainder::Rest;
        if remaining > 0 && rests {
            self.maker_step = MakerStep::default(); // another order
            self.working = Some(WorkingOrder {
                plan,
                remaining,
                queue_ahead_centi: self.book.depth(plan.buys, plan.buy_limit).0,
                carry_centi: 0,
            });
        }
        self.last_order = Some(echo);
        self.last_prices.observe(&self.book);
        (cancelled, taken, fee.0)
    }

    /// Re-check an order planned earlier against the state now (SPEC §6): the holdings of a
    /// reduce-only sell and the four limits at the plan's limit price. An order in flight
    /// must pass this when it arrives, since fills may have changed the account meanwhile.
    pub fn check_planned(&self, plan: &OrderPlan) -> Result<(), LimitViolation> {
        self.check_plan(plan, &self.prepared_limits())
    }

    /// Replace the book with a snapshot (the overlay is kept, clamped to the new depth: SPEC
    /// §4), run the queue model on a decrease it shows at the working order's level (as a
    /// delta of the same size would: SPEC §4 fills a resting order when decreases at its
    /// level exhaust the queue ahead), then match the working order.
    pub fn apply_snapshot(
        &mut self,
        yes: &[(Price, CentiContracts)],
        no: &[(Price, CentiContracts)],
    ) -> Result<EventOutcome, BookError> {
        let before = self
            .working
            .map(|w| self.book.depth(w.plan.buys, w.plan.buy_limit).0);
        self.book.apply_snapshot(yes, no)?;
        let mut queue_fill_centi = 0;
        if let (Some(w), Some(before)) = (self.working.as_mut(), before) {
            let after = self.book.depth(w.plan.buys, w.plan.buy_limit).0;
            if after < before {
                let (ahead, fill) = self.queue.on_decrease(
                    w.queue_ahead_centi,
                    before,
                    before - after,
                    &mut self.rng,
                );
                w.queue_ahead_centi = ahead;
                queue_fill_centi = fill;
            }
            w.queue_ahead_centi = w.queue_ahead_centi.min(after);
        }
        Ok(self.after_event(queue_fill_centi))
    }

    /// Apply a signed depth change, run the queue model at the working order's level, then
    /// match the working order against the new book.
    pub fn apply_delta(
        &mut self,
        side: Side,
        price: Price,
        delta_centi: i64,
    ) -> Result<EventOutcome, BookError> {
        let effect = self.book.apply_delta(side, price, delta_centi)?;
        let mut queue_fill_centi = 0;
        if let Some(w) = self.working.as_mut()
            && w.plan.buys == side
            && w.plan.buy_limit == price
            && effect.after_centi < effect.before_centi
        {
            let decrease = effect.before_centi - effect.after_centi;
            let (ahead, fill) = self.queue.on_decrease(
                w.queue_ahead_centi,
                effect.before_centi,
                decrease,
                &mut self.rng,
            );
            w.queue_ahead_centi = ahead;
            queue_fill_centi = fill;
        }
        Ok(self.after_event(queue_fill_centi))
    }

    /// Settle the market (SPEC §5): cancel the working order, pay the winners. Returns the payout.
    pub fn settle(&mut self, result: Side) -> Cents {
        self.working = None;
        self.account.settle(result)
    }

    /// Cancel the working order, if any; returns its remaining contracts.
    pub fn cancel_working(&mut self) -> u32 {
        self.working.take().map_or(0, |w| w.remaining)
    }

    fn after_event(&mut self, queue_fill_centi: u64) -> EventOutcome {
        let mut out = EventOutcome::default();
        if let Some(mut w) = self.working {
            // Queue fills: the data's decreases reached the order.
            w.carry_centi += queue_fill_centi;
            let mut filled = ((w.carry_centi / 100).min(w.remaining as u64)) as u32;
            w.carry_centi -= filled as u64 * 100;
            // Crossing: the other side's bids now reach our limit; we fill as maker at our limit.
            if w.remaining > filled {
                let want = w.remaining - filled;
                filled += self.book.take(
                    w.plan.buys.other(),
                    w.plan.buy_limit.complement(),
                    want,
                    |_, _| {},
                );
            }
            if filled > 0 {
                let limit = w.plan.buy_limit;
                self.account.buy(w.plan.buys, filled, limit);
                // Charged as the fills happen (§5), rounded up once over the step's fills
                // (§4): each fill pays what the step's running total adds.
                let step = &mut self.maker_step;
                step.weight = step.weight.saturating_add(level_weight(filled, limit));
                let total = self.config.fees.maker_from_weight(step.weight).0;
                let fee = Cents(total - step.charged);
                step.charged = total;
                self.account.charge_fee(fee);
                w.remaining -= filled;
                out = EventOutcome {
                    filled,
                    fee_cents: fee.0,
                };
                if let Some(echo) = self.last_order.as_mut() {
                    echo.filled += filled;
                    echo.notional_cents +=
                        filled as i64 * intent_fill_price(&w.plan, limit).cents() as i64;
                    echo.fees_cents += fee.0;
                }
            }
            if w.remaining == 0 {
                w.carry_centi = 0;
            }
            self.working = if w.remaining > 0 { Some(w) } else { None };
        }
        self.last_prices.observe(&self.book);
        out
    }
}

/// A fill at `bought_price` (in the bought contract) expressed in the intent's contract price.
#[inline]
const fn intent_fill_price(plan: &OrderPlan, bought_price: Price) -> Price {
    if plan.intent.is_sell() {
        bought_price.complement()
    } else {
        bought_price
    }
}
