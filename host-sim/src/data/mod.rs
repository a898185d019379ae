//! Market data (SPEC §10): Kalshi captures in, per-market tapes out.
//!
//! # Input
//!
//! JSON Lines, one Kalshi message per line, blank lines ignored, many markets interleaved:
//!
//! - `orderbook_snapshot`: `msg.market_ticker` and bids per side as `yes`/`no`
//!   `[[cents, contracts], ...]` (legacy integers) or `yes_dollars_fp`/`no_dollars_fp`
//!   `[["0.5600", "123.45"], ...]` (fixed-point strings). When several forms are present the
//!   `_dollars_fp` one wins (it is the only one that carries fractional depth), then
//!   `_dollars`, then legacy. A side that is absent has no bids (Kalshi omits empty sides).
//! - `orderbook_delta`: `msg.market_ticker`, `side`, `price` + `delta` (legacy) or
//!   `price_dollars` + `delta_fp` (the fixed-point pair wins when both are present),
//!   optional `ts` (RFC 3339) and `ts_ms` (`ts_ms` wins).
//! - The REST order-book response `{"orderbook_fp": {"yes_dollars": ..., "no_dollars": ...}}`
//!   (or legacy `orderbook`) is a snapshot; its ticker comes from a top-level `ticker` /
//!   `market_ticker` key, else from the source name.
//! - `market_lifecycle_v2` / `market_lifecycle` with `msg.result` `"yes"`/`"no"` settles the
//!   market (an empty or absent result is counted as an ignored message).
//!   [`LoadOptions::results`] overrides and fills results.
//! - Every other type is skipped and counted by type name in [`LoadReport::ignored_types`].
//!
//! Prices: an integer is cents, a string is dollars; a dollar string that is not a whole
//! cent is a [`DataErrorKind::SubCentPrice`]. Quantities: an integer is whole contracts, a
//! string is contracts with at most two decimals, converted exactly to centi-contracts.
//! No floats are involved anywhere.
//!
//! # Sequencing
//!
//! When a message carries both `sid` and `seq`, `seq` must be contiguous per `sid` within
//! one source (each file is its own connection). A gap is a [`DataErrorKind::SequenceGap`]
//! in [`Mode::Strict`]; in [`Mode::Lenient`] it is reported and every market last seen on
//! that `sid` drops its deltas until its next snapshot (the resync), each drop counted.
//!
//! # Validation
//!
//! Each market's book is maintained with the core's [`OrderBook`](kalsim_core::OrderBook)
//! while loading, so a delta that leaves negative depth or crosses the book is caught with
//! its line. In lenient mode such a line is skipped (the book stays as before it) and counted
//! by kind; the market is not desynchronised by a skipped line.
//!
//! Several files load in the given order into one dataset; a market's events are appended
//! in reading order (timestamps are carried, not re-sorted).

mod error;
// `gen` is a reserved keyword in edition 2024; the items are re-exported below.
pub mod r#gen;
pub mod informed;
mod loader;
mod report;
pub mod validate;

#[cfg(feature = "live")]
pub(crate) use crate::wire::time::{integer_timestamp_ms, rfc3339_ms};

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use kalsim_core::{
    BookError, CentiContracts, Engine, EventOutcome, OrderBook, Price, QueueModel, Side,
};

pub use error::{DataError, DataErrorKind};
pub use r#gen::{GenConfig, generate, generate_string};
pub use loader::join_forecasts;
pub use report::{LoadReport, MAX_LISTED, MarketCounts};
pub use validate::{ValidationSummary, validate};

/// One change to a market's book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookEvent {
    /// Replace the book: levels are `tape.levels[yes.0 as usize..yes.1 as usize]` and the
    /// same for `no` (see [`MarketTape::snapshot_levels`]).
    Snapshot {
        /// Range of the YES bids in [`MarketTape::levels`].
        yes: (u32, u32),
        /// Range of the NO bids in [`MarketTape::levels`].
        no: (u32, u32),
    },
    /// A signed change of depth at one level.
    Delta {
        /// Ladder.
        side: Side,
        /// Level price.
        price: Price,
        /// Change of depth, centi-contracts.
        delta_centi: i64,
    },
}

/// A book event with its exchange timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TapeEvent {
    /// Exchange time, milliseconds since the Unix epoch, when the message carried one.
    pub ts_ms: Option<i64>,
    /// The change.
    pub event: BookEvent,
}

/// A forecast of a market's result (SPEC §10): kalsim's own message type, in a capture or
/// in a side file joined by market and time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forecast {
    /// Index of the tape event from which the forecast is known: the first event at or
    /// after its time when joined from a side file; in a capture the last book event before
    /// it, or the next one when the forecast is stamped later than that event.
    pub event: u32,
    /// The forecast's own time, ms since the epoch, when it carries one.
    pub ts_ms: Option<i64>,
    /// Probability of YES, parts per million.
    pub p_yes_ppm: u32,
    /// Stated standard error, parts per million.
    pub stderr_ppm: u32,
}

/// Everything known about one market, in order. The first event is always a snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MarketTape {
    /// Kalshi market ticker.
    pub ticker: String,
    /// Book events in order; the first is always a [`BookEvent::Snapshot`].
    pub events: Vec<TapeEvent>,
    /// Storage for snapshot levels `(price, depth in centi-contracts)`.
    pub levels: Vec<(Price, CentiContracts)>,
    /// Settlement result, if known.
    pub result: Option<Side>,
    /// Forecasts in order of [`Forecast::event`] (empty when the data carries none).
    pub forecasts: Vec<Forecast>,
    /// When the market settles, ms since the epoch, when the data says (a lifecycle
    /// message's `close_ts`, else its `determination_ts`).
    pub close_ts_ms: Option<i64>,
    /// The generator's latent probability of YES at each event, parts per million: only for
    /// synthetic markets, and only for the `oracle` reference policy. Never part of the
    /// observation or the reward (SPEC §10), never written to JSONL; empty for captures.
    pub latent_ppm: Vec<u32>,
}

impl MarketTape {
    /// The levels of one side of a snapshot event. An out-of-range range gives an empty slice.
    pub fn snapshot_levels(&self, r: (u32, u32)) -> &[(Price, CentiContracts)] {
        self.levels
            .get(r.0 as usize..r.1 as usize)
            .unwrap_or_default()
    }

    /// Split the tape at event `cut` (SPEC §10's time split for held-out evaluation): the
    /// first part is events `0..cut` without a result (it ends truncated); the second starts
    /// with a snapshot of the book after event `cut − 1` and carries the rest, the result
    /// and the settlement time. Forecasts and the latent path follow their events (the last
    /// forecast known at the cut is carried into the second part at its first event).
    pub fn split_at(&self, cut: usize) -> (MarketTape, MarketTape) {
        let cut = cut.clamp(1, self.events.len().max(1));
        let mut book = OrderBook::new();
        for e in &self.events[..cut] {
            let _ = self.apply_to_book(e, &mut book);
        }
        let mut first = MarketTape {
            ticker: self.ticker.clone(),
            events: self.events[..cut].to_vec(),
            levels: self.levels.clone(),
            result: None,
            forecasts: self
                .forecasts
                .iter()
                .filter(|f| (f.event as usize) < cut)
                .copied()
                .collect(),
            close_ts_ms: self.close_ts_ms,
            latent_ppm: self.latent_ppm.get(..cut).unwrap_or_default().to_vec(),
        };
        first.levels.shrink_to_fit();
        let ladder = |side: Side| -> Vec<(Price, CentiContracts)> {
            (1..=99u8)
                .rev()
                .filter_map(|p| {
                    let price = Price::new(p).ok()?;
                    let d = book.depth(side, price);
                    (d.0 > 0).then_some((price, d))
                })
                .collect()
        };
        let (yes, no) = (ladder(Side::Yes), ladder(Side::No));
        let ny = yes.len() as u32;
        let mut levels = yes;
        levels.extend(no);
        let total = levels.len() as u32;
        let mut events = vec![TapeEvent {
            ts_ms: self.events[cut - 1].ts_ms,
            event: BookEvent::Snapshot {
                yes: (0, ny),
                no: (ny, total),
            },
        }];
        // Later snapshots keep their level ranges, shifted behind the new snapshot's levels.
        let shift = total;
        levels.extend_from_slice(&self.levels);
        for e in &self.events[cut..] {
            let mut e = *e;
            if let BookEvent::Snapshot { yes, no } = &mut e.event {
                *yes = (yes.0 + shift, yes.1 + shift);
                *no = (no.0 + shift, no.1 + shift);
            }
            events.push(e);
        }
        let mut forecasts: Vec<Forecast> = Vec::new();
        if let Some(last) = self
            .forecasts
            .iter()
            .rev()
            .find(|f| (f.event as usize) < cut)
        {
            forecasts.push(Forecast { event: 0, ..*last });
        }
        forecasts.extend(
            self.forecasts
                .iter()
                .filter(|f| (f.event as usize) >= cut)
                .map(|f| Forecast {
                    event: f.event - cut as u32 + 1,
                    ..*f
                }),
        );
        let mut latent = Vec::new();
        if !self.latent_ppm.is_empty() {
            latent.push(self.latent_ppm[cut - 1]);
            latent.extend_from_slice(self.latent_ppm.get(cut..).unwrap_or_default());
        }
        let second = MarketTape {
            ticker: self.ticker.clone(),
            events,
            levels,
            result: self.result,
            forecasts,
            close_ts_ms: self.close_ts_ms,
            latent_ppm: latent,
        };
        (first, second)
    }

    /// Apply `event` (one of this tape's) to a bare order book.
    pub fn apply_to_book(&self, event: &TapeEvent, book: &mut OrderBook) -> Result<(), BookError> {
        match event.event {
            BookEvent::Snapshot { yes, no } => {
                book.apply_snapshot(self.snapshot_levels(yes), self.snapshot_levels(no))
            }
            BookEvent::Delta {
                side,
                price,
                delta_centi,
            } => book.apply_delta(side, price, delta_centi).map(|_| ()),
        }
    }

    /// Apply `event` (one of this tape's) to an engine, which also matches its working order.
    pub fn apply_to_engine<Q: QueueModel>(
        &self,
        event: &TapeEvent,
        engine: &mut Engine<Q>,
    ) -> Result<EventOutcome, BookError> {
        match event.event {
            BookEvent::Snapshot { yes, no } => {
                engine.apply_snapshot(self.snapshot_levels(yes), self.snapshot_levels(no))
            }
            BookEvent::Delta {
                side,
                price,
                delta_centi,
            } => engine.apply_delta(side, price, delta_centi),
        }
    }
}

/// Loaded markets plus the report of what was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    /// Market tapes sorted by ticker.
    pub markets: Vec<MarketTape>,
    /// Counts, gaps and skips.
    pub report: LoadReport,
}

/// What to do with a bad line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// The first bad line (or sequence gap) fails the load.
    #[default]
    Strict,
    /// Bad lines are skipped and counted; gaps resync markets at their next snapshot.
    Lenient,
}

/// Options of a load.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Strict or lenient.
    pub mode: Mode,
    /// Settlement results by ticker (e.g. from a `--results` file); they override results
    /// found in the data.
    pub results: Option<BTreeMap<String, Side>>,
}

/// Load one stream of JSON Lines, line by line.
pub fn load_reader<R: BufRead>(
    source_name: &str,
    reader: R,
    opts: &LoadOptions,
) -> Result<Dataset, DataError> {
    let mut loader = loader::Loader::new(opts);
    loader.read_source(source_name, reader)?;
    loader.finish()
}

/// Load several files into one dataset, streaming each.
pub fn load_files(paths: &[PathBuf], opts: &LoadOptions) -> Result<Dataset, DataError> {
    let mut loader = loader::Loader::new(opts);
    for path in paths {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| {
            DataError::new(
                DataErrorKind::Io {
                    message: e.to_string(),
                },
                &name,
                None,
                None,
            )
        })?;
        loader.read_source(&name, BufReader::with_capacity(1 << 16, file))?;
    }
    loader.finish()
}

/// Load JSON Lines already in memory (e.g. in the browser).
pub fn load_str(source_name: &str, text: &str, opts: &LoadOptions) -> Result<Dataset, DataError> {
    let mut loader = loader::Loader::new(opts);
    loader.read_str(source_name, text)?;
    loader.finish()
}

/// Parse a results file: a JSON object `{"TICKER": "yes" | "no", ...}`.
pub fn load_results_json(text: &str) -> Result<BTreeMap<String, Side>, DataError> {
    const SOURCE: &str = "results";
    let raw: BTreeMap<String, String> = serde_json::from_str(text).map_err(|e| {
        DataError::new(
            DataErrorKind::Json {
                message: e.to_string(),
            },
            SOURCE,
            Some(e.line() as u64),
            None,
        )
    })?;
    raw.into_iter()
        .map(|(ticker, value)| {
            let side = if value.eq_ignore_ascii_case("yes") {
                Side::Yes
            } else if value.eq_ignore_ascii_case("no") {
                Side::No
            } else {
                return Err(DataError::new(
                    DataErrorKind::BadResult { value },
                    SOURCE,
                    None,
                    Some(ticker),
                ));
            };
            Ok((ticker, side))
        })
        .collect()
}
