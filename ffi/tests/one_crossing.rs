//! The one-crossing entry points: `kalsim_env_step_into` / `kalsim_env_reset_into` equal the
//! separate calls, the vector env's same-step autoreset through the ABI, and the held-out
//! configuration.

use std::ffi::{CStr, CString};
use std::ptr;

use kalsim::*;

const CONFIG: &str = r#"{"data": {"synthetic_markets": 2, "synthetic_events": 60}}"#;

fn last_error() -> String {
    unsafe { CStr::from_ptr(kalsim_last_error()) }
        .to_string_lossy()
        .into_owned()
}

#[test]
fn step_into_equals_step_then_mask() {
    let config = CString::new(CONFIG).unwrap();
    unsafe {
        let (mut a, mut b) = (ptr::null_mut(), ptr::null_mut());
        assert_eq!(kalsim_env_new(config.as_ptr(), &mut a), kalsim_status::Ok);
        assert_eq!(kalsim_env_new(config.as_ptr(), &mut b), kalsim_status::Ok);
        let (mut obs_a, mut obs_b) = ([0f32; KALSIM_OBS_DIM], [0f32; KALSIM_OBS_DIM]);
        let (mut mask_a, mut mask_b) = ([0u8; KALSIM_ACTION_COUNT], [0u8; KALSIM_ACTION_COUNT]);
        let mut step_b = kalsim_step::default();
        let buffers = kalsim_env_step_buffers {
            obs_out: obs_b.as_mut_ptr(),
            obs_len: obs_b.len(),
            mask_out: mask_b.as_mut_ptr(),
            mask_len: mask_b.len(),
            step_out: &mut step_b,
        };
        assert_eq!(
            kalsim_env_reset(a, 4, obs_a.as_mut_ptr(), obs_a.len()),
            kalsim_status::Ok
        );
        assert_eq!(
            kalsim_env_reset_into(b, 4, true, &buffers),
            kalsim_status::Ok
        );
        assert_eq!(obs_a, obs_b);
        let mut info = kalsim_step_info::default();
        assert_eq!(kalsim_env_info(a, &mut info), kalsim_status::Ok);
        assert_eq!(step_b.info, info);
        let mut episodes = 0;
        for t in 0..400u32 {
            assert_eq!(
                kalsim_env_action_mask(a, mask_a.as_mut_ptr(), mask_a.len()),
                kalsim_status::Ok
            );
            if t > 0 {
                assert_eq!(mask_a, mask_b, "step {t}");
            }
            // A valid action that moves: the first allowed non-HOLD one, every third step.
            let action = if t % 3 == 0 {
                (1..21).find(|&i| mask_a[i] == 1).unwrap_or(0) as u32
            } else {
                0
            };
            let mut step_a = kalsim_step::default();
            let s = kalsim_env_step(a, action, &mut step_a, obs_a.as_mut_ptr(), obs_a.len());
            assert_eq!(s, kalsim_status::Ok, "{}", last_error());
            assert_eq!(kalsim_env_step_into(b, action, &buffers), kalsim_status::Ok);
            assert_eq!((step_a, obs_a), (step_b, obs_b), "step {t}");
            if step_a.terminated || step_a.truncated {
                episodes += 1;
                // Stepping after the end: an error, and nothing written.
                let before = (step_b, obs_b, mask_b);
                assert_eq!(
                    kalsim_env_step_into(b, 0, &buffers),
                    kalsim_status::EpisodeOver
                );
                assert_eq!(before, (step_b, obs_b, mask_b));
                assert_eq!(
                    kalsim_env_reset_next(a, obs_a.as_mut_ptr(), obs_a.len()),
                    kalsim_status::Ok
                );
                assert_eq!(
                    kalsim_env_reset_into(b, 0, false, &buffers),
                    kalsim_status::Ok
                );
                assert_eq!(obs_a, obs_b);
            }
        }
        assert!(episodes >= 2, "{episodes} episodes");
        // A short buffer is named, and the env does not move.
        let short = kalsim_env_step_buffers {
            mask_len: 3,
            ..buffers
        };
        assert_eq!(kalsim_env_step_into(b, 0, &short), kalsim_status::Buffer);
        assert!(last_error().contains("mask_out"), "{}", last_error());
        let no_step = kalsim_env_step_buffers {
            step_out: ptr::null_mut(),
            ..buffers
        };
        assert_eq!(
            kalsim_env_step_into(b, 0, &no_step),
            kalsim_status::NullPointer
        );
        assert_eq!(
            kalsim_env_step_into(b, 0, ptr::null()),
            kalsim_status::NullPointer
        );
        kalsim_env_free(a);
        kalsim_env_free(b);
    }
}

#[test]
fn vec_env_same_step_autoreset_gives_final_observations() {
    let config = CString::new(CONFIG).unwrap();
    let n = 2;
    unsafe {
        let mut v = ptr::null_mut();
        assert_eq!(
            kalsim_vec_env_new(config.as_ptr(), n, 1, &mut v),
            kalsim_status::Ok
        );
        assert_eq!(
            kalsim_vec_env_autoreset(v),
            kalsim_autoreset::NextStep as u32
        );
        assert_eq!(
            kalsim_vec_env_set_autoreset(v, 7),
            kalsim_status::InvalidArgument
        );
        assert!(
            last_error().contains("autoreset mode 7"),
            "{}",
            last_error()
        );
        assert_eq!(
            kalsim_vec_env_set_autoreset(v, kalsim_autoreset::SameStep as u32),
            kalsim_status::Ok
        );
        assert_eq!(
            kalsim_vec_env_autoreset(v),
            kalsim_autoreset::SameStep as u32
        );
        let mut obs = vec![0f32; n * KALSIM_OBS_DIM];
        let mut masks = vec![0u8; n * KALSIM_ACTION_COUNT];
        let (mut rewards, mut term, mut trunc) = (vec![0f64; n], vec![0u8; n], vec![0u8; n]);
        let actions = vec![0u32; n];
        assert_eq!(
            kalsim_vec_env_reset(
                v,
                3,
                obs.as_mut_ptr(),
                obs.len(),
                masks.as_mut_ptr(),
                masks.len()
            ),
            kalsim_status::Ok
        );
        let b = kalsim_vec_step_buffers {
            actions: actions.as_ptr(),
            actions_len: n,
            obs_out: obs.as_mut_ptr(),
            obs_len: obs.len(),
            rewards_out: rewards.as_mut_ptr(),
            rewards_len: n,
            terminated_out: term.as_mut_ptr(),
            terminated_len: n,
            truncated_out: trunc.as_mut_ptr(),
            truncated_len: n,
            masks_out: masks.as_mut_ptr(),
            masks_len: masks.len(),
        };
        let mut finals = vec![f32::NAN; n * KALSIM_OBS_DIM];
        let mut ended = vec![9u8; n];
        let mut seen = 0;
        for _ in 0..200 {
            assert_eq!(kalsim_vec_env_step(v, &b), kalsim_status::Ok);
            assert_eq!(
                kalsim_vec_env_final_observations(
                    v,
                    finals.as_mut_ptr(),
                    finals.len(),
                    ended.as_mut_ptr(),
                    n
                ),
                kalsim_status::Ok
            );
            let mut infos = vec![kalsim_step_info::default(); n];
            assert_eq!(
                kalsim_vec_env_infos(v, infos.as_mut_ptr(), n),
                kalsim_status::Ok
            );
            for i in 0..n {
                let done = term[i] == 1 || trunc[i] == 1;
                assert_eq!(ended[i] == 1, done);
                if done {
                    seen += 1;
                    let row = &finals[i * KALSIM_OBS_DIM..(i + 1) * KALSIM_OBS_DIM];
                    assert!(row.iter().all(|x| x.is_finite()));
                    assert_ne!(row, &obs[i * KALSIM_OBS_DIM..(i + 1) * KALSIM_OBS_DIM]);
                    assert!(infos[i].step > 0, "the final info is kept");
                    let mut m = std::mem::zeroed::<kalsim_metrics>();
                    assert_eq!(kalsim_vec_env_metrics(v, i, &mut m), kalsim_status::Ok);
                    assert_eq!(m.steps, u64::from(infos[i].step), "the finished episode's");
                }
            }
        }
        assert!(seen >= n, "{seen} episode ends");
        assert_eq!(
            kalsim_vec_env_final_observations(v, finals.as_mut_ptr(), 5, ended.as_mut_ptr(), n),
            kalsim_status::Buffer
        );
        kalsim_vec_env_free(v);
    }
}

#[test]
fn held_out_config_moves_the_generator_seed_only() {
    let config = CString::new(r#"{"data": {"synthetic_seed": 7}, "max_steps": 50}"#).unwrap();
    unsafe {
        let mut required = 0usize;
        assert_eq!(
            kalsim_config_held_out(config.as_ptr(), ptr::null_mut(), 0, &mut required),
            kalsim_status::Buffer
        );
        assert!(required > 2);
        let mut buf = vec![0u8; required];
        assert_eq!(
            kalsim_config_held_out(
                config.as_ptr(),
                buf.as_mut_ptr().cast(),
                required,
                &mut required
            ),
            kalsim_status::Ok
        );
        let text = CStr::from_bytes_with_nul(&buf).unwrap().to_str().unwrap();
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(v["data"]["synthetic_seed"], 7 + KALSIM_EVAL_SEED_OFFSET);
        assert_eq!(v["max_steps"], 50);
        let bad = CString::new(r#"{"max_stepz": 1}"#).unwrap();
        assert_eq!(
            kalsim_config_held_out(
                bad.as_ptr(),
                buf.as_mut_ptr().cast(),
                required,
                &mut required
            ),
            kalsim_status::Config
        );
        assert!(last_error().contains("max_stepz"), "{}", last_error());
    }
}
