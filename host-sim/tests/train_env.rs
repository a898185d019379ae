//! The trainer over the real environment: a market with a strong, constant signal is learned
//! within a small budget, and the same seed gives the same checkpoint bytes.

use std::sync::Arc;

use kalsim_core::{OBS_DIM, Rng};
use kalsim_host_sim::data::{LoadOptions, load_str};
use kalsim_host_sim::env::{Env, EnvConfig, VecEnv};
use kalsim_host_sim::train::{PpoConfig, Trainer};

/// YES trades at 30¢ but always settles YES: buying YES is worth 70¢ a contract.
fn cheap_yes_market(n_markets: usize, events: usize) -> String {
    let mut lines = Vec::new();
    for m in 0..n_markets {
        let t = format!("CHEAP-{m}");
        lines.push(format!(
            r#"{{"type":"orderbook_snapshot","msg":{{"market_ticker":"{t}","yes":[[25,5000],[24,5000]],"no":[[70,5000],[69,5000]]}}}}"#
        ));
        for i in 0..events {
            let d = if i % 2 == 0 { 3 } else { -3 };
            lines.push(format!(
                r#"{{"type":"orderbook_delta","msg":{{"market_ticker":"{t}","side":"yes","price":20,"delta":{d}}}}}"#
            ));
        }
        lines.push(format!(
            r#"{{"type":"market_lifecycle_v2","msg":{{"market_ticker":"{t}","result":"yes"}}}}"#
        ));
    }
    lines.join("\n")
}

fn setup() -> (EnvConfig, Arc<Vec<kalsim_host_sim::data::MarketTape>>) {
    let ds = load_str(
        "cheap.jsonl",
        &cheap_yes_market(4, 12),
        &LoadOptions::default(),
    )
    .unwrap();
    (EnvConfig::default(), Arc::new(ds.markets))
}

fn small_ppo(seed: u64) -> PpoConfig {
    PpoConfig {
        n_steps: 64,
        minibatch_size: 128,
        hidden: vec![32, 32],
        learning_rate: 3e-3,
        seed,
        ..PpoConfig::default()
    }
}

#[test]
fn learns_to_buy_the_underpriced_contract() {
    let (cfg, markets) = setup();
    let mut venv = VecEnv::new(cfg.clone(), markets.clone(), 8, 1).unwrap();
    let mut trainer = Trainer::new(small_ppo(3), cfg.policy_meta()).unwrap();
    trainer.train(&mut venv, 30_000, |_| true).unwrap();

    // Greedy evaluation: the learnt policy buys YES and ends every episode in profit.
    let policy = trainer.policy();
    let mut env = Env::new(cfg, markets).unwrap();
    let mut obs = vec![0.0; OBS_DIM];
    let mut rng = Rng::new(0);
    env.reset(Some(9), &mut obs).unwrap();
    for _ in 0..4 {
        let mut total = 0.0;
        loop {
            let mut mask = [0u8; 25];
            env.action_mask_into(&mut mask);
            let a = policy.act(&obs, &mask, true, &mut rng);
            let r = env.step(a as u32, &mut obs).unwrap();
            total += r.reward;
            if r.terminated || r.truncated {
                break;
            }
        }
        assert!(
            total > 50.0,
            "episode return ${total:.2} should be a clear profit"
        );
        env.reset(None, &mut obs).unwrap();
    }
}

#[test]
fn same_seed_same_checkpoint_bytes_on_the_real_env() {
    let run = |seed: u64| {
        let (cfg, markets) = setup();
        let mut venv = VecEnv::new(cfg.clone(), markets, 4, 2).unwrap();
        let mut trainer = Trainer::new(small_ppo(seed), cfg.policy_meta()).unwrap();
        trainer.train(&mut venv, 1_024, |_| true).unwrap();
        trainer.policy().to_json()
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
}

#[test]
fn checkpoint_for_another_size_table_is_refused() {
    let (cfg, markets) = setup();
    let mut venv = VecEnv::new(cfg.clone(), markets, 2, 1).unwrap();
    let mut trainer = Trainer::new(small_ppo(1), cfg.policy_meta()).unwrap();
    trainer.train(&mut venv, 256, |_| true).unwrap();
    let fixed = EnvConfig {
        sizing: kalsim_host_sim::env::Sizing::Fixed,
        ..EnvConfig::default()
    };
    let e = trainer
        .policy()
        .check_compatible(&fixed.policy_meta())
        .unwrap_err();
    assert!(e.to_string().contains("sizing"), "{e}");
    let other = EnvConfig {
        sizes: [1, 2, 3, 4, 5],
        ..EnvConfig::default()
    };
    assert!(
        trainer
            .policy()
            .check_compatible(&other.policy_meta())
            .is_err()
    );
}
