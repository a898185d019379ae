//! Configurations as data: `kalsim_config_*`.

use std::ffi::c_char;

use kalsim_host_sim::env::{EnvConfig, held_out};

use crate::ptr;
use crate::status::{FfiError, boundary, kalsim_status};

/// The held-out evaluation configuration of `config_json` (NULL or "" = defaults), as
/// `kalsim experiment` selects it: the same generator and preset with the synthetic seed
/// moved by `KALSIM_EVAL_SEED_OFFSET`, so no evaluation market was seen in training. Written
/// to `out` as NUL-terminated JSON (every key, defaults filled in) when `out_len` bytes hold
/// it.
///
/// `*required_out` gets the bytes needed including the NUL, on success and on
/// `KALSIM_STATUS_BUFFER` (call with `out_len` 0 to size the buffer). Errors:
/// `KALSIM_STATUS_CONFIG`, `KALSIM_STATUS_BUFFER`, `KALSIM_STATUS_NULL_POINTER` (`out` may be
/// NULL only when `out_len` is 0).
///
/// # Safety
/// `config_json` is NULL or NUL-terminated; `out` is NULL or holds `out_len` bytes;
/// `required_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_config_held_out(
    config_json: *const c_char,
    out: *mut c_char,
    out_len: usize,
    required_out: *mut usize,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let required_out = unsafe { ptr::as_mut(required_out, "required_out") }?;
        // SAFETY: caller contract.
        let text = unsafe { ptr::str_or_empty(config_json, "config_json") }?;
        let config = EnvConfig::from_json(text)?;
        let json = held_out::held_out_synthetic(&config).to_json();
        let required = json.len() + 1;
        *required_out = required;
        if out_len < required {
            return Err(FfiError::new(
                kalsim_status::Buffer,
                format!("buffer `out` is too short: {required} bytes required, {out_len} given"),
            ));
        }
        // SAFETY: caller contract; `out_len >= required` checked.
        let out = unsafe { ptr::slice_mut(out.cast::<u8>(), out_len, required, "out") }?;
        out[..json.len()].copy_from_slice(json.as_bytes());
        out[json.len()] = 0;
        Ok(())
    })
}
