//! Synthetic Kalshi markets, written in Kalshi's own WebSocket message format so replay and
//! synthetic data share one code path (SPEC §10). Same [`GenConfig`] ⇒ same bytes.
//!
//! # Model
//!
//! Each market `i` draws its parameters from `Rng::derive(seed, i + 1)`:
//!
//! - a **latent probability** `p = sigmoid(x)`, where `x` is a random walk in logit space
//!   (start `N(0, 1)`, per-tick step `σ·N(0, 1)` with `σ` in 0.02..0.08, clamped to ±4.5);
//! - a **displayed mid** that lags the latent: `mid += α·(p − mid) + N(0, 0.003)` with
//!   `α` in 0.05..0.35, so the gap `p − mid` predicts the next mid moves;
//! - a **signal strength** `s`: about a quarter of markets have `s = 0` (no signal), a
//!   quarter a weak one (0..0.3), half a strong one (0.4..1.0);
//! - the **order-book imbalance** shown at the top three levels is
//!   `s·tanh(25·(p − mid)) + (1 − s)·0.5·N(0, 1)` clamped to ±0.9: YES depth is scaled by
//!   `1 + imbalance`, NO depth by `1 − imbalance`, so imbalance and microprice drift carry
//!   information about the next mid moves and the result in proportion to `s`;
//! - (opt-in, [`GenModel::edge_bps`] > 0) **information shocks**: on each tick, with
//!   probability 4 %, the latent probability jumps by `±edge·U(0.2, 1)` (probability units,
//!   kept inside 0.03..0.97), and the displayed mid catches up ten times slower (`α/10`),
//!   so the book stays mispriced by up to `edge` for tens of ticks, and the imbalance (∝ `s`) and the
//!   mid's drift reveal the sign and the size of the gap: a tradable signal whose strength
//!   varies, larger than the spread plus fees when `edge` is large enough. The shocks draw
//!   from their own stream (`Rng::derive(seed ^ EDGE_STREAM, i + 1)`); with `edge_bps = 0`
//!   nothing is drawn from it and the output is byte-identical to the model without it;
//! - a spread of 1–3¢ around the mid, 10–20 levels per side, depths in contracts around a
//!   per-market base (50..500 contracts) growing away from the top, a quarter of them with
//!   fractional centi-contract parts (only expressible in the `_fp` format).
//!
//! Every tick computes a target book; the difference from the current book is emitted as
//! `orderbook_delta` messages, decreases first, so every intermediate book is a subset of the
//! old or the new one and never crosses; depth never goes negative. Each market emits exactly
//! `events` deltas (the last tick may be cut short), then a `market_lifecycle_v2` message
//! whose `result` is YES with the final latent probability.
//!
//! # Stream
//!
//! `subscribed` lines for two `orderbook_delta` subscriptions (sid 1 and 2, markets split by
//! parity) and one `market_lifecycle_v2` subscription (sid 3); one snapshot per market; then
//! deltas interleaved across markets in a seeded order, with contiguous `seq` per `sid` and a
//! millisecond clock. Each message picks the legacy integer form or the `_dollars_fp` form
//! from the market's stream (fractional depth forces `_fp`), so both parse paths are used.
//! Floats are used only inside the model (IEEE operations and `libm`, identical on every
//! target); everything written is an integer or a fixed decimal string.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::{self, Write};

use kalsim_core::{CentiContracts, OrderBook, Price, Rng, Side};

use super::{BookEvent, MarketTape, TapeEvent};
use crate::wire::time::format_rfc3339_ms;

/// Size and seed of a synthetic dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenConfig {
    /// Number of markets.
    pub markets: u32,
    /// `orderbook_delta` messages per market.
    pub events: u32,
    /// Seed of everything.
    pub seed: u64,
}

/// Opt-in extensions of the model, kept out of [`GenConfig`] so existing callers build
/// unchanged. The default is the original model, byte for byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GenModel {
    /// Size of the information shocks in basis points of probability (1 000 = a 10¢ jump
    /// at most); 0 = none.
    pub edge_bps: u32,
}

impl Default for GenConfig {
    fn default() -> GenConfig {
        GenConfig {
            markets: 8,
            events: 2_000,
            seed: 0,
        }
    }
}

/// Stream of the opt-in information shocks (xored into the seed, so the base model's
/// streams are untouched).
const EDGE_STREAM: u64 = 0x4544_4745_5f42_5053;
/// Per-tick probability of an information shock, basis points.
const SHOCK_BPS: u32 = 400;

/// The generator's own view of a market at the end: for tests and for inspection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedMarket {
    /// Ticker.
    pub ticker: String,
    /// The final book, built from the generator's internal state (not from its output).
    pub book: OrderBook,
    /// How the market resolved.
    pub result: Side,
    /// Signal strength in basis points (0 = book carries no information).
    pub signal_strength_bps: u32,
}

/// First timestamp of every dataset: 2025-01-01T00:00:00Z, in ms.
const START_MS: i64 = 1_735_689_600_000;
const SID_LIFECYCLE: u64 = 3;

struct Market {
    ticker: String,
    rng: Rng,
    sid: u64,
    logit: f64,
    mid: f64,
    strength: f64,
    sigma: f64,
    alpha: f64,
    levels_per_side: i64,
    base_contracts: f64,
    /// Current book as emitted, centi-contracts, `[side][price]`.
    depth: [[u64; 100]; 2],
    pending: VecDeque<(Side, u8, i64)>,
    emitted: u32,
    /// The initial snapshot is written in the legacy integer form (whole contracts only).
    legacy_snapshot: bool,
    /// Information shocks: maximum jump (probability units) and their own stream; `None`
    /// for the original model.
    shocks: Option<(f64, Rng)>,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
}

impl Market {
    fn new(seed: u64, index: u32, edge_bps: u32) -> Market {
        let mut rng = Rng::derive(seed, index as u64 + 1);
        let logit = rng.normal().clamp(-3.0, 3.0);
        let strength = match rng.below(4) {
            0 => 0.0,
            1 => 0.3 * rng.next_f64(),
            _ => 0.4 + 0.6 * rng.next_f64(),
        };
        let sigma = 0.02 + 0.06 * rng.next_f64();
        let alpha = 0.05 + 0.30 * rng.next_f64();
        let levels_per_side = 10 + rng.below(11) as i64;
        let base_contracts = 50.0 + 450.0 * rng.next_f64();
        let mut m = Market {
            ticker: format!("KXSIM-25JAN01-M{index:04}"),
            rng,
            sid: 1 + (index as u64 % 2),
            logit,
            mid: sigmoid(logit),
            strength,
            sigma,
            alpha,
            levels_per_side,
            base_contracts,
            depth: [[0; 100]; 2],
            pending: VecDeque::new(),
            emitted: 0,
            legacy_snapshot: false,
            shocks: (edge_bps > 0).then(|| {
                (
                    f64::from(edge_bps.min(9_000)) / 10_000.0,
                    Rng::derive(seed ^ EDGE_STREAM, index as u64 + 1),
                )
            }),
        };
        m.depth = m.target();
        m.legacy_snapshot = m.rng.chance_bps(5_000);
        if m.legacy_snapshot {
            // The legacy form has whole contracts only.
            for d in m.depth.iter_mut().flatten() {
                *d -= *d % 100;
            }
        }
        m
    }

    fn latent(&self) -> f64 {
        sigmoid(self.logit)
    }

    fn step_latent(&mut self) {
        self.logit = (self.logit + self.sigma * self.rng.normal()).clamp(-4.5, 4.5);
        if let Some((edge, rng)) = &mut self.shocks
            && rng.chance_bps(SHOCK_BPS)
        {
            let size = *edge * (0.2 + 0.8 * rng.next_f64());
            let sign = if rng.chance_bps(5_000) { 1.0 } else { -1.0 };
            let p = (sigmoid(self.logit) + sign * size).clamp(0.03, 0.97);
            self.logit = libm::log(p / (1.0 - p));
        }
        let p = self.latent();
        // With shocks the mid catches up ten times slower: the mispricing persists.
        let alpha = if self.shocks.is_some() {
            0.1 * self.alpha
        } else {
            self.alpha
        };
        self.mid =
            (self.mid + alpha * (p - self.mid) + 0.003 * self.rng.normal()).clamp(0.02, 0.98);
    }

    /// A fresh book around the current mid with the current imbalance.
    fn target(&mut self) -> [[u64; 100]; 2] {
        let gap = self.latent() - self.mid;
        let noise = 0.5 * self.rng.normal();
        let imbalance = (self.strength * libm::tanh(25.0 * gap) + (1.0 - self.strength) * noise)
            .clamp(-0.9, 0.9);
        let spread = 1 + self.rng.below(3) as i64;
        let yes_bid =
            (libm::round(self.mid * 100.0 - spread as f64 / 2.0) as i64).clamp(1, 99 - spread);
        let no_bid = 100 - yes_bid - spread;
        let mut book = [[0u64; 100]; 2];
        for (side, top, tilt) in [
            (0usize, yes_bid, 1.0 + imbalance),
            (1, no_bid, 1.0 - imbalance),
        ] {
            for k in 0..self.levels_per_side {
                let price = top - k;
                if price < 1 {
                    break;
                }
                let shape = 1.0 + 0.25 * k as f64;
                let lean = if k < 3 { tilt } else { 1.0 };
                let jitter = 0.7 + 0.6 * self.rng.next_f64();
                let contracts = (self.base_contracts * shape * lean * jitter).max(1.0) as u64;
                let fraction = if self.rng.chance_bps(2_500) {
                    self.rng.below(100)
                } else {
                    0
                };
                book[side][price as usize] = contracts * 100 + fraction;
            }
        }
        book
    }

    /// Advance the model one tick and queue the deltas that turn the book into the target.
    fn tick(&mut self) {
        self.step_latent();
        let mut target = self.target();
        // Deep levels often stay as they were (less churn, like a real book).
        for (side, row) in target.iter_mut().enumerate() {
            for (price, slot) in row.iter_mut().enumerate() {
                let old = self.depth[side][price];
                if *slot != 0 && old != 0 && self.rng.chance_bps(6_000) {
                    *slot = old;
                }
            }
        }
        let mut increases = Vec::new();
        for (side_index, side) in [(0usize, Side::Yes), (1, Side::No)] {
            for price in 1..100u8 {
                let old = self.depth[side_index][price as usize];
                let new = target[side_index][price as usize];
                let delta = new as i64 - old as i64;
                if delta < 0 {
                    self.pending.push_back((side, price, delta));
                } else if delta > 0 {
                    increases.push((side, price, delta));
                }
            }
        }
        self.pending.extend(increases);
        if self.pending.is_empty() {
            // Keep the tape moving even when a tick changes nothing.
            let top = (1..100).rev().find(|&p| self.depth[0][p] != 0).unwrap_or(1);
            self.pending.push_back((Side::Yes, top as u8, 100));
        }
    }

    fn next_delta(&mut self) -> (Side, u8, i64) {
        while self.pending.is_empty() {
            self.tick();
        }
        let (side, price, delta) = self.pending.pop_front().unwrap_or((Side::Yes, 1, 0));
        let slot = &mut self.depth[side as usize][price as usize];
        *slot = (*slot as i64 + delta) as u64;
        self.emitted += 1;
        (side, price, delta)
    }

    fn book(&self) -> OrderBook {
        let levels = |side: usize| -> Vec<(Price, CentiContracts)> {
            (1..100u8)
                .filter(|&p| self.depth[side][p as usize] != 0)
                .filter_map(|p| {
                    Some((
                        Price::new(p).ok()?,
                        CentiContracts(self.depth[side][p as usize]),
                    ))
                })
                .collect()
        };
        let mut book = OrderBook::new();
        // The generator's books are uncrossed by construction; an error here would be a bug
        // that the round-trip test reports as a book mismatch.
        let _ = book.apply_snapshot(&levels(0), &levels(1));
        book
    }
}

/// `12345` centi → `"123.45"`; negative values get a leading `-`.
pub(super) fn contracts_fp(centi: i64) -> String {
    let sign = if centi < 0 { "-" } else { "" };
    let a = centi.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// `56` → `"0.5600"`.
pub(super) fn dollars_fp(cents: u8) -> String {
    format!("0.{cents:02}00")
}

/// Resolve a market (YES with its final latent probability), write the lifecycle message
/// and record the result and settlement time on its tape.
fn settle<W: Write>(
    m: &mut Market,
    out: &mut Option<W>,
    clock_ms: i64,
    tape: &mut MarketTape,
) -> io::Result<Side> {
    let p_bps = (m.latent() * 10_000.0) as u32;
    let result = if m.rng.chance_bps(p_bps) {
        Side::Yes
    } else {
        Side::No
    };
    if let Some(out) = out.as_mut() {
        writeln!(
            out,
            r#"{{"type":"market_lifecycle_v2","sid":{SID_LIFECYCLE},"msg":{{"market_ticker":"{}","event_type":"determined","result":"{}","determination_ts":{}}}}}"#,
            m.ticker,
            result.name(),
            clock_ms / 1000
        )?;
    }
    tape.result = Some(result);
    tape.close_ts_ms = Some(clock_ms / 1000 * 1000);
    Ok(result)
}

/// Write a synthetic dataset as Kalshi JSON Lines.
pub fn generate<W: Write>(cfg: &GenConfig, out: W) -> io::Result<()> {
    generate_model(cfg, GenModel::default(), out)
}

/// [`generate`] with the opt-in model extensions.
pub fn generate_model<W: Write>(cfg: &GenConfig, model: GenModel, out: W) -> io::Result<()> {
    generate_with_books_model(cfg, model, out).map(|_| ())
}

/// The synthetic dataset as a string (for WASM and tests).
pub fn generate_string(cfg: &GenConfig) -> String {
    generate_string_model(cfg, GenModel::default())
}

/// [`generate_string`] with the opt-in model extensions.
pub fn generate_string_model(cfg: &GenConfig, model: GenModel) -> String {
    let mut buf = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = generate_model(cfg, model, &mut buf);
    String::from_utf8(buf).unwrap_or_default()
}

/// [`generate`], also returning each market's final book and result from the generator's
/// own state (the test oracle for the parser).
pub fn generate_with_books<W: Write>(cfg: &GenConfig, out: W) -> io::Result<Vec<GeneratedMarket>> {
    generate_with_books_model(cfg, GenModel::default(), out)
}

/// [`generate_with_books`] with the opt-in model extensions.
pub fn generate_with_books_model<W: Write>(
    cfg: &GenConfig,
    model: GenModel,
    out: W,
) -> io::Result<Vec<GeneratedMarket>> {
    run(cfg, model, Some(out)).map(|(books, _)| books)
}

/// The synthetic markets as tapes, directly (no JSONL text in between): the same tapes
/// loading [`generate_model`]'s text gives (pinned by a test), plus the generator's latent
/// probability per event (`MarketTape::latent_ppm`, for the `oracle` reference only).
pub fn generate_tapes_model(cfg: &GenConfig, model: GenModel) -> Vec<MarketTape> {
    run(cfg, model, None::<io::Sink>)
        .map(|(_, tapes)| tapes)
        .unwrap_or_default()
}

/// The generator: writes the JSONL to `out` when given, and always builds the tapes.
fn run<W: Write>(
    cfg: &GenConfig,
    model: GenModel,
    mut out: Option<W>,
) -> io::Result<(Vec<GeneratedMarket>, Vec<MarketTape>)> {
    let mut order = Rng::derive(cfg.seed, 0);
    let mut markets: Vec<Market> = (0..cfg.markets)
        .map(|i| Market::new(cfg.seed, i, model.edge_bps))
        .collect();
    let mut seq = [0u64; 4];
    let mut next_seq = |sid: u64| {
        seq[sid as usize] += 1;
        seq[sid as usize]
    };
    let mut clock = START_MS;
    let mut line = String::with_capacity(4096);
    let mut results = vec![None; markets.len()];

    let mut tapes: Vec<MarketTape> = markets
        .iter()
        .map(|m| MarketTape {
            ticker: m.ticker.clone(),
            ..MarketTape::default()
        })
        .collect();
    if let Some(out) = out.as_mut() {
        for (id, (sid, channel)) in [
            (1, "orderbook_delta"),
            (2, "orderbook_delta"),
            (SID_LIFECYCLE, "market_lifecycle_v2"),
        ]
        .into_iter()
        .enumerate()
        {
            writeln!(
                out,
                r#"{{"type":"subscribed","id":{},"msg":{{"channel":"{channel}","sid":{sid}}}}}"#,
                id + 1
            )?;
        }
    }

    for (m, tape) in markets.iter_mut().zip(&mut tapes) {
        let ladder = |side: usize| -> Vec<(Price, CentiContracts)> {
            (1..100u8)
                .filter(|&p| m.depth[side][p as usize] != 0)
                .filter_map(|p| {
                    Some((
                        Price::new(p).ok()?,
                        CentiContracts(m.depth[side][p as usize]),
                    ))
                })
                .collect()
        };
        let (yes, no) = (ladder(0), ladder(1));
        let ny = yes.len() as u32;
        tape.levels.extend(yes);
        tape.levels.extend(no);
        tape.events.push(TapeEvent {
            ts_ms: None,
            event: BookEvent::Snapshot {
                yes: (0, ny),
                no: (ny, tape.levels.len() as u32),
            },
        });
        tape.latent_ppm.push(latent_ppm(m));
        line.clear();
        let fp = !m.legacy_snapshot;
        let _ = write!(
            line,
            r#"{{"type":"orderbook_snapshot","sid":{},"seq":{},"msg":{{"market_ticker":"{}""#,
            m.sid,
            next_seq(m.sid),
            m.ticker
        );
        for (side, name) in [(0usize, "yes"), (1, "no")] {
            let levels: Vec<(u8, u64)> = (1..100u8)
                .filter(|&p| m.depth[side][p as usize] != 0)
                .map(|p| (p, m.depth[side][p as usize]))
                .collect();
            if levels.is_empty() {
                continue;
            }
            if fp {
                let _ = write!(line, r#","{name}_dollars_fp":["#);
                for (i, (p, d)) in levels.iter().enumerate() {
                    let comma = if i == 0 { "" } else { "," };
                    let _ = write!(
                        line,
                        r#"{comma}["{}","{}"]"#,
                        dollars_fp(*p),
                        contracts_fp(*d as i64)
                    );
                }
            } else {
                let _ = write!(line, r#","{name}":["#);
                for (i, (p, d)) in levels.iter().enumerate() {
                    let comma = if i == 0 { "" } else { "," };
                    let _ = write!(line, "{comma}[{p},{}]", d / 100);
                }
            }
            line.push(']');
        }
        line.push_str("}}\n");
        if let Some(out) = out.as_mut() {
            out.write_all(line.as_bytes())?;
        }
    }

    let mut active: Vec<usize> = (0..markets.len()).collect();
    if cfg.events == 0 {
        for (i, (m, result)) in markets.iter_mut().zip(&mut results).enumerate() {
            *result = Some(settle(m, &mut out, clock, &mut tapes[i])?);
        }
        active.clear();
    }
    while !active.is_empty() {
        let slot = order.below(active.len() as u64) as usize;
        let index = active[slot];
        let m = &mut markets[index];
        clock += 1 + order.below(250) as i64;
        let (side, price, delta) = m.next_delta();
        let fp = delta % 100 != 0 || m.rng.chance_bps(5_000);
        line.clear();
        let _ = write!(
            line,
            r#"{{"type":"orderbook_delta","sid":{},"seq":{},"msg":{{"market_ticker":"{}","#,
            m.sid,
            next_seq(m.sid),
            m.ticker
        );
        if fp {
            let _ = write!(
                line,
                r#""price_dollars":"{}","delta_fp":"{}","side":"{}","ts":"{}"}}}}"#,
                dollars_fp(price),
                contracts_fp(delta),
                side.name(),
                format_rfc3339_ms(clock)
            );
        } else {
            let _ = write!(
                line,
                r#""price":{price},"delta":{},"side":"{}","ts_ms":{clock}}}}}"#,
                delta / 100,
                side.name()
            );
        }
        line.push('\n');
        if let Some(out) = out.as_mut() {
            out.write_all(line.as_bytes())?;
        }
        let tape = &mut tapes[index];
        if let Ok(price) = Price::new(price) {
            tape.events.push(TapeEvent {
                ts_ms: Some(clock),
                event: BookEvent::Delta {
                    side,
                    price,
                    delta_centi: delta,
                },
            });
            tape.latent_ppm.push(latent_ppm(m));
        }
        if m.emitted >= cfg.events {
            results[index] = Some(settle(m, &mut out, clock, tape)?);
            active.remove(slot);
        }
    }

    let books = markets
        .iter()
        .zip(results)
        .map(|(m, result)| GeneratedMarket {
            ticker: m.ticker.clone(),
            book: m.book(),
            result: result.unwrap_or(Side::No),
            signal_strength_bps: (m.strength * 10_000.0) as u32,
        })
        .collect();
    tapes.sort_by(|a, b| a.ticker.cmp(&b.ticker));
    Ok((books, tapes))
}

fn latent_ppm(m: &Market) -> u32 {
    libm::round(m.latent() * 1e6).clamp(0.0, 1e6) as u32
}
