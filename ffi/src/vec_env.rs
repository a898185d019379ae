//! A batch of environments stepped into caller buffers: `kalsim_vec_env_*`.
//!
//! Buffers are contiguous and row-major (numpy's default), so a host can pass its arrays
//! by pointer: N x `KALSIM_OBS_DIM` floats, N rewards, N terminated and truncated bytes,
//! N x 25 mask bytes, each with its length (checked: `KALSIM_STATUS_BUFFER` when short).
//! Autoreset is Gymnasium's next-step mode unless `kalsim_vec_env_set_autoreset` chooses
//! the same-step mode (Stable-Baselines3's), where the final observation of an episode that
//! ended is read with `kalsim_vec_env_final_observations`.

use std::ffi::c_char;

use kalsim_core::{ACTION_COUNT, OBS_DIM};
use kalsim_host_sim::env::{Autoreset, VecEnv};

use crate::env::{kalsim_step_info, load};
use crate::metrics::kalsim_metrics;
use crate::ptr;
use crate::status::{FfiError, boundary, from_boxed, kalsim_status};

/// A vector of environments (opaque). Create with `kalsim_vec_env_new`, free with
/// `kalsim_vec_env_free`. Not thread-safe itself (it runs its own worker threads).
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct kalsim_vec_env {
    inner: VecEnv,
}

/// Create `n` environments over the same markets, stepped on `threads` threads (0 or 1 =
/// the calling thread). Results do not depend on `threads`. `config_json` as
/// `kalsim_env_new`.
///
/// # Safety
/// `config_json` is NULL or NUL-terminated; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_vec_env_new(
    config_json: *const c_char,
    n: usize,
    threads: usize,
    out: *mut *mut kalsim_vec_env,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let out = unsafe { ptr::as_mut(out, "out") }?;
        if n == 0 || n > 1 << 20 {
            return Err(FfiError::arg(format!(
                "n = {n}: must be within 1..=1048576"
            )));
        }
        // SAFETY: caller contract.
        let (config, markets) = unsafe { load(config_json) }?;
        let inner = VecEnv::new(config, markets, n, threads.max(1)).map_err(from_boxed)?;
        *out = Box::into_raw(Box::new(kalsim_vec_env { inner }));
        Ok(())
    })
}

/// Free a vector environment. NULL is a no-op.
///
/// # Safety
/// `venv` is NULL or a handle from `kalsim_vec_env_new` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_vec_env_free(venv: *mut kalsim_vec_env) {
    let _ = boundary(|| {
        if !venv.is_null() {
            // SAFETY: a live handle from `Box::into_raw`, freed once by contract.
            drop(unsafe { Box::from_raw(venv) });
        }
        Ok(())
    });
}

/// Number of environments; 0 if `venv` is NULL.
///
/// # Safety
/// `venv` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_vec_env_num_envs(venv: *const kalsim_vec_env) -> usize {
    // SAFETY: caller contract.
    match unsafe { venv.as_ref() } {
        Some(v) => v.inner.num_envs(),
        None => 0,
    }
}

/// Reset every environment (env `i` seeded from `(seed, i)`): writes N x `KALSIM_OBS_DIM`
/// observations to `obs_out` and N x `KALSIM_ACTION_COUNT` masks to `masks_out`.
/// Errors: `KALSIM_STATUS_BUFFER` when `obs_len` or `masks_len` is short (nothing moves).
///
/// # Safety
/// `venv` is NULL or live; each buffer is NULL or holds its stated length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_vec_env_reset(
    venv: *mut kalsim_vec_env,
    seed: u64,
    obs_out: *mut f32,
    obs_len: usize,
    masks_out: *mut u8,
    masks_len: usize,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let v = unsafe { ptr::as_mut(venv, "venv") }?;
        let n = v.inner.num_envs();
        // SAFETY: caller contract.
        let obs = unsafe { ptr::slice_mut(obs_out, obs_len, n * OBS_DIM, "obs_out") }?;
        // SAFETY: caller contract.
        let masks = unsafe { ptr::slice_mut(masks_out, masks_len, n * ACTION_COUNT, "masks_out") }?;
        v.inner.reset(seed, obs, masks)?;
        Ok(())
    })
}

/// The caller's buffers of one `kalsim_vec_env_step`: pointer and length (in elements) of
/// each. N = `kalsim_vec_env_num_envs`; each length must be at least the one noted.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kalsim_vec_step_buffers {
    /// Input: one action per env (N).
    pub actions: *const u32,
    /// Length of `actions`.
    pub actions_len: usize,
    /// Output: N x `KALSIM_OBS_DIM` observations, row-major.
    pub obs_out: *mut f32,
    /// Length of `obs_out`.
    pub obs_len: usize,
    /// Output: N rewards.
    pub rewards_out: *mut f64,
    /// Length of `rewards_out`.
    pub rewards_len: usize,
    /// Output: N terminated flags (0/1).
    pub terminated_out: *mut u8,
    /// Length of `terminated_out`.
    pub terminated_len: usize,
    /// Output: N truncated flags (0/1).
    pub truncated_out: *mut u8,
    /// Length of `truncated_out`.
    pub truncated_len: usize,
    /// Output: N x `KALSIM_ACTION_COUNT` masks, row-major.
    pub masks_out: *mut u8,
    /// Length of `masks_out`.
    pub masks_len: usize,
}

/// Step every environment with `actions[i]`. An environment whose episode ended on the
/// previous step ignores its action and resets to its next market (reward 0, flags 0).
/// Actions >= 25 are rejected (`KALSIM_STATUS_INVALID_ACTION`) and short buffers
/// (`KALSIM_STATUS_BUFFER`, naming the buffer) before any env moves.
///
/// On an error other than a bad action or buffer, the batch may be partly stepped (and the
/// buffers partly written): reset it.
///
/// # Safety
/// `venv` is NULL or live; `buffers` is NULL or readable, and each of its pointers is NULL
/// or holds its stated length, the output buffers distinct.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_vec_env_step(
    venv: *mut kalsim_vec_env,
    buffers: *const kalsim_vec_step_buffers,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let v = unsafe { ptr::as_mut(venv, "venv") }?;
        // SAFETY: caller contract.
        let b = unsafe { ptr::as_ref(buffers, "buffers") }?;
        let n = v.inner.num_envs();
        // SAFETY (all six): caller contract on lengths; distinct buffers.
        let actions = unsafe { ptr::slice(b.actions, b.actions_len, n, "actions") }?;
        let obs = unsafe { ptr::slice_mut(b.obs_out, b.obs_len, n * OBS_DIM, "obs_out") }?;
        let rewards = unsafe { ptr::slice_mut(b.rewards_out, b.rewards_len, n, "rewards_out") }?;
        let term =
            unsafe { ptr::slice_mut(b.terminated_out, b.terminated_len, n, "terminated_out") }?;
        let trunc =
            unsafe { ptr::slice_mut(b.truncated_out, b.truncated_len, n, "truncated_out") }?;
        let masks =
            unsafe { ptr::slice_mut(b.masks_out, b.masks_len, n * ACTION_COUNT, "masks_out") }?;
        v.inner.step(actions, obs, rewards, term, trunc, masks)?;
        Ok(())
    })
}

/// The infos of the last reset/step into `out` (`out_len` >= N).
/// Errors: `KALSIM_STATUS_BUFFER` on a short buffer.
///
/// # Safety
/// `venv` is NULL or live; `out` is NULL or holds `out_len` elements.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_vec_env_infos(
    venv: *const kalsim_vec_env,
    out: *mut kalsim_step_info,
    out_len: usize,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let v = unsafe { ptr::as_ref(venv, "venv") }?;
        // SAFETY: caller contract.
        let out = unsafe { ptr::slice_mut(out, out_len, v.inner.num_envs(), "out") }?;
        for (o, i) in out.iter_mut().zip(v.inner.infos()) {
            *o = (*i).into();
        }
        Ok(())
    })
}

/// SPEC §9 metrics of env `index`'s current episode (right after a step that ended it:
/// the finished episode's, in either autoreset mode).
///
/// # Safety
/// `venv` is NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_vec_env_metrics(
    venv: *const kalsim_vec_env,
    index: usize,
    out: *mut kalsim_metrics,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let v = unsafe { ptr::as_ref(venv, "venv") }?;
        // SAFETY: caller contract.
        let out = unsafe { ptr::as_mut(out, "out") }?;
        let m = v.inner.episode_metrics(index).ok_or_else(|| {
            FfiError::arg(format!(
                "index {index} out of range (n = {})",
                v.inner.num_envs()
            ))
        })?;
        *out = kalsim_metrics::from(m);
        Ok(())
    })
}

/// The autoreset modes of a vector environment (passed as `uint32_t`).
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum kalsim_autoreset {
    /// Gymnasium's default: the step after an env ends ignores its action and returns the
    /// first observation of its next episode (reward 0, flags false).
    NextStep = 0,
    /// Stable-Baselines3's: the step that ends an env returns its reward, flags and final
    /// info with the first observation and mask of the next episode; the final observation
    /// is read with `kalsim_vec_env_final_observations`.
    SameStep = 1,
}

/// Choose the autoreset mode (`kalsim_autoreset`), from the next step on. Errors:
/// `KALSIM_STATUS_INVALID_ARGUMENT` for an unknown mode.
///
/// # Safety
/// `venv` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_vec_env_set_autoreset(
    venv: *mut kalsim_vec_env,
    mode: u32,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let v = unsafe { ptr::as_mut(venv, "venv") }?;
        let mode = match mode {
            m if m == kalsim_autoreset::NextStep as u32 => Autoreset::NextStep,
            m if m == kalsim_autoreset::SameStep as u32 => Autoreset::SameStep,
            m => {
                return Err(FfiError::arg(format!(
                    "autoreset mode {m} is not one of 0 (next step), 1 (same step)"
                )));
            }
        };
        v.inner.set_autoreset(mode);
        Ok(())
    })
}

/// The autoreset mode (`kalsim_autoreset`); 0 if `venv` is NULL.
///
/// # Safety
/// `venv` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_vec_env_autoreset(venv: *const kalsim_vec_env) -> u32 {
    // SAFETY: caller contract.
    match unsafe { venv.as_ref() }.map(|v| v.inner.autoreset()) {
        Some(Autoreset::SameStep) => kalsim_autoreset::SameStep as u32,
        _ => kalsim_autoreset::NextStep as u32,
    }
}

/// Same-step mode: for every env that ended on the last step (its `terminated` or
/// `truncated` is 1), write its episode's final observation to row `i` of `obs_out`
/// (N x `KALSIM_OBS_DIM`, row-major) and 1 to `ended_out[i]`; other rows are left as they
/// were and their `ended_out` is 0. In next-step mode every `ended_out` is 0 (the step
/// itself returned the final observation).
///
/// # Safety
/// `venv` is NULL or live; each buffer is NULL or holds its stated length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_vec_env_final_observations(
    venv: *const kalsim_vec_env,
    obs_out: *mut f32,
    obs_len: usize,
    ended_out: *mut u8,
    ended_len: usize,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let v = unsafe { ptr::as_ref(venv, "venv") }?;
        let n = v.inner.num_envs();
        // SAFETY: caller contract.
        let obs = unsafe { ptr::slice_mut(obs_out, obs_len, n * OBS_DIM, "obs_out") }?;
        // SAFETY: caller contract.
        let ended = unsafe { ptr::slice_mut(ended_out, ended_len, n, "ended_out") }?;
        for (i, (row, e)) in obs.chunks_exact_mut(OBS_DIM).zip(ended).enumerate() {
            match v.inner.final_observation(i) {
                Some(f) => {
                    row.copy_from_slice(f);
                    *e = 1;
                }
                None => *e = 0,
            }
        }
        Ok(())
    })
}

/// Reset with `seed`, then step `batches` times with uniformly random valid actions drawn
/// in the library: the native rate a binding's per-step overhead is measured against (the
/// Python benchmark times this and its own loop on the same vector env), and a smoke run.
/// Writes the env steps taken (`batches` x N) to `*steps_out`. The caller's buffers of
/// earlier calls are not written; reset before stepping from the host again.
///
/// # Safety
/// `venv` is NULL or live; `steps_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_vec_env_run_random(
    venv: *mut kalsim_vec_env,
    seed: u64,
    batches: u64,
    steps_out: *mut u64,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let v = unsafe { ptr::as_mut(venv, "venv") }?;
        // SAFETY: caller contract.
        let out = unsafe { ptr::as_mut(steps_out, "steps_out") }?;
        *out = v.inner.run_random(seed, batches)?;
        Ok(())
    })
}
