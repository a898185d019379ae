//! A market's metadata as the venue reports it (`GET /markets/{ticker}`): its price level
//! structure and price ranges, fractional trading, lifecycle status and result, and whether
//! the core can trade it.
//!
//! The core prices in whole cents 1..=99 and counts whole contracts (SPEC §1). A market whose
//! grid has a tick finer than one cent anywhere (`deci_cent`, `tapered_deci_cent`, or any
//! `price_ranges` step below $0.01), or that allows fractional order sizes, is **refused for
//! trading** with a reason naming the market; its book may still be watched. An unknown
//! structure name is judged by its ranges when it has any, else refused.

use std::fmt;

use kalsim_core::Side;
use serde_json::Value;

use crate::wire::fixed::parse_dollars_scaled;

/// Lifecycle status of a market (`status` on the market object).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MarketStatus {
    /// Created, not yet open.
    Initialized,
    /// Open for trading.
    Active,
    /// Paused by the exchange.
    Inactive,
    /// Past its close time.
    Closed,
    /// Result known, settlement pending.
    Determined,
    /// Result disputed.
    Disputed,
    /// Re-determined after a dispute.
    Amended,
    /// Settled; terminal.
    Finalized,
    /// A status this client does not know.
    Unknown,
}

impl MarketStatus {
    /// The status named `s` on the wire (`open`/`settled` filter names accepted too).
    pub fn from_name(s: &str) -> MarketStatus {
        match s {
            "initialized" | "unopened" => MarketStatus::Initialized,
            "active" | "open" => MarketStatus::Active,
            "inactive" | "paused" => MarketStatus::Inactive,
            "closed" => MarketStatus::Closed,
            "determined" => MarketStatus::Determined,
            "disputed" => MarketStatus::Disputed,
            "amended" => MarketStatus::Amended,
            "finalized" | "settled" => MarketStatus::Finalized,
            _ => MarketStatus::Unknown,
        }
    }

    /// Whether the market accepts orders.
    pub const fn is_tradable(self) -> bool {
        matches!(self, MarketStatus::Active)
    }
}

/// One band of a market's price grid, in micro-dollars (10⁻⁶ $; the wire carries up to six
/// decimals).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PriceRange {
    /// First price of the band, inclusive.
    pub start_micros: i64,
    /// Last price of the band, inclusive.
    pub end_micros: i64,
    /// Tick inside the band.
    pub step_micros: i64,
}

/// One cent in micro-dollars.
const CENT_MICROS: i64 = 10_000;

/// What the venue says about one market.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarketInfo {
    /// Market ticker.
    pub ticker: String,
    /// `price_level_structure` (`linear_cent`, `tapered_deci_cent`, `deci_cent`, ...).
    pub price_level_structure: String,
    /// `price_ranges`.
    pub price_ranges: Vec<PriceRange>,
    /// `fractional_trading_enabled`.
    pub fractional_trading_enabled: bool,
    /// `status`.
    pub status: MarketStatus,
    /// The determined result, when the market has one.
    pub result: Option<Side>,
    /// `close_time` as Unix seconds, when given.
    pub close_time_s: Option<i64>,
}

/// Why the core cannot trade a market.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    /// Market ticker.
    pub ticker: String,
    /// Why, for the log and the user.
    pub reason: String,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "market {} is refused for trading: {}",
            self.ticker, self.reason
        )
    }
}

impl std::error::Error for Unsupported {}

impl MarketInfo {
    /// An active market on the whole-cent grid (what the simulated venues trade).
    pub fn cent_grid(ticker: &str) -> MarketInfo {
        MarketInfo {
            ticker: ticker.to_owned(),
            price_level_structure: "linear_cent".into(),
            price_ranges: vec![PriceRange {
                start_micros: 0,
                end_micros: 1_000_000,
                step_micros: CENT_MICROS,
            }],
            fractional_trading_enabled: false,
            status: MarketStatus::Active,
            result: None,
            close_time_s: None,
        }
    }

    /// Read the market object (`{"market": {...}}` or the object itself). Unknown fields are
    /// ignored; missing structure fields read as the cent grid only when nothing says
    /// otherwise (`price_level_structure` absent and no ranges).
    pub fn from_json(v: &Value) -> Result<MarketInfo, String> {
        let m = v.get("market").unwrap_or(v);
        let ticker = m
            .get("ticker")
            .and_then(Value::as_str)
            .ok_or("market without ticker")?
            .to_owned();
        let mut ranges = Vec::new();
        if let Some(list) = m.get("price_ranges").and_then(Value::as_array) {
            for r in list {
                let field = |k: &str| -> Result<i64, String> {
                    let raw = r
                        .get(k)
                        .ok_or(format!("{ticker}: price range without {k}"))?;
                    let text = match raw {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        other => return Err(format!("{ticker}: price range {k} {other}")),
                    };
                    parse_dollars_scaled(&text, 6).map_err(|e| format!("{ticker}: {k}: {e}"))
                };
                ranges.push(PriceRange {
                    start_micros: field("start")?,
                    end_micros: field("end")?,
                    step_micros: field("step")?,
                });
            }
        }
        let structure = m
            .get("price_level_structure")
            .and_then(Value::as_str)
            .unwrap_or(if ranges.is_empty() { "linear_cent" } else { "" })
            .to_owned();
        let result = match m.get("result").and_then(Value::as_str) {
            Some("yes") => Some(Side::Yes),
            Some("no") => Some(Side::No),
            _ => None,
        };
        let close_time_s = m
            .get("close_time")
            .and_then(Value::as_str)
            .and_then(|t| crate::data::rfc3339_ms(t).ok())
            .map(|ms| ms.div_euclid(1000))
            .or_else(|| m.get("close_ts").and_then(Value::as_i64));
        Ok(MarketInfo {
            ticker,
            price_level_structure: structure,
            price_ranges: ranges,
            fractional_trading_enabled: m
                .get("fractional_trading_enabled")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            status: m
                .get("status")
                .and_then(Value::as_str)
                .map_or(MarketStatus::Active, MarketStatus::from_name),
            result,
            close_time_s,
        })
    }

    /// `Ok` when the core can trade this market: every tick is a whole cent and counts are
    /// whole contracts.
    pub fn check_tradable(&self) -> Result<(), Unsupported> {
        let refuse = |reason: String| {
            Err(Unsupported {
                ticker: self.ticker.clone(),
                reason,
            })
        };
        if self.fractional_trading_enabled {
            return refuse(
                "fractional contract sizes are enabled (fractional_trading_enabled); the core \
                 counts whole contracts"
                    .into(),
            );
        }
        if let Some(r) = self
            .price_ranges
            .iter()
            .find(|r| r.step_micros <= 0 || r.step_micros % CENT_MICROS != 0)
        {
            return refuse(format!(
                "price level structure {:?} has a tick of ${} between ${} and ${}; the core \
                 prices in whole cents",
                self.price_level_structure,
                micros_text(r.step_micros),
                micros_text(r.start_micros),
                micros_text(r.end_micros)
            ));
        }
        match self.price_level_structure.as_str() {
            "linear_cent" => Ok(()),
            "deci_cent" | "tapered_deci_cent" => refuse(format!(
                "price level structure {:?} has sub-cent (deci-cent) ticks; the core prices in \
                 whole cents",
                self.price_level_structure
            )),
            // An unknown name is judged by its ranges (all whole-cent ticks pass above).
            _ if !self.price_ranges.is_empty() => Ok(()),
            other => refuse(format!(
                "unknown price level structure {other:?} without price ranges"
            )),
        }
    }
}

fn micros_text(m: i64) -> String {
    let sign = if m < 0 { "-" } else { "" };
    let a = m.unsigned_abs();
    format!("{sign}{}.{:06}", a / 1_000_000, a % 1_000_000)
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cent_markets_pass_and_sub_cent_or_fractional_ones_are_refused() {
        let cent = json!({"market": {"ticker": "KX-A", "price_level_structure": "linear_cent",
            "price_ranges": [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}],
            "status": "active", "fractional_trading_enabled": false, "brand_new": 1}});
        let m = MarketInfo::from_json(&cent).unwrap();
        assert!(m.check_tradable().is_ok());
        assert_eq!(m.price_ranges[0].step_micros, 10_000);

        let deci = json!({"ticker": "KX-D", "price_level_structure": "tapered_deci_cent",
            "price_ranges": [{"start": "0.0000", "end": "0.1000", "step": "0.0010"},
                             {"start": "0.1000", "end": "0.9000", "step": 0.01}]});
        let e = MarketInfo::from_json(&deci)
            .unwrap()
            .check_tradable()
            .unwrap_err();
        assert!(
            e.to_string().contains("KX-D") && e.to_string().contains("0.001"),
            "{e}"
        );

        let named = json!({"ticker": "KX-N", "price_level_structure": "deci_cent"});
        assert!(
            MarketInfo::from_json(&named)
                .unwrap()
                .check_tradable()
                .is_err()
        );

        let frac = json!({"ticker": "KX-F", "fractional_trading_enabled": true});
        let e = MarketInfo::from_json(&frac)
            .unwrap()
            .check_tradable()
            .unwrap_err();
        assert!(e.reason.contains("fractional"));

        let settled = json!({"ticker": "KX-S", "status": "finalized", "result": "no",
            "close_time": "2026-01-01T00:00:00Z"});
        let m = MarketInfo::from_json(&settled).unwrap();
        assert_eq!(
            (m.status, m.result),
            (MarketStatus::Finalized, Some(Side::No))
        );
        assert_eq!(m.close_time_s, Some(1_767_225_600));
        assert!(!m.status.is_tradable());
    }
}
