"""MaskablePPO timesteps per second on `KalsimSB3VecEnv` against a ``DummyVecEnv`` of
single `KalsimEnv`s, and kalsim's native trainer (`kalsim.train`, one thread) against
both, on the same environment, budget and hyper-parameters (MaskablePPO's defaults:
10 epochs, minibatches of 128, [64, 64] tanh networks, no entropy bonus), same run (a
measurement, not a test; docs/performance.md records its output). Needs torch and
sb3-contrib.

    python ffi/python/examples/bench_sb3.py [--num-envs 8] [--timesteps 20000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kalsim  # noqa: E402
from kalsim.sb3 import KalsimSB3VecEnv  # noqa: E402

CONFIG = {"sizing": "variable", "data": {"synthetic_markets": 8, "synthetic_events": 500}}


def rate(make_env, timesteps: int, num_envs: int) -> float:
    from sb3_contrib import MaskablePPO

    env = make_env()
    model = MaskablePPO("MlpPolicy", env, seed=0, n_steps=max(16, 512 // num_envs), batch_size=128, verbose=0)
    start = time.perf_counter()
    model.learn(total_timesteps=timesteps)
    return model.num_timesteps / (time.perf_counter() - start)


def native_trainer_rate(timesteps: int, num_envs: int) -> float:
    """kalsim's own PPO on the same budget and MaskablePPO's hyper-parameters."""
    ppo = {
        "n_steps": max(16, 512 // num_envs),
        "minibatch_size": 128,
        "n_epochs": 10,
        "ent_coef": 0.0,
        "hidden": [64, 64],
        "seed": 0,
    }
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        summary = kalsim.train(
            CONFIG, Path(tmp) / "policy.json", options={"ppo": ppo}, steps=timesteps, envs=num_envs, threads=1
        )
        return summary["timesteps"] / (time.perf_counter() - start)


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--num-envs", type=int, default=8)
    p.add_argument("--timesteps", type=int, default=20_000)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    import torch
    from sb3_contrib.common.wrappers import ActionMasker
    from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

    torch.set_num_threads(1)
    n = args.num_envs

    def native():
        return KalsimSB3VecEnv(n, CONFIG, threads=1)

    def dummy():
        def one():
            return ActionMasker(kalsim.KalsimEnv(CONFIG), lambda e: e.unwrapped.action_masks())

        return VecMonitor(DummyVecEnv([one for _ in range(n)]))

    a, b, c = [], [], []
    for _ in range(args.repeats):
        a.append(rate(native, args.timesteps, n))
        b.append(rate(dummy, args.timesteps, n))
        c.append(native_trainer_rate(args.timesteps, n))
    na, nb, nc = statistics.median(a), statistics.median(b), statistics.median(c)
    print(f"maskable_ppo num_envs {n} native_vec_env {na:.0f} dummy_vec_env {nb:.0f} ratio {na / nb:.2f} timesteps/s")
    print(
        f"kalsim_trainer num_envs {n} {nc:.0f} timesteps/s: {nc / na:.1f}x MaskablePPO on the native "
        f"vec env, {nc / nb:.1f}x on DummyVecEnv"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
