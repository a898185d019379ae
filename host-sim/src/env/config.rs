//! Environment configuration (TOML or JSON), every default documented.
//!
//! ```toml
//! # All keys optional; the values shown are the defaults.
//! sizes = [5, 10, 20, 50, 100]   # contracts per tier Small..Giant, strictly increasing
//! sizing = "variable"            # "variable" | "fixed" (every trade action trades fixed_size)
//! fixed_size = 10                # contracts, used when sizing = "fixed"
//! pricing = "sweep"              # "sweep" | "aggressive" | "passive" | "mid" (SPEC §3)
//! max_slippage_cents = 2         # sweep: worst price = best price ± this many cents
//! sweep_remainder = "cancel"     # sweep: "cancel" (immediate-or-cancel) | "rest"
//! order_latency_ms = 0           # an order reaches the book at the first event ≥ this much later
//! decision_interval = { events = 1 }  # or { ms = 1000 } (SPEC §7)
//! sell_mode = "reduce_only"      # "reduce_only" | "sell_to_open"
//! mark = "liquidation"           # "liquidation" | "mid" (SPEC §5)
//! invalid_action = "hold"        # "hold": masked actions run as HOLD with a reason; "error"
//! initial_cash_cents = 100000    # $1 000
//! reward_scale = 0.01            # reward = ΔPV (cents) × scale: dollars
//! max_steps = 0                  # 0 = until the market's data ends
//! queue_model = "fifo"           # "fifo" | "probabilistic"
//! trade_prob_bps = 5000          # probabilistic queue model: share of decreases that are trades
//!
//! [limits]                       # SPEC §6, the plan's defaults
//! max_position_per_market = 500  # contracts
//! max_position_value_cents = 50000
//! max_portfolio_fraction_bps = 2500
//! min_cash_buffer_cents = 5000
//!
//! [fees]                         # SPEC §4
//! taker_rate_e4 = 700            # 0.07
//! maker_rate_e4 = 175            # 0.0175
//! maker_fees = false             # true: every market pays maker fees
//! maker_fee_markets = []         # tickers that pay maker fees
//!
//! [data]                         # where markets come from; default: embedded synthetic
//! files = []                     # Kalshi JSONL captures; empty = synthetic
//! results = ""                   # optional {"TICKER": "yes"|"no"} file
//! lenient = false                # skip and count bad lines instead of failing
//! synthetic_markets = 16
//! synthetic_events = 2000        # events per market
//! synthetic_seed = 7
//! synthetic_edge_bps = 0         # opt-in information shocks (data::gen); 0 = original model
//! preset = ""                    # "" / "default" | "informed" (SPEC §10; data::gen::informed)
//! forecasts = []                 # side files of forecast messages joined by market and time
//! ```

use std::fmt;

use kalsim_core::{
    Bps, Cents, Contracts, EngineConfig, FeeSchedule, Limits, MarkMode, PricingMode,
    QueueModelKind, SellMode, SizeTable, SweepRemainder,
};
use serde::{Deserialize, Serialize};

/// Position limits (SPEC §6).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Contracts (default 500).
    pub max_position_per_market: u32,
    /// Cents (default 50 000).
    pub max_position_value_cents: i64,
    /// Basis points of PV (default 2 500).
    pub max_portfolio_fraction_bps: u32,
    /// Cents (default 5 000).
    pub min_cash_buffer_cents: i64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_position_per_market: 500,
            max_position_value_cents: 50_000,
            max_portfolio_fraction_bps: 2_500,
            min_cash_buffer_cents: 5_000,
        }
    }
}

/// Fee schedule (SPEC §4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeesConfig {
    /// Taker rate × 10 000 (default 700).
    pub taker_rate_e4: u32,
    /// Maker rate × 10 000 (default 175).
    pub maker_rate_e4: u32,
    /// Maker fees on every market (default false).
    pub maker_fees: bool,
    /// Tickers flagged as maker-fee markets (default none).
    pub maker_fee_markets: Vec<String>,
}

impl Default for FeesConfig {
    fn default() -> Self {
        FeesConfig {
            taker_rate_e4: 700,
            maker_rate_e4: 175,
            maker_fees: false,
            maker_fee_markets: Vec::new(),
        }
    }
}

/// Where the markets come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    /// Kalshi JSONL captures; empty = the embedded synthetic generator.
    pub files: Vec<String>,
    /// Optional results file `{"TICKER": "yes"|"no"}`.
    pub results: String,
    /// Lenient loading: skip and count bad lines.
    pub lenient: bool,
    /// Synthetic: number of markets (default 16).
    pub synthetic_markets: u32,
    /// Synthetic: events per market (default 2 000).
    pub synthetic_events: u32,
    /// Synthetic: generator seed (default 7).
    pub synthetic_seed: u64,
    /// Synthetic: size of the generator's opt-in information shocks, bps of probability
    /// (default 0 = the original model, byte-identical).
    pub synthetic_edge_bps: u32,
    /// Synthetic preset: `""` (default markets) or `"informed"` (SPEC §10: forecasts of
    /// varying precision and a book that lags a latent probability).
    pub preset: String,
    /// Side files of forecast messages (JSONL) joined by market and time (SPEC §10).
    pub forecasts: Vec<String>,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            files: Vec::new(),
            results: String::new(),
            lenient: false,
            synthetic_markets: 16,
            synthetic_events: 2_000,
            synthetic_seed: 7,
            synthetic_edge_bps: 0,
            preset: String::new(),
            forecasts: Vec::new(),
        }
    }
}

/// How often the agent decides (SPEC §7): every `k`-th book event, or at the first event at
/// least `t` ms of exchange time after the previous decision. TOML `decision_interval =
/// { events = 5 }` or `{ ms = 1000 }`; JSON `{"events": 5}` / `{"ms": 1000}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum DecisionInterval {
    /// Every `k`-th event (k ≥ 1; 1 = every event, the default).
    Events(u32),
    /// The first event at least this many milliseconds after the previous decision (≥ 1).
    Ms(u32),
}

impl Default for DecisionInterval {
    fn default() -> Self {
        DecisionInterval::Events(1)
    }
}

impl DecisionInterval {
    fn validate(&self) -> Result<(), ConfigError> {
        match *self {
            DecisionInterval::Events(0) => {
                Err(bad("decision_interval.events", "must be at least 1"))
            }
            DecisionInterval::Ms(0) => Err(bad("decision_interval.ms", "must be at least 1")),
            _ => Ok(()),
        }
    }

    /// `events=k` or `ms=t`, as recorded in checkpoints.
    pub fn label(&self) -> String {
        match self {
            DecisionInterval::Events(k) => format!("events={k}"),
            DecisionInterval::Ms(t) => format!("ms={t}"),
        }
    }
}

/// `sizing`: the plan's five sizes, or one fixed size for every trade.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sizing {
    /// The tier's size (default).
    #[default]
    Variable,
    /// `fixed_size` for every tier.
    Fixed,
}

/// `invalid_action`: what a masked or reserved action does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvalidActionMode {
    /// Executed as HOLD, reported in `info.invalid_action` (default).
    #[default]
    Hold,
    /// A step error (strict mode).
    Error,
}

/// `queue_model`: how a resting order advances in its level's queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueModel {
    /// Strict FIFO behind the displayed depth (default).
    #[default]
    Fifo,
    /// A decrease is a trade with probability `trade_prob_bps`.
    Probabilistic,
}

/// Parse a configuration name (`"sweep"`, `"fixed"`, ...) as the config files spell it.
pub fn parse_name<T: serde::de::DeserializeOwned>(key: &str, name: &str) -> Result<T, ConfigError> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(name))
        .map_err(|e| bad(key, e.to_string()))
}

/// The whole environment configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnvConfig {
    /// Tier sizes in contracts (default `[5, 10, 20, 50, 100]`).
    pub sizes: [u32; 5],
    /// `variable` (default) or `fixed`.
    pub sizing: Sizing,
    /// Contracts per trade in fixed mode (default 10).
    pub fixed_size: u32,
    /// `sweep` (default), `aggressive`, `passive`, `mid`.
    pub pricing: PricingMode,
    /// Sweep pricing: worst-price allowance beyond the best price, cents (default 2).
    pub max_slippage_cents: u8,
    /// Sweep pricing: `cancel` (default) or `rest` the unfilled remainder.
    pub sweep_remainder: SweepRemainder,
    /// Simulated order latency, milliseconds of exchange time (default 0): an order placed
    /// at a decision reaches the book at the first event at least this much later.
    pub order_latency_ms: u32,
    /// How often the agent decides (SPEC §7; default every event).
    pub decision_interval: DecisionInterval,
    /// `reduce_only` (default) or `sell_to_open`.
    pub sell_mode: SellMode,
    /// `liquidation` (default) or `mid`.
    pub mark: MarkMode,
    /// `hold` (default) or `error`.
    pub invalid_action: InvalidActionMode,
    /// Cash at reset, cents (default 100 000).
    pub initial_cash_cents: i64,
    /// Reward = ΔPV cents × scale (default 0.01).
    pub reward_scale: f64,
    /// Step limit per episode, 0 = none (default 0).
    pub max_steps: u32,
    /// `fifo` (default) or `probabilistic`.
    pub queue_model: QueueModel,
    /// Probabilistic queue model's trade share, bps (default 5 000).
    pub trade_prob_bps: u32,
    /// Limits.
    pub limits: LimitsConfig,
    /// Fees.
    pub fees: FeesConfig,
    /// Data source.
    pub data: DataConfig,
}

impl Default for EnvConfig {
    fn default() -> Self {
        EnvConfig {
            sizes: [5, 10, 20, 50, 100],
            sizing: Sizing::Variable,
            fixed_size: 10,
            pricing: PricingMode::Sweep,
            max_slippage_cents: kalsim_core::order::DEFAULT_MAX_SLIPPAGE_CENTS,
            sweep_remainder: SweepRemainder::Cancel,
            order_latency_ms: 0,
            decision_interval: DecisionInterval::default(),
            sell_mode: SellMode::ReduceOnly,
            mark: MarkMode::Liquidation,
            invalid_action: InvalidActionMode::Hold,
            initial_cash_cents: 100_000,
            reward_scale: 0.01,
            max_steps: 0,
            queue_model: QueueModel::Fifo,
            trade_prob_bps: 5_000,
            limits: LimitsConfig::default(),
            fees: FeesConfig::default(),
            data: DataConfig::default(),
        }
    }
}

/// A configuration that cannot be used, naming the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The key (dotted path) at fault, or `""` for a parse error.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "config: {}", self.message)
        } else {
            write!(f, "config: {}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// The bounds a configuration must stay within (they keep every product of sizes, prices
/// and cash far inside `i64`, and every reward finite). One definition, used by the
/// validation below, the fuzz targets and every front-end.
pub mod bounds {
    /// `initial_cash_cents` lies in `1..=MAX_INITIAL_CASH_CENTS` ($10 bn).
    pub const MAX_INITIAL_CASH_CENTS: i64 = 1_000_000_000_000;
    /// Largest size of a tier, and the largest `fixed_size`, contracts.
    pub const MAX_SIZE: u32 = 1_000_000;
    /// Largest `limits.max_position_per_market`, contracts.
    pub const MAX_POSITION_PER_MARKET: u32 = 100_000_000;
    /// Largest fee rate and `limits.max_portfolio_fraction_bps`, per 10 000.
    pub const MAX_RATE_E4: u32 = 10_000;
    /// Largest `|reward_scale|`.
    pub const MAX_REWARD_SCALE: f64 = 1e6;
    /// Largest `trade_prob_bps` of the probabilistic queue model, per 10 000.
    pub const MAX_TRADE_PROB_BPS: u32 = 10_000;
}

impl LimitsConfig {
    /// The core's limits, validated against [`bounds`] (errors name the key).
    pub fn to_limits(&self) -> Result<Limits, ConfigError> {
        if self.max_position_value_cents < 0 || self.min_cash_buffer_cents < 0 {
            return Err(bad("limits", "cent limits must not be negative"));
        }
        if self.max_portfolio_fraction_bps > bounds::MAX_RATE_E4 {
            return Err(bad(
                "limits.max_portfolio_fraction_bps",
                "must be at most 10000",
            ));
        }
        if self.max_position_per_market > bounds::MAX_POSITION_PER_MARKET {
            return Err(bad(
                "limits.max_position_per_market",
                "must be at most 100 000 000",
            ));
        }
        Ok(Limits {
            max_position_per_market: self.max_position_per_market,
            max_position_value: Cents(self.max_position_value_cents),
            max_portfolio_fraction: Bps(self.max_portfolio_fraction_bps),
            min_cash_buffer: Cents(self.min_cash_buffer_cents),
        })
    }
}

/// A serde path as the dotted key of the docs (`limits.max_position_per_market`).
fn key_path(path: &serde_path_to_error::Path) -> String {
    let p = path.to_string();
    if p == "." { String::new() } else { p }
}

fn bad(field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.into(),
        message: message.into(),
    }
}

impl EnvConfig {
    /// Parse JSON (an empty string gives the defaults).
    pub fn from_json(text: &str) -> Result<EnvConfig, ConfigError> {
        if text.trim().is_empty() {
            return Ok(EnvConfig::default());
        }
        let de = &mut serde_json::Deserializer::from_str(text);
        let cfg: EnvConfig = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = key_path(e.path());
            let inner = e.into_inner();
            bad(
                &path,
                format!(
                    "invalid JSON at line {} column {}: {inner}",
                    inner.line(),
                    inner.column()
                ),
            )
        })?;
        cfg.engine_config()?;
        Ok(cfg)
    }

    /// Parse TOML.
    pub fn from_toml(text: &str) -> Result<EnvConfig, ConfigError> {
        let de =
            toml::Deserializer::parse(text).map_err(|e| bad("", format!("invalid TOML: {e}")))?;
        let cfg: EnvConfig = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = key_path(e.path());
            bad(&path, format!("invalid TOML: {}", e.into_inner()))
        })?;
        cfg.engine_config()?;
        Ok(cfg)
    }

    /// Parse by file name: `.toml` as TOML, anything else as JSON.
    pub fn from_named_str(name: &str, text: &str) -> Result<EnvConfig, ConfigError> {
        if name.ends_with(".toml") {
            EnvConfig::from_toml(text)
        } else {
            EnvConfig::from_json(text)
        }
    }

    /// As JSON (for reports and checkpoints).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Select a synthetic preset (`default` or `informed`, SPEC §10). For `informed`, a data
    /// size left at the generic defaults (16 markets × 2 000 events) becomes the preset's
    /// pool of 1 024 markets × 600 events.
    pub fn apply_preset(&mut self, preset: &str) {
        self.data.preset = if preset == "default" {
            String::new()
        } else {
            preset.to_owned()
        };
        let d = DataConfig::default();
        if preset == "informed"
            && self.data.synthetic_markets == d.synthetic_markets
            && self.data.synthetic_events == d.synthetic_events
        {
            self.data.synthetic_markets = crate::data::informed::PRESET_MARKETS;
            self.data.synthetic_events = crate::data::informed::PRESET_EVENTS;
        }
    }

    /// The pricing recorded in checkpoints: `sweep:<slippage>:<remainder>` or the mode's name.
    pub fn pricing_label(&self) -> String {
        if self.pricing == PricingMode::Sweep {
            format!(
                "sweep:{}:{}",
                self.max_slippage_cents,
                self.sweep_remainder.name()
            )
        } else {
            self.pricing.name().to_owned()
        }
    }

    /// The preset label recorded in checkpoints: `default` or `informed`.
    pub fn preset_label(&self) -> &str {
        if self.data.preset.is_empty() {
            "default"
        } else {
            &self.data.preset
        }
    }

    /// True when sizing is fixed.
    pub fn is_fixed(&self) -> bool {
        self.sizing == Sizing::Fixed
    }

    /// `variable` or `fixed:N`, as recorded in policy checkpoints.
    pub fn sizing_label(&self) -> String {
        if self.is_fixed() {
            format!("fixed:{}", self.fixed_size)
        } else {
            "variable".into()
        }
    }

    /// Validate and translate into the core's configuration (maker fees resolved per market later).
    pub fn engine_config(&self) -> Result<EngineConfig, ConfigError> {
        let mut sizes = SizeTable::new(self.sizes).map_err(|e| bad("sizes", e.to_string()))?;
        if self.sizing == Sizing::Fixed {
            sizes = sizes
                .with_fixed(Contracts(self.fixed_size))
                .map_err(|e| bad("fixed_size", e.to_string()))?;
        }
        let (pricing, sweep_remainder) = (self.pricing, self.sweep_remainder);
        if self.max_slippage_cents > 98 {
            return Err(bad("max_slippage_cents", "must be at most 98"));
        }
        self.decision_interval.validate()?;
        if self.order_latency_ms > 86_400_000 {
            return Err(bad(
                "order_latency_ms",
                "must be at most 86 400 000 (one day)",
            ));
        }
        let (sell_mode, mark) = (self.sell_mode, self.mark);
        let strict = self.invalid_action == InvalidActionMode::Error;
        let queue = match self.queue_model {
            QueueModel::Fifo => QueueModelKind::Fifo,
            QueueModel::Probabilistic => {
                if self.trade_prob_bps > bounds::MAX_TRADE_PROB_BPS {
                    return Err(bad("trade_prob_bps", "must be at most 10000"));
                }
                QueueModelKind::Probabilistic {
                    trade_prob_bps: self.trade_prob_bps,
                }
            }
        };
        // Bounds that keep every product of sizes, prices and cash far inside i64.
        if !(1..=bounds::MAX_INITIAL_CASH_CENTS).contains(&self.initial_cash_cents) {
            return Err(bad("initial_cash_cents", "must be within 1..=1e12 cents"));
        }
        if self.sizes[4] > bounds::MAX_SIZE || self.fixed_size > bounds::MAX_SIZE {
            return Err(bad(
                "sizes",
                "sizes above 1 000 000 contracts are not supported",
            ));
        }
        // |ΔPV| stays far below 1e13 cents, so this keeps every reward finite (even as f32).
        if !self.reward_scale.is_finite() || self.reward_scale.abs() > bounds::MAX_REWARD_SCALE {
            return Err(bad(
                "reward_scale",
                "must be a finite number with magnitude at most 1e6",
            ));
        }
        let limits = self.limits.to_limits()?;
        if !matches!(self.data.preset.as_str(), "" | "default" | "informed") {
            return Err(bad(
                "data.preset",
                format!("{:?} is not \"default\" or \"informed\"", self.data.preset),
            ));
        }
        if self.fees.taker_rate_e4 > bounds::MAX_RATE_E4
            || self.fees.maker_rate_e4 > bounds::MAX_RATE_E4
        {
            return Err(bad(
                "fees",
                "rates are per 10 000 and must be at most 10000",
            ));
        }
        Ok(EngineConfig {
            sizes,
            limits,
            pricing,
            max_slippage_cents: self.max_slippage_cents,
            sweep_remainder,
            sell_mode,
            fees: FeeSchedule {
                taker_rate_e4: self.fees.taker_rate_e4,
                maker_rate_e4: self.fees.maker_rate_e4,
                maker_fees: self.fees.maker_fees,
            },
            mark,
            strict,
            initial_cash: Cents(self.initial_cash_cents),
            queue,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_key_path_in_both_formats() {
        let e = EnvConfig::from_json(r#"{"pricing": "yolo"}"#).unwrap_err();
        assert_eq!(e.field, "pricing");
        assert!(
            e.message.contains("sweep") && e.message.contains("yolo"),
            "{e}"
        );
        let e =
            EnvConfig::from_json(r#"{"limits": {"max_position_per_market": "x"}}"#).unwrap_err();
        assert_eq!(e.field, "limits.max_position_per_market");
        let e = EnvConfig::from_toml("[limits]\nmax_position_per_market = -3\n").unwrap_err();
        assert_eq!(e.field, "limits.max_position_per_market", "{e}");
        let e = EnvConfig::from_toml("sell_mode = \"short\"\n").unwrap_err();
        assert_eq!(e.field, "sell_mode");
        let e = EnvConfig::from_toml("[data]\nbogus = 1\n").unwrap_err();
        assert!(e.message.contains("bogus"), "{e}");
        assert_eq!(
            parse_name::<PricingMode>("--pricing", "mid").unwrap(),
            PricingMode::Mid
        );
        assert_eq!(
            parse_name::<Sizing>("--sizing", "x").unwrap_err().field,
            "--sizing"
        );
    }

    #[test]
    fn defaults_round_trip_and_match_core() {
        let cfg = EnvConfig::default();
        assert_eq!(EnvConfig::from_json(&cfg.to_json()).unwrap(), cfg);
        assert_eq!(cfg.engine_config().unwrap(), EngineConfig::default());
        assert_eq!(EnvConfig::from_json("").unwrap(), cfg);
    }

    #[test]
    fn errors_name_the_field() {
        let e = EnvConfig::from_json(r#"{"pricing": "yolo"}"#).unwrap_err();
        assert_eq!(e.field, "pricing");
        let e = EnvConfig::from_json(r#"{"sizes": [5, 5, 20, 50, 100]}"#).unwrap_err();
        assert_eq!(e.field, "sizes");
        let e = EnvConfig::from_json(r#"{"nope": 1}"#).unwrap_err();
        assert!(e.message.contains("nope"), "{e}");
        let e = EnvConfig::from_toml("sizing = \"fixed\"\nfixed_size = 0").unwrap_err();
        assert_eq!(e.field, "fixed_size");
        assert!(EnvConfig::from_json("{").is_err());
    }

    #[test]
    fn toml_sets_nested_keys() {
        let cfg =
            EnvConfig::from_toml("pricing = \"mid\"\n[limits]\nmax_position_per_market = 50\n")
                .unwrap();
        assert_eq!(cfg.limits.max_position_per_market, 50);
        assert_eq!(cfg.engine_config().unwrap().pricing, PricingMode::Mid);
    }
}
