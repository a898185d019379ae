//! Where book updates come from: Kalshi's WebSocket ([`WsFeed`]) or a replayed tape
//! ([`TapeFeed`]).

use std::time::Duration;

use kalsim_core::{CentiContracts, Price, Side};

use crate::data::{BookEvent, MarketTape};
use crate::venue::paper::book_levels;
use crate::venue::{BookUpdate, Fill, LifecycleEvent, MarketDataClient, OrderUpdate, VenueError};

/// One change the actor reacts to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedEvent {
    /// A market's whole book (bids per side, displayed depth).
    Snapshot {
        /// Market ticker.
        ticker: String,
        /// YES bids.
        yes: Vec<(Price, CentiContracts)>,
        /// NO bids.
        no: Vec<(Price, CentiContracts)>,
        /// Exchange time, milliseconds, when the message carried one.
        ts_ms: Option<i64>,
    },
    /// A signed change at one level.
    Delta {
        /// Market ticker.
        ticker: String,
        /// Ladder.
        side: Side,
        /// Level price.
        price: Price,
        /// Change, centi-contracts.
        delta_centi: i64,
        /// Exchange time, milliseconds, when the message carried one.
        ts_ms: Option<i64>,
    },
    /// These markets lost sync (gap, reconnect) and wait for their next snapshot.
    OutOfSync {
        /// Market tickers.
        tickers: Vec<String>,
        /// What happened, for the log.
        reason: String,
    },
    /// A fill of ours, as it happened (the user `fill` channel).
    Fill(Fill),
    /// An order of ours changed (the `user_orders` channel).
    Order(OrderUpdate),
    /// A market's lifecycle changed (`market_lifecycle_v2`).
    Lifecycle(LifecycleEvent),
    /// Something the feed skipped or could not read (sub-cent levels, unreadable messages),
    /// for the log; it never stops the run.
    Note {
        /// `sub_cent_skipped` or `unparsed`.
        kind: &'static str,
        /// Market, when known.
        ticker: Option<String>,
        /// What.
        detail: String,
    },
}

/// A source of book updates.
pub trait Feed {
    /// Wait up to `timeout` for the next event; `Ok(None)` when nothing came in time.
    fn next_event(&mut self, timeout: Duration) -> Result<Option<FeedEvent>, VenueError>;
    /// True when the source will never produce another event (a replay that ended).
    fn exhausted(&self) -> bool {
        false
    }
}

/// Kalshi's WebSocket through a [`MarketDataClient`]: books, and (when the client follows
/// them) the user's fills and orders and market lifecycle.
#[derive(Debug)]
pub struct WsFeed {
    client: MarketDataClient,
    tickers: Vec<String>,
    /// Notes to hand out before the next update (sub-cent levels left out of snapshots).
    notes: Vec<(String, String)>,
    /// The client's warnings (unknown statuses), handed out as notes.
    warnings: Vec<String>,
    /// An update held back while a warning was handed out.
    held: Option<BookUpdate>,
}

impl WsFeed {
    /// Wrap a connected client following `tickers`.
    pub fn new(client: MarketDataClient, tickers: Vec<String>) -> WsFeed {
        WsFeed {
            client,
            tickers,
            notes: Vec::new(),
            warnings: Vec::new(),
            held: None,
        }
    }

    /// The client (gap and reconnect counters).
    pub fn client(&self) -> &MarketDataClient {
        &self.client
    }
}

impl Feed for WsFeed {
    fn next_event(&mut self, timeout: Duration) -> Result<Option<FeedEvent>, VenueError> {
        if let Some(u) = self.held.take() {
            return Ok(Some(self.convert(u)?));
        }
        if let Some((ticker, detail)) = self.notes.pop() {
            return Ok(Some(FeedEvent::Note {
                kind: "sub_cent_skipped",
                ticker: Some(ticker),
                detail,
            }));
        }
        let update = self.client.next_update(timeout)?;
        for w in self.client.drain_warnings() {
            self.warnings.push(w);
        }
        if let Some(detail) = self.warnings.pop() {
            if let Some(u) = update {
                // Hand the update out next time; the warning first.
                self.held = Some(u);
            }
            return Ok(Some(FeedEvent::Note {
                kind: "venue_warning",
                ticker: None,
                detail,
            }));
        }
        let Some(update) = update else {
            return Ok(None);
        };
        Ok(Some(self.convert(update)?))
    }
}

impl WsFeed {
    fn convert(&mut self, update: BookUpdate) -> Result<FeedEvent, VenueError> {
        Ok(match update {
            BookUpdate::Snapshot {
                ticker,
                ts_ms,
                skipped_sub_cent,
                ..
            } => {
                if skipped_sub_cent > 0 {
                    self.notes.push((
                        ticker.clone(),
                        format!("{skipped_sub_cent} sub-cent levels left out of the snapshot"),
                    ));
                }
                let book = self
                    .client
                    .book(&ticker)
                    .ok_or_else(|| VenueError::Protocol(format!("{ticker} not in sync")))?;
                FeedEvent::Snapshot {
                    yes: book_levels(book, Side::Yes),
                    no: book_levels(book, Side::No),
                    ticker,
                    ts_ms,
                }
            }
            BookUpdate::Delta {
                ticker,
                side,
                price,
                delta_centi,
                ts_ms,
                ..
            } => FeedEvent::Delta {
                ticker,
                side,
                price,
                delta_centi,
                ts_ms,
            },
            BookUpdate::Gap {
                sid,
                expected,
                seen,
            } => FeedEvent::OutOfSync {
                tickers: self.unsynced(),
                reason: format!("sequence gap on sid {sid}: expected {expected}, saw {seen}"),
            },
            BookUpdate::Reconnected => FeedEvent::OutOfSync {
                tickers: self.unsynced(),
                reason: "reconnected".into(),
            },
            BookUpdate::Resync { ticker, reason } => FeedEvent::OutOfSync {
                tickers: vec![ticker],
                reason,
            },
            BookUpdate::SubCentSkipped { ticker } => FeedEvent::Note {
                kind: "sub_cent_skipped",
                ticker: Some(ticker),
                detail: "a delta at a sub-cent price was skipped".into(),
            },
            BookUpdate::Fill(f) => FeedEvent::Fill(f),
            BookUpdate::Order(o) => FeedEvent::Order(o),
            BookUpdate::Lifecycle(l) => FeedEvent::Lifecycle(l),
            BookUpdate::Unparsed { kind, error } => FeedEvent::Note {
                kind: "unparsed",
                ticker: None,
                detail: format!("{kind}: {error}"),
            },
        })
    }

    fn unsynced(&self) -> Vec<String> {
        self.tickers
            .iter()
            .filter(|t| !self.client.is_synced(t))
            .cloned()
            .collect()
    }
}

/// Replays tapes in process, one market after the other, event by event.
#[derive(Debug)]
pub struct TapeFeed {
    tapes: Vec<MarketTape>,
    market: usize,
    event: usize,
}

impl TapeFeed {
    /// A feed over `tapes`.
    pub fn new(tapes: Vec<MarketTape>) -> TapeFeed {
        TapeFeed {
            tapes,
            market: 0,
            event: 0,
        }
    }
}

impl Feed for TapeFeed {
    fn next_event(&mut self, _timeout: Duration) -> Result<Option<FeedEvent>, VenueError> {
        while let Some(tape) = self.tapes.get(self.market) {
            let Some(ev) = tape.events.get(self.event) else {
                self.market += 1;
                self.event = 0;
                continue;
            };
            self.event += 1;
            let ticker = tape.ticker.clone();
            return Ok(Some(match ev.event {
                BookEvent::Snapshot { yes, no } => FeedEvent::Snapshot {
                    yes: tape.snapshot_levels(yes).to_vec(),
                    no: tape.snapshot_levels(no).to_vec(),
                    ticker,
                    ts_ms: ev.ts_ms,
                },
                BookEvent::Delta {
                    side,
                    price,
                    delta_centi,
                } => FeedEvent::Delta {
                    ticker,
                    side,
                    price,
                    delta_centi,
                    ts_ms: ev.ts_ms,
                },
            }));
        }
        Ok(None)
    }

    fn exhausted(&self) -> bool {
        self.market >= self.tapes.len()
    }
}
