//! Policy tests: masked inference and the versioned checkpoint.

mod train_support;

use kalsim_core::Rng;
use kalsim_host_sim::train::{Policy, PolicyError, PpoConfig, Trainer};
use train_support::{ToyEnv, meta};

/// A policy with a few iterations of training, so its weights are not just the init.
fn trained_policy(seed: u64) -> Policy {
    let mut env = ToyEnv::new(2, 6, 5);
    let cfg = PpoConfig {
        n_steps: 16,
        minibatch_size: 16,
        hidden: vec![12, 10],
        seed,
        ..PpoConfig::default()
    };
    let mut trainer = Trainer::new(cfg, env.meta()).unwrap();
    trainer.train(&mut env, 64, |_| true).unwrap();
    trainer.policy().clone()
}

fn random_obs(rng: &mut Rng, dim: usize) -> Vec<f32> {
    (0..dim).map(|_| 3.0 * rng.normal() as f32).collect()
}

#[test]
fn masked_actions_have_zero_probability_and_are_never_sampled() {
    let policy = trained_policy(1);
    let mut rng = Rng::new(11);
    let mut probs = [0f32; 25];
    for _ in 0..300 {
        let obs = random_obs(&mut rng, 6);
        let mut mask = [0u8; 25];
        for m in mask.iter_mut() {
            *m = u8::from(rng.below(3) == 0);
        }
        // The env never allows reserved ids; the policy must refuse them even if it did.
        mask[22] = 1;
        policy.action_probs(&obs, &mask, &mut probs);
        let allowed = |a: usize| mask[a] != 0 && a < 21;
        let sum: f32 = probs.iter().sum();
        if (0..25).any(allowed) {
            assert!((sum - 1.0).abs() < 1e-5, "probabilities sum to {sum}");
        }
        for (a, &p) in probs.iter().enumerate() {
            if !allowed(a) && (0..25).any(allowed) {
                assert_eq!(p, 0.0, "masked action {a} has probability {p}");
            }
        }
        for _ in 0..50 {
            let a = policy.act(&obs, &mask, false, &mut rng) as usize;
            assert!(
                allowed(a) || (a == 0 && !(0..25).any(allowed)),
                "sampled masked action {a}"
            );
        }
        let g = policy.act(&obs, &mask, true, &mut rng) as usize;
        assert!(
            allowed(g) || (g == 0 && !(0..25).any(allowed)),
            "greedy chose masked action {g}"
        );
        if (0..25).any(allowed) {
            let best = (0..25)
                .filter(|&a| allowed(a))
                .max_by(|&x, &y| probs[x].total_cmp(&probs[y]))
                .unwrap();
            assert!(
                (probs[g] - probs[best]).abs() < 1e-6,
                "greedy is not the most likely allowed action"
            );
        }
    }
}

#[test]
fn all_masked_means_hold() {
    let policy = trained_policy(2);
    let mut rng = Rng::new(3);
    let obs = random_obs(&mut rng, 6);
    let mut mask = [0u8; 25];
    mask[21..].fill(1); // only reserved ids "allowed": still nothing valid
    for greedy in [true, false] {
        assert_eq!(policy.act(&obs, &mask, greedy, &mut rng), 0);
    }
    let mut probs = [0.5f32; 25];
    policy.action_probs(&obs, &mask, &mut probs);
    assert_eq!(probs[0], 1.0);
    assert!(probs[1..].iter().all(|&p| p == 0.0));
}

#[test]
fn scratch_variants_agree() {
    let policy = trained_policy(4);
    let mut scratch = policy.scratch();
    let mut rng = Rng::new(8);
    let mask = [1u8; 25];
    for _ in 0..20 {
        let obs = random_obs(&mut rng, 6);
        let (mut a, mut b) = ([0f32; 25], [0f32; 25]);
        policy.action_probs(&obs, &mask, &mut a);
        policy.action_probs_with(&mut scratch, &obs, &mask, &mut b);
        assert_eq!(a, b);
        let (mut r1, mut r2) = (Rng::new(5), Rng::new(5));
        assert_eq!(
            policy.act(&obs, &mask, false, &mut r1),
            policy.act_with(&mut scratch, &obs, &mask, false, &mut r2)
        );
        assert!(policy.value(&obs).is_finite());
    }
}

#[test]
fn checkpoint_round_trip_is_exact() {
    let policy = trained_policy(5);
    let json = policy.to_json();
    assert!(
        json.starts_with(r#"{"format":"kalsim-policy","version":1,"meta":"#),
        "{}",
        &json[..60]
    );
    let back = Policy::from_json(&json).unwrap();
    assert_eq!(back, policy, "weights must round-trip bit for bit");
    assert_eq!(back.to_json(), json);
    assert_eq!(back.hidden(), &[12, 10]);
    assert_eq!(back.meta(), &meta(6));
    let mut rng = Rng::new(1);
    let obs = random_obs(&mut rng, 6);
    let (mut a, mut b) = ([0f32; 25], [0f32; 25]);
    policy.action_probs(&obs, &[1; 25], &mut a);
    back.action_probs(&obs, &[1; 25], &mut b);
    assert_eq!(a.map(f32::to_bits), b.map(f32::to_bits));
}

#[test]
fn incompatible_environments_are_refused() {
    let policy = trained_policy(6);
    assert_eq!(policy.check_compatible(&meta(6)), Ok(()));

    let mut m = meta(6);
    m.obs_schema_version = 2;
    let err = policy.check_compatible(&m).unwrap_err();
    assert_eq!(err, PolicyError::ObsSchemaVersion { policy: 1, env: 2 });
    assert!(err.to_string().contains("schema version"), "{err}");

    let err = policy.check_compatible(&meta(7)).unwrap_err();
    assert_eq!(err, PolicyError::ObsDim { policy: 6, env: 7 });

    let mut m = meta(6);
    m.action_count = 5; // the original system's 5-action live path
    let err = policy.check_compatible(&m).unwrap_err();
    assert_eq!(err, PolicyError::ActionCount { policy: 25, env: 5 });
    assert!(
        err.to_string()
            .contains("policy has 25 actions, environment has 5"),
        "{err}"
    );

    let mut m = meta(6);
    m.size_table = [1, 2, 3, 4, 5];
    assert!(matches!(
        policy.check_compatible(&m),
        Err(PolicyError::SizeTable { .. })
    ));

    let mut m = meta(6);
    m.sizing = "fixed:10".into();
    let err = policy.check_compatible(&m).unwrap_err();
    assert!(matches!(err, PolicyError::Sizing { .. }));
    assert!(err.to_string().contains("fixed:10"), "{err}");
}

#[test]
fn malformed_checkpoints_are_rejected() {
    let json = trained_policy(7).to_json();
    assert!(matches!(
        Policy::from_json("{not json"),
        Err(PolicyError::Json(_))
    ));
    let other = json.replacen("kalsim-policy", "something-else", 1);
    assert!(matches!(
        Policy::from_json(&other),
        Err(PolicyError::Format(_))
    ));
    let v2 = json.replacen(r#""version":1"#, r#""version":2"#, 1);
    assert_eq!(Policy::from_json(&v2), Err(PolicyError::Version(2)));
    let relu = json.replacen(r#""activation":"tanh""#, r#""activation":"relu""#, 1);
    assert!(matches!(
        Policy::from_json(&relu),
        Err(PolicyError::Invalid(_))
    ));
    // A 21-action checkpoint is refused on load.
    let a21 = json.replacen(r#""action_count":25"#, r#""action_count":21"#, 1);
    assert!(matches!(
        Policy::from_json(&a21),
        Err(PolicyError::ActionCount {
            policy: 21,
            env: 25
        })
    ));
    let sizing = json.replacen(r#""sizing":"variable""#, r#""sizing":"big""#, 1);
    assert!(matches!(
        Policy::from_json(&sizing),
        Err(PolicyError::Invalid(_))
    ));
    // Claimed obs_dim disagrees with the first layer.
    let dim = json.replacen(r#""obs_dim":6"#, r#""obs_dim":7"#, 1);
    let err = Policy::from_json(&dim).unwrap_err();
    assert!(
        matches!(err, PolicyError::Invalid(_)) && err.to_string().contains("layer 0"),
        "{err}"
    );
    // Truncated weight arrays.
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["policy_net"]["layers"][1]["weight"]
        .as_array_mut()
        .unwrap()
        .pop();
    let err = Policy::from_json(&value.to_string()).unwrap_err();
    assert!(err.to_string().contains("policy_net layer 1"), "{err}");
}
