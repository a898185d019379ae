//! Arbitrary bytes → `EnvConfig::from_json` / `from_toml`: a typed error or a configuration
//! whose `engine_config()` is Ok and whose `Env` over a tiny synthetic dataset can reset and
//! step with the invariants holding.
#![no_main]

use std::sync::OnceLock;

use kalsim_core::OBS_DIM;
use kalsim_fuzz::{check_engine, check_obs};
use kalsim_host_sim::data::LoadOptions;
use kalsim_host_sim::env::{Env, EnvConfig, Markets, synthetic_dataset};
use libfuzzer_sys::fuzz_target;

fn markets() -> Markets {
    static M: OnceLock<Markets> = OnceLock::new();
    M.get_or_init(|| {
        let ds = synthetic_dataset(2, 40, 5, &LoadOptions::default()).unwrap();
        std::sync::Arc::new(ds.markets)
    })
    .clone()
}

fn exercise(cfg: EnvConfig, actions: &[u8]) {
    cfg.engine_config().expect("accepted config must translate");
    let mut env = Env::new(cfg, markets()).expect("env over accepted config");
    let mut obs = [0f32; OBS_DIM];
    env.reset(Some(9), &mut obs).expect("reset");
    check_obs(&obs, "reset");
    let mut a = actions.iter().cycle();
    for _ in 0..60 {
        let action = u32::from(a.next().copied().unwrap_or(3) % 25);
        match env.step(action, &mut obs) {
            Ok(r) => {
                check_engine(env.engine(), "config step");
                check_obs(&obs, "config step");
                assert!(r.reward.is_finite(), "reward {}", r.reward);
                if r.terminated || r.truncated {
                    break;
                }
            }
            Err(kalsim_host_sim::env::EnvError::Step(_)) => {
                assert_eq!(
                    env.config().invalid_action,
                    kalsim_host_sim::env::InvalidActionMode::Error
                );
                check_engine(env.engine(), "refused step");
            }
            Err(e) => panic!("step over an accepted config failed: {e}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cfg) = EnvConfig::from_json(text) {
        // The JSON it writes parses back to the same configuration.
        assert_eq!(EnvConfig::from_json(&cfg.to_json()).as_ref(), Ok(&cfg));
        exercise(cfg, data);
    }
    if let Ok(cfg) = EnvConfig::from_toml(text) {
        exercise(cfg, data);
    }
});
