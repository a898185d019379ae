//! Training, evaluation and the sizing experiment from C: `kalsim_train`,
//! `kalsim_evaluate`, `kalsim_experiment_*`.
//!
//! These run `kalsim_host_sim::experiment`, the code behind `kalsim train`, `kalsim run`
//! and `kalsim experiment`, so checkpoints, logs and `experiment.json` are the same bytes
//! as the CLI's for the same inputs (paths and timings aside). Results come back as JSON
//! strings the library allocates: free them with `kalsim_string_free`. Callbacks run on the
//! calling thread (`kalsim_experiment_run`: on its worker threads, one call at a time).

use std::ffi::{CString, c_char, c_void};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kalsim_host_sim::env::{EnvConfig, load_markets};
use kalsim_host_sim::experiment::{
    Experiment, ExperimentError, ExperimentOptions, TrainOptions, evaluate_policy, load_policy,
    train_policy,
};
use kalsim_host_sim::train::{IterStats, Policy};
use serde_json::json;

use crate::ptr;
use crate::status::{FfiError, FfiResult, boundary, from_boxed, kalsim_status};

/// One PPO iteration's progress, passed to a `kalsim_train_progress_fn`.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct kalsim_train_progress {
    /// Iteration number, from 1.
    pub iteration: u64,
    /// Environment steps taken so far (all envs).
    pub timesteps: u64,
    /// The run's budget of environment steps.
    pub total_timesteps: u64,
    /// Episodes that finished during this iteration's rollout.
    pub episodes: u32,
    /// Mean return of those episodes (0 when none finished).
    pub mean_episode_return: f32,
    /// Mean entropy of the masked action distribution (nats).
    pub entropy: f32,
    /// Fraction of chosen actions that were HOLD.
    pub hold_fraction: f32,
}

/// Called after every training iteration with its progress and the caller's `user_data`;
/// return false to stop training early (the policy so far is kept and written).
#[allow(non_camel_case_types)]
pub type kalsim_train_progress_fn = Option<
    unsafe extern "C" fn(progress: *const kalsim_train_progress, user_data: *mut c_void) -> bool,
>;

/// Called as each experiment task finishes training, with its index in the plan's `tasks`.
#[allow(non_camel_case_types)]
pub type kalsim_task_done_fn =
    Option<unsafe extern "C" fn(task_index: usize, user_data: *mut c_void)>;

impl From<ExperimentError> for FfiError {
    fn from(e: ExperimentError) -> FfiError {
        let status = if e.input {
            kalsim_status::Config
        } else {
            kalsim_status::Run
        };
        FfiError::new(status, e.message)
    }
}

/// A JSON string for C: a NUL-terminated copy the caller frees with `kalsim_string_free`.
fn string_out(out: &mut *mut c_char, text: String) -> FfiResult {
    let c = CString::new(text).map_err(|e| FfiError::new(kalsim_status::Run, e.to_string()))?;
    *out = c.into_raw();
    Ok(())
}

/// Free a string returned by this library. NULL is a no-op.
///
/// # Safety
/// `s` is NULL or a string from a `kalsim_*` function documented to return one, not yet
/// freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_string_free(s: *mut c_char) {
    let _ = boundary(|| {
        if !s.is_null() {
            // SAFETY: a string from `CString::into_raw`, freed once by contract.
            drop(unsafe { CString::from_raw(s) });
        }
        Ok(())
    });
}

/// The configuration (NULL or "" = defaults).
///
/// # Safety
/// `config_json` is NULL or NUL-terminated.
unsafe fn config(config_json: *const c_char) -> FfiResult<EnvConfig> {
    // SAFETY: forwarded contract.
    let text = unsafe { ptr::str_or_empty(config_json, "config_json") }?;
    Ok(EnvConfig::from_json(text)?)
}

/// A progress forwarder for `train_policy`.
fn progress(
    cb: kalsim_train_progress_fn,
    user_data: *mut c_void,
    total: u64,
) -> impl FnMut(&IterStats) -> bool {
    move |s| match cb {
        Some(f) => {
            let p = kalsim_train_progress {
                iteration: s.iteration,
                timesteps: s.timesteps,
                total_timesteps: total,
                episodes: s.episodes,
                mean_episode_return: s.mean_episode_return,
                entropy: s.entropy,
                hold_fraction: s.hold_fraction,
            };
            // SAFETY: the caller's callback, with a pointer valid for the call.
            unsafe { f(&p, user_data) }
        }
        None => true,
    }
}

fn run_err(path: &Path, e: std::io::Error) -> FfiError {
    FfiError::new(kalsim_status::Run, format!("{}: {e}", path.display()))
}

/// Train a PPO policy as `kalsim train` does: on the markets of `config_json`, with the
/// training options `options_json` (NULL or "" = defaults; keys `steps`, `envs`,
/// `threads`, `seed`, `ppo` — docs/experiments.md, "Options"), writing the checkpoint to
/// `checkpoint_path` and, unless `log_path` is NULL, the per-iteration CSV log to
/// `log_path`. `progress` (may be NULL) sees every iteration and can stop early.
///
/// On success `*summary_out` is a JSON object (`iterations`, `timesteps`, `episodes`,
/// `stopped_early`, `last`, `checkpoint`) to free with `kalsim_string_free`. Errors:
/// `KALSIM_STATUS_CONFIG` (configuration, options, data), `KALSIM_STATUS_RUN` (a file that
/// cannot be written, a failing run), `KALSIM_STATUS_NULL_POINTER`.
///
/// # Safety
/// Strings are NULL or NUL-terminated (`checkpoint_path` non-NULL); `summary_out` is NULL
/// or writable; `progress`, if set, is safe to call with `user_data`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_train(
    config_json: *const c_char,
    options_json: *const c_char,
    checkpoint_path: *const c_char,
    log_path: *const c_char,
    progress_fn: kalsim_train_progress_fn,
    user_data: *mut c_void,
    summary_out: *mut *mut c_char,
) -> kalsim_status {
    boundary(|| {
        // SAFETY (all): caller contract.
        let out = unsafe { ptr::as_mut(summary_out, "summary_out") }?;
        let cfg = unsafe { config(config_json) }?;
        let opts =
            TrainOptions::from_json(unsafe { ptr::str_or_empty(options_json, "options_json") }?)?;
        if checkpoint_path.is_null() {
            return Err(FfiError::null("checkpoint_path"));
        }
        let checkpoint =
            Path::new(unsafe { ptr::str_or_empty(checkpoint_path, "checkpoint_path") }?);
        let log = unsafe { ptr::str_or_empty(log_path, "log_path") }?;
        let (markets, _) = load_markets(&cfg).map_err(from_boxed)?;
        let mut writer = if log.is_empty() {
            None
        } else {
            let path = Path::new(log);
            Some((
                BufWriter::new(File::create(path).map_err(|e| run_err(path, e))?),
                path,
            ))
        };
        let mut on_iter = progress(progress_fn, user_data, opts.steps);
        let (policy, summary) = train_policy(
            &cfg,
            &markets,
            &opts,
            writer.as_mut().map(|(w, _)| w as &mut dyn Write),
            &mut on_iter,
        )?;
        if let Some((mut w, path)) = writer {
            w.flush().map_err(|e| run_err(path, e))?;
        }
        std::fs::write(checkpoint, policy.to_json()).map_err(|e| run_err(checkpoint, e))?;
        let mut doc = serde_json::to_value(&summary).unwrap_or_default();
        doc["checkpoint"] = json!(checkpoint.display().to_string());
        string_out(out, doc.to_string())
    })
}

/// Evaluate a policy as `kalsim run --policy` does: `policy` is a baseline's name (`hold`,
/// `random`, `forecast-kelly`, ...) or a checkpoint path (checked against the
/// environment), run for `episodes` episodes from reset seed `seed` on the markets of
/// `config_json`. Unless `report_path` is NULL the report is also written there.
///
/// On success `*report_out` is the report JSON (`report.json` of `kalsim run`: aggregate
/// and per-episode SPEC §9 metrics) to free with `kalsim_string_free`. Errors as
/// `kalsim_train`.
///
/// # Safety
/// As `kalsim_train`; `policy` is non-NULL and NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_evaluate(
    config_json: *const c_char,
    policy: *const c_char,
    episodes: u32,
    seed: u64,
    report_path: *const c_char,
    report_out: *mut *mut c_char,
) -> kalsim_status {
    boundary(|| {
        // SAFETY (all): caller contract.
        let out = unsafe { ptr::as_mut(report_out, "report_out") }?;
        let cfg = unsafe { config(config_json) }?;
        if policy.is_null() {
            return Err(FfiError::null("policy"));
        }
        let spec = unsafe { ptr::str_or_empty(policy, "policy") }?;
        let path = unsafe { ptr::str_or_empty(report_path, "report_path") }?;
        let mut agent = load_policy(spec, seed, &cfg)
            .map_err(|e| FfiError::new(kalsim_status::Policy, e.message))?;
        let (markets, _) = load_markets(&cfg).map_err(from_boxed)?;
        let report = evaluate_policy(&cfg, &markets, agent.as_mut(), episodes, seed)?;
        let text = report.to_json();
        if !path.is_empty() {
            std::fs::write(path, &text).map_err(|e| run_err(Path::new(path), e))?;
        }
        string_out(out, text)
    })
}

/// The plan of an experiment.
///
/// # Safety
/// Strings are NULL or NUL-terminated.
unsafe fn plan(config_json: *const c_char, options_json: *const c_char) -> FfiResult<Experiment> {
    // SAFETY: forwarded contract.
    let cfg = unsafe { config(config_json) }?;
    // SAFETY: forwarded contract.
    let text = unsafe { ptr::str_or_empty(options_json, "options_json") }?;
    Ok(Experiment::new(cfg, ExperimentOptions::from_json(text)?)?)
}

/// Plan the sizing experiment of `kalsim experiment` on `config_json` with the options
/// `options_json` (NULL or "" = defaults; keys `train`, `seeds`, `episodes`, `eval_data`,
/// `split`, `in_sample`, `stochastic` — docs/experiments.md, "Options"): `*plan_out` is a JSON object
/// with `tasks` (each `{index, sizing, seed, checkpoint}`: one independent, deterministic
/// training run), `evaluation` (what the held-out data is), `config` and `eval_config`.
/// Free it with `kalsim_string_free`.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `plan_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_experiment_plan(
    config_json: *const c_char,
    options_json: *const c_char,
    plan_out: *mut *mut c_char,
) -> kalsim_status {
    boundary(|| {
        // SAFETY (both): caller contract.
        let out = unsafe { ptr::as_mut(plan_out, "plan_out") }?;
        let p = unsafe { plan(config_json, options_json) }?;
        let tasks: Vec<_> = p
            .tasks()
            .into_iter()
            .map(|t| {
                json!({"index": t.index, "sizing": t.sizing, "seed": t.seed, "checkpoint": t.checkpoint_name()})
            })
            .collect();
        let doc = json!({
            "tasks": tasks,
            "evaluation": p.split,
            "config": p.base,
            "eval_config": p.eval_base,
            "options": p.options,
        });
        string_out(out, doc.to_string())
    })
}

/// Train task `task_index` of the plan of (`config_json`, `options_json`): wherever it
/// runs (a thread, a process, a Ray worker) the checkpoint is the same bytes.
/// `*checkpoint_out` is the checkpoint JSON (free with `kalsim_string_free`); hand the
/// checkpoints of every task to `kalsim_experiment_gather`.
///
/// # Safety
/// As `kalsim_train`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_experiment_train_task(
    config_json: *const c_char,
    options_json: *const c_char,
    task_index: usize,
    progress_fn: kalsim_train_progress_fn,
    user_data: *mut c_void,
    checkpoint_out: *mut *mut c_char,
) -> kalsim_status {
    boundary(|| {
        // SAFETY (both): caller contract.
        let out = unsafe { ptr::as_mut(checkpoint_out, "checkpoint_out") }?;
        let p = unsafe { plan(config_json, options_json) }?;
        let mut on_iter = progress(progress_fn, user_data, p.options.train.steps);
        let policy = p.train_task(task_index, &mut on_iter)?;
        string_out(out, policy.to_json())
    })
}

/// Gather an experiment: `checkpoints_json` is a JSON array of the checkpoints of every
/// task, in task order (the strings `kalsim_experiment_train_task` returned). Writes each
/// checkpoint and `experiment.json` into `out_dir` after evaluating them on the held-out
/// markets beside the reference policies, exactly as `kalsim experiment` does. `jobs` and
/// `wall_seconds` (the training time so far) are recorded in `experiment.json`, nothing
/// else depends on them. `*result_out` is `{"path", "table", "criteria"}` (free with
/// `kalsim_string_free`).
///
/// # Safety
/// Strings are NULL or NUL-terminated (`out_dir` non-NULL); `result_out` is NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_experiment_gather(
    config_json: *const c_char,
    options_json: *const c_char,
    checkpoints_json: *const c_char,
    out_dir: *const c_char,
    jobs: usize,
    wall_seconds: f64,
    result_out: *mut *mut c_char,
) -> kalsim_status {
    boundary(|| {
        // SAFETY (all): caller contract.
        let out = unsafe { ptr::as_mut(result_out, "result_out") }?;
        let p = unsafe { plan(config_json, options_json) }?;
        let list = unsafe { ptr::str_or_empty(checkpoints_json, "checkpoints_json") }?;
        if out_dir.is_null() {
            return Err(FfiError::null("out_dir"));
        }
        let dir = Path::new(unsafe { ptr::str_or_empty(out_dir, "out_dir") }?);
        let texts: Vec<String> = serde_json::from_str(list).map_err(|e| {
            FfiError::arg(format!(
                "checkpoints_json: not a JSON array of strings: {e}"
            ))
        })?;
        let policies = texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                Policy::from_json(t).map_err(|e| {
                    FfiError::new(kalsim_status::Policy, format!("checkpoint {i}: {e}"))
                })
            })
            .collect::<FfiResult<Vec<_>>>()?;
        let prior = Duration::try_from_secs_f64(wall_seconds.max(0.0)).unwrap_or_default();
        let started = Instant::now()
            .checked_sub(prior)
            .unwrap_or_else(Instant::now);
        let outcome = p.gather(&policies, dir, jobs.max(1), started)?;
        let doc = json!({
            "path": dir.join("experiment.json").display().to_string(),
            "table": outcome.table,
            "criteria": outcome.criteria,
        });
        string_out(out, doc.to_string())
    })
}

/// The whole experiment on `jobs` local threads (0 = every core; results do not depend on
/// it), as `kalsim experiment --out out_dir`: plan, train every task, gather.
/// `task_done` (may be NULL) is called as each task finishes. `*result_out` as
/// `kalsim_experiment_gather`.
///
/// # Safety
/// As `kalsim_experiment_gather`; `task_done`, if set, is safe to call with `user_data`
/// from any thread, one call at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_experiment_run(
    config_json: *const c_char,
    options_json: *const c_char,
    out_dir: *const c_char,
    jobs: usize,
    task_done: kalsim_task_done_fn,
    user_data: *mut c_void,
    result_out: *mut *mut c_char,
) -> kalsim_status {
    boundary(|| {
        // SAFETY (all): caller contract.
        let out = unsafe { ptr::as_mut(result_out, "result_out") }?;
        let p = unsafe { plan(config_json, options_json) }?;
        if out_dir.is_null() {
            return Err(FfiError::null("out_dir"));
        }
        let dir = Path::new(unsafe { ptr::str_or_empty(out_dir, "out_dir") }?);
        let jobs = if jobs == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            jobs
        };
        // The callback and its data cross threads one call at a time.
        struct Shared(kalsim_task_done_fn, *mut c_void);
        // SAFETY: the caller promises the callback may be called from any thread, and the
        // mutex below serialises the calls.
        unsafe impl Send for Shared {}
        let shared = Mutex::new(Shared(task_done, user_data));
        let outcome = p.run(jobs, dir, &|t| {
            if let Ok(s) = shared.lock()
                && let Some(f) = s.0
            {
                // SAFETY: caller contract.
                unsafe { f(t.index, s.1) };
            }
        })?;
        let doc = json!({
            "path": dir.join("experiment.json").display().to_string(),
            "table": outcome.table,
            "criteria": outcome.criteria,
        });
        string_out(out, doc.to_string())
    })
}
