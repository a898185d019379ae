"""Steps per second of KalsimEnv and KalsimVecEnv (measurement, not a test).

    python ffi/python/examples/bench.py [--steps 200000] [--num-envs 1024] [--threads N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kalsim  # noqa: E402


def single(steps: int) -> float:
    env = kalsim.KalsimEnv()
    env.reset(seed=42)
    rng = np.random.default_rng(42)
    start = time.perf_counter()
    for _ in range(steps):
        mask = env.action_masks()
        allowed = np.flatnonzero(mask)
        a = allowed[rng.integers(len(allowed))]
        _, _, term, trunc, _ = env.step(a)
        if term or trunc:
            env.reset()
    return steps / (time.perf_counter() - start)


def vector(num_envs: int, batches: int, threads) -> float:
    env = kalsim.KalsimVecEnv(num_envs, threads=threads, copy=False)
    env.reset(seed=42)
    rng = np.random.default_rng(42)
    start = time.perf_counter()
    for _ in range(batches):
        # A random allowed action per env: argmax of random scores over the mask.
        scores = rng.random((num_envs, kalsim.ACTION_COUNT)) * env.action_masks()
        env.step(scores.argmax(axis=1))
    return num_envs * batches / (time.perf_counter() - start)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=200_000)
    p.add_argument("--num-envs", type=int, default=1024)
    p.add_argument("--batches", type=int, default=500)
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args()
    print(f"library {kalsim.find_library()}")
    print(f"python_single_env steps_per_second {single(args.steps):.0f}")
    rate = vector(args.num_envs, args.batches, args.threads)
    print(f"python_vec_env num_envs {args.num_envs} steps_per_second {rate:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
