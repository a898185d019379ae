//! [`LiveVenue`]: what the actor needs of a venue beyond [`Venue`].

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use kalsim_core::{CentiContracts, Price, Side};

use crate::venue::{KalshiVenue, PaperVenue, SimVenue, Venue, VenueError};

/// Cancels the actor's resting orders from another thread when the kill switch trips.
pub trait KillSweeper: Send {
    /// List resting orders and cancel those whose client order id starts with `own_prefix`
    /// in `tickers` (batch cancels, short timeouts). Returns how many of ours were resting
    /// when listed (0: none left).
    fn sweep(&mut self, own_prefix: &str, tickers: &[String]) -> Result<usize, VenueError>;
}

/// A [`Venue`] the actor can drive: simulated venues also take the book updates, and a live
/// venue's positions and balance are the truth the actor adopts.
pub trait LiveVenue: Venue {
    /// A market's new book (simulated venues match their orders on it).
    fn on_snapshot(
        &mut self,
        _ticker: &str,
        _yes: &[(Price, CentiContracts)],
        _no: &[(Price, CentiContracts)],
    ) -> Result<(), VenueError> {
        Ok(())
    }
    /// A depth change (simulated venues match their orders on it).
    fn on_delta(
        &mut self,
        _ticker: &str,
        _side: Side,
        _price: Price,
        _delta_centi: i64,
    ) -> Result<(), VenueError> {
        Ok(())
    }
    /// A market's result is known (simulated venues settle it, SPEC §5).
    fn on_result(&mut self, _ticker: &str, _result: Side) -> Result<(), VenueError> {
        Ok(())
    }
    /// True when the venue's positions and balance are real money the actor must adopt.
    fn is_live(&self) -> bool {
        false
    }
    /// The flag that makes the venue stop retrying (set when the kill switch trips).
    fn abort_flag(&self) -> Option<Arc<AtomicBool>> {
        None
    }
    /// An independent client that cancels our orders while this one may be blocked.
    fn kill_sweeper(&self) -> Option<Box<dyn KillSweeper>> {
        None
    }
}

impl LiveVenue for SimVenue {
    fn on_snapshot(
        &mut self,
        ticker: &str,
        yes: &[(Price, CentiContracts)],
        no: &[(Price, CentiContracts)],
    ) -> Result<(), VenueError> {
        self.apply_snapshot(ticker, yes, no).map(|_| ())
    }
    fn on_delta(
        &mut self,
        ticker: &str,
        side: Side,
        price: Price,
        delta_centi: i64,
    ) -> Result<(), VenueError> {
        self.apply_delta(ticker, side, price, delta_centi)
            .map(|_| ())
    }
    fn on_result(&mut self, ticker: &str, result: Side) -> Result<(), VenueError> {
        self.settle(ticker, result).map(|_| ())
    }
}

impl LiveVenue for PaperVenue {
    fn on_snapshot(
        &mut self,
        ticker: &str,
        yes: &[(Price, CentiContracts)],
        no: &[(Price, CentiContracts)],
    ) -> Result<(), VenueError> {
        self.apply_snapshot(ticker, yes, no)
    }
    fn on_delta(
        &mut self,
        ticker: &str,
        side: Side,
        price: Price,
        delta_centi: i64,
    ) -> Result<(), VenueError> {
        self.apply_delta(ticker, side, price, delta_centi)
    }
    fn on_result(&mut self, ticker: &str, result: Side) -> Result<(), VenueError> {
        self.settle(ticker, result)
    }
}

impl KillSweeper for KalshiVenue {
    fn sweep(&mut self, own_prefix: &str, tickers: &[String]) -> Result<usize, VenueError> {
        let ours: Vec<(String, String)> = self
            .working_orders()?
            .into_iter()
            .filter(|w| w.client_order_id.starts_with(own_prefix) && tickers.contains(&w.ticker))
            .map(|w| (w.ticker, w.order_id))
            .collect();
        if !ours.is_empty() {
            // Failures are retried by the next sweep.
            let _ = self.cancel_orders(&ours);
        }
        Ok(ours.len())
    }
}

impl LiveVenue for KalshiVenue {
    fn is_live(&self) -> bool {
        true
    }
    fn abort_flag(&self) -> Option<Arc<AtomicBool>> {
        self.config().abort.clone()
    }
    fn kill_sweeper(&self) -> Option<Box<dyn KillSweeper>> {
        Some(Box::new(self.kill_client()))
    }
}
