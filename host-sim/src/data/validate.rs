//! `kalsim validate-data`: replay each tape through an [`OrderBook`] and summarise it.

use std::fmt;

use kalsim_core::{OrderBook, Side};

use super::{BookEvent, Dataset};

/// Minimum, mean and maximum of a series of integer samples.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    /// Smallest sample (0 when there are none).
    pub min: u64,
    /// Mean of the samples (0 when there are none).
    pub mean: f64,
    /// Largest sample (0 when there are none).
    pub max: u64,
    /// Number of samples.
    pub samples: u64,
}

#[derive(Default)]
struct Acc {
    min: u64,
    max: u64,
    sum: u128,
    n: u64,
}

impl Acc {
    fn add(&mut self, v: u64) {
        if self.n == 0 || v < self.min {
            self.min = v;
        }
        self.max = self.max.max(v);
        self.sum += v as u128;
        self.n += 1;
    }

    fn stats(&self) -> Stats {
        Stats {
            min: self.min,
            mean: if self.n == 0 {
                0.0
            } else {
                self.sum as f64 / self.n as f64
            },
            max: self.max,
            samples: self.n,
        }
    }
}

/// The summary of one market.
#[derive(Clone, Debug, PartialEq)]
pub struct MarketSummary {
    /// Ticker.
    pub ticker: String,
    /// Events on the tape.
    pub events: u64,
    /// Snapshots on the tape.
    pub snapshots: u64,
    /// Deltas on the tape.
    pub deltas: u64,
    /// Sequence gaps that hit this market while loading.
    pub gaps: u64,
    /// Lines about this market skipped (lenient mode) plus deltas dropped while desynced.
    pub skipped: u64,
    /// Replay errors (an event the book rejects; 0 for a tape produced by the loader).
    pub errors: u64,
    /// Settlement result.
    pub result: Option<Side>,
    /// Spread in cents (best YES ask − best YES bid) after each event with both sides quoted.
    pub spread_cents: Stats,
    /// Top-of-book depth in whole contracts, both sides, after each event.
    pub top_depth_contracts: Stats,
    /// Tradable levels per side after each event.
    pub levels_per_side: Stats,
    /// Events after which at least one side had no quote.
    pub one_sided_events: u64,
    /// Forecast messages (SPEC §10) known on this market.
    pub forecasts: u64,
    /// Smallest and largest stated forecast error, parts per million (0, 0 when none).
    pub forecast_stderr_ppm: (u32, u32),
}

/// The summary of a dataset: one row per market plus totals.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidationSummary {
    /// One row per market, sorted by ticker.
    pub markets: Vec<MarketSummary>,
    /// Non-blank lines read.
    pub lines: u64,
    /// Sequence gaps.
    pub gaps: u64,
    /// Skipped lines.
    pub skipped: u64,
    /// Ignored message types, by name.
    pub ignored: Vec<(String, u64)>,
}

/// Replay every tape and summarise books, spreads and depth.
pub fn validate(dataset: &Dataset) -> ValidationSummary {
    let markets = dataset
        .markets
        .iter()
        .map(|tape| {
            let counts = dataset
                .report
                .markets
                .get(&tape.ticker)
                .copied()
                .unwrap_or_default();
            let mut book = OrderBook::new();
            let (mut spread, mut depth, mut levels) =
                (Acc::default(), Acc::default(), Acc::default());
            let (mut errors, mut one_sided, mut snapshots, mut deltas) = (0, 0, 0, 0);
            for ev in &tape.events {
                match ev.event {
                    BookEvent::Snapshot { .. } => snapshots += 1,
                    BookEvent::Delta { .. } => deltas += 1,
                }
                let applied = tape.apply_to_book(ev, &mut book).is_ok();
                if !applied {
                    errors += 1;
                }
                match (book.best_bid(Side::Yes), book.best_bid(Side::No)) {
                    (Some(y), Some(n)) => {
                        spread.add(100 - y.cents() as u64 - n.cents() as u64);
                    }
                    _ => one_sided += 1,
                }
                for side in [Side::Yes, Side::No] {
                    if let Some(p) = book.best_bid(side) {
                        depth.add(book.effective_depth(side, p).whole_contracts());
                    }
                    levels.add(book.levels(side).count() as u64);
                }
            }
            MarketSummary {
                ticker: tape.ticker.clone(),
                events: tape.events.len() as u64,
                snapshots,
                deltas,
                gaps: counts.gaps,
                skipped: counts.skipped + counts.dropped_while_desynced,
                errors,
                result: tape.result,
                spread_cents: spread.stats(),
                top_depth_contracts: depth.stats(),
                levels_per_side: levels.stats(),
                one_sided_events: one_sided,
                forecasts: tape.forecasts.len() as u64,
                forecast_stderr_ppm: (
                    tape.forecasts
                        .iter()
                        .map(|f| f.stderr_ppm)
                        .min()
                        .unwrap_or(0),
                    tape.forecasts
                        .iter()
                        .map(|f| f.stderr_ppm)
                        .max()
                        .unwrap_or(0),
                ),
            }
        })
        .collect();
    ValidationSummary {
        markets,
        lines: dataset.report.lines,
        gaps: dataset.report.gap_total,
        skipped: dataset.report.skipped_total,
        ignored: dataset
            .report
            .ignored_types
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect(),
    }
}

impl fmt::Display for ValidationSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<28} {:>8} {:>5} {:>8} {:>4} {:>5} {:>4} {:>6} {:>16} {:>22} {:>12} {:>9} {:>13}",
            "market",
            "events",
            "snap",
            "deltas",
            "gaps",
            "skip",
            "err",
            "result",
            "spread¢ min/avg/max",
            "top depth min/avg/max",
            "levels avg",
            "forecasts",
            "stderr min/max"
        )?;
        for m in &self.markets {
            let result = match m.result {
                Some(s) => s.name(),
                None => "-",
            };
            writeln!(
                f,
                "{:<28} {:>8} {:>5} {:>8} {:>4} {:>5} {:>4} {:>6} {:>16} {:>22} {:>12.1} {:>9} {:>13}",
                m.ticker,
                m.events,
                m.snapshots,
                m.deltas,
                m.gaps,
                m.skipped,
                m.errors,
                result,
                format!(
                    "{}/{:.2}/{}",
                    m.spread_cents.min, m.spread_cents.mean, m.spread_cents.max
                ),
                format!(
                    "{}/{:.0}/{}",
                    m.top_depth_contracts.min,
                    m.top_depth_contracts.mean,
                    m.top_depth_contracts.max
                ),
                m.levels_per_side.mean,
                m.forecasts,
                if m.forecasts == 0 {
                    "-".to_string()
                } else {
                    format!(
                        "{:.3}/{:.3}",
                        m.forecast_stderr_ppm.0 as f64 / 1e6,
                        m.forecast_stderr_ppm.1 as f64 / 1e6
                    )
                }
            )?;
        }
        writeln!(
            f,
            "{} market(s), {} line(s), {} gap(s), {} skipped line(s)",
            self.markets.len(),
            self.lines,
            self.gaps,
            self.skipped
        )?;
        for (name, n) in &self.ignored {
            writeln!(f, "ignored {name}: {n}")?;
        }
        Ok(())
    }
}
