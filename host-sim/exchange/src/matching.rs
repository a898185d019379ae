//! The exchange's matching and accounting: V2 orders on the single YES book against the true
//! book (the core's [`OrderBook::take`], so own consumed depth is never taken twice), taker
//! fees by the core's schedule, resting orders that fill as makers when the book crosses
//! them, Kalshi netting (SPEC §5), expiry, lifecycle and settlement (paid once).

use std::time::Instant;

use kalsim_core::fees::level_weight;
use kalsim_core::{Price, Side};
use serde_json::{Value, json};

use super::contract::CreateOrder;
use super::{ExchangeConfig, FillRec, MarketState, OrderRec, State};
use kalsim_host_sim::venue::auth::now_ms;
use kalsim_host_sim::wire::fixed::{format_centi_contracts, format_price_dollars};

/// A refusal: HTTP status, error code, message.
pub(crate) type Refusal = (u16, &'static str, String);

fn now_s() -> i64 {
    (now_ms() / 1000) as i64
}

/// A count (whole contracts) on the wire: fp string, or a float under the fault.
pub(crate) fn count_value(n: i64, float: bool) -> Value {
    if float {
        json!(n as f64)
    } else {
        json!(format_centi_contracts(n * 100))
    }
}

/// A price in cents on the wire: dollar string, or a float under the fault.
pub(crate) fn price_value(cents: u8, float: bool) -> Value {
    if float {
        json!(f64::from(cents) / 100.0)
    } else {
        json!(format_price_dollars(
            Price::new(cents).unwrap_or(Price::MIN)
        ))
    }
}

/// Centicents ($0.0001) as dollars on the wire, four decimals (`"0.1800"`, `"0.0175"`).
pub(crate) fn dollars_value(centicents: i64, float: bool) -> Value {
    if float {
        json!(centicents as f64 / 10_000.0)
    } else {
        let sign = if centicents < 0 { "-" } else { "" };
        let a = centicents.unsigned_abs();
        json!(format!("{sign}{}.{:04}", a / 10_000, a % 10_000))
    }
}

/// A fee at `rate_e4` (per 10 000) for `weight` = `Σ c·P·(100 − P)`, centicents: the core's
/// schedule (rounded up to the cent), or under `sub_cent_fees` rounded up to $0.0001 only.
fn fee_cc(cfg: &ExchangeConfig, rate_e4: u32, weight: u64) -> i64 {
    if cfg.sub_cent_fees {
        // rate × weight / 10⁶ cents = rate × weight / 10⁴ centicents.
        (u128::from(rate_e4) * u128::from(weight)).div_ceil(10_000) as i64
    } else {
        // The core's rounding, up to the cent, at this rate.
        let schedule = kalsim_core::FeeSchedule {
            taker_rate_e4: rate_e4,
            ..kalsim_core::FeeSchedule::KALSHI
        };
        schedule.taker_from_weight(weight).0 * 100
    }
}

/// The maker fee of `n` contracts filled at `limit`, centicents (zero off maker-fee markets).
fn maker_fee_cc(st: &State, cfg: &ExchangeConfig, ticker: &str, n: u32, limit: Price) -> i64 {
    if cfg.maker_fee_markets.iter().any(|t| t == ticker) {
        fee_cc(cfg, st.fees.maker_rate_e4, level_weight(n, limit))
    } else {
        0
    }
}

/// The order object of `GET /portfolio/orders` (and `user_order` messages): the YES-book
/// side (`book_side`) with the legacy contract form beside it.
pub(crate) fn order_json(o: &OrderRec, float: bool) -> Value {
    json!({
        "order_id": o.order_id, "client_order_id": o.client_order_id, "ticker": o.ticker,
        "book_side": if o.bid { "bid" } else { "ask" }, "outcome_side": if o.bid { "yes" } else { "no" },
        "side": "yes", "action": if o.bid { "buy" } else { "sell" }, "type": "limit",
        "status": o.status,
        "yes_price_dollars": price_value(o.price, float),
        "no_price_dollars": price_value(100 - o.price, float),
        "initial_count_fp": count_value(i64::from(o.initial), float),
        "fill_count_fp": count_value(i64::from(o.filled), float),
        "remaining_count_fp": count_value(i64::from(o.remaining), float),
        "taker_fees_dollars": dollars_value(o.fees_cc, float),
        "expiration_time": o.expiration_time,
        "cancel_order_on_pause": o.cancel_order_on_pause,
    })
}

/// A fill object (`GET /portfolio/fills` and the `fill` channel).
pub(crate) fn fill_json(f: &FillRec, float: bool) -> Value {
    json!({
        "fill_id": f.fill_id, "trade_id": f.fill_id, "order_id": f.order_id,
        "client_order_id": f.client_order_id,
        "ticker": f.ticker, "market_ticker": f.ticker,
        "side": "yes", "action": if f.bid { "buy" } else { "sell" },
        "book_side": if f.bid { "bid" } else { "ask" },
        "count_fp": count_value(i64::from(f.count), float),
        "yes_price_dollars": price_value(f.price, float),
        "no_price_dollars": price_value(100 - f.price, float),
        "is_taker": f.is_taker,
        "fee_cost": dollars_value(f.fee_cc, float),
        "post_position_fp": count_value(f.post_position, float),
        "ts": f.ts_ms / 1000,
    })
}

/// Kalshi netting (SPEC §5): buying `n` YES at `p` closes NO first (each closed pair returns
/// 100¢), then opens; selling YES at `p` is buying NO at `100 − p`. Returns the cash change,
/// cents.
fn apply_fill(position: &mut i64, bid: bool, yes_price: u8, n: u32) -> i64 {
    let n = i64::from(n);
    let (p, opposite_held) = if bid {
        (i64::from(yes_price), (-*position).max(0))
    } else {
        (100 - i64::from(yes_price), (*position).max(0))
    };
    let closed = n.min(opposite_held);
    *position += if bid { n } else { -n };
    closed * (100 - p) - (n - closed) * p
}

fn next_id(st: &mut State, prefix: &str) -> String {
    let id = format!("{prefix}-{:06}", st.next_id);
    st.next_id += 1;
    id
}

fn push_order_event(st: &mut State, o: &OrderRec) {
    let float = st.faults.float_numbers;
    st.events.push(("user_order".into(), order_json(o, float)));
}

/// Book a fill of `n` at `yes_price` with its fee in centicents.
fn record_fill(st: &mut State, order: &OrderRec, n: u32, yes_price: u8, taker: bool, fee: i64) {
    let pos = st.positions.entry(order.ticker.clone()).or_insert(0);
    let cash = apply_fill(pos, order.bid, yes_price, n);
    let post_position = *pos;
    st.balance_cc += cash * 100 - fee;
    let fill = FillRec {
        fill_id: next_id(st, "fill"),
        order_id: order.order_id.clone(),
        client_order_id: order.client_order_id.clone(),
        ticker: order.ticker.clone(),
        bid: order.bid,
        count: n,
        price: yes_price,
        is_taker: taker,
        fee_cc: fee,
        post_position,
        ts_ms: now_ms(),
    };
    st.stats.fills += 1;
    if st.faults.drop_fill_messages > 0 {
        st.faults.drop_fill_messages -= 1;
    } else {
        let float = st.faults.float_numbers;
        st.events.push(("fill".into(), fill_json(&fill, float)));
    }
    st.fills.push(fill);
}

/// Create an order (already checked against the contract).
pub(crate) fn create(
    st: &mut State,
    cfg: &ExchangeConfig,
    c: &CreateOrder,
) -> Result<(OrderRec, Vec<FillRec>), Refusal> {
    expire(st);
    match st.markets.get(&c.ticker) {
        None => return Err((404, "market_not_found", format!("no market {}", c.ticker))),
        Some(MarketState::Active) => {}
        Some(MarketState::Paused) => {
            return Err((400, "trading_paused", format!("{} is paused", c.ticker)));
        }
        Some(_) => return Err((400, "market_closed", format!("{} is closed", c.ticker))),
    }
    let grid = if cfg.deci_cent_markets.contains(&c.ticker) {
        1_000
    } else {
        10_000
    };
    if c.price_micros % grid != 0 {
        return Err((
            400,
            "invalid_price",
            "price is off the market's grid".into(),
        ));
    }
    if c.price_micros % 10_000 != 0 {
        // On the grid of a deci-cent market, but this model's book holds whole cents only.
        return Err((
            400,
            "invalid_price",
            "sub-cent prices are not modelled".into(),
        ));
    }
    let Ok(price) = Price::new((c.price_micros / 10_000) as u8) else {
        return Err((400, "invalid_price", "price outside 0.01..=0.99".into()));
    };
    if st.coid_counts.contains_key(&c.client_order_id) {
        st.stats.duplicates_refused += 1;
        return Err((
            409,
            "order_already_exists",
            "client_order_id already used".into(),
        ));
    }
    let position = st.positions.get(&c.ticker).copied().unwrap_or(0);
    let mut count = c.count;
    if c.reduce_only {
        // A bid reduces NO held, an ask reduces YES held; the count is capped by it.
        let held = if c.bid {
            (-position).max(0)
        } else {
            position.max(0)
        };
        count = count.min(u32::try_from(held).unwrap_or(u32::MAX));
        if count == 0 {
            return Err((
                400,
                "invalid_order",
                "reduce-only order with nothing to reduce".into(),
            ));
        }
    }
    let p = price.cents();
    let worst = i64::from(count) * i64::from(if c.bid { p } else { 100 - p })
        + st.fees.worst_case_taker(count, price).0;
    if worst * 100 > st.balance_cc {
        return Err((400, "insufficient_balance", "not enough cash".into()));
    }
    // A market listed before its first snapshot streamed has an empty book.
    let book = st.books.entry(c.ticker.clone()).or_default();
    // A bid takes NO bids at ≥ 100 − p (YES asks ≤ p); an ask takes YES bids at ≥ p.
    let (take_side, min_price) = if c.bid {
        (Side::No, price.complement())
    } else {
        (Side::Yes, price)
    };
    let available = book.available(take_side, min_price);
    if c.post_only && available > 0 {
        return Err((
            400,
            "post_only_cross",
            "post-only order would take liquidity".into(),
        ));
    }
    let fok_short = c.time_in_force == "fill_or_kill" && available < u64::from(count);
    let mut levels: Vec<(u8, u32)> = Vec::new();
    if !fok_short {
        book.take(take_side, min_price, count, |bp, n| {
            let yes = if c.bid { 100 - bp.cents() } else { bp.cents() };
            levels.push((yes, n));
        });
    }
    let filled: u32 = levels.iter().map(|(_, n)| n).sum();
    let weight: u64 = levels
        .iter()
        .map(|&(yes, n)| level_weight(n, Price::new(yes).unwrap_or(Price::MIN)))
        .sum();
    let fee = fee_cc(cfg, st.fees.taker_rate_e4, weight);
    let rests = c.time_in_force == "good_till_canceled" && filled < count;
    // A resting bid joins the YES bids at p, a resting ask the NO bids at 100 − p, behind
    // the displayed depth there (the core's queue rule).
    let (rest_side, rest_price) = resting_level(c.bid, price);
    let queue_ahead_centi = book.depth(rest_side, rest_price).0;
    let mut order = OrderRec {
        order_id: next_id(st, "ord"),
        client_order_id: c.client_order_id.clone(),
        ticker: c.ticker.clone(),
        bid: c.bid,
        price: p,
        initial: count,
        filled,
        remaining: if rests { count - filled } else { 0 },
        status: if rests {
            "resting"
        } else if filled == count {
            "executed"
        } else {
            "canceled"
        },
        expiration_time: c.expiration_time,
        cancel_order_on_pause: c.cancel_order_on_pause,
        booked_at: Instant::now(),
        fees_cc: fee,
        queue_ahead_centi,
        carry_centi: 0,
    };
    let first_fill = st.fills.len();
    let last = levels.len().saturating_sub(1);
    for (i, &(yes, n)) in levels.iter().enumerate() {
        // The order's fee rides on its last fill, so fills sum to the charge exactly.
        record_fill(st, &order, n, yes, true, if i == last { fee } else { 0 });
    }
    *st.coid_counts.entry(c.client_order_id.clone()).or_insert(0) += 1;
    st.stats.orders_booked += 1;
    order.fees_cc = fee;
    push_order_event(st, &order);
    st.orders.push(order.clone());
    Ok((order, st.fills[first_fill..].to_vec()))
}

/// The book level a resting order joins: a bid at `p` on the YES bids, an ask at `p` on the
/// NO bids at `100 − p`.
fn resting_level(bid: bool, price: Price) -> (Side, Price) {
    if bid {
        (Side::Yes, price)
    } else {
        (Side::No, price.complement())
    }
}

/// A scripted delta changed `side`/`price` of `ticker` from `before` to `after` displayed
/// centi-contracts: resting orders at that level move up their queue (the core's FIFO
/// model) and fill as makers once the queue ahead is gone.
pub(crate) fn on_level_change(
    st: &mut State,
    cfg: &ExchangeConfig,
    ticker: &str,
    side: Side,
    price: Price,
    before: u64,
    after: u64,
) {
    for i in 0..st.orders.len() {
        let o = &mut st.orders[i];
        if o.ticker != ticker || o.status != "resting" {
            continue;
        }
        let Ok(limit) = Price::new(o.price) else {
            continue;
        };
        if resting_level(o.bid, limit) != (side, price) {
            continue;
        }
        if after >= before {
            continue;
        }
        let (ahead, fill) = kalsim_core::QueueModel::on_decrease(
            &mut kalsim_core::QueueModelKind::Fifo,
            o.queue_ahead_centi,
            before,
            before - after,
            &mut kalsim_core::Rng::new(0),
        );
        o.queue_ahead_centi = ahead;
        o.carry_centi += fill;
        let n = ((o.carry_centi / 100).min(u64::from(o.remaining))) as u32;
        if n == 0 {
            continue;
        }
        o.carry_centi -= u64::from(n) * 100;
        let fee = maker_fee_cc(st, cfg, ticker, n, limit);
        let o = &mut st.orders[i];
        o.filled += n;
        o.remaining -= n;
        o.fees_cc += fee;
        if o.remaining == 0 {
            o.status = "executed";
            o.carry_centi = 0;
        }
        let snapshot = o.clone();
        record_fill(st, &snapshot, n, snapshot.price, false, fee);
        push_order_event(st, &snapshot);
    }
}

/// A snapshot replaced `ticker`'s book: no queue ahead can exceed the new depth.
pub(crate) fn on_snapshot(st: &mut State, ticker: &str) {
    let Some(book) = st.books.get(ticker) else {
        return;
    };
    let book = book.clone();
    for o in st
        .orders
        .iter_mut()
        .filter(|o| o.ticker == ticker && o.status == "resting")
    {
        if let Ok(limit) = Price::new(o.price) {
            let (side, price) = resting_level(o.bid, limit);
            o.queue_ahead_centi = o.queue_ahead_centi.min(book.depth(side, price).0);
        }
    }
}

/// Cancel a resting order; `(order, contracts cancelled)`.
pub(crate) fn cancel(st: &mut State, order_id: &str) -> Option<(OrderRec, u32)> {
    expire(st);
    let i = st
        .orders
        .iter()
        .position(|o| o.order_id == order_id && o.status == "resting")?;
    let reduced = st.orders[i].remaining;
    st.orders[i].remaining = 0;
    st.orders[i].status = "canceled";
    st.stats.orders_cancelled += 1;
    let o = st.orders[i].clone();
    push_order_event(st, &o);
    Some((o, reduced))
}

fn cancel_where(st: &mut State, pred: impl Fn(&OrderRec) -> bool) {
    let ids: Vec<String> = st
        .orders
        .iter()
        .filter(|o| o.status == "resting" && pred(o))
        .map(|o| o.order_id.clone())
        .collect();
    for id in ids {
        let _ = cancel(st, &id);
    }
}

/// Cancel resting orders whose `expiration_time` has passed.
pub(crate) fn expire(st: &mut State) {
    let now = now_s();
    let due: Vec<usize> = (0..st.orders.len())
        .filter(|&i| {
            st.orders[i].status == "resting"
                && st.orders[i].expiration_time.is_some_and(|t| t <= now)
        })
        .collect();
    for i in due {
        st.orders[i].remaining = 0;
        st.orders[i].status = "canceled";
        let o = st.orders[i].clone();
        push_order_event(st, &o);
    }
}

/// After a change of `ticker`'s book, fill resting orders the book now crosses, as makers
/// at their limit.
pub(crate) fn on_book_change(st: &mut State, cfg: &ExchangeConfig, ticker: &str) {
    expire(st);
    for i in 0..st.orders.len() {
        let o = &st.orders[i];
        if o.ticker != ticker || o.status != "resting" {
            continue;
        }
        let (bid, p, want) = (o.bid, o.price, o.remaining);
        let Ok(price) = Price::new(p) else { continue };
        let Some(book) = st.books.get_mut(ticker) else {
            return;
        };
        let (side, min) = if bid {
            (Side::No, price.complement())
        } else {
            (Side::Yes, price)
        };
        let n = book.take(side, min, want, |_, _| {});
        if n == 0 {
            continue;
        }
        let fee = maker_fee_cc(st, cfg, ticker, n, price);
        let o = &mut st.orders[i];
        o.filled += n;
        o.remaining -= n;
        o.fees_cc += fee;
        if o.remaining == 0 {
            o.status = "executed";
        }
        let snapshot = o.clone();
        record_fill(st, &snapshot, n, p, false, fee);
        push_order_event(st, &snapshot);
    }
}

/// Apply a scripted `market_lifecycle_v2` message; returns the message as streamed (a
/// `close_date_updated` without `close_ts` gets the exchange's clock).
pub(crate) fn on_lifecycle(st: &mut State, m: &Value) -> Value {
    let mut out = m.clone();
    let Some(msg) = m.get("msg") else {
        return out;
    };
    let Some(ticker) = msg.get("market_ticker").and_then(Value::as_str) else {
        return out;
    };
    let ticker = ticker.to_owned();
    let event = msg.get("event_type").and_then(Value::as_str).unwrap_or("");
    let result = match msg.get("result").and_then(Value::as_str) {
        Some("yes") => Some(Side::Yes),
        Some("no") => Some(Side::No),
        _ => None,
    };
    match event {
        "deactivated" => {
            st.markets.insert(ticker.clone(), MarketState::Paused);
            cancel_where(st, |o| o.ticker == ticker && o.cancel_order_on_pause);
        }
        "activated" => {
            st.markets.insert(ticker.clone(), MarketState::Active);
            cancel_where(st, |o| o.ticker == ticker);
        }
        "close_date_updated" => {
            let close = msg
                .get("close_ts")
                .and_then(Value::as_i64)
                .unwrap_or_else(now_s);
            out["msg"]["close_ts"] = json!(close);
            if close <= now_s() {
                st.markets.insert(ticker.clone(), MarketState::Closed);
                cancel_where(st, |o| o.ticker == ticker);
            }
        }
        "determined" => {
            if let Some(r) = result {
                st.markets
                    .insert(ticker.clone(), MarketState::Determined(r));
            }
            cancel_where(st, |o| o.ticker == ticker);
        }
        "settled" => {
            let r = result.or(match st.markets.get(&ticker) {
                Some(MarketState::Determined(r)) => Some(*r),
                _ => None,
            });
            if let Some(r) = r
                && st.settled.insert(ticker.clone())
            {
                let pos = st.positions.insert(ticker.clone(), 0).unwrap_or(0);
                let winners = match r {
                    Side::Yes => pos.max(0),
                    Side::No => (-pos).max(0),
                };
                st.balance_cc += 100 * winners * 100;
                st.stats.settlements += 1;
                st.markets.insert(ticker.clone(), MarketState::Settled);
                out["msg"]["result"] = json!(r.name());
            }
            cancel_where(st, |o| o.ticker == ticker);
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netting_matches_spec_5() {
        let (mut pos, mut cash) = (0i64, 1_000i64);
        cash += apply_fill(&mut pos, true, 45, 10); // buy 10 YES at 45
        assert_eq!((pos, cash), (10, 550));
        cash += apply_fill(&mut pos, false, 40, 14); // sell 14 YES at 40: close 10, open 4 NO at 60
        assert_eq!((pos, cash), (-4, 550 + 400 - 240));
        assert_eq!(dollars_value(1_800, false), json!("0.1800"));
        assert_eq!(dollars_value(-123_400, false), json!("-12.3400"));
        assert_eq!(dollars_value(175, false), json!("0.0175"));
    }
}
