//! Arbitrary call sequences through the C ABI (`kalsim-ffi`): single environments, vector
//! environments and the handle-free functions (names, counts, struct layouts), with NULL
//! handles, NULL out-pointers, any integer action and buffer lengths short, exact or long.
//! Every call returns a documented status for that function (never `KALSIM_STATUS_PANIC`);
//! a short buffer gives `KALSIM_STATUS_BUFFER`; nothing is written on failure, nothing past
//! the required length on success; ASan (cargo fuzz's default) sees no invalid memory access.
//! Handles are never used after `_free` (that is undefined behaviour by contract, not an
//! input to test), and a length never exceeds the buffer it describes (likewise).
#![no_main]

use std::ffi::{CStr, CString, c_char};
use std::ptr;

use kalsim::{
    KALSIM_ACTION_COUNT, KALSIM_INTENT_COUNT, KALSIM_OBS_DIM, KALSIM_TIER_COUNT,
    kalsim_action_count, kalsim_env, kalsim_env_action_mask, kalsim_env_free, kalsim_env_info,
    kalsim_env_market_count, kalsim_env_metrics, kalsim_env_new, kalsim_env_obs_len,
    kalsim_env_reset, kalsim_env_reset_next, kalsim_env_size_table, kalsim_env_step, kalsim_field,
    kalsim_intent_name, kalsim_invalid_action_name, kalsim_last_error, kalsim_size_table,
    kalsim_status, kalsim_status_str, kalsim_step, kalsim_step_info, kalsim_struct_count,
    kalsim_struct_field, kalsim_struct_layout, kalsim_struct_name, kalsim_tier_name,
    kalsim_vec_env, kalsim_vec_env_free, kalsim_vec_env_infos, kalsim_vec_env_metrics,
    kalsim_vec_env_new, kalsim_vec_env_num_envs, kalsim_vec_env_reset, kalsim_vec_env_step,
    kalsim_vec_step_buffers,
};
use kalsim_fuzz::{Bytes, bounded_config_json, check_obs};
use libfuzzer_sys::fuzz_target;

const CONFIGS: &[&CStr] = &[
    c"{\"data\":{\"synthetic_markets\":2,\"synthetic_events\":30}}",
    c"{\"invalid_action\":\"error\",\"data\":{\"synthetic_markets\":1,\"synthetic_events\":20}}",
    c"{\"max_steps\":3,\"pricing\":\"passive\",\"data\":{\"synthetic_markets\":2,\"synthetic_events\":20}}",
    c"{\"sizes\":[5,5,20,50,100]}",
    c"{",
    c"{\"data\":{\"files\":[\"/nonexistent/kalsim-fuzz.jsonl\"]}}",
];

/// Largest vector env the target builds.
const MAX_N: usize = 3;
/// Spare elements past the largest required length of every buffer.
const SPARE: usize = 4;
const OBS_CAP: usize = MAX_N * KALSIM_OBS_DIM + SPARE;
const MASK_CAP: usize = MAX_N * KALSIM_ACTION_COUNT + SPARE;
const ROW_CAP: usize = MAX_N + SPARE;
const F32_SENTINEL: f32 = -12345.5;
const U8_SENTINEL: u8 = 0xa5;

use kalsim_status as S;

fn check_status(s: kalsim_status, allowed: &[kalsim_status], call: &str) {
    assert_ne!(s, S::Panic, "{call} panicked: {}", last_error());
    assert!(
        allowed.contains(&s),
        "{call} returned undocumented {s:?}: {}",
        last_error()
    );
    // SAFETY: a static NUL-terminated string for any integer.
    let msg = unsafe { CStr::from_ptr(kalsim_status_str(s as u32)) };
    assert!(!msg.to_bytes().is_empty());
    if s == S::Buffer {
        let e = last_error();
        assert!(
            e.contains("required") && e.contains("given") && e.contains('`'),
            "{call}: a buffer error must name the buffer and both lengths: {e}"
        );
    }
}

fn last_error() -> String {
    // SAFETY: a NUL-terminated string owned by this thread, valid until the next call.
    unsafe { CStr::from_ptr(kalsim_last_error()) }
        .to_string_lossy()
        .into_owned()
}

/// A length for a buffer of `capacity` elements when the call needs `required`: mostly
/// exact, sometimes short, sometimes long (never past `capacity`).
fn length(b: &mut Bytes<'_>, required: usize, capacity: usize) -> usize {
    match b.u8() % 8 {
        0 => b.range(0, required.saturating_sub(1) as u64) as usize,
        1 => b.range(required as u64, capacity as u64) as usize,
        _ => required,
    }
}

/// A configuration: mostly the fixed list, sometimes at the edges of the config bounds.
/// Returns it with the status `env_new` must give when `Some` is known.
fn config(b: &mut Bytes<'_>, owned: &mut CString) -> (*const c_char, Option<kalsim_status>) {
    match (b.u8() % 64, b.u8()) {
        // NULL and "" mean every default: 16 × 2 000 synthetic events per call, so they are
        // drawn rarely to keep the execution rate up.
        (0, 0xa5) => (ptr::null(), Some(S::Ok)),
        (1, 0xa5) => (c"".as_ptr(), Some(S::Ok)),
        (k, _) if k < 12 => {
            let (json, inside) = bounded_config_json(b);
            *owned = CString::new(json).expect("no NUL in generated JSON");
            let want = if inside { S::Ok } else { S::Config };
            (owned.as_ptr(), Some(want))
        }
        (k, _) => (CONFIGS[k as usize % CONFIGS.len()].as_ptr(), None),
    }
}

/// The outcome of a call that writes `required` elements into `buf` (a sentinel-filled
/// buffer): on failure nothing changed, on success nothing past `required` changed.
fn check_written<T: PartialEq + Copy + std::fmt::Debug>(
    buf: &[T],
    sentinel: T,
    ok: bool,
    required: usize,
    call: &str,
) {
    let untouched = if ok {
        &buf[required.min(buf.len())..]
    } else {
        buf
    };
    assert!(
        untouched.iter().all(|&x| x == sentinel),
        "{call} wrote where it must not (ok = {ok})"
    );
}

/// A vector env slot: the handle (NULL when empty) and its number of envs.
struct VecSlot {
    handle: *mut kalsim_vec_env,
    n: usize,
}

/// `p`, or NULL when `null`.
fn maybe_null<T>(null: bool, p: *mut T) -> *mut T {
    if null { ptr::null_mut() } else { p }
}

fn handle_free_calls(b: &mut Bytes<'_>) {
    let code = b.u32();
    // SAFETY: any integer gives a static NUL-terminated string.
    let name = unsafe { CStr::from_ptr(kalsim_invalid_action_name(code)) };
    assert!(!name.to_bytes().is_empty());
    let i = b.u32() % 8;
    // Any integer: NULL past the end, else a static string.
    let (intent, tier) = (kalsim_intent_name(i), kalsim_tier_name(i));
    assert_eq!(intent.is_null(), i as usize >= KALSIM_INTENT_COUNT);
    assert_eq!(tier.is_null(), i as usize >= KALSIM_TIER_COUNT);
    assert_eq!(kalsim_action_count(), KALSIM_ACTION_COUNT);
    let id = b.u32() % (kalsim_struct_count() + 2);
    let (mut size, mut count) = (0usize, 0usize);
    let null = b.u8() % 8 == 0;
    // SAFETY: out-pointers NULL or writable.
    let s = unsafe { kalsim_struct_layout(id, maybe_null(null, &mut size), &mut count) };
    check_status(
        s,
        &[S::Ok, S::NullPointer, S::InvalidArgument],
        "struct_layout",
    );
    assert_eq!(s == S::Ok, id < kalsim_struct_count() && !null);
    // SAFETY: as above.
    let s = unsafe { kalsim_struct_layout(id, &mut size, &mut count) };
    check_status(s, &[S::Ok, S::InvalidArgument], "struct_layout");
    assert_eq!(
        kalsim_struct_name(id).is_null(),
        id >= kalsim_struct_count()
    );
    // SAFETY: plain repr(C) data; all-zero is valid.
    let mut field: kalsim_field = unsafe { std::mem::zeroed() };
    let index = b.u8() as usize % 24;
    // SAFETY: out-pointer writable.
    let s = unsafe { kalsim_struct_field(id, index, &mut field) };
    check_status(s, &[S::Ok, S::InvalidArgument], "struct_field");
    if s == S::Ok {
        assert!(
            index < count && field.offset < size,
            "{field:?} of {size} bytes"
        );
        // SAFETY: a static NUL-terminated name.
        assert!(!unsafe { CStr::from_ptr(field.name) }.to_bytes().is_empty());
    }
    let mut sizes = [0u32; KALSIM_TIER_COUNT + SPARE];
    sizes.fill(u32::MAX);
    let len = length(b, KALSIM_TIER_COUNT, sizes.len());
    // SAFETY: `sizes` holds at least `len` elements.
    let s = unsafe { kalsim_size_table(sizes.as_mut_ptr(), len) };
    check_status(s, &[S::Ok, S::Buffer], "size_table");
    assert_eq!(s == S::Buffer, len < KALSIM_TIER_COUNT);
    check_written(
        &sizes,
        u32::MAX,
        s == S::Ok,
        KALSIM_TIER_COUNT,
        "size_table",
    );
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes::new(data);
    let mut envs: [*mut kalsim_env; 2] = [ptr::null_mut(); 2];
    let mut vecs: [VecSlot; 2] = [
        VecSlot {
            handle: ptr::null_mut(),
            n: 0,
        },
        VecSlot {
            handle: ptr::null_mut(),
            n: 0,
        },
    ];
    let mut obs = [0f32; OBS_CAP];
    let mut mask = [0u8; MASK_CAP];
    let mut rewards = [0f64; ROW_CAP];
    let mut term = [0u8; ROW_CAP];
    let mut trunc = [0u8; ROW_CAP];
    let mut actions = [0u32; ROW_CAP];
    // SAFETY: plain repr(C) data; all-zero is a valid value.
    let mut infos: [kalsim_step_info; ROW_CAP] = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut step: kalsim_step = unsafe { std::mem::zeroed() };
    let mut owned = CString::default();
    let mut ops = 0;
    while !b.is_empty() && ops < 200 {
        ops += 1;
        let slot = (b.u8() & 1) as usize;
        // A NULL handle one time in eight, whatever the slot holds.
        let null_handle = b.u8() % 8 == 0;
        let env = if null_handle {
            ptr::null_mut()
        } else {
            envs[slot]
        };
        let null_out = b.u8() % 8 == 0;
        obs.fill(F32_SENTINEL);
        mask.fill(U8_SENTINEL);
        let obs_ptr = if null_out {
            ptr::null_mut()
        } else {
            obs.as_mut_ptr()
        };
        match b.u8() % 16 {
            0 => {
                if !envs[slot].is_null() {
                    continue;
                }
                let (cfg, want) = config(&mut b, &mut owned);
                let out = if null_out {
                    ptr::null_mut()
                } else {
                    &mut envs[slot] as *mut _
                };
                // SAFETY: cfg is NULL or NUL-terminated; out is NULL or writable.
                let s = unsafe { kalsim_env_new(cfg, out) };
                check_status(s, &[S::Ok, S::NullPointer, S::Config, S::Data], "env_new");
                if let (Some(want), false) = (want, null_out) {
                    assert_eq!(s, want, "env_new: {}", last_error());
                }
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
            2 | 3 => {
                let len = length(&mut b, KALSIM_OBS_DIM, KALSIM_OBS_DIM + SPARE);
                let seeded = b.u8() & 1 == 0;
                // SAFETY: NULL or live handle; obs NULL or holding at least `len` floats.
                let s = unsafe {
                    if seeded {
                        kalsim_env_reset(env, b.u64(), obs_ptr, len)
                    } else {
                        kalsim_env_reset_next(env, obs_ptr, len)
                    }
                };
                check_status(s, &[S::Ok, S::NullPointer, S::Buffer], "env_reset");
                if !env.is_null() && !null_out {
                    assert_eq!(s == S::Buffer, len < KALSIM_OBS_DIM);
                }
                check_written(&obs, F32_SENTINEL, s == S::Ok, KALSIM_OBS_DIM, "env_reset");
                if s == S::Ok {
                    check_obs(&obs[..KALSIM_OBS_DIM], "reset");
                }
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
                let len = length(&mut b, KALSIM_OBS_DIM, KALSIM_OBS_DIM + SPARE);
                // SAFETY: NULL or live handle; out NULL or writable; obs NULL or `len` floats.
                let s = unsafe { kalsim_env_step(env, action, out, obs_ptr, len) };
                check_status(
                    s,
                    &[
                        S::Ok,
                        S::NullPointer,
                        S::Buffer,
                        S::InvalidAction,
                        S::ReservedAction,
                        S::MaskedAction,
                        S::NotReset,
                        S::EpisodeOver,
                    ],
                    "env_step",
                );
                let args_ok = !env.is_null() && !out.is_null() && !null_out;
                if args_ok && len < KALSIM_OBS_DIM {
                    assert_eq!(s, S::Buffer);
                }
                if action >= KALSIM_ACTION_COUNT as u32 && args_ok && len >= KALSIM_OBS_DIM {
                    assert!(
                        matches!(s, S::InvalidAction | S::NotReset | S::EpisodeOver),
                        "{s:?}"
                    );
                }
                check_written(&obs, F32_SENTINEL, s == S::Ok, KALSIM_OBS_DIM, "env_step");
                if s == S::Ok {
                    check_obs(&obs[..KALSIM_OBS_DIM], "step");
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
                let len = length(&mut b, KALSIM_ACTION_COUNT, KALSIM_ACTION_COUNT + SPARE);
                // SAFETY: NULL or live handle; m NULL or holding at least `len` bytes.
                let s = unsafe { kalsim_env_action_mask(env, m, len) };
                check_status(s, &[S::Ok, S::NullPointer, S::Buffer], "env_action_mask");
                check_written(&mask, U8_SENTINEL, s == S::Ok, KALSIM_ACTION_COUNT, "mask");
                if s == S::Ok {
                    assert_eq!(mask[0], 1);
                    assert!(mask[21..KALSIM_ACTION_COUNT].iter().all(|&x| x == 0));
                }
                let mut sizes = [u32::MAX; KALSIM_TIER_COUNT + SPARE];
                let len = length(&mut b, KALSIM_TIER_COUNT, sizes.len());
                // SAFETY: NULL or live handle; `sizes` holds at least `len` elements.
                let s = unsafe { kalsim_env_size_table(env, sizes.as_mut_ptr(), len) };
                check_status(s, &[S::Ok, S::NullPointer, S::Buffer], "env_size_table");
                check_written(&sizes, u32::MAX, s == S::Ok, KALSIM_TIER_COUNT, "sizes");
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
            9 => {
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
                handle_free_calls(&mut b);
            }
            // ---- vector environments ----
            10 => {
                if !vecs[slot].handle.is_null() {
                    continue;
                }
                let n = match b.u8() % 16 {
                    0 => 0,
                    k => 1 + k as usize % MAX_N,
                };
                let threads = b.u8() as usize % 3;
                let (cfg, want) = config(&mut b, &mut owned);
                let out = if null_out {
                    ptr::null_mut()
                } else {
                    &mut vecs[slot].handle as *mut _
                };
                // SAFETY: cfg NULL or NUL-terminated; out NULL or writable.
                let s = unsafe { kalsim_vec_env_new(cfg, n, threads, out) };
                check_status(
                    s,
                    &[
                        S::Ok,
                        S::NullPointer,
                        S::InvalidArgument,
                        S::Config,
                        S::Data,
                    ],
                    "vec_env_new",
                );
                if !null_out {
                    if n == 0 {
                        assert_eq!(s, S::InvalidArgument);
                    } else if let Some(want) = want {
                        assert_eq!(s, want, "vec_env_new: {}", last_error());
                    }
                }
                if s == S::Ok {
                    vecs[slot].n = n;
                    // SAFETY: a live handle.
                    assert_eq!(unsafe { kalsim_vec_env_num_envs(vecs[slot].handle) }, n);
                } else if !null_out {
                    assert!(vecs[slot].handle.is_null(), "vec_env_new wrote on failure");
                }
            }
            11 => {
                let v = if null_handle {
                    ptr::null_mut()
                } else {
                    vecs[slot].handle
                };
                // SAFETY: NULL or a live handle, then forgotten.
                unsafe { kalsim_vec_env_free(v) };
                if v == vecs[slot].handle {
                    vecs[slot] = VecSlot {
                        handle: ptr::null_mut(),
                        n: 0,
                    };
                }
            }
            12 => {
                let (v, n) = if null_handle {
                    (ptr::null_mut(), 0)
                } else {
                    (vecs[slot].handle, vecs[slot].n)
                };
                let obs_len = length(&mut b, n * KALSIM_OBS_DIM, OBS_CAP);
                let mask_len = length(&mut b, n * KALSIM_ACTION_COUNT, MASK_CAP);
                let masks = if b.u8() % 16 == 0 {
                    ptr::null_mut()
                } else {
                    mask.as_mut_ptr()
                };
                // SAFETY: NULL or live; each buffer NULL or holding at least its length.
                let s =
                    unsafe { kalsim_vec_env_reset(v, b.u64(), obs_ptr, obs_len, masks, mask_len) };
                check_status(s, &[S::Ok, S::NullPointer, S::Buffer], "vec_env_reset");
                if !v.is_null() && !obs_ptr.is_null() && !masks.is_null() {
                    let short = obs_len < n * KALSIM_OBS_DIM || mask_len < n * KALSIM_ACTION_COUNT;
                    assert_eq!(s == S::Buffer, short, "{}", last_error());
                }
                check_written(
                    &obs,
                    F32_SENTINEL,
                    s == S::Ok,
                    n * KALSIM_OBS_DIM,
                    "vec obs",
                );
                check_written(
                    &mask,
                    U8_SENTINEL,
                    s == S::Ok,
                    n * KALSIM_ACTION_COUNT,
                    "vec mask",
                );
                if s == S::Ok {
                    for row in obs[..n * KALSIM_OBS_DIM].chunks_exact(KALSIM_OBS_DIM) {
                        check_obs(row, "vec reset");
                    }
                }
            }
            13 | 14 => {
                let (v, n) = if null_handle {
                    (ptr::null_mut(), 0)
                } else {
                    (vecs[slot].handle, vecs[slot].n)
                };
                for a in &mut actions {
                    *a = match b.u8() % 16 {
                        0 => b.u32(),
                        k => u32::from(k % 8),
                    };
                }
                rewards.fill(f64::MAX);
                term.fill(U8_SENTINEL);
                trunc.fill(U8_SENTINEL);
                // One pointer NULL one time in eight.
                let null_one = if b.u8() % 8 == 0 { b.u8() % 6 } else { 6 };
                let buffers = kalsim_vec_step_buffers {
                    actions: maybe_null(null_one == 0, actions.as_mut_ptr()),
                    actions_len: length(&mut b, n, ROW_CAP),
                    obs_out: maybe_null(null_one == 1, obs.as_mut_ptr()),
                    obs_len: length(&mut b, n * KALSIM_OBS_DIM, OBS_CAP),
                    rewards_out: maybe_null(null_one == 2, rewards.as_mut_ptr()),
                    rewards_len: length(&mut b, n, ROW_CAP),
                    terminated_out: maybe_null(null_one == 3, term.as_mut_ptr()),
                    terminated_len: length(&mut b, n, ROW_CAP),
                    truncated_out: maybe_null(null_one == 4, trunc.as_mut_ptr()),
                    truncated_len: length(&mut b, n, ROW_CAP),
                    masks_out: maybe_null(null_one == 5, mask.as_mut_ptr()),
                    masks_len: length(&mut b, n * KALSIM_ACTION_COUNT, MASK_CAP),
                };
                let null_buffers = b.u8() % 32 == 0;
                let bp = if null_buffers {
                    ptr::null()
                } else {
                    &buffers as *const _
                };
                // SAFETY: NULL or live handle; `bp` NULL or readable, each pointer in it NULL
                // or holding at least its length; distinct buffers.
                let s = unsafe { kalsim_vec_env_step(v, bp) };
                check_status(
                    s,
                    &[
                        S::Ok,
                        S::NullPointer,
                        S::Buffer,
                        S::InvalidAction,
                        S::ReservedAction,
                        S::MaskedAction,
                        S::NotReset,
                        S::EpisodeOver,
                    ],
                    "vec_env_step",
                );
                let short = buffers.actions_len < n
                    || buffers.obs_len < n * KALSIM_OBS_DIM
                    || buffers.rewards_len < n
                    || buffers.terminated_len < n
                    || buffers.truncated_len < n
                    || buffers.masks_len < n * KALSIM_ACTION_COUNT;
                if !v.is_null() && !null_buffers && null_one == 6 {
                    assert_eq!(s == S::Buffer, short, "{}", last_error());
                }
                // Bad pointers, lengths and actions are refused before any env moves.
                if matches!(s, S::NullPointer | S::Buffer | S::InvalidAction) || s == S::Ok {
                    let ok = s == S::Ok;
                    check_written(&obs, F32_SENTINEL, ok, n * KALSIM_OBS_DIM, "vec step obs");
                    check_written(&mask, U8_SENTINEL, ok, n * KALSIM_ACTION_COUNT, "vec masks");
                    check_written(&rewards, f64::MAX, ok, n, "vec rewards");
                    check_written(&term, U8_SENTINEL, ok, n, "vec terminated");
                    check_written(&trunc, U8_SENTINEL, ok, n, "vec truncated");
                }
                if s == S::Ok {
                    assert!(rewards[..n].iter().all(|r| r.is_finite()));
                    assert!(term[..n].iter().chain(&trunc[..n]).all(|&f| f <= 1));
                    for row in obs[..n * KALSIM_OBS_DIM].chunks_exact(KALSIM_OBS_DIM) {
                        check_obs(row, "vec step");
                    }
                }
            }
            _ => {
                let (v, n) = if null_handle {
                    (ptr::null_mut(), 0)
                } else {
                    (vecs[slot].handle, vecs[slot].n)
                };
                let len = length(&mut b, n, ROW_CAP);
                let out = if null_out {
                    ptr::null_mut()
                } else {
                    infos.as_mut_ptr()
                };
                // SAFETY: NULL or live; out NULL or holding at least `len` infos.
                let s = unsafe { kalsim_vec_env_infos(v, out, len) };
                check_status(s, &[S::Ok, S::NullPointer, S::Buffer], "vec_env_infos");
                if !v.is_null() && !null_out {
                    assert_eq!(s == S::Buffer, len < n);
                }
                if s == S::Ok {
                    assert!(infos[..n].iter().all(|i| i.cash_cents >= 0));
                }
                // SAFETY: plain repr(C) data; all-zero is valid.
                let mut metrics = unsafe { std::mem::zeroed() };
                let index = b.u8() as usize % (MAX_N + 2);
                // SAFETY: NULL or live; out writable.
                let s = unsafe { kalsim_vec_env_metrics(v, index, &mut metrics) };
                check_status(
                    s,
                    &[S::Ok, S::NullPointer, S::InvalidArgument],
                    "vec_env_metrics",
                );
                if !v.is_null() {
                    assert_eq!(s == S::Ok, index < n);
                }
            }
        }
    }
    for e in envs {
        // SAFETY: NULL or a live handle, freed once.
        unsafe { kalsim_env_free(e) };
    }
    for v in vecs {
        // SAFETY: NULL or a live handle, freed once.
        unsafe { kalsim_vec_env_free(v.handle) };
    }
});
