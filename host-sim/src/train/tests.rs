//! Unit tests that need the private network code: tanh accuracy, the matrix kernel, and a
//! finite-difference check of the PPO loss gradient.

use kalsim_core::Rng;

use super::ACTION_COUNT;
use super::mlp::{Mlp, gemm_acc, tanh};
use super::policy::masked_softmax;
use super::ppo::UpdateSums;
use super::ppo::update::{LossCoefs, LossWork, Minibatch, loss_and_grad};

#[test]
fn tanh_matches_libm() {
    let mut worst = 0f32;
    for i in -200_000..=200_000 {
        let x = i as f32 * 1e-4;
        worst = worst.max((tanh(x) - libm::tanhf(x)).abs());
    }
    assert!(worst < 1e-6, "max |tanh − tanhf| = {worst}");
    for x in [8.0f32, 100.0, 1e30] {
        assert!((tanh(x) - 1.0).abs() < 3e-7 && tanh(x) <= 1.0);
        assert_eq!(tanh(-x), -tanh(x));
    }
    assert_eq!(tanh(0.0), 0.0);
}

#[test]
fn gemm_matches_naive() {
    let mut rng = Rng::new(5);
    for &(m, n, k) in &[(3, 25, 7), (5, 64, 33), (2, 1, 64), (4, 17, 1), (1, 40, 64)] {
        let x: Vec<f32> = (0..m * k).map(|_| rng.normal() as f32).collect();
        let w: Vec<f32> = (0..k * n).map(|_| rng.normal() as f32).collect();
        let mut y: Vec<f32> = (0..m * n).map(|_| rng.normal() as f32).collect();
        let mut expect = y.clone();
        for r in 0..m {
            for c in 0..n {
                for kk in 0..k {
                    expect[r * n + c] += x[r * k + kk] * w[kk * n + c];
                }
            }
        }
        gemm_acc(&mut y, m, n, &x, k, &w);
        assert_eq!(y, expect, "m={m} n={n} k={k}");
    }
}

/// Everything one loss evaluation needs.
struct Case {
    pi: Mlp,
    v: Mlp,
    m: usize,
    obs: Vec<f32>,
    masks: Vec<u8>,
    actions: Vec<u8>,
    old_logp: Vec<f32>,
    adv: Vec<f32>,
    returns: Vec<f32>,
    old_values: Vec<f32>,
}

impl Case {
    fn new(seed: u64) -> Case {
        let mut rng = Rng::new(seed);
        let (d, m) = (6, 8);
        // Gain 1 on the logits so the policy is far from uniform and gradients are sizeable.
        let pi = Mlp::new(&[d, 9, 7, ACTION_COUNT], 1.0, &mut rng);
        let v = Mlp::new(&[d, 9, 7, 1], 1.0, &mut rng);
        let obs: Vec<f32> = (0..m * d).map(|_| rng.normal() as f32).collect();
        let mut masks = vec![0u8; m * ACTION_COUNT];
        for j in 0..m {
            for a in 0..21 {
                masks[j * ACTION_COUNT + a] = u8::from(a == 0 || rng.below(3) != 0);
            }
        }
        // Row 0 allows only HOLD.
        masks[1..ACTION_COUNT].fill(0);
        let mut work = pi.workspace(m);
        pi.forward(&obs, m, &mut work);
        let mut actions = vec![0u8; m];
        let mut old_logp = vec![0f32; m];
        let mut probs = [0f32; ACTION_COUNT];
        // Offsets put ratios inside the clip range and beyond it on both sides (0.6 ⇒ r ≈
        // 0.55 or 1.8), away from the kinks so finite differences stay on one side.
        let offsets = [0.05f32, -0.05, 0.6, -0.6, 0.0, 0.1, -0.6, 0.6];
        for j in 0..m {
            let allowed: Vec<u8> = (0..ACTION_COUNT as u8)
                .filter(|&a| masks[j * ACTION_COUNT + a as usize] != 0)
                .collect();
            let a = allowed[rng.below(allowed.len() as u64) as usize];
            actions[j] = a;
            let logits = &work.output()[j * ACTION_COUNT..(j + 1) * ACTION_COUNT];
            let z = masked_softmax(logits, &masks[j * ACTION_COUNT..], &mut probs);
            old_logp[j] = logits[a as usize] - z + offsets[j];
        }
        let adv: Vec<f32> = (0..m)
            .map(|j| if j % 2 == 0 { 1.0 } else { -1.0 } * (0.5 + rng.next_f32()))
            .collect();
        let returns: Vec<f32> = (0..m).map(|_| rng.normal() as f32).collect();
        let old_values: Vec<f32> = (0..m).map(|_| rng.normal() as f32).collect();
        Case {
            pi,
            v,
            m,
            obs,
            masks,
            actions,
            old_logp,
            adv,
            returns,
            old_values,
        }
    }

    fn loss(&self, coefs: LossCoefs, grad_pi: &mut [f32], grad_v: &mut [f32]) -> f64 {
        let mut wp = self.pi.workspace(self.m);
        let mut wv = self.v.workspace(self.m);
        let mut d_logits = vec![0f32; self.m * ACTION_COUNT];
        let mut d_value = vec![0f32; self.m];
        let mb = Minibatch {
            m: self.m,
            obs: &self.obs,
            masks: &self.masks,
            actions: &self.actions,
            old_logp: &self.old_logp,
            advantages: &self.adv,
            returns: &self.returns,
            old_values: &self.old_values,
        };
        let work = LossWork {
            work_pi: &mut wp,
            work_v: &mut wv,
            d_logits: &mut d_logits,
            d_value: &mut d_value,
            pi_terms: &mut vec![0.0; self.m],
            v_losses: &mut vec![0.0; self.m],
        };
        loss_and_grad(
            coefs,
            &self.pi,
            &self.v,
            mb,
            work,
            grad_pi,
            grad_v,
            &mut UpdateSums::default(),
            None,
        )
    }
}

fn params(c: &mut Case, value_net: bool) -> &mut Vec<f32> {
    if value_net {
        &mut c.v.params
    } else {
        &mut c.pi.params
    }
}

/// Relative L2 error between the analytic gradient and central differences, for one net.
fn check_net(case: &mut Case, coefs: LossCoefs, value_net: bool) -> f64 {
    let (np, nv) = (case.pi.params.len(), case.v.params.len());
    let (mut gp, mut gv) = (vec![0f32; np], vec![0f32; nv]);
    case.loss(coefs, &mut gp, &mut gv);
    let analytic = if value_net { gv } else { gp };
    let h = 1e-2f32;
    let (mut num, mut den) = (0f64, 0f64);
    for (i, &g) in analytic.iter().enumerate() {
        let orig = params(case, value_net)[i];
        params(case, value_net)[i] = orig + h;
        let up = case.loss(coefs, &mut vec![0f32; np], &mut vec![0f32; nv]);
        params(case, value_net)[i] = orig - h;
        let down = case.loss(coefs, &mut vec![0f32; np], &mut vec![0f32; nv]);
        params(case, value_net)[i] = orig;
        let fd = (up - down) / (2.0 * f64::from(h));
        num += (fd - f64::from(g)).powi(2);
        den += fd.powi(2).max(f64::from(g).powi(2));
    }
    assert!(den > 1e-6, "gradient is degenerate");
    (num / den).sqrt()
}

#[test]
fn ppo_gradient_matches_finite_differences() {
    for (seed, clip_vf) in [(1, None), (2, Some(0.3f32)), (3, None)] {
        let mut case = Case::new(seed);
        let coefs = LossCoefs {
            clip_range: 0.2,
            clip_range_vf: clip_vf,
            ent_coef: 0.05,
            vf_coef: 0.5,
        };
        let err_pi = check_net(&mut case, coefs, false);
        let err_v = check_net(&mut case, coefs, true);
        assert!(
            err_pi < 2e-3,
            "policy gradient relative error {err_pi} (seed {seed})"
        );
        assert!(
            err_v < 2e-3,
            "value gradient relative error {err_v} (seed {seed})"
        );
    }
}

#[test]
fn gemm_tn_matches_transposed_gemm() {
    let mut rng = Rng::new(6);
    for &(m, n, k) in &[(7, 64, 33), (64, 25, 256), (9, 1, 17)] {
        let xt: Vec<f32> = (0..k * m).map(|_| rng.normal() as f32).collect();
        let w: Vec<f32> = (0..k * n).map(|_| rng.normal() as f32).collect();
        let mut x = vec![0f32; m * k];
        for r in 0..m {
            for kk in 0..k {
                x[r * k + kk] = xt[kk * m + r];
            }
        }
        let y0: Vec<f32> = (0..m * n).map(|_| rng.normal() as f32).collect();
        let (mut a, mut b) = (y0.clone(), y0);
        gemm_acc(&mut a, m, n, &x, k, &w);
        super::mlp::gemm_acc_tn(&mut b, m, n, &xt, k, &w);
        assert_eq!(a, b, "m={m} n={n} k={k}");
    }
}

#[test]
fn portable_kernels_match_dispatched_ones() {
    // The run-time dispatch (AVX2 here) and the portable path (wasm32, old CPUs) must give
    // the same bits.
    use super::mlp::{gemm_acc_blocked, gemm_acc_tn, tanh_in_place, tanh_loop};
    let mut rng = Rng::new(12);
    for &(m, n, k) in &[(256, 64, 48), (256, 25, 64), (64, 1, 256), (13, 40, 7)] {
        let x: Vec<f32> = (0..m * k).map(|_| rng.normal() as f32).collect();
        let w: Vec<f32> = (0..k * n).map(|_| rng.normal() as f32).collect();
        let y0: Vec<f32> = (0..m * n).map(|_| rng.normal() as f32).collect();
        let (mut a, mut b) = (y0.clone(), y0.clone());
        gemm_acc(&mut a, m, n, &x, k, &w);
        gemm_acc_blocked::<16, false>(&mut b, m, n, &x, k, &w);
        assert_eq!(a, b);
        let (mut a, mut b) = (y0.clone(), y0);
        gemm_acc_tn(&mut a, m, n, &x, k, &w);
        gemm_acc_blocked::<16, true>(&mut b, m, n, &x, k, &w);
        assert_eq!(a, b);
    }
    let v: Vec<f32> = (0..1000).map(|_| 4.0 * rng.normal() as f32).collect();
    let (mut a, mut b) = (v.clone(), v);
    tanh_in_place(&mut a);
    tanh_loop(&mut b);
    assert_eq!(a, b);
}
