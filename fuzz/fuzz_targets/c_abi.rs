//! Arbitrary call sequences through the C ABI (`kalsim-ffi`), NULL handles and NULL
//! out-pointers included, any integer action: every call returns a documented status for
//! that function (never `KALSIM_STATUS_PANIC`), writes nothing on failure, and ASan (cargo
//! fuzz's default) sees no invalid memory access. Handles are never used after `_free`
//! (that is undefined behaviour by contract, not an input to test).
#![no_main]

use std::ffi::{CStr, c_char};
use std::ptr;

use kalsim::{
    KALSIM_ACTION_COUNT, KALSIM_OBS_DIM, kalsim_env, kalsim_env_action_mask, kalsim_env_free,
    kalsim_env_info, kalsim_env_market_count, kalsim_env_metrics, kalsim_env_new,
    kalsim_env_obs_len, kalsim_env_reset, kalsim_env_reset_next, kalsim_env_step,
    kalsim_last_error, kalsim_status, kalsim_status_str, kalsim_step,
};
use kalsim_fuzz::{Bytes, check_obs};
use libfuzzer_sys::fuzz_target;

const CONFIGS: &[&CStr] = &[
    c"{\"data\":{\"synthetic_markets\":2,\"synthetic_events\":30}}",
    c"{\"invalid_action\":\"error\",\"data\":{\"synthetic_markets\":1,\"synthetic_events\":20}}",
    c"{\"max_steps\":3,\"pricing\":\"passive\",\"data\":{\"synthetic_markets\":2,\"synthetic_events\":20}}",
    c"{\"sizes\":[5,5,20,50,100]}",
    c"{",
    c"{\"data\":{\"files\":[\"/nonexistent/kalsim-fuzz.jsonl\"]}}",
];

fn check_status(s: kalsim_status, allowed: &[kalsim_status], call: &str) {
    assert_ne!(s, kalsim_status::Panic, "{call} panicked: {}", last_error());
    assert!(
        allowed.contains(&s),
        "{call} returned undocumented {s:?}: {}",
        last_error()
    );
    // SAFETY: a static NUL-terminated string for any integer.
    let msg = unsafe { CStr::from_ptr(kalsim_status_str(s as u32)) };
    assert!(!msg.to_bytes().is_empty());
}

fn last_error() -> String {
    // SAFETY: a NUL-terminated string owned by this thread, valid until the next call.
    unsafe { CStr::from_ptr(kalsim_last_error()) }
        .to_string_lossy()
        .into_owned()
}

fuzz_target!(|data: &[u8]| {
    use kalsim_status as S;
    let mut b = Bytes::new(data);
    let mut envs: [*mut kalsim_env; 2] = [ptr::null_mut(); 2];
    let mut obs = [0f32; KALSIM_OBS_DIM];
    let mut mask = [0u8; KALSIM_ACTION_COUNT];
    // SAFETY: plain repr(C) data; all-zero is a valid value.
    let mut step: kalsim_step = unsafe { std::mem::zeroed() };
    let mut ops = 0;
    while !b.is_empty() && ops < 200 {
        ops += 1;
        let slot = (b.u8() & 1) as usize;
        // A NULL handle one time in eight, whatever the slot holds.
        let env = if b.u8() % 8 == 0 {
            ptr::null_mut()
        } else {
            envs[slot]
        };
        let null_out = b.u8() % 8 == 0;
        let obs_ptr = if null_out {
            ptr::null_mut()
        } else {
            obs.as_mut_ptr()
        };
        match b.u8() % 10 {
            0 => {
                if !envs[slot].is_null() {
                    continue;
                }
                // NULL and "" mean every default: 16 × 2 000 synthetic events per call, so
                // they are drawn rarely to keep the execution rate up.
                let cfg: *const c_char = match (b.u8() % 64, b.u8()) {
                    (0, 0xa5) => ptr::null(),
                    (1, 0xa5) => c"".as_ptr(),
                    (k, _) => CONFIGS[k as usize % CONFIGS.len()].as_ptr(),
                };
                let out = if null_out {
                    ptr::null_mut()
                } else {
                    &mut envs[slot] as *mut _
                };
                // SAFETY: cfg is NULL or NUL-terminated; out is NULL or writable.
                let s = unsafe { kalsim_env_new(cfg, out) };
                check_status(s, &[S::Ok, S::NullPointer, S::Config, S::Data], "env_new");
                if s != S::Ok && !null_out {
                    assert!(envs[slot].is_null(), "env_new wrote a handle on failure");
                }
            }
            1 => {
                // SAFETY: NULL or a live handle, then forgotten.
                unsafe { kalsim_env_free(env) };
                if env == envs[slot] {
                    envs[slot] = ptr::null_mut();
                }
            }
            2 => {
                // SAFETY: NULL or live handle; obs NULL or KALSIM_OBS_DIM floats.
                let s = unsafe { kalsim_env_reset(env, b.u64(), obs_ptr) };
                check_status(s, &[S::Ok, S::NullPointer], "env_reset");
                if s == S::Ok {
                    check_obs(&obs, "reset");
                }
            }
            3 => {
                // SAFETY: as above.
                let s = unsafe { kalsim_env_reset_next(env, obs_ptr) };
                check_status(s, &[S::Ok, S::NullPointer], "env_reset_next");
            }
            4..=6 => {
                let action = match b.u8() % 4 {
                    0 => b.u32(),
                    _ => u32::from(b.u8() % 26),
                };
                let out = if b.u8() % 16 == 0 {
                    ptr::null_mut()
                } else {
                    &mut step as *mut _
                };
                // SAFETY: NULL or live handle; out NULL or writable; obs NULL or sized.
                let s = unsafe { kalsim_env_step(env, action, out, obs_ptr) };
                check_status(
                    s,
                    &[
                        S::Ok,
                        S::NullPointer,
                        S::InvalidAction,
                        S::ReservedAction,
                        S::MaskedAction,
                        S::NotReset,
                        S::EpisodeOver,
                    ],
                    "env_step",
                );
                if action >= KALSIM_ACTION_COUNT as u32
                    && !env.is_null()
                    && !out.is_null()
                    && !null_out
                {
                    assert!(
                        matches!(s, S::InvalidAction | S::NotReset | S::EpisodeOver),
                        "{s:?}"
                    );
                }
                if s == S::Ok {
                    check_obs(&obs, "step");
                    assert!(step.reward.is_finite());
                    assert!(step.info.cash_cents >= 0);
                }
            }
            7 => {
                let m = if null_out {
                    ptr::null_mut()
                } else {
                    mask.as_mut_ptr()
                };
                // SAFETY: NULL or live handle; m NULL or 25 bytes.
                let s = unsafe { kalsim_env_action_mask(env, m) };
                check_status(s, &[S::Ok, S::NullPointer], "env_action_mask");
                if s == S::Ok {
                    assert_eq!(mask[0], 1);
                    assert!(mask[21..].iter().all(|&x| x == 0));
                }
            }
            8 => {
                let out = if null_out {
                    ptr::null_mut()
                } else {
                    &mut step.info as *mut _
                };
                // SAFETY: NULL or live handle; out NULL or writable.
                let s = unsafe { kalsim_env_info(env, out) };
                check_status(s, &[S::Ok, S::NullPointer], "env_info");
                // SAFETY: plain repr(C) data; all-zero is valid.
                let mut metrics = unsafe { std::mem::zeroed() };
                let out = if null_out {
                    ptr::null_mut()
                } else {
                    &mut metrics as *mut _
                };
                // SAFETY: as above.
                let s = unsafe { kalsim_env_metrics(env, out) };
                check_status(s, &[S::Ok, S::NullPointer], "env_metrics");
            }
            _ => {
                // SAFETY: NULL or a live handle.
                let (n, m) = unsafe { (kalsim_env_obs_len(env), kalsim_env_market_count(env)) };
                if env.is_null() {
                    assert_eq!((n, m), (0, 0));
                } else {
                    assert_eq!(n, KALSIM_OBS_DIM);
                    assert!(m > 0);
                }
                // SAFETY: any integer.
                let _ = unsafe { CStr::from_ptr(kalsim_status_str(b.u32())) };
            }
        }
    }
    for e in envs {
        // SAFETY: NULL or a live handle, freed once.
        unsafe { kalsim_env_free(e) };
    }
});
