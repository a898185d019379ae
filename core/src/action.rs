//! The action codec of SPEC §2: 25 discrete actions, five size tiers.
//!
//! ```text
//! 0        HOLD
//! 1..=5    BUY_YES  × (Small, Medium, Large, Huge, Giant)
//! 6..=10   SELL_YES × (...)
//! 11..=15  BUY_NO   × (...)
//! 16..=20  SELL_NO  × (...)
//! 21..=24  reserved (always masked, never executed)
//! >= 25    not in the space: an error
//! ```
//!
//! The table is normative and stable: see `docs/action-codec.md`.

use core::fmt;

use crate::units::Contracts;

/// Number of actions in the space, `Discrete(25)`.
pub const ACTION_COUNT: usize = 25;
/// Number of size tiers.
pub const TIER_COUNT: usize = 5;
/// Number of valid (non-reserved) actions.
pub const VALID_ACTION_COUNT: usize = 21;
/// First reserved action id.
pub const FIRST_RESERVED: u8 = 21;

/// A trading intent. `#[repr(u8)]` with the codec's base-action numbers.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Intent {
    /// Do nothing; the working order stays.
    Hold = 0,
    /// Buy YES contracts.
    BuyYes = 1,
    /// Sell YES contracts (reduce-only by default).
    SellYes = 2,
    /// Buy NO contracts.
    BuyNo = 3,
    /// Sell NO contracts (reduce-only by default).
    SellNo = 4,
}

impl Intent {
    /// The four trading intents in codec order.
    pub const TRADES: [Intent; 4] = [
        Intent::BuyYes,
        Intent::SellYes,
        Intent::BuyNo,
        Intent::SellNo,
    ];

    /// Upper-case name as in the plan (`BUY_YES`).
    pub const fn name(self) -> &'static str {
        match self {
            Intent::Hold => "HOLD",
            Intent::BuyYes => "BUY_YES",
            Intent::SellYes => "SELL_YES",
            Intent::BuyNo => "BUY_NO",
            Intent::SellNo => "SELL_NO",
        }
    }

    /// True for the two sell intents.
    pub const fn is_sell(self) -> bool {
        matches!(self, Intent::SellYes | Intent::SellNo)
    }
}

try_from_u8!(
    Intent,
    ActionError,
    ActionError::UnknownIntent,
    [Hold, BuyYes, SellYes, BuyNo, SellNo]
);

impl fmt::Display for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A size tier, index into the size table.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    /// Default 5 contracts.
    Small = 0,
    /// Default 10 contracts.
    Medium = 1,
    /// Default 20 contracts.
    Large = 2,
    /// Default 50 contracts.
    Huge = 3,
    /// Default 100 contracts.
    Giant = 4,
}

impl Tier {
    /// All tiers in order.
    pub const ALL: [Tier; TIER_COUNT] = [
        Tier::Small,
        Tier::Medium,
        Tier::Large,
        Tier::Huge,
        Tier::Giant,
    ];

    /// Position in the size table.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Name as in the plan (`Small` … `Giant`).
    pub const fn name(self) -> &'static str {
        match self {
            Tier::Small => "Small",
            Tier::Medium => "Medium",
            Tier::Large => "Large",
            Tier::Huge => "Huge",
            Tier::Giant => "Giant",
        }
    }
}

try_from_u8!(
    Tier,
    ActionError,
    ActionError::UnknownTier,
    [Small, Medium, Large, Huge, Giant]
);

/// A decoded, valid action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Action 0.
    Hold,
    /// Actions 1..=20.
    Trade {
        /// One of the four trading intents (never `Hold`).
        intent: Intent,
        /// The size tier.
        tier: Tier,
    },
}

/// Why an action id or codec input is not a valid action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ActionError {
    /// Ids 21..=24: reserved, always masked, never executed.
    Reserved(u8),
    /// Ids ≥ 25 are not in the action space.
    OutOfRange(u32),
    /// An intent number outside 0..=4.
    UnknownIntent(u8),
    /// A tier number outside 0..=4.
    UnknownTier(u8),
}

impl fmt::Display for ActionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActionError::Reserved(a) => {
                write!(f, "action {a} is reserved (21..=24 are never executed)")
            }
            ActionError::OutOfRange(a) => {
                write!(f, "action {a} is out of range (the space is 0..=24)")
            }
            ActionError::UnknownIntent(i) => write!(f, "intent {i} is not one of 0..=4"),
            ActionError::UnknownTier(t) => write!(f, "size tier {t} is not one of 0..=4"),
        }
    }
}

impl core::error::Error for ActionError {}

/// `encode(intent, tier) = (intent - 1) * 5 + tier + 1`; HOLD encodes to 0 (the tier is ignored).
#[inline]
pub const fn encode(intent: Intent, tier: Tier) -> u8 {
    match intent {
        Intent::Hold => 0,
        _ => (intent as u8 - 1) * 5 + tier as u8 + 1,
    }
}

/// Encode a decoded [`Action`].
#[inline]
pub const fn encode_action(action: Action) -> u8 {
    match action {
        Action::Hold => 0,
        Action::Trade { intent, tier } => encode(intent, tier),
    }
}

/// Decode an action id of any width: 0 → HOLD, 1..=20 → trade, 21..=24 → `Reserved`, ≥ 25 → `OutOfRange`.
#[inline]
pub const fn decode(action: u32) -> Result<Action, ActionError> {
    if action == 0 {
        return Ok(Action::Hold);
    }
    if action >= ACTION_COUNT as u32 {
        return Err(ActionError::OutOfRange(action));
    }
    if action >= FIRST_RESERVED as u32 {
        return Err(ActionError::Reserved(action as u8));
    }
    let adjusted = (action - 1) as u8;
    let intent = match adjusted / 5 {
        0 => Intent::BuyYes,
        1 => Intent::SellYes,
        2 => Intent::BuyNo,
        _ => Intent::SellNo,
    };
    let tier = match adjusted % 5 {
        0 => Tier::Small,
        1 => Tier::Medium,
        2 => Tier::Large,
        3 => Tier::Huge,
        _ => Tier::Giant,
    };
    Ok(Action::Trade { intent, tier })
}

/// Error for an invalid size table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SizeTableError {
    /// A size of zero contracts at this tier index.
    Zero {
        /// Tier index 0..=4.
        tier: usize,
    },
    /// Sizes must be strictly increasing; this tier is not larger than the one before.
    NotIncreasing {
        /// Tier index 1..=4.
        tier: usize,
    },
    /// Fixed-mode size of zero contracts.
    ZeroFixedSize,
}

impl fmt::Display for SizeTableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SizeTableError::Zero { tier } => write!(
                f,
                "size table: tier {tier} is 0 contracts (sizes must be positive)"
            ),
            SizeTableError::NotIncreasing { tier } => {
                write!(
                    f,
                    "size table: tier {tier} is not larger than tier {} (sizes must strictly increase)",
                    tier - 1
                )
            }
            SizeTableError::ZeroFixedSize => {
                write!(f, "fixed sizing: the fixed size must be positive")
            }
        }
    }
}

impl core::error::Error for SizeTableError {}

/// How trade actions map to order sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SizingMode {
    /// Each tier trades its own size from the table (the product).
    Variable,
    /// Every trade action trades this many contracts (the pre-change baseline, default 10).
    Fixed(Contracts),
}

/// The five tier sizes in contracts (strictly increasing, positive) plus the sizing mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SizeTable {
    sizes: [u32; TIER_COUNT],
    mode: SizingMode,
}

impl Default for SizeTable {
    fn default() -> SizeTable {
        SizeTable::DEFAULT
    }
}

impl SizeTable {
    /// The plan's table `[5, 10, 20, 50, 100]`, variable sizing.
    pub const DEFAULT: SizeTable = SizeTable {
        sizes: [5, 10, 20, 50, 100],
        mode: SizingMode::Variable,
    };
    /// The default fixed size of the baseline mode, 10 contracts.
    pub const DEFAULT_FIXED: Contracts = Contracts(10);

    /// A variable-sizing table, validated.
    pub const fn new(sizes: [u32; TIER_COUNT]) -> Result<SizeTable, SizeTableError> {
        let mut i = 0;
        while i < TIER_COUNT {
            if sizes[i] == 0 {
                return Err(SizeTableError::Zero { tier: i });
            }
            if i > 0 && sizes[i] <= sizes[i - 1] {
                return Err(SizeTableError::NotIncreasing { tier: i });
            }
            i += 1;
        }
        Ok(SizeTable {
            sizes,
            mode: SizingMode::Variable,
        })
    }

    /// The same table in fixed-size mode: every trade action trades `size` contracts.
    pub const fn with_fixed(self, size: Contracts) -> Result<SizeTable, SizeTableError> {
        if size.0 == 0 {
            return Err(SizeTableError::ZeroFixedSize);
        }
        Ok(SizeTable {
            sizes: self.sizes,
            mode: SizingMode::Fixed(size),
        })
    }

    /// The five configured tier sizes in contracts (regardless of mode).
    pub const fn sizes(&self) -> [u32; TIER_COUNT] {
        self.sizes
    }

    /// The sizing mode.
    pub const fn mode(&self) -> SizingMode {
        self.mode
    }

    /// Order size in contracts that `tier` trades under this table's mode.
    #[inline]
    pub const fn size(&self, tier: Tier) -> Contracts {
        match self.mode {
            SizingMode::Variable => Contracts(self.sizes[tier as usize]),
            SizingMode::Fixed(c) => c,
        }
    }

    /// The tier whose configured size is `contracts`, if any (for metrics).
    pub fn tier_of(&self, contracts: Contracts) -> Option<Tier> {
        self.sizes
            .iter()
            .position(|&s| s == contracts.0)
            .map(|i| Tier::ALL[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_spec() {
        assert_eq!(decode(0), Ok(Action::Hold));
        assert_eq!(
            decode(1),
            Ok(Action::Trade {
                intent: Intent::BuyYes,
                tier: Tier::Small
            })
        );
        assert_eq!(
            decode(5),
            Ok(Action::Trade {
                intent: Intent::BuyYes,
                tier: Tier::Giant
            })
        );
        assert_eq!(
            decode(6),
            Ok(Action::Trade {
                intent: Intent::SellYes,
                tier: Tier::Small
            })
        );
        assert_eq!(
            decode(11),
            Ok(Action::Trade {
                intent: Intent::BuyNo,
                tier: Tier::Small
            })
        );
        assert_eq!(
            decode(20),
            Ok(Action::Trade {
                intent: Intent::SellNo,
                tier: Tier::Giant
            })
        );
        for a in 21..=24 {
            assert_eq!(decode(a), Err(ActionError::Reserved(a as u8)));
        }
        assert_eq!(decode(25), Err(ActionError::OutOfRange(25)));
        assert_eq!(decode(u32::MAX), Err(ActionError::OutOfRange(u32::MAX)));
    }

    #[test]
    fn encode_hold_ignores_tier() {
        for t in Tier::ALL {
            assert_eq!(encode(Intent::Hold, t), 0);
        }
    }

    #[test]
    fn size_table_validation() {
        assert_eq!(SizeTable::new([5, 10, 20, 50, 100]), Ok(SizeTable::DEFAULT));
        assert_eq!(
            SizeTable::new([0, 10, 20, 50, 100]),
            Err(SizeTableError::Zero { tier: 0 })
        );
        assert_eq!(
            SizeTable::new([5, 5, 20, 50, 100]),
            Err(SizeTableError::NotIncreasing { tier: 1 })
        );
        let fixed = SizeTable::DEFAULT.with_fixed(Contracts(10)).unwrap();
        for t in Tier::ALL {
            assert_eq!(fixed.size(t), Contracts(10));
        }
        assert_eq!(SizeTable::DEFAULT.size(Tier::Huge), Contracts(50));
        assert_eq!(SizeTable::DEFAULT.tier_of(Contracts(20)), Some(Tier::Large));
        assert_eq!(
            SizeTable::DEFAULT.with_fixed(Contracts(0)),
            Err(SizeTableError::ZeroFixedSize)
        );
    }
}
