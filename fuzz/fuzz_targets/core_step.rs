//! Arbitrary bytes → a valid book, a valid `EngineConfig` and a stream of engine operations.
//! After every operation: cash ≥ 0, |position| ≤ max_position_per_market, the ledger
//! reconciles, PV is computable, the mask agrees with what a step does, observations are
//! finite and in range, and a refused step (strict mode) changes nothing.
#![no_main]

use kalsim_core::{ACTION_COUNT, ActionError, Engine, OBS_DIM, ObsState, Side, StepError};
use kalsim_fuzz::{Bytes, check_engine, check_obs, engine_config, levels};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes::new(data);
    let config = engine_config(&mut b);
    let mut engine = Engine::new(config, b.u64());
    let (yes, no) = (levels(&mut b), levels(&mut b));
    if engine.apply_snapshot(&yes, &no).is_err() {
        return;
    }
    check_engine(&engine, "first snapshot");
    let mut obs_state = ObsState::new();
    let mut obs = [0f32; OBS_DIM];
    let mut ops = 0u32;
    while !b.is_empty() && ops < 2_000 {
        ops += 1;
        match b.u8() % 8 {
            0..=3 => {
                // Half the time the k-th allowed action (so positions and flips happen),
                // else any id in the space, sometimes any u32.
                let mask = engine.action_mask();
                let action = match b.u8() % 4 {
                    0 => b.u32(),
                    1 => u32::from(b.u8() % ACTION_COUNT as u8),
                    _ => {
                        let allowed: Vec<u32> = mask
                            .iter()
                            .enumerate()
                            .filter(|(_, m)| **m)
                            .map(|(a, _)| a as u32)
                            .collect();
                        allowed[b.u8() as usize % allowed.len()]
                    }
                };
                let before = engine.clone();
                match engine.step_action(action) {
                    Ok(out) => {
                        let allowed = mask[action as usize];
                        assert_eq!(
                            out.invalid.is_none(),
                            allowed,
                            "mask {allowed} but step said {:?} for action {action}",
                            out.invalid
                        );
                        if !allowed {
                            assert_eq!(engine.account(), before.account(), "HOLD changed state");
                            assert_eq!(engine.working_order(), before.working_order());
                        }
                    }
                    Err(StepError::Action(ActionError::OutOfRange(a))) => {
                        assert!(action >= ACTION_COUNT as u32);
                        assert_eq!(a, action);
                        assert_eq!(engine.account(), before.account());
                    }
                    Err(StepError::Masked { action: a, .. }) => {
                        assert!(config.strict, "Masked error outside strict mode");
                        assert!(!mask[action as usize]);
                        assert_eq!(u32::from(a), action);
                        assert_eq!(engine.account(), before.account(), "refused step moved");
                        assert_eq!(engine.working_order(), before.working_order());
                        assert_eq!(engine.last_order(), before.last_order());
                    }
                    Err(e) => panic!("unexpected step error {e:?} for {action}"),
                }
                check_engine(&engine, "step_action");
            }
            4 | 5 => {
                let side = if b.u8() & 1 == 0 { Side::Yes } else { Side::No };
                let price = b.price();
                let delta = match b.u8() % 4 {
                    0 => b.u64() as i64,
                    1 => -(b.range(0, 100_000) as i64),
                    2 => -(engine.book().depth(side, price).0.min(i64::MAX as u64) as i64),
                    _ => b.range(0, 100_000) as i64,
                };
                let before = engine.book().clone();
                if engine.apply_delta(side, price, delta).is_err() {
                    assert_eq!(
                        format!("{:?}", engine.book()),
                        format!("{before:?}"),
                        "a rejected delta changed the book"
                    );
                }
                check_engine(&engine, "apply_delta");
            }
            6 => {
                let (yes, no) = (levels(&mut b), levels(&mut b));
                let _ = engine.apply_snapshot(&yes, &no);
                check_engine(&engine, "apply_snapshot");
            }
            _ => {
                if b.u8() % 4 == 0 {
                    let side = if b.u8() & 1 == 0 { Side::Yes } else { Side::No };
                    let payout = engine.settle(side);
                    assert!(payout.0 >= 0);
                    assert_eq!(engine.account().position(), 0);
                    assert!(engine.working_order().is_none());
                    check_engine(&engine, "settle");
                } else {
                    engine.cancel_working();
                }
            }
        }
        obs_state.observe(
            &engine,
            f64::from(ops % 100) / 100.0,
            i64::from(b.u16()),
            &mut obs,
        );
        check_obs(&obs, "observe");
    }
});
