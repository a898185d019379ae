//! [`LiveVenue`]: what the actor needs of a venue beyond [`Venue`].

use kalsim_core::{CentiContracts, Price, Side};

use crate::venue::{KalshiVenue, PaperVenue, SimVenue, Venue, VenueError};

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
    /// True when the venue's positions and balance are real money the actor must adopt.
    fn is_live(&self) -> bool {
        false
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
}

impl LiveVenue for KalshiVenue {
    fn is_live(&self) -> bool {
        true
    }
}
