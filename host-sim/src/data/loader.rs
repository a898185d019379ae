//! The streaming loader: one line at a time into per-market tapes, each market's book
//! validated with the core's [`OrderBook`].

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

use kalsim_core::{CentiContracts, OrderBook, Price, Side};

use super::error::{DataError, DataErrorKind};
use super::report::{LoadReport, MarketCounts};
use super::{BookEvent, Dataset, Forecast, LoadOptions, MarketTape, Mode, TapeEvent};
use crate::wire::market::{self as wire, FieldError, FieldResult, Line, Msg, SubCent, field_err};

struct MarketState {
    tape: MarketTape,
    book: OrderBook,
    /// Waiting for a snapshot after a sequence gap on its subscription.
    desynced: bool,
    /// Subscription id the market's book messages arrive on (last seen).
    sid: Option<u64>,
    /// Time of the latest book event (events without one carry the previous time).
    last_ts_ms: Option<i64>,
    counts: MarketCounts,
}

/// A failed line, with the market it was about when known (for per-market skip counts).
struct LineError {
    error: DataError,
    ticker: Option<String>,
}

pub(crate) struct Loader<'o> {
    opts: &'o LoadOptions,
    markets: HashMap<String, MarketState>,
    /// Counts for tickers that have no tape (errors before their first snapshot).
    orphan_counts: HashMap<String, MarketCounts>,
    results: HashMap<String, Side>,
    /// Index of the market's latest book event when its result arrived: the market is
    /// settled there, so the tape ends there (later book events are counted and dropped).
    result_at: HashMap<String, usize>,
    /// Close (else determination) time per ticker from lifecycle messages, ms; applied to
    /// the tapes at the end, so one read before the market's first snapshot is kept too.
    close_times: HashMap<String, i64>,
    /// Next expected `seq` per `sid`, for the current source only.
    next_seq: HashMap<u64, u64>,
    report: LoadReport,
    yes: Vec<(Price, CentiContracts)>,
    no: Vec<(Price, CentiContracts)>,
    /// Forecasts of markets whose first snapshot has not arrived yet (attached at event 0),
    /// with where they were read, for an unknown-market error at the end.
    early_forecasts: HashMap<String, (Vec<Forecast>, String, u64)>,
}

impl<'o> Loader<'o> {
    pub(crate) fn new(opts: &'o LoadOptions) -> Loader<'o> {
        Loader {
            opts,
            markets: HashMap::new(),
            orphan_counts: HashMap::new(),
            results: HashMap::new(),
            result_at: HashMap::new(),
            close_times: HashMap::new(),
            next_seq: HashMap::new(),
            report: LoadReport::default(),
            yes: Vec::new(),
            no: Vec::new(),
            early_forecasts: HashMap::new(),
        }
    }

    /// Stream one source. `seq` tracking restarts per source (each capture is its own
    /// connection, so its `sid`s are its own); markets carry over between sources.
    pub(crate) fn read_source<R: BufRead>(
        &mut self,
        source: &str,
        mut reader: R,
    ) -> Result<(), DataError> {
        self.report.sources.push(source.to_owned());
        self.next_seq.clear();
        // A byte buffer rather than a String: an invalid UTF-8 line is then one bad line
        // (skippable in lenient mode) instead of a failed read of the whole source.
        let mut buf = Vec::with_capacity(4096);
        let mut line_no = 0u64;
        loop {
            buf.clear();
            let n = reader.read_until(b'\n', &mut buf).map_err(|e| {
                DataError::new(
                    DataErrorKind::Io {
                        message: e.to_string(),
                    },
                    source,
                    Some(line_no + 1),
                    None,
                )
            })?;
            if n == 0 {
                return Ok(());
            }
            line_no += 1;
            self.line(source, line_no, &buf)?;
        }
    }

    pub(crate) fn read_str(&mut self, source: &str, text: &str) -> Result<(), DataError> {
        self.report.sources.push(source.to_owned());
        self.next_seq.clear();
        for (i, line) in text.lines().enumerate() {
            self.line(source, i as u64 + 1, line.as_bytes())?;
        }
        Ok(())
    }

    fn line(&mut self, source: &str, line_no: u64, bytes: &[u8]) -> Result<(), DataError> {
        let bytes = bytes.trim_ascii();
        if bytes.is_empty() {
            self.report.blank_lines += 1;
            return Ok(());
        }
        self.report.lines += 1;
        match self.process(source, line_no, bytes) {
            Ok(()) => Ok(()),
            Err(LineError { error, ticker }) => match self.opts.mode {
                Mode::Strict => Err(error),
                Mode::Lenient => {
                    if let Some(t) = ticker {
                        self.counts_mut(&t).skipped += 1;
                    }
                    self.report.record_skip(error);
                    Ok(())
                }
            },
        }
    }

    fn counts_mut(&mut self, ticker: &str) -> &mut MarketCounts {
        if let Some(m) = self.markets.get_mut(ticker) {
            return &mut m.counts;
        }
        self.orphan_counts.entry(ticker.to_owned()).or_default()
    }

    fn process(&mut self, source: &str, line_no: u64, bytes: &[u8]) -> Result<(), LineError> {
        let at = |e: FieldError, ticker: Option<&str>| LineError {
            error: DataError::new(e.kind, source, Some(line_no), Some(e.field)),
            ticker: ticker.map(str::to_owned),
        };
        let line: Line<'_> = serde_json::from_slice(bytes).map_err(|e| LineError {
            error: DataError::new(
                DataErrorKind::Json {
                    message: e.to_string(),
                },
                source,
                Some(line_no),
                json_error_field(bytes, &e),
            ),
            ticker: None,
        })?;
        let sid = match &line.sid {
            Some(s) => Some(wire::unsigned(s, "sid").map_err(|e| at(e, None))?),
            None => None,
        };
        if let (Some(sid), Some(seq)) = (sid, &line.seq) {
            let seq = wire::unsigned(seq, "seq").map_err(|e| at(e, None))?;
            self.check_seq(source, line_no, sid, seq)
                .map_err(|error| LineError {
                    error,
                    ticker: None,
                })?;
        }
        let Some(kind) = line.kind.as_deref() else {
            // The REST order-book response has no envelope.
            if let Some(book) = line.orderbook_fp.as_ref().or(line.orderbook.as_ref()) {
                let ticker = line
                    .ticker
                    .as_deref()
                    .or(line.market_ticker.as_deref())
                    .or(book.market_ticker.as_deref())
                    .unwrap_or(source);
                let field = if line.orderbook_fp.is_some() {
                    "orderbook_fp"
                } else {
                    "orderbook"
                };
                return self
                    .snapshot(ticker, book, None, field)
                    .map_err(|e| at(e, Some(ticker)));
            }
            return Err(at(
                FieldError {
                    kind: DataErrorKind::MissingField,
                    field: "type".into(),
                },
                None,
            ));
        };
        match kind {
            "orderbook_snapshot"
            | "orderbook_delta"
            | "market_lifecycle_v2"
            | "market_lifecycle"
            | "forecast" => {}
            other => {
                self.report.ignore_type(other);
                return Ok(());
            }
        }
        let msg = line.msg.as_ref().ok_or_else(|| {
            at(
                FieldError {
                    kind: DataErrorKind::MissingField,
                    field: "msg".into(),
                },
                None,
            )
        })?;
        let ticker = msg.market_ticker.as_deref().ok_or_else(|| {
            at(
                FieldError {
                    kind: DataErrorKind::MissingField,
                    field: "msg.market_ticker".into(),
                },
                None,
            )
        })?;
        match kind {
            "orderbook_snapshot" => self.snapshot(ticker, msg, sid, "msg"),
            "orderbook_delta" => self.delta(ticker, msg, sid),
            "forecast" => self.forecast(ticker, msg, source, line_no),
            _ => self.lifecycle(kind, ticker, msg),
        }
        .map_err(|e| at(e, Some(ticker)))
    }

    fn check_seq(
        &mut self,
        source: &str,
        line_no: u64,
        sid: u64,
        seq: u64,
    ) -> Result<(), DataError> {
        let expected = self.next_seq.insert(sid, seq.saturating_add(1));
        match expected {
            Some(expected) if expected != seq => {
                let error = DataError::new(
                    DataErrorKind::SequenceGap {
                        sid,
                        expected,
                        seen: seq,
                    },
                    source,
                    Some(line_no),
                    Some("seq".into()),
                );
                if self.opts.mode == Mode::Strict {
                    return Err(error);
                }
                // Every market on this subscription may have missed deltas: drop their
                // deltas until each one's next snapshot.
                for m in self.markets.values_mut() {
                    if m.sid == Some(sid) {
                        m.desynced = true;
                        m.counts.gaps += 1;
                    }
                }
                self.report.record_gap(error);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn snapshot(
        &mut self,
        ticker: &str,
        msg: &Msg<'_>,
        sid: Option<u64>,
        prefix: &str,
    ) -> FieldResult<()> {
        let ts_ms = wire::timestamp_ms(msg)?;
        let mut yes = std::mem::take(&mut self.yes);
        let mut no = std::mem::take(&mut self.no);
        yes.clear();
        no.clear();
        let result = wire::ladders(msg, prefix, SubCent::Reject, &mut yes, &mut no).and_then(|l| {
            let names = (l.yes_field, l.no_field);
            self.apply_snapshot(ticker, &yes, &no, ts_ms, sid, prefix, names)
        });
        self.yes = yes;
        self.no = no;
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_snapshot(
        &mut self,
        ticker: &str,
        yes: &[(Price, CentiContracts)],
        no: &[(Price, CentiContracts)],
        ts_ms: Option<i64>,
        sid: Option<u64>,
        prefix: &str,
        names: (&str, &str),
    ) -> FieldResult<()> {
        let blame = |e: kalsim_core::BookError| {
            let field = match e {
                kalsim_core::BookError::DuplicateLevel {
                    side: Side::Yes, ..
                }
                | kalsim_core::BookError::DepthOverflow {
                    side: Side::Yes, ..
                } => {
                    format!("{prefix}.{}", names.0)
                }
                kalsim_core::BookError::DuplicateLevel { side: Side::No, .. }
                | kalsim_core::BookError::DepthOverflow { side: Side::No, .. } => {
                    format!("{prefix}.{}", names.1)
                }
                _ => prefix.to_owned(),
            };
            FieldError {
                kind: e.into(),
                field,
            }
        };
        if !self.markets.contains_key(ticker) {
            let mut book = OrderBook::new();
            book.apply_snapshot(yes, no).map_err(blame)?;
            let counts = self.orphan_counts.remove(ticker).unwrap_or_default();
            self.markets.insert(
                ticker.to_owned(),
                MarketState {
                    tape: MarketTape {
                        ticker: ticker.to_owned(),
                        forecasts: self
                            .early_forecasts
                            .remove(ticker)
                            .map(|f| f.0)
                            .unwrap_or_default(),
                        ..MarketTape::default()
                    },
                    book,
                    desynced: false,
                    sid,
                    last_ts_ms: None,
                    counts,
                },
            );
        } else if let Some(m) = self.markets.get_mut(ticker) {
            m.book.apply_snapshot(yes, no).map_err(blame)?;
        }
        let Some(m) = self.markets.get_mut(ticker) else {
            return Ok(());
        };
        if m.desynced {
            m.desynced = false;
            m.counts.resyncs += 1;
        }
        if sid.is_some() {
            m.sid = sid;
        }
        let levels = &mut m.tape.levels;
        let range = |levels: &mut Vec<(Price, CentiContracts)>, src: &[(Price, CentiContracts)]| {
            let start = levels.len() as u32;
            levels.extend_from_slice(src);
            (start, levels.len() as u32)
        };
        let yes_range = range(levels, yes);
        let no_range = range(levels, no);
        m.last_ts_ms = ts_ms.or(m.last_ts_ms);
        m.tape.events.push(TapeEvent {
            ts_ms,
            event: BookEvent::Snapshot {
                yes: yes_range,
                no: no_range,
            },
        });
        m.counts.snapshots += 1;
        Ok(())
    }

    fn delta(&mut self, ticker: &str, msg: &Msg<'_>, sid: Option<u64>) -> FieldResult<()> {
        let wire::Delta {
            side,
            price,
            delta_centi,
            ts_ms,
            price_field,
            delta_field,
        } = wire::delta(msg)?;
        let Some(m) = self.markets.get_mut(ticker) else {
            return field_err(
                DataErrorKind::DeltaBeforeSnapshot {
                    ticker: ticker.to_owned(),
                },
                "msg.market_ticker",
            );
        };
        if m.desynced {
            m.counts.dropped_while_desynced += 1;
            self.report.dropped_while_desynced += 1;
            return Ok(());
        }
        m.book
            .apply_delta(side, price, delta_centi)
            .map_err(|e| FieldError {
                field: match e {
                    kalsim_core::BookError::Crossed { .. } => price_field,
                    _ => delta_field,
                }
                .to_owned(),
                kind: e.into(),
            })?;
        if sid.is_some() {
            m.sid = sid;
        }
        m.last_ts_ms = ts_ms.or(m.last_ts_ms);
        m.tape.events.push(TapeEvent {
            ts_ms,
            event: BookEvent::Delta {
                side,
                price,
                delta_centi,
            },
        });
        m.counts.deltas += 1;
        Ok(())
    }

    /// A forecast in the capture (SPEC §10): known from the market's latest book event on
    /// when it is stamped no later than that event (or either has no time); one stamped
    /// later did not exist yet at that event, so it is known from the next event on — the
    /// rule a side file is joined by, and what a live agent deciding at each event would
    /// have seen. One stamped after the market's last event is dropped at the end and
    /// counted in `forecasts_after_end`.
    fn forecast(
        &mut self,
        ticker: &str,
        msg: &Msg<'_>,
        source: &str,
        line_no: u64,
    ) -> FieldResult<()> {
        let f = wire::forecast(msg)?;
        match self.markets.get_mut(ticker) {
            Some(m) => {
                let mut f = f;
                let latest = m.tape.events.len().saturating_sub(1);
                let later = matches!((f.ts_ms, m.last_ts_ms), (Some(t), Some(e)) if t > e);
                f.event = (latest + usize::from(later)) as u32;
                // Arrival order is kept: a forecast never becomes known before one that
                // arrived earlier in the capture.
                if let Some(prev) = m.tape.forecasts.last() {
                    f.event = f.event.max(prev.event);
                }
                m.tape.forecasts.push(f);
                m.counts.forecasts += 1;
            }
            None => {
                self.early_forecasts
                    .entry(ticker.to_owned())
                    .or_insert_with(|| (Vec::new(), source.to_owned(), line_no))
                    .0
                    .push(f);
            }
        }
        Ok(())
    }

    fn lifecycle(&mut self, kind: &str, ticker: &str, msg: &Msg<'_>) -> FieldResult<()> {
        let l = wire::lifecycle(msg)?;
        if let Some(s) = l.close_ts_s.or(l.determination_ts_s) {
            if s < 0 {
                let field = if l.close_ts_s.is_some() {
                    "msg.close_ts"
                } else {
                    "msg.determination_ts"
                };
                return field_err(
                    DataErrorKind::BadValue {
                        message: format!("timestamp {s} is negative"),
                    },
                    field,
                );
            }
            self.close_times.insert(
                ticker.to_owned(),
                crate::wire::time::integer_timestamp_ms(s),
            );
        }
        match l.result {
            Some(side) => {
                self.results.insert(ticker.to_owned(), side);
                if let Some(m) = self.markets.get(ticker) {
                    let at = m.tape.events.len().saturating_sub(1);
                    self.result_at.entry(ticker.to_owned()).or_insert(at);
                }
            }
            // Lifecycle events with neither a result nor a time carry nothing for replay.
            None if l.close_ts_s.or(l.determination_ts_s).is_none() => {
                self.report.ignore_type(kind);
            }
            None => {}
        }
        Ok(())
    }

    pub(crate) fn finish(mut self) -> Result<Dataset, DataError> {
        // Forecasts of a market that never got a book: an unknown market (SPEC §10).
        let mut early: Vec<_> = std::mem::take(&mut self.early_forecasts)
            .into_iter()
            .collect();
        early.sort_by(|a, b| a.0.cmp(&b.0));
        for (ticker, (fs, source, line)) in early {
            let error = DataError::new(
                DataErrorKind::UnknownMarket {
                    ticker: ticker.clone(),
                },
                &source,
                Some(line),
                Some("msg.market_ticker".into()),
            );
            if self.opts.mode == Mode::Strict {
                return Err(error);
            }
            for _ in &fs {
                self.report.record_skip(error.clone());
            }
            self.counts_mut(&ticker).skipped += fs.len() as u64;
        }
        let mut results: BTreeMap<String, Side> = self.results.into_iter().collect();
        if let Some(overrides) = &self.opts.results {
            results.extend(overrides.iter().map(|(k, v)| (k.clone(), *v)));
        }
        let mut markets: Vec<MarketTape> = Vec::with_capacity(self.markets.len());
        for (ticker, mut m) in self.markets {
            // Settled mid-capture (SPEC §7: settlement ends the episode): the tape ends at
            // the book event its result followed; later book events are counted and dropped.
            if let Some(&at) = self.result_at.get(&ticker) {
                let keep = at + 1;
                if keep < m.tape.events.len() {
                    self.report.events_after_result += (m.tape.events.len() - keep) as u64;
                    m.tape.events.truncate(keep);
                }
            }
            // Forecasts stamped after the market's last event: never known (see `forecast`).
            let end = m.tape.events.len() as u32;
            let known = m.tape.forecasts.partition_point(|f| f.event < end);
            let after = (m.tape.forecasts.len() - known) as u64;
            m.tape.forecasts.truncate(known);
            m.counts.forecasts = m.counts.forecasts.saturating_sub(after);
            self.report.forecasts_after_end += after;
            self.report.markets.insert(ticker, m.counts);
            markets.push(m.tape);
        }
        for (ticker, counts) in self.orphan_counts {
            self.report.markets.insert(ticker, counts);
        }
        markets.sort_by(|a, b| a.ticker.cmp(&b.ticker));
        for m in &mut markets {
            m.result = results.remove(&m.ticker);
            if let Some(t) = self.close_times.remove(&m.ticker) {
                m.close_ts_ms = Some(t);
            }
        }
        // Close times of markets that never got a book: counted, not silently dropped.
        for _ in 0..self.close_times.len() {
            self.report
                .ignore_type("market_lifecycle close time of a market without a book");
        }
        self.report.unmatched_results = results.len() as u64;
        Ok(Dataset {
            markets,
            report: self.report,
        })
    }
}

/// The field of a line that is valid JSON but holds a value of the wrong type there
/// (`msg.delta`, `msg.yes[0]`), found by parsing it again with the path tracked — only on
/// the error path, so good lines pay nothing for it. `None` for malformed JSON (the syntax
/// error's line and column are in the message) or an error outside any field.
fn json_error_field(bytes: &[u8], error: &serde_json::Error) -> Option<String> {
    if !error.is_data() {
        return None;
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let err = serde_path_to_error::deserialize::<_, Line<'_>>(&mut de).err()?;
    let path = err.path().to_string();
    (path != ".").then_some(path)
}

/// Join a side file of forecast messages (JSON Lines, SPEC §10) into `dataset` by market and
/// time: each forecast is known from the first event of its market at or after its `ts_ms`
/// (events without a timestamp carry the previous one); one later than every event is
/// counted in `forecasts_after_end` and dropped. Bad values, a missing `ts`/`ts_ms` and an
/// unknown market are typed errors naming the file, line and field (lenient mode: counted
/// skips).
pub fn join_forecasts(
    dataset: &mut Dataset,
    source: &str,
    text: &str,
    mode: Mode,
) -> Result<(), DataError> {
    let index: HashMap<String, usize> = dataset
        .markets
        .iter()
        .enumerate()
        .map(|(i, m)| (m.ticker.clone(), i))
        .collect();
    let mut touched = vec![false; dataset.markets.len()];
    for (i, raw) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let fail = |kind: DataErrorKind, field: &str| {
            DataError::new(kind, source, Some(line_no), Some(field.into()))
        };
        let parsed = (|| -> Result<Option<(usize, Forecast)>, DataError> {
            let line: Line<'_> = serde_json::from_str(raw).map_err(|e| {
                DataError::new(
                    DataErrorKind::Json {
                        message: e.to_string(),
                    },
                    source,
                    Some(line_no),
                    json_error_field(raw.as_bytes(), &e),
                )
            })?;
            if line.kind.as_deref() != Some("forecast") {
                return Ok(None);
            }
            let msg = line
                .msg
                .as_ref()
                .ok_or_else(|| fail(DataErrorKind::MissingField, "msg"))?;
            let ticker = msg
                .market_ticker
                .as_deref()
                .ok_or_else(|| fail(DataErrorKind::MissingField, "msg.market_ticker"))?;
            let mut f = wire::forecast(msg).map_err(|e| fail(e.kind, &e.field))?;
            let &m = index.get(ticker).ok_or_else(|| {
                fail(
                    DataErrorKind::UnknownMarket {
                        ticker: ticker.to_owned(),
                    },
                    "msg.market_ticker",
                )
            })?;
            let ts = f
                .ts_ms
                .ok_or_else(|| fail(DataErrorKind::MissingField, "msg.ts_ms"))?;
            let mut last = None;
            let at = dataset.markets[m].events.iter().position(|e| {
                if e.ts_ms.is_some() {
                    last = e.ts_ms;
                }
                last.is_some_and(|t| t >= ts)
            });
            match at {
                Some(event) => {
                    f.event = event as u32;
                    Ok(Some((m, f)))
                }
                None => Ok(Some((usize::MAX, f))),
            }
        })();
        match parsed {
            Ok(None) => dataset
                .report
                .ignore_type("non-forecast line in a forecast file"),
            Ok(Some((usize::MAX, _))) => dataset.report.forecasts_after_end += 1,
            Ok(Some((m, f))) => {
                let tape = &mut dataset.markets[m];
                tape.forecasts.push(f);
                touched[m] = true;
                if let Some(c) = dataset.report.markets.get_mut(&tape.ticker) {
                    c.forecasts += 1;
                }
            }
            Err(e) if mode == Mode::Strict => return Err(e),
            Err(e) => dataset.report.record_skip(e),
        }
    }
    for (tape, t) in dataset.markets.iter_mut().zip(touched) {
        if t {
            tape.forecasts
                .sort_by_key(|f| (f.event, f.ts_ms.unwrap_or(i64::MIN)));
        }
    }
    Ok(())
}
