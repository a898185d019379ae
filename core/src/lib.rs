//! # kalsim-core
//!
//! The `no_std`, allocation-free rules of kalsim (see `SPEC.md`): units, the 25-action codec
//! with five size tiers, order intents and pricing, the Kalshi order book and matching,
//! fees, Kalshi netting and portfolio value, position limits and action masks, the step,
//! observations and metrics. Every front-end (host-sim, WASM, C ABI, Python) runs this crate.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// `TryFrom<u8>` for a field-less `#[repr(u8)]` enum from the list of its variants: a byte
/// equal to a variant's discriminant is that variant, any other is the error `$err(byte)`
/// (the ABI and configuration codes of the enums).
macro_rules! try_from_u8 {
    ($t:ident, $error:ty, $err:expr, [$($v:ident),+ $(,)?]) => {
        impl TryFrom<u8> for $t {
            type Error = $error;
            fn try_from(v: u8) -> Result<$t, $error> {
                $(
                    if v == $t::$v as u8 {
                        return Ok($t::$v);
                    }
                )+
                Err($err(v))
            }
        }
    };
}

pub mod account;
pub mod action;
pub mod book;
pub mod engine;
pub mod fees;
pub mod limits;
pub mod metrics;
pub mod obs;
pub mod order;
pub mod queue;
pub mod rng;
pub mod units;

pub use account::{Account, MarkMode};
pub use action::{ACTION_COUNT, Action, ActionError, Intent, SizeTable, SizingMode, Tier};
pub use book::{BookError, OrderBook, Side};
pub use engine::{
    Engine, EngineConfig, EventOutcome, INVALID_ACTION_MAX_CODE, InvalidAction, OrderEcho,
    StepError, StepOutcome, WorkingOrder, check_order, invalid_action_name,
};
pub use fees::FeeSchedule;
pub use limits::{LimitViolation, Limits, PreparedLimits};
pub use metrics::SizingMetrics;
pub use obs::{ForecastView, OBS_DIM, OBS_FEATURES, OBS_SCHEMA_VERSION, ObsExtra, ObsState};
pub use order::{OrderPlan, PricingMode, SellMode, SweepRemainder};
pub use queue::{QueueModel, QueueModelKind};
pub use rng::Rng;
pub use units::{Bps, CentiContracts, Cents, Contracts, Price, PriceOutOfRange};

#[cfg(test)]
mod try_from_u8_tests {
    use super::*;

    /// Every byte: a variant's discriminant converts to that variant, any other is refused.
    fn round_trips<T: TryFrom<u8> + Copy>(count: u8, to_u8: impl Fn(T) -> u8) {
        for v in 0..=u8::MAX {
            match T::try_from(v) {
                Ok(x) => assert!(v < count && to_u8(x) == v, "byte {v}"),
                Err(_) => assert!(v >= count, "byte {v} refused"),
            }
        }
    }

    #[test]
    fn the_codes_of_every_enum_round_trip() {
        round_trips::<Intent>(5, |x| x as u8);
        round_trips::<Tier>(5, |x| x as u8);
        round_trips::<Side>(2, |x| x as u8);
        round_trips::<PricingMode>(4, |x| x as u8);
        round_trips::<SweepRemainder>(2, |x| x as u8);
        round_trips::<SellMode>(2, |x| x as u8);
        round_trips::<MarkMode>(2, |x| x as u8);
    }
}
