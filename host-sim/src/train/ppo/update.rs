//! The PPO update: the minibatch loss and its hand-written gradient, gradient-norm
//! clipping and the Adam steps.

use super::{
    ACTION_COUNT, IterStats, Mlp, MlpWork, Run, Trainer, UpdateSums, allowed, masked_softmax,
    side_by_side,
};
use crate::env::pool::Team;
use kalsim_core::Rng;

/// One minibatch, gathered into contiguous rows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Minibatch<'a> {
    /// Rows.
    pub m: usize,
    /// `m × obs_dim` observations.
    pub obs: &'a [f32],
    /// `m × 25` masks.
    pub masks: &'a [u8],
    /// Actions taken.
    pub actions: &'a [u8],
    /// Log-probabilities of the actions under the rollout policy.
    pub old_logp: &'a [f32],
    /// Advantages (already normalised if configured).
    pub advantages: &'a [f32],
    /// GAE returns (value targets).
    pub returns: &'a [f32],
    /// Values predicted during the rollout.
    pub old_values: &'a [f32],
}

/// The loss coefficients.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LossCoefs {
    pub clip_range: f32,
    pub clip_range_vf: Option<f32>,
    pub ent_coef: f32,
    pub vf_coef: f32,
}

/// Buffers the loss needs: network workspaces, per-sample output gradients and the
/// per-sample loss terms of each half.
#[derive(Debug)]
pub(crate) struct LossWork<'a> {
    pub work_pi: &'a mut MlpWork,
    pub work_v: &'a mut MlpWork,
    pub d_logits: &'a mut [f32],
    pub d_value: &'a mut [f32],
    /// `policy_loss − ent_coef · entropy` of each sample.
    pub pi_terms: &'a mut [f32],
    /// The value loss of each sample.
    pub v_losses: &'a mut [f32],
}

/// The policy network's half of the loss: its forward pass, the clipped surrogate and the
/// entropy per sample, and its backward pass. **Adds** the gradient to `grad_pi` and every
/// statistic but the value loss to `sums`; writes each sample's term to `pi_terms`.
#[allow(clippy::too_many_arguments)]
fn policy_half(
    coefs: LossCoefs,
    pi: &Mlp,
    mb: Minibatch<'_>,
    work_pi: &mut MlpWork,
    d_logits: &mut [f32],
    pi_terms: &mut [f32],
    grad_pi: &mut [f32],
    sums: &mut UpdateSums,
) {
    let m = mb.m;
    pi.forward(mb.obs, m, work_pi);
    let inv_m = 1.0 / m as f32;
    let (lo, hi) = (1.0 - coefs.clip_range, 1.0 + coefs.clip_range);
    let mut probs = [0f32; ACTION_COUNT];
    for j in 0..m {
        let logits = &work_pi.output()[j * ACTION_COUNT..(j + 1) * ACTION_COUNT];
        let mask = &mb.masks[j * ACTION_COUNT..(j + 1) * ACTION_COUNT];
        let z = masked_softmax(logits, mask, &mut probs);
        let a = mb.actions[j] as usize;
        let log_ratio = (logits[a] - z) - mb.old_logp[j];
        let ratio = libm::expf(log_ratio);
        let adv = mb.advantages[j];
        let surr1 = ratio * adv;
        let surr2 = ratio.clamp(lo, hi) * adv;
        let policy_loss = -surr1.min(surr2);
        // Where the clipped term is the minimum it is constant in θ.
        let d_logp = if surr1 <= surr2 { -adv * ratio } else { 0.0 };
        let mut entropy = 0f32;
        for k in 0..ACTION_COUNT {
            if allowed(mask, k) {
                entropy -= probs[k] * (logits[k] - z);
            }
        }
        let dl = &mut d_logits[j * ACTION_COUNT..(j + 1) * ACTION_COUNT];
        for k in 0..ACTION_COUNT {
            dl[k] = if allowed(mask, k) {
                let p = probs[k];
                let onehot = if k == a { 1.0 } else { 0.0 };
                // ∂ln p(a)/∂l_k = 1[k=a] − p_k;  ∂H/∂l_k = −p_k (ln p_k + H).
                inv_m * (d_logp * (onehot - p) + coefs.ent_coef * p * ((logits[k] - z) + entropy))
            } else {
                0.0
            };
        }
        pi_terms[j] = policy_loss - coefs.ent_coef * entropy;
        sums.samples += 1.0;
        sums.entropy += f64::from(entropy);
        sums.approx_kl += f64::from((ratio - 1.0) - log_ratio);
        sums.clipped += if (ratio - 1.0).abs() > coefs.clip_range {
            1.0
        } else {
            0.0
        };
        sums.policy_loss += f64::from(policy_loss);
    }
    pi.backward(mb.obs, m, work_pi, d_logits, grad_pi);
}

/// The value network's half: its forward pass, the (optionally clipped) value loss per
/// sample and its backward pass. **Adds** the gradient to `grad_v` and the value losses to
/// `value_loss_sum`; writes each sample's loss to `v_losses`.
#[allow(clippy::too_many_arguments)]
fn value_half(
    coefs: LossCoefs,
    v: &Mlp,
    mb: Minibatch<'_>,
    work_v: &mut MlpWork,
    d_value: &mut [f32],
    v_losses: &mut [f32],
    grad_v: &mut [f32],
    value_loss_sum: &mut f64,
) {
    let m = mb.m;
    v.forward(mb.obs, m, work_v);
    let inv_m = 1.0 / m as f32;
    for j in 0..m {
        let value = work_v.output()[j];
        let err = value - mb.returns[j];
        let (value_loss, d_v) = match coefs.clip_range_vf {
            None => (0.5 * err * err, err),
            Some(cv) => {
                let diff = value - mb.old_values[j];
                let clipped = mb.old_values[j] + diff.clamp(-cv, cv);
                let err_c = clipped - mb.returns[j];
                if err * err >= err_c * err_c {
                    (0.5 * err * err, err)
                } else {
                    (
                        0.5 * err_c * err_c,
                        if diff.abs() < cv { err_c } else { 0.0 },
                    )
                }
            }
        };
        d_value[j] = inv_m * coefs.vf_coef * d_v;
        v_losses[j] = value_loss;
        *value_loss_sum += f64::from(value_loss);
    }
    v.backward(mb.obs, m, work_v, d_value, grad_v);
}

/// The PPO loss (mean over the minibatch) of `mb`; **adds** its gradient with respect to
/// both networks' parameters to `grad_pi` and `grad_v` and the per-sample statistics to
/// `sums`.
///
/// The two networks' halves share nothing but the minibatch, so with a `team` of two
/// threads the value half runs on the second; every sum is still taken in sample order by
/// one thread, so the bits do not depend on the thread count.
#[allow(clippy::too_many_arguments)]
pub(crate) fn loss_and_grad(
    coefs: LossCoefs,
    pi: &Mlp,
    v: &Mlp,
    mb: Minibatch<'_>,
    work: LossWork<'_>,
    grad_pi: &mut [f32],
    grad_v: &mut [f32],
    sums: &mut UpdateSums,
    team: Option<&Team>,
) -> f64 {
    let m = mb.m;
    let LossWork {
        work_pi,
        work_v,
        d_logits,
        d_value,
        pi_terms,
        v_losses,
    } = work;
    let mut value_loss = sums.value_loss;
    side_by_side(
        team,
        || policy_half(coefs, pi, mb, work_pi, d_logits, pi_terms, grad_pi, sums),
        || {
            value_half(
                coefs,
                v,
                mb,
                work_v,
                d_value,
                v_losses,
                grad_v,
                &mut value_loss,
            )
        },
    );
    sums.value_loss = value_loss;
    let mut loss = 0f64;
    for j in 0..m {
        loss += f64::from(pi_terms[j] + coefs.vf_coef * v_losses[j]);
    }
    loss / m as f64
}

/// Fisher–Yates shuffle with the seeded stream.
fn shuffle(items: &mut [u32], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

/// Normalises `adv` to zero mean and unit (sample) standard deviation.
fn normalize(adv: &mut [f32]) {
    let n = adv.len();
    if n < 2 {
        return;
    }
    let mean = adv.iter().map(|&a| f64::from(a)).sum::<f64>() / n as f64;
    let var = adv
        .iter()
        .map(|&a| (f64::from(a) - mean) * (f64::from(a) - mean))
        .sum::<f64>()
        / (n - 1) as f64;
    let inv = 1.0 / (libm::sqrt(var) + 1e-8);
    for a in adv {
        *a = ((f64::from(*a) - mean) * inv) as f32;
    }
}

/// `1 − Var(R − V) / Var(R)` over the rollout's trained samples (0 when `Var(R)` is 0).
pub(super) fn explained_variance(run: &Run) -> f32 {
    let (mut n, mut sy, mut syy, mut sd, mut sdd) = (0f64, 0f64, 0f64, 0f64, 0f64);
    for k in 0..run.valid.len() {
        if run.valid[k] {
            let y = f64::from(run.returns[k]);
            let d = y - f64::from(run.values[k]);
            n += 1.0;
            sy += y;
            syy += y * y;
            sd += d;
            sdd += d * d;
        }
    }
    if n < 2.0 {
        return 0.0;
    }
    let var_y = syy / n - (sy / n) * (sy / n);
    let var_d = sdd / n - (sd / n) * (sd / n);
    if var_y <= 1e-12 {
        0.0
    } else {
        (1.0 - var_d / var_y) as f32
    }
}

impl Trainer {
    /// `n_epochs` passes of shuffled minibatch steps over the rollout's trained samples.
    pub(super) fn update(&mut self, run: &mut Run, stats: &mut IterStats) {
        run.indices.clear();
        run.indices
            .extend((0..run.valid.len() as u32).filter(|&k| run.valid[k as usize]));
        let total = run.indices.len();
        let d = run.obs_dim;
        let coefs = LossCoefs {
            clip_range: self.cfg.clip_range,
            clip_range_vf: self.cfg.clip_range_vf,
            ent_coef: self.cfg.ent_coef,
            vf_coef: self.cfg.vf_coef,
        };
        let mb_size = self.cfg.minibatch_size.min(run.mb_adv.len());
        let mut sums = UpdateSums::default();
        'epochs: for _ in 0..self.cfg.n_epochs {
            shuffle(&mut run.indices, &mut run.rng_shuffle);
            for chunk in run.indices.chunks(mb_size) {
                let m = chunk.len();
                for (j, &k) in chunk.iter().enumerate() {
                    let k = k as usize;
                    run.mb_obs[j * d..(j + 1) * d].copy_from_slice(&run.obs[k * d..(k + 1) * d]);
                    run.mb_mask[j * ACTION_COUNT..(j + 1) * ACTION_COUNT]
                        .copy_from_slice(&run.masks[k * ACTION_COUNT..(k + 1) * ACTION_COUNT]);
                    run.mb_act[j] = run.actions[k];
                    run.mb_logp[j] = run.logp[k];
                    run.mb_adv[j] = run.advantages[k];
                    run.mb_ret[j] = run.returns[k];
                    run.mb_val[j] = run.values[k];
                }
                if self.cfg.normalize_advantage {
                    normalize(&mut run.mb_adv[..m]);
                }
                self.grad_pi.fill(0.0);
                self.grad_v.fill(0.0);
                let mut mb_sums = UpdateSums::default();
                let mb = Minibatch {
                    m,
                    obs: &run.mb_obs[..m * d],
                    masks: &run.mb_mask[..m * ACTION_COUNT],
                    actions: &run.mb_act[..m],
                    old_logp: &run.mb_logp[..m],
                    advantages: &run.mb_adv[..m],
                    returns: &run.mb_ret[..m],
                    old_values: &run.mb_val[..m],
                };
                let work = LossWork {
                    work_pi: &mut run.work_pi,
                    work_v: &mut run.work_v,
                    d_logits: &mut run.d_logits,
                    d_value: &mut run.d_value,
                    pi_terms: &mut run.pi_terms,
                    v_losses: &mut run.v_losses,
                };
                let (pi, v) = (&self.policy.policy_net, &self.policy.value_net);
                loss_and_grad(
                    coefs,
                    pi,
                    v,
                    mb,
                    work,
                    &mut self.grad_pi,
                    &mut self.grad_v,
                    &mut mb_sums,
                    self.team.as_ref(),
                );
                let kl = mb_sums.approx_kl / mb_sums.samples;
                sums.add(&mb_sums);
                if self
                    .cfg
                    .target_kl
                    .is_some_and(|target| kl > 1.5 * f64::from(target))
                {
                    break 'epochs;
                }
                if !self.clip_gradients() {
                    // A non-finite gradient (e.g. from non-finite observations) would poison
                    // every weight through Adam: skip this step.
                    continue;
                }
                let lr = self.cfg.learning_rate;
                let (pi_params, v_params) = (
                    &mut self.policy.policy_net.params,
                    &mut self.policy.value_net.params,
                );
                let (adam_pi, adam_v) = (&mut self.adam_pi, &mut self.adam_v);
                let (grad_pi, grad_v) = (&self.grad_pi, &self.grad_v);
                side_by_side(
                    self.team.as_ref(),
                    || adam_pi.step(pi_params, grad_pi, lr),
                    || adam_v.step(v_params, grad_v, lr),
                );
            }
        }
        if sums.samples > 0.0 && total > 0 {
            let mean = |s: f64| (s / sums.samples) as f32;
            stats.entropy = mean(sums.entropy);
            stats.approx_kl = mean(sums.approx_kl);
            stats.clip_fraction = mean(sums.clipped);
            stats.value_loss = mean(sums.value_loss);
            stats.policy_loss = mean(sums.policy_loss);
        }
    }

    /// Scales both gradients so their joint L2 norm is at most `max_grad_norm`; false when
    /// the norm is not finite.
    fn clip_gradients(&mut self) -> bool {
        let sq: f64 = self
            .grad_pi
            .iter()
            .chain(&self.grad_v)
            .map(|&g| f64::from(g) * f64::from(g))
            .sum();
        let norm = libm::sqrt(sq);
        let max = f64::from(self.cfg.max_grad_norm);
        if !norm.is_finite() {
            return false;
        }
        if norm > max {
            let scale = (max / (norm + 1e-6)) as f32;
            for g in self.grad_pi.iter_mut().chain(self.grad_v.iter_mut()) {
                *g *= scale;
            }
        }
        true
    }
}

impl UpdateSums {
    fn add(&mut self, other: &UpdateSums) {
        self.samples += other.samples;
        self.entropy += other.entropy;
        self.approx_kl += other.approx_kl;
        self.clipped += other.clipped;
        self.value_loss += other.value_loss;
        self.policy_loss += other.policy_loss;
    }
}
