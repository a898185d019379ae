//! Plain data that crosses to JS as objects (shapes declared in `types.d.ts`, pinned by
//! `tests/types.test.mjs`).

use std::collections::BTreeMap;

use kalsim_core::{ACTION_COUNT, Engine, OBS_FEATURES, Side, SizeTable, SizingMetrics, Tier};
use serde::Serialize;

/// `decodeAction` result.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecodedAction {
    /// The id.
    pub action: u32,
    /// 0 HOLD, 1 BUY_YES, 2 SELL_YES, 3 BUY_NO, 4 SELL_NO.
    pub intent: u8,
    /// The core's intent name (`Intent::name`: `HOLD`, `BUY_YES`, ...).
    pub intent_name: &'static str,
    /// Tier 0..=4, −1 for HOLD.
    pub tier: i8,
    /// The core's tier name (`Tier::name`: `Small` … `Giant`; `""` for HOLD).
    pub tier_name: &'static str,
}

/// `validateOrder` result.
#[derive(Clone, Debug, Serialize)]
pub struct OrderCheck {
    /// The order passes every rule.
    pub ok: bool,
    /// Snake-case name of the first rule broken.
    pub reason: Option<&'static str>,
    /// Its code (1..=7), 0 when ok.
    pub code: u8,
}

/// One feature of the observation schema.
#[derive(Clone, Debug, Serialize)]
pub struct ObsFeature {
    /// Position in the vector.
    pub index: u32,
    /// Stable name.
    pub name: &'static str,
    /// `market`, `portfolio`, `sizing`, `working_order`.
    pub group: &'static str,
    /// How the raw quantity is scaled.
    pub scaling: &'static str,
    /// Lowest value.
    pub min: f32,
    /// Highest value.
    pub max: f32,
}

/// The schema as DTOs.
pub fn obs_schema() -> Vec<ObsFeature> {
    OBS_FEATURES
        .iter()
        .enumerate()
        .map(|(i, f)| ObsFeature {
            index: i as u32,
            name: f.name,
            group: f.group,
            scaling: f.scaling,
            min: f.min,
            max: f.max,
        })
        .collect()
}

/// SPEC §9 episode metrics, snake_case as the spec names them.
#[derive(Clone, Debug, Serialize)]
pub struct EpisodeMetrics {
    /// Steps recorded.
    pub steps: u64,
    /// Fills per size in contracts, keyed by the size (`{"5": 10, "10": 25, ...}`).
    pub position_size_distribution: BTreeMap<String, u64>,
    /// Fills per tier Small..Giant.
    pub fills_per_tier: [u64; 5],
    /// Mean size of winning round trips, contracts.
    pub avg_winning_position_size: f64,
    /// Mean size of losing round trips, contracts.
    pub avg_losing_position_size: f64,
    /// Pearson correlation of round-trip size and profit (0 when undefined).
    pub size_efficiency: f64,
    /// Largest |position| reached, contracts.
    pub max_position_reached: u64,
    /// Trades whose tier differs from the previous trade's.
    pub size_changes_per_episode: u64,
    /// Mean |position| per step, contracts.
    pub avg_position_size: f64,
    /// Actions taken by id.
    pub action_histogram: Vec<u64>,
    /// Fraction of steps that were HOLD.
    pub hold_fraction: f64,
    /// Fees paid, cents.
    pub fees_paid_cents: i64,
    /// (final − initial) / initial PV.
    pub total_return: f64,
    /// Mean / std of per-step returns.
    pub sharpe: f64,
    /// Largest fall from a peak, fraction of the peak.
    pub max_drawdown: f64,
    /// Share of round trips with positive profit.
    pub win_rate: f64,
    /// Steps executed as HOLD because masked.
    pub invalid_actions: u64,
    /// Round trips completed.
    pub round_trips: u64,
    /// PV at reset, cents.
    pub initial_pv_cents: i64,
    /// PV now, cents.
    pub final_pv_cents: i64,
}

impl EpisodeMetrics {
    /// From the core's accumulators; `sizes` names the tiers' sizes (fixed mode folds them).
    pub fn new(m: &SizingMetrics, sizes: &SizeTable) -> EpisodeMetrics {
        let mut dist = BTreeMap::new();
        for tier in Tier::ALL {
            let n = m.fills_per_tier[tier.index()];
            *dist.entry(sizes.size(tier).0.to_string()).or_insert(0) += n;
        }
        EpisodeMetrics {
            steps: m.steps(),
            position_size_distribution: dist,
            fills_per_tier: m.fills_per_tier,
            avg_winning_position_size: m.winning_sizes.mean(),
            avg_losing_position_size: m.losing_sizes.mean(),
            size_efficiency: m.size_efficiency(),
            max_position_reached: m.max_position_reached,
            size_changes_per_episode: m.size_changes,
            avg_position_size: m.position_sizes.mean(),
            action_histogram: m.action_histogram[..ACTION_COUNT].to_vec(),
            hold_fraction: m.hold_fraction(),
            fees_paid_cents: m.fees_cents,
            total_return: m.total_return(),
            sharpe: m.sharpe(),
            max_drawdown: m.max_drawdown,
            win_rate: m.win_rate(),
            invalid_actions: m.invalid_actions,
            round_trips: m.round_trips(),
            initial_pv_cents: m.initial_pv,
            final_pv_cents: m.final_pv,
        }
    }
}

/// One price level: YES-book price and tradable depth.
#[derive(Clone, Debug, Serialize)]
pub struct Level {
    /// Bid price of this ladder's contract, cents.
    pub price: u8,
    /// Tradable depth (displayed minus the agent's consumption), contracts.
    pub contracts: f64,
}

/// The top of both ladders for the live book view.
#[derive(Clone, Debug, Serialize)]
pub struct BookLevels {
    /// YES bids, best first.
    pub yes: Vec<Level>,
    /// NO bids, best first.
    pub no: Vec<Level>,
    /// Best YES bid, cents (null when empty).
    pub yes_bid: Option<u8>,
    /// Best YES ask (= 100 − best NO bid), cents.
    pub yes_ask: Option<u8>,
    /// Best NO bid, cents.
    pub no_bid: Option<u8>,
    /// Best NO ask, cents.
    pub no_ask: Option<u8>,
    /// Working order `{intent, size, remaining, limit}` or null.
    pub working: Option<WorkingDto>,
}

/// The agent's working order.
#[derive(Clone, Debug, Serialize)]
pub struct WorkingDto {
    /// Remaining contracts.
    pub remaining: u32,
    /// Intent name.
    pub intent: &'static str,
    /// Size placed, contracts.
    pub size: u32,
    /// Limit in the intent's contract, cents.
    pub limit_cents: u8,
}

impl BookLevels {
    /// The top `depth` levels per side of `engine`'s book.
    pub fn new(engine: &Engine, depth: usize) -> BookLevels {
        let book = engine.book();
        let side = |s: Side| {
            book.levels(s)
                .take(depth)
                .map(|(p, d)| Level {
                    price: p.cents(),
                    contracts: d.0 as f64 / 100.0,
                })
                .collect()
        };
        BookLevels {
            yes: side(Side::Yes),
            no: side(Side::No),
            yes_bid: book.best_bid(Side::Yes).map(|p| p.cents()),
            yes_ask: book.best_ask(Side::Yes).map(|p| p.cents()),
            no_bid: book.best_bid(Side::No).map(|p| p.cents()),
            no_ask: book.best_ask(Side::No).map(|p| p.cents()),
            working: engine.working_order().map(|w| WorkingDto {
                remaining: w.remaining,
                intent: engine.last_order().map_or("", |o| o.intent.name()),
                size: engine.last_order().map_or(0, |o| o.size),
                limit_cents: engine.last_order().map_or(0, |o| o.limit.cents()),
            }),
        }
    }
}

/// What a capture load produced.
#[derive(Clone, Debug, Serialize)]
pub struct LoadSummary {
    /// Markets with a tape.
    pub markets: u32,
    /// Their tickers, sorted.
    pub tickers: Vec<String>,
    /// Book events per market, same order.
    pub events: Vec<u32>,
    /// Settlement result per market: `"yes"`, `"no"` or null.
    pub results: Vec<Option<&'static str>>,
    /// Non-blank lines read.
    pub lines: u64,
    /// Lines skipped (lenient mode).
    pub skipped: u64,
    /// Skipped lines by error kind.
    pub skipped_by_kind: BTreeMap<String, u64>,
    /// The first skipped lines' messages.
    pub skipped_messages: Vec<String>,
    /// Sequence gaps.
    pub gaps: u64,
    /// Ignored message types with counts.
    pub ignored_types: BTreeMap<String, u64>,
}
