//! [`PaperVenue`]: live market data, simulated fills.
//!
//! The books come from Kalshi's WebSocket ([`MarketDataClient`] updates, applied with
//! [`PaperVenue::apply_update`] or pulled with [`PaperVenue::pump`]) or are pushed in by the
//! caller ([`PaperVenue::apply_snapshot`], [`PaperVenue::apply_delta`]). Orders are executed
//! by a [`SimVenue`], i.e. by the very engine step the environment runs, so a paper run fills
//! exactly as the same decisions would in a replay of the same data.
//!
//! A market whose feed reported a gap or reconnect keeps its last book until the next
//! snapshot (the client resubscribes); orders in it are still matched against that book.

use std::time::Duration;

use kalsim_core::{CentiContracts, Cents, EngineConfig, OrderBook, Price, Side};

use super::sim::SimVenue;
use super::{
    BookUpdate, Fill, MarketDataClient, OrderAck, OrderRequest, PositionInfo, Venue, VenueError,
    WorkingOrder,
};

/// Every non-empty level of one side of a book, best first, with its displayed depth
/// (fractional depth included: a copy must rebuild the same book).
pub fn book_levels(book: &OrderBook, side: Side) -> Vec<(Price, CentiContracts)> {
    (1..=99u8)
        .rev()
        .filter_map(|c| {
            let p = Price::new(c).ok()?;
            let d = book.depth(side, p);
            (d.0 > 0).then_some((p, d))
        })
        .collect()
}

/// Paper trading: real books, the core's fills.
#[derive(Clone, Debug)]
pub struct PaperVenue {
    sim: SimVenue,
}

impl PaperVenue {
    /// A paper venue over `tickers` (see [`SimVenue::new`]).
    pub fn new(
        tickers: &[String],
        seed: u64,
        config_for: impl FnMut(&str) -> EngineConfig,
    ) -> PaperVenue {
        PaperVenue {
            sim: SimVenue::new(tickers, seed, config_for),
        }
    }

    /// The simulated venue underneath (engines, bookings).
    pub fn sim(&self) -> &SimVenue {
        &self.sim
    }

    /// Replace `ticker`'s book (and match its working order).
    pub fn apply_snapshot(
        &mut self,
        ticker: &str,
        yes: &[(Price, CentiContracts)],
        no: &[(Price, CentiContracts)],
    ) -> Result<(), VenueError> {
        self.sim.apply_snapshot(ticker, yes, no).map(|_| ())
    }

    /// Apply a depth change to `ticker`'s book (and match its working order).
    pub fn apply_delta(
        &mut self,
        ticker: &str,
        side: Side,
        price: Price,
        delta_centi: i64,
    ) -> Result<(), VenueError> {
        self.sim
            .apply_delta(ticker, side, price, delta_centi)
            .map(|_| ())
    }

    /// Settle `ticker` (SPEC §5).
    pub fn settle(&mut self, ticker: &str, result: Side) -> Result<(), VenueError> {
        self.sim.settle(ticker, result).map(|_| ())
    }

    /// Apply one update of `client` (a snapshot is read from the client's rebuilt book).
    /// Markets the venue does not trade are ignored.
    pub fn apply_update(
        &mut self,
        update: &BookUpdate,
        client: &MarketDataClient,
    ) -> Result<(), VenueError> {
        match update {
            BookUpdate::Snapshot { ticker, .. } if self.sim.market(ticker).is_some() => {
                let book = client
                    .book(ticker)
                    .ok_or_else(|| VenueError::Protocol(format!("{ticker} not in sync")))?;
                self.apply_snapshot(
                    ticker,
                    &book_levels(book, Side::Yes),
                    &book_levels(book, Side::No),
                )
            }
            BookUpdate::Delta {
                ticker,
                side,
                price,
                delta_centi,
                ..
            } if self.sim.market(ticker).is_some() => {
                self.apply_delta(ticker, *side, *price, *delta_centi)
            }
            _ => Ok(()),
        }
    }

    /// Wait up to `timeout` for the next update of `client`, apply it and return it.
    pub fn pump(
        &mut self,
        client: &mut MarketDataClient,
        timeout: Duration,
    ) -> Result<Option<BookUpdate>, VenueError> {
        let update = client.next_update(timeout)?;
        if let Some(u) = &update {
            self.apply_update(u, client)?;
        }
        Ok(update)
    }
}

impl Venue for PaperVenue {
    fn place_order(&mut self, order: &OrderRequest) -> Result<OrderAck, VenueError> {
        self.sim.place_order(order)
    }
    fn cancel_order(&mut self, ticker: &str, order_id: &str) -> Result<(), VenueError> {
        self.sim.cancel_order(ticker, order_id)
    }
    fn working_orders(&mut self) -> Result<Vec<WorkingOrder>, VenueError> {
        self.sim.working_orders()
    }
    fn positions(&mut self) -> Result<Vec<PositionInfo>, VenueError> {
        self.sim.positions()
    }
    fn balance(&mut self) -> Result<Cents, VenueError> {
        self.sim.balance()
    }
    fn fills(&mut self) -> Result<Vec<Fill>, VenueError> {
        self.sim.fills()
    }
}
