//! One environment behind an opaque handle: `kalsim_env_*`.

use std::ffi::c_char;

use kalsim_core::action::TIER_COUNT;
use kalsim_core::{ACTION_COUNT, OBS_DIM};
use kalsim_host_sim::env::{Env, EnvConfig, StepInfo, load_markets};

use crate::metrics::kalsim_metrics;
use crate::ptr;
use crate::status::{FfiResult, boundary, from_boxed, kalsim_status};

/// The `info` of SPEC §7 for one reset or step.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct kalsim_step_info {
    /// Steps taken this episode.
    pub step: u32,
    /// Index of the market in the dataset.
    pub market_index: u32,
    /// Index of the current event in the market's tape.
    pub event_index: u32,
    /// Cash, cents.
    pub cash_cents: i64,
    /// Signed position (+YES / -NO), contracts.
    pub position: i64,
    /// Portfolio value, cents.
    pub portfolio_value_cents: i64,
    /// Fees paid this episode, cents.
    pub fees_paid_cents: i64,
    /// Realised P&L gross of fees, cents.
    pub realized_pnl_cents: i64,
    /// Intent of the last order placed (0 = none, 1..=4 as the codec).
    pub last_order_intent: u8,
    /// Tier index of the last order (0..=4), 255 when none.
    pub last_order_tier: u8,
    /// Limit price of the last order in its intent's contract, cents.
    pub last_order_limit_cents: u8,
    /// Why this step's action ran as HOLD: 0 none, 1..=7 limit rules, 8 reserved
    /// (see `kalsim_invalid_action_name`).
    pub invalid_action: u8,
    /// 0 not settled, 1 settled YES, 2 settled NO.
    pub settled: u8,
    /// Size of the last order placed, contracts.
    pub last_order_size: u32,
    /// Contracts of the last order filled so far.
    pub last_order_filled: u32,
    /// Average fill price of the last order in its intent's contract, cents (0 if unfilled).
    pub last_order_avg_fill_price: f64,
    /// Contracts filled during this step (taker and resting).
    pub filled_this_step: u32,
    /// Remaining contracts of the working order, 0 when none.
    pub working_order_remaining: u32,
    /// Fees charged during this step, cents.
    pub fee_this_step_cents: i64,
}

impl From<StepInfo> for kalsim_step_info {
    fn from(i: StepInfo) -> Self {
        kalsim_step_info {
            step: i.step,
            market_index: i.market_index,
            event_index: i.event_index,
            cash_cents: i.cash_cents,
            position: i.position,
            portfolio_value_cents: i.portfolio_value_cents,
            fees_paid_cents: i.fees_paid_cents,
            realized_pnl_cents: i.realized_pnl_cents,
            last_order_intent: i.last_order_intent,
            last_order_tier: i.last_order_tier,
            last_order_limit_cents: i.last_order_limit_cents,
            invalid_action: i.invalid_action,
            settled: i.settled,
            last_order_size: i.last_order_size,
            last_order_filled: i.last_order_filled,
            last_order_avg_fill_price: i.last_order_avg_fill_price,
            filled_this_step: i.filled_this_step,
            working_order_remaining: i.working_order_remaining,
            fee_this_step_cents: i.fee_this_step_cents,
        }
    }
}

/// What `kalsim_env_step` returns besides the observation.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct kalsim_step {
    /// `(PV_{t+1} - PV_t) x reward_scale`.
    pub reward: f64,
    /// The market settled, or PV fell to zero or below.
    pub terminated: bool,
    /// The data ended without a result, or `max_steps` was reached.
    pub truncated: bool,
    /// SPEC §7 info.
    pub info: kalsim_step_info,
}

/// An environment (opaque). Create with `kalsim_env_new`, free with `kalsim_env_free`.
/// Not thread-safe: use one handle from one thread at a time.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct kalsim_env {
    env: Env,
    info: StepInfo,
}

/// The configuration of an environment.
pub(crate) fn env_config(env: &kalsim_env) -> &EnvConfig {
    env.env.config()
}

/// Parse a configuration (NULL or "" = defaults) and load its markets.
///
/// # Safety
/// `config_json` is NULL or a NUL-terminated string.
pub(crate) unsafe fn load(
    config_json: *const c_char,
) -> FfiResult<(EnvConfig, kalsim_host_sim::env::Markets)> {
    // SAFETY: forwarded contract.
    let text = unsafe { ptr::str_or_empty(config_json, "config_json") }?;
    let config = EnvConfig::from_json(text)?;
    let (markets, _report) = load_markets(&config).map_err(from_boxed)?;
    Ok((config, markets))
}

/// Create an environment from a JSON configuration (NULL or "" = every default, on the
/// embedded synthetic data; `data.files` loads Kalshi JSONL captures).
///
/// On success writes a new handle to `*out`; free it with `kalsim_env_free`.
/// Errors: `KALSIM_STATUS_CONFIG`, `KALSIM_STATUS_DATA`, `KALSIM_STATUS_NULL_POINTER`.
///
/// # Safety
/// `config_json` is NULL or NUL-terminated; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_env_new(
    config_json: *const c_char,
    out: *mut *mut kalsim_env,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let out = unsafe { ptr::as_mut(out, "out") }?;
        // SAFETY: caller contract.
        let (config, markets) = unsafe { load(config_json) }?;
        let env = Env::new(config, markets).map_err(from_boxed)?;
        *out = Box::into_raw(Box::new(kalsim_env {
            env,
            info: StepInfo::default(),
        }));
        Ok(())
    })
}

/// Free an environment. NULL is a no-op.
///
/// # Safety
/// `env` is NULL or a handle from `kalsim_env_new` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_env_free(env: *mut kalsim_env) {
    let _ = boundary(|| {
        if !env.is_null() {
            // SAFETY: a live handle from `Box::into_raw`, freed once by contract.
            drop(unsafe { Box::from_raw(env) });
        }
        Ok(())
    });
}

/// Length of the observation vector (`KALSIM_OBS_DIM`); 0 if `env` is NULL.
///
/// # Safety
/// `env` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_env_obs_len(env: *const kalsim_env) -> usize {
    // SAFETY: caller contract.
    match unsafe { env.as_ref() } {
        Some(e) => e.env.obs_dim(),
        None => 0,
    }
}

/// Number of markets loaded (episodes cycle through them); 0 if `env` is NULL.
///
/// # Safety
/// `env` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_env_market_count(env: *const kalsim_env) -> usize {
    // SAFETY: caller contract.
    match unsafe { env.as_ref() } {
        Some(e) => e.env.markets().len(),
        None => 0,
    }
}

fn reset(env: &mut kalsim_env, seed: Option<u64>, obs_out: *mut f32, obs_len: usize) -> FfiResult {
    // SAFETY: caller contract: `obs_out` holds `obs_len` floats. Checked before the env moves.
    let obs_out = unsafe { ptr::slice_mut(obs_out, obs_len, OBS_DIM, "obs_out") }?;
    let mut obs = [0f32; OBS_DIM];
    env.info = env.env.reset(seed, &mut obs)?;
    obs_out.copy_from_slice(&obs);
    Ok(())
}

/// Gymnasium `reset(seed)`: reseed, restart the market cycle and write the first
/// observation to `obs_out` (`obs_len` >= `KALSIM_OBS_DIM` floats). The info is read with
/// `kalsim_env_info`.
///
/// Errors: `KALSIM_STATUS_NULL_POINTER`, `KALSIM_STATUS_BUFFER` (`obs_len` too short; the
/// environment is left as it was).
///
/// # Safety
/// `env` is NULL or a live handle; `obs_out` is NULL or holds `obs_len` floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_env_reset(
    env: *mut kalsim_env,
    seed: u64,
    obs_out: *mut f32,
    obs_len: usize,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let env = unsafe { ptr::as_mut(env, "env") }?;
        reset(env, Some(seed), obs_out, obs_len)
    })
}

/// Gymnasium `reset()` without a seed: go on to the next market of the cycle.
///
/// # Safety
/// As `kalsim_env_reset`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_env_reset_next(
    env: *mut kalsim_env,
    obs_out: *mut f32,
    obs_len: usize,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let env = unsafe { ptr::as_mut(env, "env") }?;
        reset(env, None, obs_out, obs_len)
    })
}

/// Gymnasium `step(action)`: `action` in 0..=24 (reserved 21..=24 run as HOLD with
/// `invalid_action = 8` unless the config says `invalid_action = "error"`). Writes the
/// result to `*out` and the next observation to `obs_out` (`obs_len` >= `KALSIM_OBS_DIM`).
///
/// Errors: `KALSIM_STATUS_INVALID_ACTION` (>= 25), `KALSIM_STATUS_MASKED_ACTION` /
/// `KALSIM_STATUS_RESERVED_ACTION` (strict mode), `KALSIM_STATUS_NOT_RESET`,
/// `KALSIM_STATUS_EPISODE_OVER`, `KALSIM_STATUS_BUFFER`. Nothing is written on failure.
///
/// # Safety
/// `env` is NULL or a live handle; `out` is NULL or writable; `obs_out` is NULL or holds
/// `obs_len` floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_env_step(
    env: *mut kalsim_env,
    action: u32,
    out: *mut kalsim_step,
    obs_out: *mut f32,
    obs_len: usize,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let env = unsafe { ptr::as_mut(env, "env") }?;
        // SAFETY: caller contract.
        let out = unsafe { ptr::as_mut(out, "out") }?;
        // SAFETY: caller contract.
        let obs_out = unsafe { ptr::slice_mut(obs_out, obs_len, OBS_DIM, "obs_out") }?;
        let mut obs = [0f32; OBS_DIM];
        let r = env.env.step(action, &mut obs)?;
        env.info = r.info;
        obs_out.copy_from_slice(&obs);
        *out = kalsim_step {
            reward: r.reward,
            terminated: r.terminated,
            truncated: r.truncated,
            info: r.info.into(),
        };
        Ok(())
    })
}

/// The info of the last reset or step (zeros before the first reset).
///
/// # Safety
/// `env` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_env_info(
    env: *const kalsim_env,
    out: *mut kalsim_step_info,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let env = unsafe { ptr::as_ref(env, "env") }?;
        // SAFETY: caller contract.
        let out = unsafe { ptr::as_mut(out, "out") }?;
        *out = env.info.into();
        Ok(())
    })
}

/// The action mask of SPEC §6 into `mask_out` (`mask_len` >= `KALSIM_ACTION_COUNT` bytes;
/// 1 = allowed; HOLD always, reserved never). Errors: `KALSIM_STATUS_BUFFER` on a short
/// buffer.
///
/// # Safety
/// `env` is NULL or a live handle; `mask_out` is NULL or holds `mask_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_env_action_mask(
    env: *const kalsim_env,
    mask_out: *mut u8,
    mask_len: usize,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let env = unsafe { ptr::as_ref(env, "env") }?;
        // SAFETY: caller contract.
        let mask = unsafe { ptr::slice_mut(mask_out, mask_len, ACTION_COUNT, "mask_out") }?;
        env.env.action_mask_into(mask);
        Ok(())
    })
}

/// SPEC §9 metrics of the current (or just finished) episode.
///
/// # Safety
/// `env` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_env_metrics(
    env: *const kalsim_env,
    out: *mut kalsim_metrics,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let env = unsafe { ptr::as_ref(env, "env") }?;
        // SAFETY: caller contract.
        let out = unsafe { ptr::as_mut(out, "out") }?;
        *out = kalsim_metrics::from(env.env.metrics());
        Ok(())
    })
}

/// The environment's effective size table (contracts per tier Small..Giant; every entry
/// is `fixed_size` in fixed sizing) into `out` (`out_len` >= `KALSIM_TIER_COUNT`).
///
/// # Safety
/// `env` is NULL or a live handle; `out` is NULL or holds `out_len` `uint32_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_env_size_table(
    env: *const kalsim_env,
    out: *mut u32,
    out_len: usize,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let env = unsafe { ptr::as_ref(env, "env") }?;
        // SAFETY: caller contract.
        let out = unsafe { ptr::slice_mut(out, out_len, TIER_COUNT, "out") }?;
        let table = env.env.engine().config().sizes;
        for (o, tier) in out.iter_mut().zip(kalsim_core::Tier::ALL) {
            *o = table.size(tier).0;
        }
        Ok(())
    })
}

/// The caller's buffers of `kalsim_env_step_into` / `kalsim_env_reset_into`, described once
/// and passed by pointer every step (one ABI crossing per step for bindings where a call
/// costs more than the step, such as Python's ctypes).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kalsim_env_step_buffers {
    /// Output: the next observation (`KALSIM_OBS_DIM` floats).
    pub obs_out: *mut f32,
    /// Length of `obs_out`.
    pub obs_len: usize,
    /// Output: the action mask of the new state (`KALSIM_ACTION_COUNT` bytes, 1 = allowed).
    pub mask_out: *mut u8,
    /// Length of `mask_out`.
    pub mask_len: usize,
    /// Output: reward, flags and info.
    pub step_out: *mut kalsim_step,
}

/// The output slices of `kalsim_env_step_buffers`, checked before the environment moves.
struct StepOut<'a> {
    obs: &'a mut [f32],
    mask: &'a mut [u8],
    step: &'a mut kalsim_step,
}

/// # Safety
/// `b` is NULL or readable, and each of its pointers NULL or valid for its stated length,
/// the three outputs distinct.
unsafe fn step_out<'a>(b: *const kalsim_env_step_buffers) -> FfiResult<StepOut<'a>> {
    // SAFETY (all four): caller contract.
    let b = unsafe { ptr::as_ref(b, "buffers") }?;
    Ok(StepOut {
        obs: unsafe { ptr::slice_mut(b.obs_out, b.obs_len, OBS_DIM, "obs_out") }?,
        mask: unsafe { ptr::slice_mut(b.mask_out, b.mask_len, ACTION_COUNT, "mask_out") }?,
        step: unsafe { ptr::as_mut(b.step_out, "step_out") }?,
    })
}

/// `kalsim_env_step` and `kalsim_env_action_mask` in one call: step with `action`, then
/// write the next observation, the new state's mask and the result (reward, flags, info)
/// into `buffers`. Errors as `kalsim_env_step`; nothing is written on failure.
///
/// # Safety
/// `env` is NULL or a live handle; `buffers` is NULL or readable, each of its pointers
/// NULL or valid for its stated length, the outputs distinct.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_env_step_into(
    env: *mut kalsim_env,
    action: u32,
    buffers: *const kalsim_env_step_buffers,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let env = unsafe { ptr::as_mut(env, "env") }?;
        // SAFETY: caller contract.
        let out = unsafe { step_out(buffers) }?;
        let mut obs = [0f32; OBS_DIM];
        let r = env.env.step(action, &mut obs)?;
        env.info = r.info;
        out.obs.copy_from_slice(&obs);
        env.env.action_mask_into(out.mask);
        *out.step = kalsim_step {
            reward: r.reward,
            terminated: r.terminated,
            truncated: r.truncated,
            info: r.info.into(),
        };
        Ok(())
    })
}

/// `kalsim_env_reset` (`use_seed` true) or `kalsim_env_reset_next` (false, `seed` ignored)
/// and the mask in one call: the first observation, its mask and the info (reward 0, flags
/// false) into `buffers`. Errors as `kalsim_env_reset`; nothing moves on a bad buffer.
///
/// # Safety
/// As `kalsim_env_step_into`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_env_reset_into(
    env: *mut kalsim_env,
    seed: u64,
    use_seed: bool,
    buffers: *const kalsim_env_step_buffers,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let env = unsafe { ptr::as_mut(env, "env") }?;
        // SAFETY: caller contract.
        let out = unsafe { step_out(buffers) }?;
        let mut obs = [0f32; OBS_DIM];
        env.info = env.env.reset(use_seed.then_some(seed), &mut obs)?;
        out.obs.copy_from_slice(&obs);
        env.env.action_mask_into(out.mask);
        *out.step = kalsim_step {
            reward: 0.0,
            terminated: false,
            truncated: false,
            info: env.info.into(),
        };
        Ok(())
    })
}
