//! Core rules for hosts with their own data: the action codec, limits, fees, the size
//! table, the observation schema and the core's names and counts. No handle needed.

use std::ffi::{CString, c_char};
use std::sync::OnceLock;

use kalsim_core::action::TIER_COUNT;
use kalsim_core::{
    ACTION_COUNT, Action, Cents, FeeSchedule, INVALID_ACTION_MAX_CODE, Intent, Limits, OBS_DIM,
    OBS_FEATURES, OBS_SCHEMA_VERSION, Price, SizeTable, Tier, action,
};

/// Number of intents: HOLD and the four trades.
pub(crate) const INTENT_COUNT: usize = Intent::TRADES.len() + 1;

use crate::ptr;
use crate::status::{FfiError, FfiResult, boundary, kalsim_status};

fn intent(v: u32) -> FfiResult<Intent> {
    u8::try_from(v)
        .ok()
        .and_then(|b| Intent::try_from(b).ok())
        .ok_or_else(|| FfiError::arg(format!("intent {v} is not one of 0..=4")))
}

fn tier(v: u32) -> FfiResult<Tier> {
    u8::try_from(v)
        .ok()
        .and_then(|b| Tier::try_from(b).ok())
        .ok_or_else(|| FfiError::arg(format!("size tier {v} is not one of 0..=4")))
}

fn price(cents: u32) -> FfiResult<Price> {
    u8::try_from(cents)
        .ok()
        .and_then(|c| Price::new(c).ok())
        .ok_or_else(|| FfiError::arg(format!("price {cents} cents is not within 1..=99")))
}

/// Encode `(intent, tier)` as an action id (SPEC §2): intent 0 (HOLD) gives 0 whatever the
/// tier; intents 1..=4 (BUY_YES, SELL_YES, BUY_NO, SELL_NO) x tiers 0..=4 give 1..=20.
/// Errors: `KALSIM_STATUS_INVALID_ARGUMENT` for an intent or tier outside 0..=4.
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_encode_action(
    intent_id: u32,
    tier_id: u32,
    out: *mut u8,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let out = unsafe { ptr::as_mut(out, "out") }?;
        *out = action::encode(intent(intent_id)?, tier(tier_id)?);
        Ok(())
    })
}

/// Decode an action id into its intent (0..=4) and tier (0..=4; 255 for HOLD).
/// Errors: `KALSIM_STATUS_RESERVED_ACTION` (21..=24), `KALSIM_STATUS_INVALID_ACTION` (>= 25).
///
/// # Safety
/// `intent_out` and `tier_out` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_decode_action(
    action_id: u32,
    intent_out: *mut u8,
    tier_out: *mut u8,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let intent_out = unsafe { ptr::as_mut(intent_out, "intent_out") }?;
        // SAFETY: caller contract.
        let tier_out = unsafe { ptr::as_mut(tier_out, "tier_out") }?;
        let (i, t) = match action::decode(action_id)? {
            Action::Hold => (Intent::Hold as u8, 255),
            Action::Trade { intent, tier } => (intent as u8, tier as u8),
        };
        *intent_out = i;
        *tier_out = t;
        Ok(())
    })
}

/// The plan's `validate_order` with the plan's default limits (SPEC §6): may an order of
/// `size` contracts be placed? `size > 0` buys YES, `size < 0` buys NO, at `price_cents`
/// (1..=99, the bought contract's price), given the signed `position` and `cash_cents`.
///
/// Returns `KALSIM_STATUS_OK` and writes `*reason_out`: 0 allowed, else the first rule
/// broken (1..=7, named by `kalsim_invalid_action_name`). Errors:
/// `KALSIM_STATUS_INVALID_ARGUMENT` for a price outside 1..=99.
///
/// # Safety
/// `reason_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_validate_order(
    size: i64,
    position: i64,
    cash_cents: i64,
    price_cents: u32,
    reason_out: *mut u8,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let out = unsafe { ptr::as_mut(reason_out, "reason_out") }?;
        let p = price(price_cents)?;
        *out = match Limits::PLAN.validate_order(size, position, Cents(cash_cents), p) {
            Ok(()) => 0,
            Err(v) => v as u8,
        };
        Ok(())
    })
}

/// Kalshi's taker fee in cents for `contracts` filled at `price_cents` (1..=99) in one
/// order and step: `ceil(0.07 x C x P x (1 - P))`.
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_taker_fee_cents(
    contracts: u32,
    price_cents: u32,
    out: *mut i64,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let out = unsafe { ptr::as_mut(out, "out") }?;
        *out = FeeSchedule::KALSHI
            .taker_fee(&[(contracts, price(price_cents)?)])
            .0;
        Ok(())
    })
}

/// Kalshi's maker fee in cents on a maker-fee market for `contracts` filled at
/// `price_cents` (1..=99): `ceil(0.0175 x C x P x (1 - P))`.
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_maker_fee_cents(
    contracts: u32,
    price_cents: u32,
    out: *mut i64,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let out = unsafe { ptr::as_mut(out, "out") }?;
        let fees = FeeSchedule {
            maker_fees: true,
            ..FeeSchedule::KALSHI
        };
        *out = fees.maker_fee(&[(contracts, price(price_cents)?)]).0;
        Ok(())
    })
}

/// The default size table (contracts per tier Small..Giant: 5, 10, 20, 50, 100) into
/// `out` (`out_len` >= `KALSIM_TIER_COUNT`). Errors: `KALSIM_STATUS_BUFFER` when short.
///
/// # Safety
/// `out` is NULL or holds `out_len` `uint32_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_size_table(out: *mut u32, out_len: usize) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let out = unsafe { ptr::slice_mut(out, out_len, TIER_COUNT, "out") }?;
        out.copy_from_slice(&SizeTable::DEFAULT.sizes());
        Ok(())
    })
}

/// The core's names as C strings, built once: invalid-action codes `0..=MAX_CODE` and one
/// past it ("unknown"), intents and tiers in codec order.
struct Names {
    invalid_action: [CString; INVALID_ACTION_MAX_CODE as usize + 2],
    intent: [CString; INTENT_COUNT],
    tier: [CString; TIER_COUNT],
}

fn names() -> &'static Names {
    static NAMES: OnceLock<Names> = OnceLock::new();
    NAMES.get_or_init(|| {
        // The core's names are static ASCII without NUL; `unwrap_or_default` never fires.
        let c = |s: &str| CString::new(s).unwrap_or_default();
        Names {
            invalid_action: std::array::from_fn(|i| c(kalsim_core::invalid_action_name(i as u8))),
            intent: std::array::from_fn(|i| c(INTENTS[i].name())),
            tier: std::array::from_fn(|i| c(Tier::ALL[i].name())),
        }
    })
}

/// All intents in codec order (0..=4).
const INTENTS: [Intent; INTENT_COUNT] = [
    Intent::Hold,
    Intent::BuyYes,
    Intent::SellYes,
    Intent::BuyNo,
    Intent::SellNo,
];
const _: () = {
    let mut i = 0;
    while i < INTENT_COUNT {
        assert!(INTENTS[i] as usize == i);
        i += 1;
    }
};

/// Static name of an `invalid_action` / `validate_order` reason code, as the core names it:
/// "none" (0), the limit rule (1..=7, e.g. "position_limit"), "reserved"
/// (`KALSIM_INVALID_ACTION_MAX_CODE`); "unknown" otherwise. Never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn kalsim_invalid_action_name(code: u32) -> *const c_char {
    let table = &names().invalid_action;
    let unknown = table.len() - 1;
    let index = usize::try_from(code).map_or(unknown, |c| c.min(unknown));
    table[index].as_ptr()
}

/// Largest `invalid_action` code (`KALSIM_INVALID_ACTION_MAX_CODE`); codes run 0..=it.
#[unsafe(no_mangle)]
pub extern "C" fn kalsim_invalid_action_max_code() -> u32 {
    u32::from(INVALID_ACTION_MAX_CODE)
}

/// Number of discrete actions (`KALSIM_ACTION_COUNT`).
#[unsafe(no_mangle)]
pub extern "C" fn kalsim_action_count() -> usize {
    ACTION_COUNT
}

/// Number of intents (`KALSIM_INTENT_COUNT`: HOLD and the four trades).
#[unsafe(no_mangle)]
pub extern "C" fn kalsim_intent_count() -> usize {
    INTENT_COUNT
}

/// Number of size tiers (`KALSIM_TIER_COUNT`).
#[unsafe(no_mangle)]
pub extern "C" fn kalsim_tier_count() -> usize {
    TIER_COUNT
}

/// Static name of intent `intent` (0..=4: "HOLD", "BUY_YES", "SELL_YES", "BUY_NO",
/// "SELL_NO"); NULL when out of range.
#[unsafe(no_mangle)]
pub extern "C" fn kalsim_intent_name(intent: u32) -> *const c_char {
    match names().intent.get(intent as usize) {
        Some(s) => s.as_ptr(),
        None => std::ptr::null(),
    }
}

/// Static name of size tier `tier` (0..=4: "Small", "Medium", "Large", "Huge", "Giant");
/// NULL when out of range.
#[unsafe(no_mangle)]
pub extern "C" fn kalsim_tier_name(tier: u32) -> *const c_char {
    match names().tier.get(tier as usize) {
        Some(s) => s.as_ptr(),
        None => std::ptr::null(),
    }
}

/// One feature of the observation schema (SPEC §8). The strings are static.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kalsim_obs_feature {
    /// Stable snake_case name.
    pub name: *const c_char,
    /// `market`, `portfolio`, `sizing` or `working_order`.
    pub group: *const c_char,
    /// How the raw quantity is scaled.
    pub scaling: *const c_char,
    /// Lowest value after clipping.
    pub min: f32,
    /// Highest value after clipping.
    pub max: f32,
}

struct SchemaStrings {
    name: [CString; OBS_DIM],
    group: [CString; OBS_DIM],
    scaling: [CString; OBS_DIM],
}

fn schema() -> &'static SchemaStrings {
    static STRINGS: OnceLock<SchemaStrings> = OnceLock::new();
    STRINGS.get_or_init(|| {
        let c = |s: &str| CString::new(s).unwrap_or_default();
        SchemaStrings {
            name: std::array::from_fn(|i| c(OBS_FEATURES[i].name)),
            group: std::array::from_fn(|i| c(OBS_FEATURES[i].group)),
            scaling: std::array::from_fn(|i| c(OBS_FEATURES[i].scaling)),
        }
    })
}

/// Number of observation features (`KALSIM_OBS_DIM`).
#[unsafe(no_mangle)]
pub extern "C" fn kalsim_obs_feature_count() -> usize {
    OBS_DIM
}

/// Version of the observation schema (`KALSIM_OBS_SCHEMA_VERSION`).
#[unsafe(no_mangle)]
pub extern "C" fn kalsim_obs_schema_version() -> u32 {
    OBS_SCHEMA_VERSION
}

/// Static name of observation feature `index`; NULL when `index >= KALSIM_OBS_DIM`.
#[unsafe(no_mangle)]
pub extern "C" fn kalsim_obs_feature_name(index: usize) -> *const c_char {
    match schema().name.get(index) {
        Some(s) => s.as_ptr(),
        None => std::ptr::null(),
    }
}

/// Everything the schema says about feature `index` (name, group, scaling, range).
/// Errors: `KALSIM_STATUS_INVALID_ARGUMENT` when `index >= KALSIM_OBS_DIM`.
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_obs_feature_info(
    index: usize,
    out: *mut kalsim_obs_feature,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let out = unsafe { ptr::as_mut(out, "out") }?;
        let f = OBS_FEATURES
            .get(index)
            .ok_or_else(|| FfiError::arg(format!("feature index {index} >= {OBS_DIM}")))?;
        let s = schema();
        *out = kalsim_obs_feature {
            name: s.name[index].as_ptr(),
            group: s.group[index].as_ptr(),
            scaling: s.scaling[index].as_ptr(),
            min: f.min,
            max: f.max,
        };
        Ok(())
    })
}
