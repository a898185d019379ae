//! What a load did: per-market counts, skipped lines by kind, gaps, ignored message types.

use std::collections::BTreeMap;
use std::fmt;

use super::error::DataError;

/// How many skipped lines and gaps are kept verbatim in a [`LoadReport`]; counts stay exact.
pub const MAX_LISTED: usize = 100;

/// Per-market counts of a load.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarketCounts {
    /// Snapshots applied.
    pub snapshots: u64,
    /// Deltas applied.
    pub deltas: u64,
    /// Sequence gaps on this market's subscription while the market was being tracked.
    pub gaps: u64,
    /// Snapshots that ended a desynchronisation after a gap.
    pub resyncs: u64,
    /// Lines about this market skipped for an error (lenient mode).
    pub skipped: u64,
    /// Deltas dropped because the market was waiting for a snapshot after a gap.
    pub dropped_while_desynced: u64,
    /// Forecast messages attached to this market (SPEC §10).
    pub forecasts: u64,
}

/// Everything a load saw besides the tapes: nothing is dropped without being counted here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Sources read, in order.
    pub sources: Vec<String>,
    /// Non-blank lines read.
    pub lines: u64,
    /// Blank lines (ignored).
    pub blank_lines: u64,
    /// Counts per market ticker (also for tickers that never got a tape, e.g. only errors).
    pub markets: BTreeMap<String, MarketCounts>,
    /// Message types skipped because they carry nothing for replay, by type name.
    pub ignored_types: BTreeMap<String, u64>,
    /// Lines skipped for an error (lenient mode), by [`DataErrorKind::name`](super::DataErrorKind::name).
    pub skipped_by_kind: BTreeMap<&'static str, u64>,
    /// The first [`MAX_LISTED`] skipped lines with file, line and message.
    pub skipped: Vec<DataError>,
    /// All skipped lines (exact).
    pub skipped_total: u64,
    /// The first [`MAX_LISTED`] sequence gaps (lenient mode).
    pub gaps: Vec<DataError>,
    /// All sequence gaps (exact).
    pub gap_total: u64,
    /// Deltas dropped while their market waited for a snapshot after a gap.
    pub dropped_while_desynced: u64,
    /// Settlement results naming a ticker that has no tape.
    pub unmatched_results: u64,
    /// Forecasts later than every event of their market (dropped): from a side file, or
    /// stamped after the market's last book event in a capture.
    pub forecasts_after_end: u64,
    /// Book events of markets after their settlement result in the capture (dropped: the
    /// market is settled there).
    pub events_after_result: u64,
}

impl LoadReport {
    pub(crate) fn record_skip(&mut self, error: DataError) {
        *self.skipped_by_kind.entry(error.kind.name()).or_insert(0) += 1;
        self.skipped_total += 1;
        if self.skipped.len() < MAX_LISTED {
            self.skipped.push(error);
        }
    }

    pub(crate) fn record_gap(&mut self, error: DataError) {
        self.gap_total += 1;
        if self.gaps.len() < MAX_LISTED {
            self.gaps.push(error);
        }
    }

    pub(crate) fn ignore_type(&mut self, name: &str) {
        match self.ignored_types.get_mut(name) {
            Some(n) => *n += 1,
            None => {
                self.ignored_types.insert(name.to_owned(), 1);
            }
        }
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} lines ({} blank) from {} source(s), {} market(s)",
            self.lines,
            self.blank_lines,
            self.sources.len(),
            self.markets.len()
        )?;
        writeln!(
            f,
            "gaps: {}, deltas dropped while desynced: {}, skipped lines: {}, unmatched results: {}",
            self.gap_total, self.dropped_while_desynced, self.skipped_total, self.unmatched_results
        )?;
        if self.forecasts_after_end > 0 || self.events_after_result > 0 {
            writeln!(
                f,
                "dropped: {} forecast(s) after their market's last event, {} book event(s) after a settlement result",
                self.forecasts_after_end, self.events_after_result
            )?;
        }
        for (kind, n) in &self.skipped_by_kind {
            writeln!(f, "  skipped {kind}: {n}")?;
        }
        for (kind, n) in &self.ignored_types {
            writeln!(f, "  ignored type {kind}: {n}")?;
        }
        for e in self.gaps.iter().chain(&self.skipped) {
            writeln!(f, "  {e}")?;
        }
        let unlisted = (self.gap_total + self.skipped_total)
            .saturating_sub((self.gaps.len() + self.skipped.len()) as u64);
        if unlisted > 0 {
            writeln!(f, "  ... and {unlisted} more")?;
        }
        Ok(())
    }
}
