//! Proximal Policy Optimization (Schulman et al., 2017) with invalid-action masking
//! (Huang and Ontañón, 2022), GAE(λ), separate actor and critic MLPs and Adam.
//!
//! Decisions worth knowing:
//! - Masked logits count as −∞: masked actions get probability exactly 0, no gradient,
//!   and the entropy bonus is the entropy of the masked distribution.
//! - Next-step autoreset: the transition that follows a `terminated`/`truncated` step is
//!   the env's reset and is excluded from training. A `terminated` step does not bootstrap;
//!   a `truncated` step bootstraps from the value of its final observation (which the env
//!   returned with the flag), and GAE does not run across an episode boundary.
//! - Losses: `L = mean(−min(r·A, clip(r)·A)) − ent_coef·mean(H) + vf_coef·mean(½(V − R)²)`
//!   (value term clipped like PPO2 when `clip_range_vf` is set). Advantages are normalised
//!   per minibatch. Gradient-norm clipping is over both networks together.
//! - Determinism: one thread, fixed summation orders, `libm` transcendentals, seeded
//!   [`Rng`] streams: networks from `cfg.seed`, actions and minibatch shuffles from the
//!   run seed given to [`Trainer::start`].

use core::fmt;

pub(crate) mod update;

use kalsim_core::Rng;
use serde::{Deserialize, Serialize};

use super::adam::Adam;
use super::log::{IterStats, TrainSummary};
use super::mlp::{Mlp, MlpWork};
use super::policy::{Policy, allowed, masked_softmax, sample_from, valid_sizing};
use super::{ACTION_COUNT, BatchEnv, PolicyMeta};
use crate::env::pool::Team;
use std::sync::Mutex;
use update::explained_variance;

/// PPO hyper-parameters. Every field has a default (`#[serde(default)]`), so a config file
/// only lists what it changes; unknown keys are an error (a typo must not go unnoticed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PpoConfig {
    /// Steps per environment per rollout (default 256); a rollout is `n_steps × num_envs`.
    pub n_steps: usize,
    /// Samples per gradient step (default 256).
    pub minibatch_size: usize,
    /// Passes over each rollout (default 4).
    pub n_epochs: usize,
    /// Discount factor γ (default 0.99).
    pub gamma: f32,
    /// GAE λ (default 0.95).
    pub gae_lambda: f32,
    /// Clip range ε of the surrogate objective (default 0.2).
    pub clip_range: f32,
    /// Clip range of the value prediction around the rollout's value (default none).
    pub clip_range_vf: Option<f32>,
    /// Entropy bonus coefficient (default 0.01).
    pub ent_coef: f32,
    /// Value loss coefficient (default 0.5).
    pub vf_coef: f32,
    /// Adam learning rate (default 3e-4).
    pub learning_rate: f32,
    /// Adam ε (default 1e-5).
    pub adam_eps: f32,
    /// Maximum global gradient norm (default 0.5).
    pub max_grad_norm: f32,
    /// Normalise advantages per minibatch (default true).
    pub normalize_advantage: bool,
    /// Stop an update's epochs early when a minibatch's approximate KL exceeds
    /// `1.5 × target_kl` (default none).
    pub target_kl: Option<f32>,
    /// Hidden layer widths of both networks (default `[64, 64]`, tanh).
    pub hidden: Vec<usize>,
    /// Divide rewards by a running standard deviation of the discounted return (SB3
    /// `VecNormalize(norm_reward=True)`), then clip to ±`reward_clip` (default false).
    /// The statistics are `f64`, updated env by env in a fixed order: deterministic. Only
    /// the training signal is scaled; logged episode returns stay in env units.
    pub normalize_reward: bool,
    /// Clip of normalised rewards (default 10).
    pub reward_clip: f32,
    /// Normalise observations by a running mean and standard deviation per feature (SB3
    /// `VecNormalize(norm_obs=True)`), clipped to ±`obs_clip` (default false). The
    /// statistics are `f64`, updated row by row in env order (deterministic), and frozen
    /// into the checkpoint, which applies them at inference on every front-end.
    pub normalize_obs: bool,
    /// Clip of normalised observations (default 10).
    pub obs_clip: f32,
    /// Initial bias of the HOLD logit (default 0: a uniform initial policy). With 25
    /// actions a uniform policy trades ~95 % of steps and pays the spread and fees on
    /// every one; a positive bias (e.g. 3 → HOLD ≈ 2/3 when flat) starts from a policy
    /// that trades sometimes and holds what it bought.
    pub init_hold_logit: f32,
    /// Seed of the network initialisation and of [`Trainer::train`]'s run (default 0).
    pub seed: u64,
}

impl Default for PpoConfig {
    fn default() -> PpoConfig {
        PpoConfig {
            n_steps: 256,
            minibatch_size: 256,
            n_epochs: 4,
            gamma: 0.99,
            gae_lambda: 0.95,
            clip_range: 0.2,
            clip_range_vf: None,
            ent_coef: 0.01,
            vf_coef: 0.5,
            learning_rate: 3e-4,
            adam_eps: 1e-5,
            max_grad_norm: 0.5,
            normalize_advantage: true,
            target_kl: None,
            hidden: vec![64, 64],
            normalize_reward: false,
            reward_clip: 10.0,
            normalize_obs: false,
            obs_clip: 10.0,
            init_hold_logit: 0.0,
            seed: 0,
        }
    }
}

/// Why training cannot start.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrainError {
    /// A hyper-parameter or the [`PolicyMeta`] is out of range.
    Config(String),
    /// The environment does not match the [`PolicyMeta`] the trainer was built for.
    EnvMismatch(String),
    /// The environment failed to reset or step (its message; the run is over, the next
    /// `iterate` or `train` starts a new one).
    Env(String),
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::Config(e) => write!(f, "invalid training config: {e}"),
            TrainError::EnvMismatch(e) => write!(f, "environment does not match the policy: {e}"),
            TrainError::Env(e) => write!(f, "environment failed: {e}"),
        }
    }
}

impl std::error::Error for TrainError {}

fn env_failed(e: impl std::error::Error) -> TrainError {
    TrainError::Env(e.to_string())
}

/// Run `a` and `b` side by side on a team of two threads when there is one, else one
/// after the other on this thread (the trainer's jobs come in pairs: the policy network's
/// and the value network's, which share nothing but their inputs).
pub(super) fn side_by_side(team: Option<&Team>, a: impl FnOnce() + Send, b: impl FnOnce() + Send) {
    match team {
        Some(team) if team.size() >= 2 => {
            let (a, b) = (Mutex::new(Some(a)), Mutex::new(Some(b)));
            team.run(&|chunk| match chunk {
                0 => run_once(&a),
                1 => run_once(&b),
                _ => {}
            });
        }
        _ => {
            a();
            b();
        }
    }
}

/// Take the job out of its slot and run it (each slot is run by one chunk, once).
fn run_once(slot: &Mutex<Option<impl FnOnce()>>) {
    let job = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(job) = job {
        job();
    }
}

fn validate(cfg: &PpoConfig, meta: &PolicyMeta) -> Result<(), TrainError> {
    let bad = |m: &str| Err(TrainError::Config(m.to_string()));
    let unit = |x: f32| (0.0..=1.0).contains(&x);
    if cfg.n_steps == 0 || cfg.minibatch_size == 0 || cfg.n_epochs == 0 {
        return bad("n_steps, minibatch_size and n_epochs must be positive");
    }
    if cfg.hidden.is_empty() || cfg.hidden.contains(&0) {
        return bad("hidden must list at least one positive layer width");
    }
    if !unit(cfg.gamma) || !unit(cfg.gae_lambda) {
        return bad("gamma and gae_lambda must be in [0, 1]");
    }
    let positive = |x: f32| x.is_finite() && x > 0.0;
    if !positive(cfg.clip_range)
        || !positive(cfg.learning_rate)
        || !positive(cfg.max_grad_norm)
        || !positive(cfg.adam_eps)
        || !positive(cfg.reward_clip)
        || !positive(cfg.obs_clip)
    {
        return bad(
            "clip_range, learning_rate, max_grad_norm, adam_eps, reward_clip and obs_clip must be positive",
        );
    }
    if cfg.clip_range_vf.is_some_and(|c| !positive(c))
        || cfg.target_kl.is_some_and(|k| !positive(k))
    {
        return bad("clip_range_vf and target_kl must be positive when set");
    }
    if !cfg.init_hold_logit.is_finite() {
        return bad("init_hold_logit must be finite");
    }
    if !cfg.ent_coef.is_finite() || !cfg.vf_coef.is_finite() || cfg.vf_coef < 0.0 {
        return bad("ent_coef must be finite and vf_coef finite and non-negative");
    }
    if meta.action_count as usize != ACTION_COUNT {
        return bad(&format!(
            "meta.action_count is {}, the trainer needs {ACTION_COUNT}",
            meta.action_count
        ));
    }
    if !valid_sizing(&meta.sizing) {
        return bad(&format!(
            "meta.sizing is {:?}, expected \"variable\" or \"fixed:N\"",
            meta.sizing
        ));
    }
    if meta.obs_dim == 0 {
        return bad("meta.obs_dim must be positive");
    }
    Ok(())
}

/// Buffers and streams of one training run (allocated once in [`Trainer::start`]).
#[derive(Debug)]
struct Run {
    n_envs: usize,
    obs_dim: usize,
    rng_act: Rng,
    rng_shuffle: Rng,
    // Live env state.
    cur_obs: Vec<f32>,
    cur_mask: Vec<u8>,
    prev_done: Vec<bool>,
    ep_return: Vec<f32>,
    ep_len: Vec<u32>,
    step_actions: Vec<u8>,
    step_rewards: Vec<f32>,
    step_term: Vec<u8>,
    step_trunc: Vec<u8>,
    /// Reward normalisation: discounted return per env and running moments of it.
    disc_return: Vec<f64>,
    ret_stats: RunningMoments,
    /// Observation normalisation: running moments per feature and the normalised batch.
    obs_stats: Vec<RunningMoments>,
    norm_obs: Vec<f32>,
    obs_column: Vec<f64>,
    // Rollout, index `t × n_envs + env`.
    obs: Vec<f32>,
    masks: Vec<u8>,
    actions: Vec<u8>,
    logp: Vec<f32>,
    values: Vec<f32>,
    rewards: Vec<f32>,
    terminated: Vec<u8>,
    truncated: Vec<u8>,
    valid: Vec<bool>,
    advantages: Vec<f32>,
    returns: Vec<f32>,
    last_adv: Vec<f32>,
    next_values: Vec<f32>,
    indices: Vec<u32>,
    // Minibatch.
    mb_obs: Vec<f32>,
    mb_mask: Vec<u8>,
    mb_adv: Vec<f32>,
    mb_act: Vec<u8>,
    mb_logp: Vec<f32>,
    mb_ret: Vec<f32>,
    mb_val: Vec<f32>,
    d_logits: Vec<f32>,
    d_value: Vec<f32>,
    /// Per-sample loss terms of the policy and value halves.
    pi_terms: Vec<f32>,
    v_losses: Vec<f32>,
    work_pi: MlpWork,
    work_v: MlpWork,
}

/// Running mean and variance (Chan et al. parallel update, as SB3's `RunningMeanStd`),
/// starting from a pseudo-count of 1e-4.
#[derive(Clone, Copy, Debug)]
struct RunningMoments {
    mean: f64,
    var: f64,
    count: f64,
}

impl RunningMoments {
    fn new() -> RunningMoments {
        RunningMoments {
            mean: 0.0,
            var: 1.0,
            count: 1e-4,
        }
    }

    /// As SB3's `RunningMeanStd` for observations: mean 0, variance 1, pseudo-count 1e-4.
    fn new_obs() -> RunningMoments {
        RunningMoments::new()
    }

    /// Merge a batch of values (in order).
    fn update(&mut self, xs: &[f64]) {
        if xs.is_empty() {
            return;
        }
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n;
        let delta = m - self.mean;
        let total = self.count + n;
        self.mean += delta * n / total;
        let m2 = self.var * self.count + v * n + delta * delta * self.count * n / total;
        self.var = m2 / total;
        self.count = total;
    }

    fn std(&self) -> f64 {
        (self.var + 1e-8).sqrt()
    }
}

/// Sums of per-sample quantities over an update, for [`IterStats`].
#[derive(Default)]
pub(crate) struct UpdateSums {
    samples: f64,
    entropy: f64,
    approx_kl: f64,
    clipped: f64,
    value_loss: f64,
    policy_loss: f64,
}

/// The PPO trainer: owns the [`Policy`] being trained, the optimiser state and the
/// rollout buffers.
#[derive(Debug)]
pub struct Trainer {
    cfg: PpoConfig,
    policy: Policy,
    adam_pi: Adam,
    adam_v: Adam,
    grad_pi: Vec<f32>,
    grad_v: Vec<f32>,
    run: Option<Run>,
    iteration: u64,
    timesteps: u64,
    episodes: u64,
    /// Threads of the update (the policy and value halves of each minibatch side by side);
    /// `None` = one thread. The bits do not depend on it.
    team: Option<Team>,
}

impl Trainer {
    /// A trainer with freshly initialised networks (orthogonal init from `cfg.seed`) for
    /// environments described by `meta`.
    pub fn new(cfg: PpoConfig, meta: PolicyMeta) -> Result<Trainer, TrainError> {
        validate(&cfg, &meta)?;
        let obs_dim = meta.obs_dim as usize;
        let sizes = |out: usize| {
            let mut s = vec![obs_dim];
            s.extend_from_slice(&cfg.hidden);
            s.push(out);
            s
        };
        let mut policy_net = Mlp::new(&sizes(ACTION_COUNT), 0.01, &mut Rng::derive(cfg.seed, 1));
        // The output bias is the last ACTION_COUNT parameters; HOLD is action 0.
        let hold_bias = policy_net.params.len() - ACTION_COUNT;
        policy_net.params[hold_bias] += cfg.init_hold_logit;
        let value_net = Mlp::new(&sizes(1), 1.0, &mut Rng::derive(cfg.seed, 2));
        let (np, nv) = (policy_net.params.len(), value_net.params.len());
        Ok(Trainer {
            adam_pi: Adam::new(np, 0.9, 0.999, cfg.adam_eps),
            adam_v: Adam::new(nv, 0.9, 0.999, cfg.adam_eps),
            grad_pi: vec![0.0; np],
            grad_v: vec![0.0; nv],
            policy: Policy {
                meta,
                policy_net,
                value_net,
                obs_norm: None,
            },
            cfg,
            run: None,
            iteration: 0,
            timesteps: 0,
            episodes: 0,
            team: None,
        })
    }

    /// Use `threads` threads for the update (each minibatch's policy and value networks
    /// side by side, so more than 2 gain nothing); 1 = this thread only. The trained bits
    /// are the same for any count. Built without the `threads` feature (e.g. for `wasm32`)
    /// the update always runs on one thread. Fails only when a thread cannot be spawned.
    pub fn set_threads(&mut self, threads: usize) -> std::io::Result<()> {
        // Without the `threads` feature (e.g. `wasm32`) there is one thread, as in `VecEnv`.
        let want = if cfg!(feature = "threads") {
            threads.clamp(1, 2)
        } else {
            1
        };
        if self.threads() != want {
            self.team = if want >= 2 {
                Some(Team::new(want)?)
            } else {
                None
            };
        }
        Ok(())
    }

    /// Threads of the update (see [`Trainer::set_threads`]).
    pub fn threads(&self) -> usize {
        self.team.as_ref().map_or(1, Team::size)
    }

    /// The policy as trained so far.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &PpoConfig {
        &self.cfg
    }

    /// Environment steps taken since the last [`Trainer::start`].
    pub fn timesteps(&self) -> u64 {
        self.timesteps
    }

    /// Begins a run on `env`: checks its shape, allocates every buffer, resets all envs
    /// with `seed` and seeds the action-sampling and shuffling streams from it. Networks and
    /// optimiser state carry over from earlier runs.
    pub fn start(&mut self, env: &mut impl BatchEnv, seed: u64) -> Result<(), TrainError> {
        let (n, d) = (env.num_envs(), env.obs_dim());
        if d != self.policy.meta.obs_dim as usize {
            return Err(TrainError::EnvMismatch(format!(
                "obs_dim is {d}, the policy expects {}",
                self.policy.meta.obs_dim
            )));
        }
        if n == 0 {
            return Err(TrainError::EnvMismatch("the env batch is empty".into()));
        }
        let t = self.cfg.n_steps;
        let mb = self.cfg.minibatch_size.min(t * n);
        let cap = mb.max(n);
        let mut run = Run {
            n_envs: n,
            obs_dim: d,
            rng_act: Rng::derive(seed, 3),
            rng_shuffle: Rng::derive(seed, 4),
            cur_obs: vec![0.0; n * d],
            cur_mask: vec![0; n * ACTION_COUNT],
            prev_done: vec![false; n],
            ep_return: vec![0.0; n],
            ep_len: vec![0; n],
            step_actions: vec![0; n],
            step_rewards: vec![0.0; n],
            step_term: vec![0; n],
            step_trunc: vec![0; n],
            disc_return: vec![0.0; n],
            ret_stats: RunningMoments::new(),
            obs_stats: vec![RunningMoments::new_obs(); d],
            norm_obs: vec![0.0; n * d],
            obs_column: vec![0.0; n],
            obs: vec![0.0; t * n * d],
            masks: vec![0; t * n * ACTION_COUNT],
            actions: vec![0; t * n],
            logp: vec![0.0; t * n],
            values: vec![0.0; t * n],
            rewards: vec![0.0; t * n],
            terminated: vec![0; t * n],
            truncated: vec![0; t * n],
            valid: vec![false; t * n],
            advantages: vec![0.0; t * n],
            returns: vec![0.0; t * n],
            last_adv: vec![0.0; n],
            next_values: vec![0.0; n],
            indices: Vec::with_capacity(t * n),
            mb_obs: vec![0.0; cap * d],
            mb_mask: vec![0; cap * ACTION_COUNT],
            mb_adv: vec![0.0; cap],
            mb_act: vec![0; cap],
            mb_logp: vec![0.0; cap],
            mb_ret: vec![0.0; cap],
            mb_val: vec![0.0; cap],
            d_logits: vec![0.0; cap * ACTION_COUNT],
            d_value: vec![0.0; cap],
            pi_terms: vec![0.0; cap],
            v_losses: vec![0.0; cap],
            work_pi: self.policy.policy_net.workspace(cap),
            work_v: self.policy.value_net.workspace(cap),
        };
        env.reset_all(seed, &mut run.cur_obs, &mut run.cur_mask)
            .map_err(env_failed)?;
        self.run = Some(run);
        self.iteration = 0;
        self.timesteps = 0;
        self.episodes = 0;
        Ok(())
    }

    /// One iteration: a rollout of `n_steps` on every env, then `n_epochs` of minibatch
    /// updates. Starts a run with `cfg.seed` first if none is active or `env` has another
    /// shape than the active run's.
    pub fn iterate(&mut self, env: &mut impl BatchEnv) -> Result<IterStats, TrainError> {
        if self
            .run
            .as_ref()
            .is_none_or(|r| r.n_envs != env.num_envs() || r.obs_dim != env.obs_dim())
        {
            self.start(env, self.cfg.seed)?;
        }
        let mut run = self.run.take().expect("run started above");
        // A failed step ends the run (`self.run` stays empty: the next call starts afresh).
        let mut stats = self.collect(&mut run, env)?;
        self.compute_gae(&mut run);
        stats.explained_variance = explained_variance(&run);
        self.update(&mut run, &mut stats);
        self.run = Some(run);
        Ok(stats)
    }

    /// Trains for at least `total_timesteps` environment steps (whole iterations) from a
    /// fresh run seeded with `cfg.seed`, calling `on_iter` after every iteration; training
    /// stops early when it returns `false`.
    pub fn train(
        &mut self,
        env: &mut impl BatchEnv,
        total_timesteps: u64,
        mut on_iter: impl FnMut(&IterStats) -> bool,
    ) -> Result<TrainSummary, TrainError> {
        self.start(env, self.cfg.seed)?;
        let mut summary = TrainSummary {
            iterations: 0,
            timesteps: 0,
            episodes: 0,
            stopped_early: false,
            last: None,
        };
        while self.timesteps < total_timesteps {
            let stats = self.iterate(env)?;
            let go_on = on_iter(&stats);
            summary.last = Some(stats);
            if !go_on {
                summary.stopped_early = true;
                break;
            }
        }
        summary.iterations = self.iteration;
        summary.timesteps = self.timesteps;
        summary.episodes = self.episodes;
        Ok(summary)
    }

    /// Runs the current policy for `n_steps` on every env, filling the rollout buffers.
    fn collect(&mut self, run: &mut Run, env: &mut impl BatchEnv) -> Result<IterStats, TrainError> {
        let (n, d, t_max) = (run.n_envs, run.obs_dim, self.cfg.n_steps);
        let mut hist = [0u32; ACTION_COUNT];
        let mut finished = 0u32;
        let (mut ret_sum, mut len_sum) = (0f64, 0f64);
        let mut probs = [0f32; ACTION_COUNT];
        for t in 0..t_max {
            let base = t * n;
            if self.cfg.normalize_obs {
                self.update_obs_norm(run);
            }
            let input: &[f32] = if self.cfg.normalize_obs {
                &run.norm_obs
            } else {
                &run.cur_obs
            };
            run.obs[base * d..(base + n) * d].copy_from_slice(input);
            run.masks[base * ACTION_COUNT..(base + n) * ACTION_COUNT]
                .copy_from_slice(&run.cur_mask);
            let (pi, v) = (&self.policy.policy_net, &self.policy.value_net);
            let (work_pi, work_v) = (&mut run.work_pi, &mut run.work_v);
            side_by_side(
                self.team.as_ref(),
                || pi.forward(input, n, work_pi),
                || v.forward(input, n, work_v),
            );
            for i in 0..n {
                let k = base + i;
                run.values[k] = run.work_v.output()[i];
                run.valid[k] = !run.prev_done[i];
                if run.prev_done[i] {
                    // The env resets on this step and ignores the action.
                    run.step_actions[i] = 0;
                    run.actions[k] = 0;
                    run.logp[k] = 0.0;
                    continue;
                }
                let logits = &run.work_pi.output()[i * ACTION_COUNT..(i + 1) * ACTION_COUNT];
                let mask = &run.cur_mask[i * ACTION_COUNT..(i + 1) * ACTION_COUNT];
                let z = masked_softmax(logits, mask, &mut probs);
                let a = sample_from(&probs, run.rng_act.next_f32());
                run.step_actions[i] = a;
                run.actions[k] = a;
                run.logp[k] = logits[a as usize] - z;
                hist[a as usize] += 1;
            }
            env.step(
                &run.step_actions,
                &mut run.cur_obs,
                &mut run.step_rewards,
                &mut run.step_term,
                &mut run.step_trunc,
                &mut run.cur_mask,
            )
            .map_err(env_failed)?;
            if self.cfg.normalize_reward {
                // As VecNormalize: update the discounted returns, then their moments, then
                // scale this step's rewards by the updated standard deviation.
                let gamma = f64::from(self.cfg.gamma);
                for (g, &r) in run.disc_return.iter_mut().zip(&run.step_rewards) {
                    *g = *g * gamma + f64::from(r);
                }
                run.ret_stats.update(&run.disc_return);
            }
            let reward_std = run.ret_stats.std();
            for i in 0..n {
                let k = base + i;
                let (r, term, trunc) = (run.step_rewards[i], run.step_term[i], run.step_trunc[i]);
                run.rewards[k] = if self.cfg.normalize_reward {
                    let clip = f64::from(self.cfg.reward_clip);
                    (f64::from(r) / reward_std).clamp(-clip, clip) as f32
                } else {
                    r
                };
                if term != 0 || trunc != 0 {
                    run.disc_return[i] = 0.0;
                }
                run.terminated[k] = term;
                run.truncated[k] = trunc;
                let done = term != 0 || trunc != 0;
                if run.valid[k] {
                    run.ep_return[i] += r;
                    run.ep_len[i] += 1;
                    if done {
                        finished += 1;
                        ret_sum += f64::from(run.ep_return[i]);
                        len_sum += f64::from(run.ep_len[i]);
                        run.ep_return[i] = 0.0;
                        run.ep_len[i] = 0;
                    }
                }
                run.prev_done[i] = done;
            }
        }
        let input: &[f32] = match &self.policy.obs_norm {
            Some(norm) if self.cfg.normalize_obs => {
                for (o, x) in run
                    .norm_obs
                    .chunks_exact_mut(d)
                    .zip(run.cur_obs.chunks_exact(d))
                {
                    norm.apply(x, o);
                }
                &run.norm_obs
            }
            _ => &run.cur_obs,
        };
        self.policy.value_net.forward(input, n, &mut run.work_v);
        run.next_values.copy_from_slice(&run.work_v.output()[..n]);
        self.iteration += 1;
        self.timesteps += (t_max * n) as u64;
        self.episodes += u64::from(finished);
        let chosen: u32 = hist.iter().sum();
        let mut size_tiers = [0u32; 5];
        for (a, &c) in hist.iter().enumerate().take(21).skip(1) {
            size_tiers[(a - 1) % 5] += c;
        }
        let per_episode = |s: f64| {
            if finished > 0 {
                (s / f64::from(finished)) as f32
            } else {
                0.0
            }
        };
        Ok(IterStats {
            iteration: self.iteration,
            timesteps: self.timesteps,
            mean_episode_return: per_episode(ret_sum),
            mean_episode_length: per_episode(len_sum),
            episodes: finished,
            entropy: 0.0,
            approx_kl: 0.0,
            clip_fraction: 0.0,
            value_loss: 0.0,
            policy_loss: 0.0,
            explained_variance: 0.0,
            hold_fraction: if chosen > 0 {
                hist[0] as f32 / chosen as f32
            } else {
                0.0
            },
            action_histogram: hist,
            size_tiers,
            learning_rate: self.cfg.learning_rate,
        })
    }

    /// Merge this step's observations into the running moments (feature by feature, env
    /// order), refresh the policy's frozen normalisation and normalise the batch with it.
    fn update_obs_norm(&mut self, run: &mut Run) {
        let (n, d) = (run.n_envs, run.obs_dim);
        for (j, stats) in run.obs_stats.iter_mut().enumerate() {
            for (i, c) in run.obs_column.iter_mut().enumerate() {
                *c = f64::from(run.cur_obs[i * d + j]);
            }
            stats.update(&run.obs_column[..n]);
        }
        let norm = self
            .policy
            .obs_norm
            .get_or_insert_with(|| super::policy::ObsNorm {
                mean: vec![0.0; d],
                inv_std: vec![1.0; d],
                clip: self.cfg.obs_clip,
            });
        for (j, stats) in run.obs_stats.iter().enumerate() {
            norm.mean[j] = stats.mean as f32;
            norm.inv_std[j] = (1.0 / stats.std()) as f32;
        }
        for (o, x) in run
            .norm_obs
            .chunks_exact_mut(d)
            .zip(run.cur_obs.chunks_exact(d))
        {
            norm.apply(x, o);
        }
    }

    /// GAE(λ) advantages and returns, never across an episode boundary.
    fn compute_gae(&self, run: &mut Run) {
        let (n, t_max) = (run.n_envs, self.cfg.n_steps);
        let (gamma, lambda) = (self.cfg.gamma, self.cfg.gae_lambda);
        run.last_adv.fill(0.0);
        for t in (0..t_max).rev() {
            for i in 0..n {
                let k = t * n + i;
                if !run.valid[k] {
                    run.advantages[k] = 0.0;
                    run.returns[k] = 0.0;
                    run.last_adv[i] = 0.0;
                    continue;
                }
                let v = run.values[k];
                let next_v = if t + 1 < t_max {
                    run.values[k + n]
                } else {
                    run.next_values[i]
                };
                let adv = if run.terminated[k] != 0 {
                    run.rewards[k] - v
                } else if run.truncated[k] != 0 {
                    run.rewards[k] + gamma * next_v - v
                } else {
                    run.rewards[k] + gamma * next_v - v + gamma * lambda * run.last_adv[i]
                };
                run.advantages[k] = adv;
                run.returns[k] = adv + v;
                run.last_adv[i] = adv;
            }
        }
    }
}
