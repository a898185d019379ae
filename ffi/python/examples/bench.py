"""Steps per second of the Python bindings against the library's own rate (a measurement,
not a test; docs/performance.md records its output).

    KALSIM_LIB=$PWD/target/release/libkalsim.so \\
        python ffi/python/examples/bench.py [--steps 300000] [--num-envs 1024] [--batches 300] \\
        [--threads 1 2] [--repeats 3] [--json FILE]

- ``single_env``: `KalsimEnv.step` in a Python loop (one library call per step; the action
  a random id replaced by HOLD when masked, so the loop measures the binding, not a sampler).
- ``vec_env``: `KalsimVecEnv.step` at N envs with uniformly random valid actions sampled
  in numpy (`kalsim.ValidActionSampler`: one draw per env, a few vectorised passes over
  preallocated buffers), against the library stepping the same vector env with random
  valid actions drawn natively (``kalsim_vec_env_run_random``), in the same run: the ratio
  is the binding's efficiency. ``argmax_steps_per_s`` is the same loop with the common
  argmax-of-masked-uniform-scores sampler (25 draws per env), for comparison;
  ``kept_infos_steps_per_s`` the loop with each step's results bound to names (its infos
  dict then outlives the next step, which copies it); ``sampler_us`` the sampler alone.

Each figure is the median of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kalsim  # noqa: E402
from kalsim._lib import check, lib  # noqa: E402


def single(steps: int) -> float:
    env = kalsim.KalsimEnv()
    env.reset(seed=42)
    actions = np.random.default_rng(42).integers(0, kalsim.ACTION_COUNT, size=steps).tolist()
    mask = env.action_masks()  # the env's own buffer, rewritten by every step
    start = time.perf_counter()
    for a in actions:
        if not mask[a]:
            a = 0
        _, _, term, trunc, _ = env.step(a)
        if term or trunc:
            env.reset()
    return steps / (time.perf_counter() - start)


def vector_python(env: kalsim.KalsimVecEnv, batches: int) -> float:
    n = env.num_envs
    env.reset(seed=42)
    # SFC64: numpy's fastest bit generator; one draw per env (`ValidActionSampler`).
    sample = kalsim.ValidActionSampler(n, np.random.Generator(np.random.SFC64(42)))
    masks = env.action_masks()  # rewritten in place by every step
    start = time.perf_counter()
    for _ in range(batches):
        env.step(sample(masks))
    return n * batches / (time.perf_counter() - start)


def vector_python_keeping_infos(env: kalsim.KalsimVecEnv, batches: int) -> float:
    """The same loop written as most users write it: the step's results bound to names, so
    each step's infos dict is still alive at the next step and is copied then."""
    n = env.num_envs
    env.reset(seed=42)
    sample = kalsim.ValidActionSampler(n, np.random.Generator(np.random.SFC64(42)))
    masks = env.action_masks()
    start = time.perf_counter()
    for _ in range(batches):
        obs, rewards, terminated, truncated, infos = env.step(sample(masks))
    return n * batches / (time.perf_counter() - start)


def sampler_us(env: kalsim.KalsimVecEnv, calls: int) -> float:
    """`ValidActionSampler` alone on the env's current masks, µs per call."""
    sample = kalsim.ValidActionSampler(env.num_envs, np.random.Generator(np.random.SFC64(42)))
    masks = env.action_masks()
    start = time.perf_counter()
    for _ in range(calls):
        sample(masks)
    return (time.perf_counter() - start) / calls * 1e6


def vector_python_argmax(env: kalsim.KalsimVecEnv, batches: int) -> float:
    """The same loop with the common argmax-of-masked-uniform-scores sampler (25 draws per
    env), for comparison."""
    n = env.num_envs
    env.reset(seed=42)
    rng = np.random.Generator(np.random.SFC64(42))
    scores = np.empty((n, kalsim.ACTION_COUNT), dtype=np.float32)
    actions = np.empty(n, dtype=np.intp)
    masks = env.action_masks()
    start = time.perf_counter()
    for _ in range(batches):
        rng.random(out=scores, dtype=np.float32)
        np.multiply(scores, masks, out=scores)
        scores.argmax(axis=1, out=actions)
        env.step(actions)
    return n * batches / (time.perf_counter() - start)


def vector_native(env: kalsim.KalsimVecEnv, batches: int) -> float:
    steps = ctypes.c_uint64()
    start = time.perf_counter()
    check(lib.kalsim_vec_env_run_random(env._handle, 42, batches, ctypes.byref(steps)))
    return steps.value / (time.perf_counter() - start)


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=300_000)
    p.add_argument("--num-envs", type=int, default=1024)
    p.add_argument("--batches", type=int, default=300)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    out: dict[str, Any] = {"library": str(kalsim.find_library()), "num_envs": args.num_envs}
    print(f"library {out['library']}")
    out["single_env_steps_per_s"] = statistics.median(single(args.steps) for _ in range(args.repeats))
    print(f"python single_env steps_per_s {out['single_env_steps_per_s']:.0f}")
    out["vec_env"] = []
    for threads in args.threads:
        env = kalsim.KalsimVecEnv(args.num_envs, threads=threads, copy=False)
        vector_python(env, 3)  # warm-up: thread pool, first touch
        py, kept, arg, native, samp = [], [], [], [], []
        for _ in range(args.repeats):  # interleaved, so drift hits all alike
            native.append(vector_native(env, args.batches))
            py.append(vector_python(env, args.batches))
            kept.append(vector_python_keeping_infos(env, args.batches))
            arg.append(vector_python_argmax(env, args.batches))
            samp.append(sampler_us(env, args.batches))
        row = {
            "n": args.num_envs,
            "threads": threads,
            "python_steps_per_s": statistics.median(py),
            "kept_infos_steps_per_s": statistics.median(kept),
            "argmax_steps_per_s": statistics.median(arg),
            "native_steps_per_s": statistics.median(native),
            "sampler_us": statistics.median(samp),
        }
        row["ratio"] = row["python_steps_per_s"] / row["native_steps_per_s"]
        row["kept_infos_ratio"] = row["kept_infos_steps_per_s"] / row["native_steps_per_s"]
        row["argmax_ratio"] = row["argmax_steps_per_s"] / row["native_steps_per_s"]
        out["vec_env"].append(row)
        env.close()
        print(
            f"vec_env n {args.num_envs} threads {threads} python {row['python_steps_per_s']:.0f} "
            f"native {row['native_steps_per_s']:.0f} ratio {row['ratio']:.2f} "
            f"(infos kept {row['kept_infos_ratio']:.2f}; argmax sampler "
            f"{row['argmax_steps_per_s']:.0f}, {row['argmax_ratio']:.2f}; "
            f"sampler {row['sampler_us']:.1f} us)"
        )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
