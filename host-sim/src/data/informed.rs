//! Informed synthetic markets (SPEC §10, the `informed` preset): a book that lags a latent
//! probability, and forecasts of that probability whose precision varies across markets and
//! over time, so the edge after spread, slippage and fees ranges from none to large and the
//! best size depends on it.
//!
//! The generator yields [`MarketTape`]s directly (no JSONL text in between); [`write_jsonl`]
//! writes the same tapes in Kalshi's message format (plus kalsim's `forecast` messages), and
//! that text loads back to the identical tapes (pinned by a test), so replay and synthetic
//! data share one book and step path.
//!
//! # Model (fixed before any PPO tuning; `docs/environment.md` has the probe)
//!
//! Market `i` of seed `s` draws everything from `Rng::derive(s ^ INFORMED_STREAM, i + 1)`:
//!
//! - **clock:** ticks about one second apart (800..1200 ms); the deltas of a tick follow it
//!   1..20 ms apart;
//! - **latent probability** `p = sigmoid(x)`: `x₀ ~ N(0, 0.8)`, a per-tick step `σ·N(0, 1)`
//!   with `σ ∈ U(0.01, 0.03)`, and information **jumps**: with probability 3 % per tick `p`
//!   moves by `±U(0.05, 0.20)` (kept inside 0.03..0.97);
//! - **book mid** `m` lags it: `m ← m + α(p − m) + N(0, 0.002)`, `α ∈ U(0.03, 0.10)` per tick
//!   (a half-life of 7..23 ticks), starting at `p₀ + N(0, 0.04)`;
//! - **book:** spread 2..4¢ around `m`; 8..12 levels a side; thin depth (a top level of
//!   `U(15, 60)` contracts, growing 20 % a level away from the top, ±30 % jitter), so a large
//!   order pays the levels it eats; a level keeps its depth while it stays in the book, and
//!   each tick 1..3 of the top levels are refreshed (new liquidity after the agent's own
//!   impact);
//! - **forecasts:** every 3..6 ticks (from tick 0) a forecast `f = p + σ_f·N(0, 1)` (clamped
//!   to 0.01..0.99) with stated standard error `σ_f = σ_m·exp(0.4·N(0, 1))` clamped to
//!   0.01..0.25, where the market's precision `σ_m` is log-uniform in 0.02..0.15: honest
//!   errors, varying across markets and over time;
//! - **settlement:** after the market's `events` book deltas, YES with probability `p`;
//!   `close_ts` is the last tick's time.
//!
//! Floats are used only inside the model (IEEE operations and `libm`: identical on every
//! target); everything written is an integer or a fixed decimal.

use std::fmt::Write as _;

use kalsim_core::{CentiContracts, OrderBook, Price, Rng, Side};

use super::r#gen::{contracts_fp, dollars_fp};
use super::{BookEvent, Forecast, MarketTape, TapeEvent};
use crate::wire::time::format_rfc3339_ms;

/// Stream of the informed generator (xored into the seed: independent of the default model).
const INFORMED_STREAM: u64 = 0x494e_464f_524d_4544;
/// First timestamp: 2025-06-01T00:00:00Z, ms.
const START_MS: i64 = 1_748_736_000_000;

/// Default pool size of the preset (SPEC §10 asks for at least 1 000 training markets).
pub const PRESET_MARKETS: u32 = 1_024;
/// Default book deltas per market of the preset (about 100 ticks, 100 s of market time).
pub const PRESET_EVENTS: u32 = 600;

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
}

fn logit(p: f64) -> f64 {
    libm::log(p / (1.0 - p))
}

struct Model {
    rng: Rng,
    x: f64,
    mid: f64,
    sigma: f64,
    alpha: f64,
    levels: i64,
    base: f64,
    precision: f64,
    forecast_every: u64,
    /// Current book, centi-contracts, `[side][price]`.
    depth: [[u64; 100]; 2],
}

impl Model {
    fn new(seed: u64, index: u32) -> Model {
        let mut rng = Rng::derive(seed ^ INFORMED_STREAM, u64::from(index) + 1);
        let x = (0.8 * rng.normal()).clamp(-3.0, 3.0);
        let p0 = sigmoid(x);
        let mid = (p0 + 0.04 * rng.normal()).clamp(0.03, 0.97);
        let sigma = 0.01 + 0.02 * rng.next_f64();
        let alpha = 0.03 + 0.07 * rng.next_f64();
        let levels = 8 + rng.below(5) as i64;
        let base = 15.0 + 45.0 * rng.next_f64();
        // log-uniform in 0.02..0.15
        let precision = 0.02 * libm::exp(rng.next_f64() * libm::log(0.15 / 0.02));
        let forecast_every = 3 + rng.below(4);
        Model {
            rng,
            x,
            mid,
            sigma,
            alpha,
            levels,
            base,
            precision,
            forecast_every,
            depth: [[0; 100]; 2],
        }
    }

    fn latent(&self) -> f64 {
        sigmoid(self.x)
    }

    fn step(&mut self) {
        self.x = (self.x + self.sigma * self.rng.normal()).clamp(-4.5, 4.5);
        if self.rng.chance_bps(300) {
            let size = 0.05 + 0.15 * self.rng.next_f64();
            let sign = if self.rng.chance_bps(5_000) {
                1.0
            } else {
                -1.0
            };
            self.x = logit((self.latent() + sign * size).clamp(0.03, 0.97));
        }
        let p = self.latent();
        self.mid =
            (self.mid + self.alpha * (p - self.mid) + 0.002 * self.rng.normal()).clamp(0.02, 0.98);
    }

    fn level_depth(&mut self, k: i64) -> u64 {
        let shape = 1.0 + 0.2 * k as f64;
        let jitter = 0.7 + 0.6 * self.rng.next_f64();
        ((self.base * shape * jitter).max(1.0) as u64) * 100
    }

    /// The target book: levels in the ladder keep their depth, new ones get a fresh depth,
    /// and 1..3 of the top levels a side are refreshed.
    fn target(&mut self) -> [[u64; 100]; 2] {
        let spread = 2 + self.rng.below(3) as i64;
        let yes_bid =
            (libm::round(self.mid * 100.0 - spread as f64 / 2.0) as i64).clamp(1, 99 - spread);
        let no_bid = 100 - yes_bid - spread;
        let mut book = [[0u64; 100]; 2];
        for (side, top) in [(0usize, yes_bid), (1, no_bid)] {
            let refresh = 1 + self.rng.below(3) as i64;
            for k in 0..self.levels {
                let price = top - k;
                if price < 1 {
                    break;
                }
                let old = self.depth[side][price as usize];
                book[side][price as usize] = if old == 0 || k < refresh {
                    self.level_depth(k)
                } else {
                    old
                };
            }
        }
        book
    }

    fn forecast(&mut self) -> (u32, u32) {
        let sd = (self.precision * libm::exp(0.4 * self.rng.normal())).clamp(0.01, 0.25);
        let f = (self.latent() + sd * self.rng.normal()).clamp(0.01, 0.99);
        (ppm(f), ppm(sd))
    }
}

fn ppm(x: f64) -> u32 {
    libm::round(x * 1e6).clamp(0.0, 1e6) as u32
}

/// The levels of one side of `depth` from the best down, as a snapshot wants them.
fn ladder(depth: &[u64; 100]) -> Vec<(Price, CentiContracts)> {
    (1..100u8)
        .rev()
        .filter(|&p| depth[p as usize] != 0)
        .filter_map(|p| Some((Price::new(p).ok()?, CentiContracts(depth[p as usize]))))
        .collect()
}

/// Generate informed market `index` of `seed` with `events` book deltas.
pub fn market(seed: u64, index: u32, events: u32) -> MarketTape {
    let mut m = Model::new(seed, index);
    let mut tape = MarketTape {
        ticker: format!("KXINF-25JUN01-M{index:05}"),
        ..MarketTape::default()
    };
    let mut clock = START_MS + i64::from(index % 1_000) * 7;
    m.depth = m.target();
    let (yes, no) = (ladder(&m.depth[0]), ladder(&m.depth[1]));
    tape.levels.extend_from_slice(&yes);
    tape.levels.extend_from_slice(&no);
    let ny = yes.len() as u32;
    tape.events.push(TapeEvent {
        ts_ms: Some(clock),
        event: BookEvent::Snapshot {
            yes: (0, ny),
            no: (ny, ny + no.len() as u32),
        },
    });
    tape.latent_ppm.push(ppm(m.latent()));
    let mut emitted = 0u32;
    let mut tick = 0u64;
    while emitted < events {
        if tick % m.forecast_every == 0 {
            let (p, sd) = m.forecast();
            tape.forecasts.push(Forecast {
                event: (tape.events.len() - 1) as u32,
                ts_ms: Some(clock),
                p_yes_ppm: p,
                stderr_ppm: sd,
            });
        }
        clock += 800 + m.rng.below(401) as i64;
        tick += 1;
        m.step();
        let target = m.target();
        let mut deltas = Vec::new();
        let mut increases = Vec::new();
        for (s, side) in [(0usize, Side::Yes), (1, Side::No)] {
            for price in 1..100u8 {
                let d = target[s][price as usize] as i64 - m.depth[s][price as usize] as i64;
                if d < 0 {
                    deltas.push((side, price, d));
                } else if d > 0 {
                    increases.push((side, price, d));
                }
            }
        }
        // Decreases first: every intermediate book is a subset of the old or the new one.
        deltas.extend(increases);
        let latent = ppm(m.latent());
        let mut t = clock;
        for (side, price, d) in deltas {
            if emitted == events {
                break;
            }
            let Ok(level) = Price::new(price) else {
                continue;
            };
            let slot = &mut m.depth[side as usize][price as usize];
            *slot = (*slot as i64 + d) as u64;
            t += 1 + m.rng.below(20) as i64;
            tape.events.push(TapeEvent {
                ts_ms: Some(t),
                event: BookEvent::Delta {
                    side,
                    price: level,
                    delta_centi: d,
                },
            });
            tape.latent_ppm.push(latent);
            emitted += 1;
        }
        clock = t;
    }
    let p_bps = (m.latent() * 10_000.0) as u32;
    tape.result = Some(if m.rng.chance_bps(p_bps) {
        Side::Yes
    } else {
        Side::No
    });
    tape.close_ts_ms = Some(clock / 1000 * 1000);
    tape
}

/// `markets` informed markets of `seed`, indices `0..markets`.
pub fn markets(seed: u64, markets: u32, events: u32) -> Vec<MarketTape> {
    (0..markets).map(|i| market(seed, i, events)).collect()
}

/// The final book of a tape (for tests).
pub fn final_book(tape: &MarketTape) -> OrderBook {
    let mut b = OrderBook::new();
    for e in &tape.events {
        let _ = tape.apply_to_book(e, &mut b);
    }
    b
}

fn prob(ppm: u32) -> String {
    format!("{}.{:06}", ppm / 1_000_000, ppm % 1_000_000)
}

/// Write tapes as Kalshi JSON Lines (one subscription per market, contiguous `seq`), with
/// kalsim's `forecast` messages and a determined `market_lifecycle_v2` message carrying the
/// result and `close_ts`. Loading the text gives back the same tapes (without `latent_ppm`,
/// which never leaves the generator).
pub fn write_jsonl(tapes: &[MarketTape]) -> String {
    let mut out = String::new();
    for (i, tape) in tapes.iter().enumerate() {
        let sid = i as u64 + 1;
        let mut seq = 0u64;
        let mut fc = tape.forecasts.iter().peekable();
        for (k, e) in tape.events.iter().enumerate() {
            seq += 1;
            let ts = e.ts_ms.unwrap_or(0);
            match e.event {
                BookEvent::Snapshot { yes, no } => {
                    let _ = write!(
                        out,
                        r#"{{"type":"orderbook_snapshot","sid":{sid},"seq":{seq},"msg":{{"market_ticker":"{}""#,
                        tape.ticker
                    );
                    for (name, r) in [("yes", yes), ("no", no)] {
                        let lv = tape.snapshot_levels(r);
                        if lv.is_empty() {
                            continue;
                        }
                        let _ = write!(out, r#","{name}_dollars_fp":["#);
                        for (j, (p, d)) in lv.iter().enumerate() {
                            let comma = if j == 0 { "" } else { "," };
                            let _ = write!(
                                out,
                                r#"{comma}["{}","{}"]"#,
                                dollars_fp(p.cents()),
                                contracts_fp(d.0 as i64)
                            );
                        }
                        out.push(']');
                    }
                    let _ = writeln!(out, r#","ts_ms":{ts}}}}}"#);
                }
                BookEvent::Delta {
                    side,
                    price,
                    delta_centi,
                } => {
                    let _ = writeln!(
                        out,
                        r#"{{"type":"orderbook_delta","sid":{sid},"seq":{seq},"msg":{{"market_ticker":"{}","price_dollars":"{}","delta_fp":"{}","side":"{}","ts":"{}"}}}}"#,
                        tape.ticker,
                        dollars_fp(price.cents()),
                        contracts_fp(delta_centi),
                        side.name(),
                        format_rfc3339_ms(ts)
                    );
                }
            }
            while let Some(f) = fc.next_if(|f| f.event as usize == k) {
                let _ = write!(
                    out,
                    r#"{{"type":"forecast","msg":{{"market_ticker":"{}","p_yes":"{}","stderr":"{}""#,
                    tape.ticker,
                    prob(f.p_yes_ppm),
                    prob(f.stderr_ppm)
                );
                match f.ts_ms {
                    Some(t) => {
                        let _ = writeln!(out, r#","ts_ms":{t}}}}}"#);
                    }
                    None => out.push_str("}}\n"),
                }
            }
        }
        if let Some(result) = tape.result {
            let close = tape
                .close_ts_ms
                .map_or(String::new(), |c| format!(r#","close_ts":{}"#, c / 1000));
            let _ = writeln!(
                out,
                r#"{{"type":"market_lifecycle_v2","msg":{{"market_ticker":"{}","event_type":"determined","result":"{}"{close}}}}}"#,
                tape.ticker,
                result.name()
            );
        }
    }
    out
}
