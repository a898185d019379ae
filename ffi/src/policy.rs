//! Policy inference from a trainer checkpoint (`kalsim-policy` JSON): `kalsim_policy_*`.

use std::ffi::c_char;

use kalsim_core::{ACTION_COUNT, OBS_DIM, OBS_SCHEMA_VERSION, Rng};
use kalsim_host_sim::train::{Policy, PolicyError};

use crate::env::{env_config, kalsim_env};
use crate::ptr;
use crate::status::{FfiError, FfiResult, boundary, kalsim_status};

/// A trained policy (opaque). Load with `kalsim_policy_load`, free with `kalsim_policy_free`.
/// Its sampling RNG lives in the handle: use one handle per thread.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct kalsim_policy {
    policy: Policy,
    rng: Rng,
}

impl From<PolicyError> for FfiError {
    fn from(e: PolicyError) -> FfiError {
        FfiError::new(kalsim_status::Policy, format!("policy: {e}"))
    }
}

/// Load a policy checkpoint (the JSON text `kalsim train` writes). Its sampling RNG starts
/// from seed 0 (see `kalsim_policy_seed`). Errors: `KALSIM_STATUS_POLICY` with the reason.
///
/// # Safety
/// `checkpoint_json` is NULL or NUL-terminated; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_policy_load(
    checkpoint_json: *const c_char,
    out: *mut *mut kalsim_policy,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let out = unsafe { ptr::as_mut(out, "out") }?;
        if checkpoint_json.is_null() {
            return Err(FfiError::null("checkpoint_json"));
        }
        // SAFETY: caller contract.
        let text = unsafe { ptr::str_or_empty(checkpoint_json, "checkpoint_json") }?;
        let policy = Policy::from_json(text)?;
        let meta = policy.meta();
        if meta.obs_dim as usize != OBS_DIM || meta.obs_schema_version != OBS_SCHEMA_VERSION {
            return Err(FfiError::new(
                kalsim_status::Policy,
                format!(
                    "policy: trained on observation schema v{} with {} features, this library \
                     produces v{OBS_SCHEMA_VERSION} with {OBS_DIM}",
                    meta.obs_schema_version, meta.obs_dim
                ),
            ));
        }
        *out = Box::into_raw(Box::new(kalsim_policy {
            policy,
            rng: Rng::new(0),
        }));
        Ok(())
    })
}

/// Free a policy. NULL is a no-op.
///
/// # Safety
/// `policy` is NULL or a handle from `kalsim_policy_load` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_policy_free(policy: *mut kalsim_policy) {
    let _ = boundary(|| {
        if !policy.is_null() {
            // SAFETY: a live handle from `Box::into_raw`, freed once by contract.
            drop(unsafe { Box::from_raw(policy) });
        }
        Ok(())
    });
}

/// Reseed the policy's sampling RNG (used when `greedy` is false).
///
/// # Safety
/// `policy` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_policy_seed(
    policy: *mut kalsim_policy,
    seed: u64,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let p = unsafe { ptr::as_mut(policy, "policy") }?;
        p.rng = Rng::new(seed);
        Ok(())
    })
}

/// Check that the policy was trained for `env`'s observations, actions and sizes.
/// Errors: `KALSIM_STATUS_POLICY` naming the mismatch.
///
/// # Safety
/// `policy` and `env` are NULL or live handles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_policy_check_env(
    policy: *const kalsim_policy,
    env: *const kalsim_env,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let p = unsafe { ptr::as_ref(policy, "policy") }?;
        // SAFETY: caller contract.
        let env = unsafe { ptr::as_ref(env, "env") }?;
        let meta = env_config(env).policy_meta();
        p.policy.check_compatible(&meta)?;
        Ok(())
    })
}

/// The observation and mask inputs, length-checked.
///
/// # Safety
/// `obs` is NULL or holds `obs_len` floats, `mask` NULL or `mask_len` bytes, for `'a`.
unsafe fn inputs<'a>(
    obs: *const f32,
    obs_len: usize,
    mask: *const u8,
    mask_len: usize,
) -> FfiResult<(&'a [f32], &'a [u8])> {
    // SAFETY: caller contract.
    let obs = unsafe { ptr::slice(obs, obs_len, OBS_DIM, "obs") }?;
    // SAFETY: as above.
    let mask = unsafe { ptr::slice(mask, mask_len, ACTION_COUNT, "mask") }?;
    Ok((obs, mask))
}

/// Choose an action for `obs` (`obs_len` >= `KALSIM_OBS_DIM`) under `mask` (`mask_len` >=
/// `KALSIM_ACTION_COUNT`): the masked argmax when `greedy`, else a draw from the masked
/// softmax with the handle's RNG. Never a masked or reserved action (HOLD when everything
/// is masked). Errors: `KALSIM_STATUS_BUFFER` on a short buffer.
///
/// # Safety
/// `policy` is NULL or live; `obs` and `mask` NULL or of their stated lengths; `action_out`
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_policy_act(
    policy: *mut kalsim_policy,
    obs: *const f32,
    obs_len: usize,
    mask: *const u8,
    mask_len: usize,
    greedy: bool,
    action_out: *mut u32,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let p = unsafe { ptr::as_mut(policy, "policy") }?;
        // SAFETY: caller contract.
        let out = unsafe { ptr::as_mut(action_out, "action_out") }?;
        // SAFETY: caller contract.
        let (obs, mask) = unsafe { inputs(obs, obs_len, mask, mask_len) }?;
        *out = p.policy.act(obs, mask, greedy, &mut p.rng) as u32;
        Ok(())
    })
}

/// The masked action probabilities for `obs` into `probs_out` (`probs_len` >=
/// `KALSIM_ACTION_COUNT`; 0 for masked and reserved actions).
///
/// # Safety
/// `policy` is NULL or live; `obs`, `mask`, `probs_out` NULL or of their stated lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_policy_action_probs(
    policy: *const kalsim_policy,
    obs: *const f32,
    obs_len: usize,
    mask: *const u8,
    mask_len: usize,
    probs_out: *mut f32,
    probs_len: usize,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let p = unsafe { ptr::as_ref(policy, "policy") }?;
        // SAFETY: caller contract.
        let out = unsafe { ptr::slice_mut(probs_out, probs_len, ACTION_COUNT, "probs_out") }?;
        // SAFETY: caller contract.
        let (obs, mask) = unsafe { inputs(obs, obs_len, mask, mask_len) }?;
        let mut probs = [0f32; ACTION_COUNT];
        p.policy.action_probs(obs, mask, &mut probs);
        out.copy_from_slice(&probs);
        Ok(())
    })
}

/// The critic's value estimate for `obs` (`obs_len` >= `KALSIM_OBS_DIM`; reward units) into
/// `*value_out`.
///
/// # Safety
/// `policy` is NULL or live; `obs` NULL or `obs_len` floats; `value_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_policy_value(
    policy: *const kalsim_policy,
    obs: *const f32,
    obs_len: usize,
    value_out: *mut f32,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let p = unsafe { ptr::as_ref(policy, "policy") }?;
        // SAFETY: caller contract.
        let out = unsafe { ptr::as_mut(value_out, "value_out") }?;
        // SAFETY: caller contract.
        let obs = unsafe { ptr::slice(obs, obs_len, OBS_DIM, "obs") }?;
        *out = p.policy.value(obs);
        Ok(())
    })
}
