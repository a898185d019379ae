//! Policy inference through the C ABI, on a checkpoint made by the trainer.

use std::ffi::{CStr, CString};
use std::ptr;

use kalsim::*;
use kalsim_host_sim::env::EnvConfig;
use kalsim_host_sim::train::{PolicyMeta, PpoConfig, Trainer};

fn checkpoint(sizes: [u32; 5]) -> CString {
    let meta = PolicyMeta {
        size_table: sizes,
        ..EnvConfig::default().policy_meta()
    };
    let trainer = Trainer::new(PpoConfig::default(), meta).unwrap();
    CString::new(trainer.policy().to_json()).unwrap()
}

fn last_error() -> String {
    unsafe { CStr::from_ptr(kalsim_last_error()) }
        .to_string_lossy()
        .into_owned()
}

#[test]
fn policy_acts_within_the_mask_for_a_whole_episode() {
    let config =
        CString::new(r#"{"data": {"synthetic_markets": 2, "synthetic_events": 200}}"#).unwrap();
    unsafe {
        let mut env = ptr::null_mut();
        assert_eq!(kalsim_env_new(config.as_ptr(), &mut env), kalsim_status::Ok);
        let mut policy = ptr::null_mut();
        let json = checkpoint([5, 10, 20, 50, 100]);
        assert_eq!(
            kalsim_policy_load(json.as_ptr(), &mut policy),
            kalsim_status::Ok
        );
        assert_eq!(kalsim_policy_check_env(policy, env), kalsim_status::Ok);
        assert_eq!(kalsim_policy_seed(policy, 9), kalsim_status::Ok);
        let mut obs = [0f32; KALSIM_OBS_DIM];
        let mut mask = [0u8; KALSIM_ACTION_COUNT];
        let mut probs = [0f32; KALSIM_ACTION_COUNT];
        let mut step = kalsim_step::default();
        assert_eq!(
            kalsim_env_reset(env, 3, obs.as_mut_ptr(), obs.len()),
            kalsim_status::Ok
        );
        for i in 0..400 {
            assert_eq!(
                kalsim_env_action_mask(env, mask.as_mut_ptr(), mask.len()),
                kalsim_status::Ok
            );
            let mut action = 99u32;
            let greedy = i % 2 == 0;
            assert_eq!(
                kalsim_policy_act(
                    policy,
                    obs.as_ptr(),
                    obs.len(),
                    mask.as_ptr(),
                    mask.len(),
                    greedy,
                    &mut action
                ),
                kalsim_status::Ok
            );
            assert!(mask[action as usize] == 1, "action {action} is masked");
            assert_eq!(
                kalsim_policy_action_probs(
                    policy,
                    obs.as_ptr(),
                    obs.len(),
                    mask.as_ptr(),
                    mask.len(),
                    probs.as_mut_ptr(),
                    probs.len()
                ),
                kalsim_status::Ok
            );
            let total: f32 = probs.iter().sum();
            assert!((total - 1.0).abs() < 1e-4, "{total}");
            assert!(probs[21..].iter().all(|&p| p == 0.0));
            let mut value = f32::NAN;
            assert_eq!(
                kalsim_policy_value(policy, obs.as_ptr(), obs.len(), &mut value),
                kalsim_status::Ok
            );
            assert!(value.is_finite());
            assert_eq!(
                kalsim_env_step(env, action, &mut step, obs.as_mut_ptr(), obs.len()),
                kalsim_status::Ok
            );
            if step.terminated || step.truncated {
                break;
            }
        }
        kalsim_policy_free(policy);
        kalsim_env_free(env);
    }
}

#[test]
fn bad_checkpoints_are_policy_errors() {
    unsafe {
        let mut policy = ptr::null_mut();
        let bad = CString::new("{\"format\": \"nope\"}").unwrap();
        assert_eq!(
            kalsim_policy_load(bad.as_ptr(), &mut policy),
            kalsim_status::Policy
        );
        assert!(policy.is_null());
        assert!(last_error().starts_with("policy:"), "{}", last_error());
        assert_eq!(
            kalsim_policy_load(ptr::null(), &mut policy),
            kalsim_status::NullPointer
        );

        // Trained with other sizes: loads, but does not fit the default env.
        let json = checkpoint([1, 2, 3, 4, 5]);
        assert_eq!(
            kalsim_policy_load(json.as_ptr(), &mut policy),
            kalsim_status::Ok
        );
        let mut env = ptr::null_mut();
        assert_eq!(kalsim_env_new(ptr::null(), &mut env), kalsim_status::Ok);
        assert_eq!(kalsim_policy_check_env(policy, env), kalsim_status::Policy);
        assert!(last_error().contains("size"), "{}", last_error());
        let mut action = 0;
        let obs = [0f32; KALSIM_OBS_DIM];
        assert_eq!(
            kalsim_policy_act(
                policy,
                obs.as_ptr(),
                obs.len(),
                ptr::null(),
                25,
                true,
                &mut action
            ),
            kalsim_status::NullPointer
        );
        // Short buffers: named, with both lengths, and nothing written.
        let mask = [1u8; 25];
        assert_eq!(
            kalsim_policy_act(
                policy,
                obs.as_ptr(),
                39,
                mask.as_ptr(),
                25,
                true,
                &mut action
            ),
            kalsim_status::Buffer
        );
        assert!(
            last_error().contains("`obs`")
                && last_error().contains("40")
                && last_error().contains("39"),
            "{}",
            last_error()
        );
        let mut probs = [7f32; 25];
        assert_eq!(
            kalsim_policy_action_probs(
                policy,
                obs.as_ptr(),
                obs.len(),
                mask.as_ptr(),
                mask.len(),
                probs.as_mut_ptr(),
                24
            ),
            kalsim_status::Buffer
        );
        assert!(last_error().contains("`probs_out`"), "{}", last_error());
        assert!(probs.iter().all(|&p| p == 7.0));
        kalsim_policy_free(policy);
        kalsim_policy_free(ptr::null_mut());
        kalsim_env_free(env);
    }
}
