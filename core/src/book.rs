//! The fixed-capacity Kalshi order book of SPEC §4.
//!
//! Kalshi publishes **bids only**, one ladder per contract: `yes[p]` and `no[p]`, with depth
//! in centi-contracts. The best YES ask is `100 - best NO bid` and the best NO ask is
//! `100 - best YES bid`. Arrays are indexed by price in cents (index 0 is never used).
//!
//! The book also carries the **consumed-liquidity overlay** (SPEC §4): depth the agent has
//! taken is subtracted from what it can take again. After every data change at a level — a
//! delta or a snapshot — `overlay = min(overlay, displayed depth)`: when the data lowers a
//! level to or below what the agent took, nothing is left to take there, and increases in
//! the data are new liquidity. A snapshot does not clear the overlay (a resubscription shows
//! the same history, not fresh liquidity). So no level ever yields more than it displayed
//! plus the later increases the data shows there.
//!
//! Only whole contracts trade, so a level forms a price (best bid) when its effective depth
//! (displayed minus overlay) holds at least one whole contract. Sub-contract dust stays in the
//! book and is reported by [`OrderBook::depth`], but never quotes.

use core::fmt;

use crate::units::{CentiContracts, Price};

/// Which ladder of the book: the YES bids or the NO bids. Also names a contract.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// YES contract / YES bids.
    Yes = 0,
    /// NO contract / NO bids.
    No = 1,
}

impl Side {
    /// The other contract.
    #[inline]
    pub const fn other(self) -> Side {
        match self {
            Side::Yes => Side::No,
            Side::No => Side::Yes,
        }
    }

    /// Lower-case name as Kalshi spells it (`yes`, `no`).
    pub const fn name(self) -> &'static str {
        match self {
            Side::Yes => "yes",
            Side::No => "no",
        }
    }

    #[inline]
    const fn idx(self) -> usize {
        self as usize
    }
}

try_from_u8!(Side, BookError, BookError::UnknownSide, [Yes, No]);

/// Why a book update was rejected. The book is unchanged when an update fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BookError {
    /// A delta would leave negative depth at this level.
    NegativeDepth {
        /// Ladder.
        side: Side,
        /// Level price.
        price: Price,
        /// Depth before the delta, centi-contracts.
        depth_centi: u64,
        /// The signed delta, centi-contracts.
        delta_centi: i64,
    },
    /// The update would cross the book: best YES bid + best NO bid ≥ 100.
    Crossed {
        /// Best YES bid after the update, cents.
        yes_bid: u8,
        /// Best NO bid after the update, cents.
        no_bid: u8,
    },
    /// A snapshot lists the same level twice.
    DuplicateLevel {
        /// Ladder.
        side: Side,
        /// Level price.
        price: Price,
    },
    /// Depth beyond the representable range.
    DepthOverflow {
        /// Ladder.
        side: Side,
        /// Level price.
        price: Price,
    },
    /// A side number other than 0 (yes) or 1 (no).
    UnknownSide(u8),
}

impl fmt::Display for BookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BookError::NegativeDepth {
                side,
                price,
                depth_centi,
                delta_centi,
            } => write!(
                f,
                "delta {delta_centi} centi-contracts on {} bids at {} leaves negative depth (depth was {depth_centi})",
                side.name(),
                price
            ),
            BookError::Crossed { yes_bid, no_bid } => write!(
                f,
                "crossed book: best yes bid {yes_bid}¢ + best no bid {no_bid}¢ = {}¢ ≥ 100¢",
                *yes_bid as u16 + *no_bid as u16
            ),
            BookError::DuplicateLevel { side, price } => {
                write!(f, "snapshot lists {} bids at {} twice", side.name(), price)
            }
            BookError::DepthOverflow { side, price } => {
                write!(f, "depth overflow on {} bids at {}", side.name(), price)
            }
            BookError::UnknownSide(v) => write!(f, "side {v} is neither 0 (yes) nor 1 (no)"),
        }
    }
}

impl core::error::Error for BookError {}

/// What a delta did to a level, for the queue model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeltaEffect {
    /// Depth at the level before, centi-contracts.
    pub before_centi: u64,
    /// Depth at the level after, centi-contracts.
    pub after_centi: u64,
}

/// One centi-contract unit of a whole contract.
const WHOLE: u64 = 100;

/// A Kalshi order book with the agent's consumed-liquidity overlay. 3.2 KiB, no allocation.
#[derive(Clone, PartialEq, Eq)]
pub struct OrderBook {
    depth: [[u64; 100]; 2],
    consumed: [[u64; 100]; 2],
    /// Cached best tradable bid per side, 0 when the side is empty.
    best: [u8; 2],
    /// Cached best displayed bid per side (any depth > 0, overlay ignored), 0 when empty.
    /// Crossing is judged on it; caching it keeps `apply_delta` from scanning both ladders.
    displayed: [u8; 2],
    /// Cached best quoted bid of the data per side: at least one whole contract displayed,
    /// the overlay ignored (the `mid` mark's input, SPEC §5), 0 when none.
    quoted: [u8; 2],
}

impl fmt::Debug for OrderBook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrderBook")
            .field("best_yes_bid", &self.best[0])
            .field("best_no_bid", &self.best[1])
            .finish_non_exhaustive()
    }
}

impl Default for OrderBook {
    fn default() -> OrderBook {
        OrderBook::new()
    }
}

impl OrderBook {
    /// An empty book.
    pub const fn new() -> OrderBook {
        OrderBook {
            depth: [[0; 100]; 2],
            consumed: [[0; 100]; 2],
            best: [0; 2],
            displayed: [0; 2],
            quoted: [0; 2],
        }
    }

    /// Remove every level and the overlay.
    pub fn clear(&mut self) {
        *self = OrderBook::new();
    }

    /// Displayed depth at a level, centi-contracts (ignores the overlay).
    #[inline]
    pub fn depth(&self, side: Side, price: Price) -> CentiContracts {
        CentiContracts(self.depth[side.idx()][price.index()])
    }

    /// Depth still available to the agent at a level (displayed minus overlay), centi-contracts.
    #[inline]
    pub fn effective_depth(&self, side: Side, price: Price) -> CentiContracts {
        let i = price.index();
        CentiContracts(self.depth[side.idx()][i].saturating_sub(self.consumed[side.idx()][i]))
    }

    /// The overlay at a level: depth the agent has taken there, centi-contracts.
    #[inline]
    pub fn consumed(&self, side: Side, price: Price) -> CentiContracts {
        CentiContracts(self.consumed[side.idx()][price.index()])
    }

    /// Best tradable bid of a ladder (at least one whole contract of effective depth).
    #[inline]
    pub fn best_bid(&self, side: Side) -> Option<Price> {
        match self.best[side.idx()] {
            0 => None,
            p => Some(Price::new_unchecked(p)),
        }
    }

    /// Best ask of a contract: `100 - best bid of the other contract`.
    #[inline]
    pub fn best_ask(&self, side: Side) -> Option<Price> {
        self.best_bid(side.other()).map(Price::complement)
    }

    /// Best bid the **data** quotes on a ladder: the highest level displaying at least one
    /// whole contract, ignoring the agent's own consumed depth (the input of the `mid` mark,
    /// SPEC §5: taking a thin level must never move the agent's own mark).
    #[inline]
    pub fn quoted_bid(&self, side: Side) -> Option<Price> {
        match self.quoted[side.idx()] {
            0 => None,
            p => Some(Price::new_unchecked(p)),
        }
    }

    /// Iterate the tradable levels of a ladder from the best down: `(price, effective depth)`.
    pub fn levels(&self, side: Side) -> impl Iterator<Item = (Price, CentiContracts)> + '_ {
        let top = self.best[side.idx()];
        (1..=top).rev().filter_map(move |p| {
            let price = Price::new(p).ok()?;
            let d = self.effective_depth(side, price);
            (d.0 >= WHOLE).then_some((price, d))
        })
    }

    /// Replace the whole book with a snapshot (bids per side as `(price, depth)`). The overlay
    /// is kept, clamped to the new depth of each level (SPEC §4). Validated before anything
    /// changes: duplicates, overflow and crossing are errors.
    pub fn apply_snapshot(
        &mut self,
        yes: &[(Price, CentiContracts)],
        no: &[(Price, CentiContracts)],
    ) -> Result<(), BookError> {
        let mut fresh = OrderBook::new();
        for (side, levels) in [(Side::Yes, yes), (Side::No, no)] {
            for &(price, depth) in levels {
                let slot = &mut fresh.depth[side.idx()][price.index()];
                if *slot != 0 {
                    return Err(BookError::DuplicateLevel { side, price });
                }
                if depth.0 > i64::MAX as u64 {
                    return Err(BookError::DepthOverflow { side, price });
                }
                *slot = depth.0;
            }
        }
        for s in 0..2 {
            for i in 1..100 {
                fresh.consumed[s][i] = self.consumed[s][i].min(fresh.depth[s][i]);
            }
        }
        fresh.best = [
            fresh.scan_best(Side::Yes, 99),
            fresh.scan_best(Side::No, 99),
        ];
        fresh.displayed = [
            fresh.scan_displayed(Side::Yes, 99),
            fresh.scan_displayed(Side::No, 99),
        ];
        fresh.quoted = [
            fresh.scan_quoted(Side::Yes, 99),
            fresh.scan_quoted(Side::No, 99),
        ];
        fresh.check_uncrossed()?;
        *self = fresh;
        Ok(())
    }

    /// Apply a signed change of depth (centi-contracts) to one level.
    ///
    /// Negative resulting depth and crossing the book are errors and leave the book unchanged.
    /// The overlay at the level becomes `min(overlay, new depth)` (SPEC §4): a decrease to or
    /// below what the agent took leaves nothing to take there.
    pub fn apply_delta(
        &mut self,
        side: Side,
        price: Price,
        delta_centi: i64,
    ) -> Result<DeltaEffect, BookError> {
        let s = side.idx();
        let i = price.index();
        let before = self.depth[s][i];
        let after = if delta_centi >= 0 {
            match before.checked_add(delta_centi as u64) {
                Some(v) if v <= i64::MAX as u64 => v,
                _ => return Err(BookError::DepthOverflow { side, price }),
            }
        } else {
            match before.checked_sub(delta_centi.unsigned_abs()) {
                Some(v) => v,
                None => {
                    return Err(BookError::NegativeDepth {
                        side,
                        price,
                        depth_centi: before,
                        delta_centi,
                    });
                }
            }
        };
        let old_consumed = self.consumed[s][i];
        let old_best = self.best;
        let old_displayed = self.displayed;
        let old_quoted = self.quoted;
        self.depth[s][i] = after;
        if after < old_consumed {
            self.consumed[s][i] = after;
        }
        self.refresh_best_at(side, i as u8);
        self.refresh_displayed_at(side, i as u8);
        self.refresh_quoted_at(side, i as u8);
        if let Err(e) = self.check_uncrossed() {
            self.depth[s][i] = before;
            self.consumed[s][i] = old_consumed;
            self.best = old_best;
            self.displayed = old_displayed;
            self.quoted = old_quoted;
            return Err(e);
        }
        Ok(DeltaEffect {
            before_centi: before,
            after_centi: after,
        })
    }

    /// Take up to `max_contracts` whole contracts from the bids of `side` at prices ≥ `min_price`,
    /// best level first, adding what is taken to the overlay. Each taken level is reported to
    /// `on_fill(price, contracts)`. Returns the contracts taken.
    pub fn take(
        &mut self,
        side: Side,
        min_price: Price,
        max_contracts: u32,
        mut on_fill: impl FnMut(Price, u32),
    ) -> u32 {
        let s = side.idx();
        let mut remaining = max_contracts as u64;
        let mut p = self.best[s];
        while remaining > 0 && p >= min_price.cents() && p > 0 {
            let i = p as usize;
            let avail = self.depth[s][i].saturating_sub(self.consumed[s][i]) / WHOLE;
            if avail > 0 {
                let n = avail.min(remaining);
                self.consumed[s][i] += n * WHOLE;
                remaining -= n;
                on_fill(Price::new_unchecked(p), n as u32);
            }
            p -= 1;
        }
        let top = self.best[s];
        if top > 0 {
            self.best[s] = self.scan_best(side, top);
        }
        (max_contracts as u64 - remaining) as u32
    }

    /// Whole contracts available to take from `side` at prices ≥ `min_price`.
    pub fn available(&self, side: Side, min_price: Price) -> u64 {
        let s = side.idx();
        let mut total = 0u64;
        let mut p = self.best[s];
        while p >= min_price.cents() && p > 0 {
            let i = p as usize;
            total =
                total.saturating_add(self.depth[s][i].saturating_sub(self.consumed[s][i]) / WHOLE);
            p -= 1;
        }
        total
    }

    /// Total effective depth of the top `n` tradable levels of a side, centi-contracts.
    pub fn top_depth(&self, side: Side, n: usize) -> u64 {
        self.levels(side)
            .take(n)
            .fold(0u64, |acc, (_, d)| acc.saturating_add(d.0))
    }

    /// `(top_depth(side, 1), top_depth(side, 5))` in one walk down the ladder (the
    /// observation's depth features; same saturating sums in the same order).
    #[inline]
    pub fn top_depths(&self, side: Side) -> (u64, u64) {
        let s = side.idx();
        let (depth, consumed) = (&self.depth[s], &self.consumed[s]);
        let mut top1 = 0u64;
        let mut top5 = 0u64;
        let mut levels = 0;
        let mut p = self.best[s] as usize;
        while p > 0 && levels < 5 {
            let d = depth[p].saturating_sub(consumed[p]);
            if d >= WHOLE {
                if levels == 0 {
                    top1 = d;
                }
                top5 = top5.saturating_add(d);
                levels += 1;
            }
            p -= 1;
        }
        (top1, top5)
    }

    fn refresh_best_at(&mut self, side: Side, p: u8) {
        let s = side.idx();
        let eff = self.depth[s][p as usize].saturating_sub(self.consumed[s][p as usize]);
        if eff >= WHOLE {
            if p > self.best[s] {
                self.best[s] = p;
            }
        } else if p == self.best[s] {
            self.best[s] = self.scan_best(side, p);
        }
    }

    fn scan_best(&self, side: Side, from: u8) -> u8 {
        let s = side.idx();
        let mut p = from;
        while p > 0 {
            let i = p as usize;
            if self.depth[s][i].saturating_sub(self.consumed[s][i]) >= WHOLE {
                return p;
            }
            p -= 1;
        }
        0
    }

    fn refresh_displayed_at(&mut self, side: Side, p: u8) {
        let s = side.idx();
        if self.depth[s][p as usize] > 0 {
            if p > self.displayed[s] {
                self.displayed[s] = p;
            }
        } else if p == self.displayed[s] {
            self.displayed[s] = self.scan_displayed(side, p);
        }
    }

    fn scan_displayed(&self, side: Side, from: u8) -> u8 {
        let s = side.idx();
        let mut p = from;
        while p > 0 && self.depth[s][p as usize] == 0 {
            p -= 1;
        }
        p
    }

    fn refresh_quoted_at(&mut self, side: Side, p: u8) {
        let s = side.idx();
        if self.depth[s][p as usize] >= WHOLE {
            if p > self.quoted[s] {
                self.quoted[s] = p;
            }
        } else if p == self.quoted[s] {
            self.quoted[s] = self.scan_quoted(side, p);
        }
    }

    fn scan_quoted(&self, side: Side, from: u8) -> u8 {
        let s = side.idx();
        let mut p = from;
        while p > 0 && self.depth[s][p as usize] < WHOLE {
            p -= 1;
        }
        p
    }

    fn check_uncrossed(&self) -> Result<(), BookError> {
        // Crossing is judged on displayed depth (what the exchange shows), not the overlay.
        let y = self.displayed[Side::Yes.idx()];
        let n = self.displayed[Side::No.idx()];
        if y > 0 && n > 0 && y as u16 + n as u16 >= 100 {
            return Err(BookError::Crossed {
                yes_bid: y,
                no_bid: n,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(c: u8) -> Price {
        Price::new(c).unwrap()
    }

    fn c(n: u64) -> CentiContracts {
        CentiContracts(n * 100)
    }

    fn book() -> OrderBook {
        let mut b = OrderBook::new();
        b.apply_snapshot(
            &[(p(40), c(10)), (p(39), c(20))],
            &[(p(55), c(5)), (p(54), c(30))],
        )
        .unwrap();
        b
    }

    #[test]
    fn top_depths_equal_top_depth_one_and_five() {
        // Random sparse ladders, fractional levels (below one whole contract) and takes that
        // leave an overlay: the one-walk helper must agree with the iterator form.
        let mut rng = crate::rng::Rng::new(9);
        for _ in 0..400 {
            let mut b = OrderBook::new();
            for _ in 0..rng.below(30) {
                let side = if rng.below(2) == 0 {
                    Side::Yes
                } else {
                    Side::No
                };
                let price = p(1 + rng.below(49) as u8);
                let _ = b.apply_delta(side, price, rng.below(2_000) as i64 + 1);
            }
            for side in [Side::Yes, Side::No] {
                if rng.below(2) == 0 {
                    b.take(side, p(1), rng.below(40) as u32, |_, _| {});
                }
                assert_eq!(
                    b.top_depths(side),
                    (b.top_depth(side, 1), b.top_depth(side, 5)),
                    "{side:?}"
                );
            }
        }
    }

    #[test]
    fn best_prices_follow_kalshi_convention() {
        let b = book();
        assert_eq!(b.best_bid(Side::Yes), Some(p(40)));
        assert_eq!(b.best_bid(Side::No), Some(p(55)));
        assert_eq!(b.best_ask(Side::Yes), Some(p(45)));
        assert_eq!(b.best_ask(Side::No), Some(p(60)));
    }

    #[test]
    fn deltas_update_and_validate() {
        let mut b = book();
        b.apply_delta(Side::Yes, p(41), 300).unwrap();
        assert_eq!(b.best_bid(Side::Yes), Some(p(41)));
        b.apply_delta(Side::Yes, p(41), -300).unwrap();
        assert_eq!(b.best_bid(Side::Yes), Some(p(40)));
        let before = b.clone();
        assert!(matches!(
            b.apply_delta(Side::Yes, p(40), -1_001),
            Err(BookError::NegativeDepth { .. })
        ));
        assert_eq!(b, before);
        assert!(matches!(
            b.apply_delta(Side::Yes, p(45), 100),
            Err(BookError::Crossed {
                yes_bid: 45,
                no_bid: 55
            })
        ));
        assert_eq!(b, before);
    }

    #[test]
    fn snapshot_rejects_duplicates_and_crossing() {
        let mut b = book();
        let before = b.clone();
        assert!(matches!(
            b.apply_snapshot(&[(p(40), c(1)), (p(40), c(2))], &[]),
            Err(BookError::DuplicateLevel {
                side: Side::Yes,
                ..
            })
        ));
        assert!(matches!(
            b.apply_snapshot(&[(p(50), c(1))], &[(p(50), c(1))]),
            Err(BookError::Crossed { .. })
        ));
        assert_eq!(b, before);
    }

    #[test]
    fn take_walks_levels_and_respects_overlay() {
        let mut b = book();
        let mut fills = heapless::Vec::<(u8, u32), 8>::new();
        // Buying YES up to 46¢ takes NO bids at ≥ 54¢.
        let n = b.take(Side::No, p(54), 12, |pr, q| {
            fills.push((pr.cents(), q)).unwrap()
        });
        assert_eq!(n, 12);
        assert_eq!(&fills[..], &[(55, 5), (54, 7)]);
        assert_eq!(b.best_bid(Side::No), Some(p(54)));
        assert_eq!(b.effective_depth(Side::No, p(54)), c(23));
        // The same depth cannot be taken twice.
        assert_eq!(b.available(Side::No, p(54)), 23);
        let n = b.take(Side::No, p(54), 100, |_, _| {});
        assert_eq!(n, 23);
        assert_eq!(b.best_bid(Side::No), None);
        // The data lowering the level below the overlay leaves nothing to take there (SPEC §4).
        b.apply_delta(Side::No, p(54), -100).unwrap();
        assert_eq!(b.consumed(Side::No, p(54)), c(29));
        assert_eq!(b.effective_depth(Side::No, p(54)), CentiContracts::ZERO);
        // An increase is new liquidity.
        b.apply_delta(Side::No, p(54), 300).unwrap();
        assert_eq!(b.effective_depth(Side::No, p(54)), c(3));
        // A snapshot keeps the overlay, clamped to the new depth of each level.
        b.apply_snapshot(&[(p(40), c(10))], &[(p(54), c(40))])
            .unwrap();
        assert_eq!(b.consumed(Side::No, p(54)), c(29));
        assert_eq!(b.effective_depth(Side::No, p(54)), c(11));
        b.apply_snapshot(&[(p(40), c(10))], &[(p(54), c(20))])
            .unwrap();
        assert_eq!(b.effective_depth(Side::No, p(54)), CentiContracts::ZERO);
        b.apply_snapshot(&[(p(40), c(10))], &[]).unwrap();
        assert_eq!(b.consumed(Side::No, p(54)), CentiContracts::ZERO);
    }

    #[test]
    fn displayed_cache_matches_a_scan() {
        let mut b = book();
        let mut rng = crate::rng::Rng::new(5);
        for _ in 0..5_000 {
            let side = if rng.below(2) == 0 {
                Side::Yes
            } else {
                Side::No
            };
            let price = p(1 + rng.below(99) as u8);
            let delta = rng.below(4_001) as i64 - 2_000;
            let _ = b.apply_delta(side, price, delta);
            for s in [Side::Yes, Side::No] {
                assert_eq!(b.displayed[s.idx()], b.scan_displayed(s, 99));
                assert_eq!(b.best[s.idx()], b.scan_best(s, 99));
                assert_eq!(b.quoted[s.idx()], b.scan_quoted(s, 99));
            }
            assert!(b.check_uncrossed().is_ok());
        }
    }

    #[test]
    fn dust_never_quotes() {
        let mut b = OrderBook::new();
        b.apply_snapshot(&[(p(30), CentiContracts(99))], &[])
            .unwrap();
        assert_eq!(b.best_bid(Side::Yes), None);
        b.apply_delta(Side::Yes, p(30), 1).unwrap();
        assert_eq!(b.best_bid(Side::Yes), Some(p(30)));
    }
}
