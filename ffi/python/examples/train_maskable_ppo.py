"""Train sb3-contrib's MaskablePPO on kalsim with variable position sizing, then print the
SPEC §9 metrics of a few evaluation episodes.

    pip install sb3-contrib torch
    python ffi/python/examples/train_maskable_ppo.py --timesteps 20000
    python ffi/python/examples/train_maskable_ppo.py --preset informed --timesteps 500000

Evaluation runs on held-out markets: the generator seed of the training data + 1000 (a
disjoint seed range, as `kalsim experiment` does). `--preset informed` uses the informed
markets of SPEC §10 with the settings of `docs/informed.toml`.

Needs torch and sb3-contrib (not dependencies of the kalsim package).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kalsim  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--timesteps", type=int, default=20_000)
    p.add_argument("--episodes", type=int, default=3, help="evaluation episodes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--markets", type=int, default=8)
    p.add_argument("--events", type=int, default=500)
    p.add_argument("--preset", choices=["default", "informed"], default="default")
    args = p.parse_args(argv)

    from sb3_contrib import MaskablePPO
    from sb3_contrib.common.wrappers import ActionMasker

    config = {
        "sizing": "variable",
        "sizes": [5, 10, 20, 50, 100],
        "data": {"synthetic_markets": args.markets, "synthetic_events": args.events,
                 "synthetic_seed": 7},
    }
    if args.preset == "informed":
        config.update({"mark": "mid", "decision_interval": {"ms": 3000}})
        config["data"].update({"preset": "informed", "synthetic_markets": max(args.markets, 1024),
                               "synthetic_events": 600})
    eval_config = {**config, "data": {**config["data"], "synthetic_seed": 1007}}
    env = ActionMasker(kalsim.KalsimEnv(config), lambda e: e.unwrapped.action_masks())
    model = MaskablePPO("MlpPolicy", env, seed=args.seed, n_steps=512, batch_size=128, verbose=0)
    model.learn(total_timesteps=args.timesteps)

    eval_env = kalsim.KalsimEnv(eval_config)
    sizes = eval_env.size_table()
    for ep in range(args.episodes):
        obs, _ = eval_env.reset(seed=args.seed + 1000 + ep)
        done, total = False, 0.0
        while not done:
            action, _ = model.predict(obs, action_masks=eval_env.action_masks(), deterministic=True)
            obs, reward, term, trunc, _ = eval_env.step(int(action))
            total += reward
            done = term or trunc
        m = eval_env.metrics()
        dist = {s: n for s, n in zip(sizes, m["fills_per_tier"])}
        print(f"episode {ep}: reward {total:.4f} steps {m['steps']}")
        print(f"  total_return {m['total_return']:.6f} sharpe {m['sharpe']:.4f} "
              f"max_drawdown {m['max_drawdown']:.4f} win_rate {m['win_rate']:.3f}")
        print(f"  fees_cents {m['fees_cents']} hold_fraction {m['hold_fraction']:.3f} "
              f"size_efficiency {m['size_efficiency']:.3f}")
        print(f"  position_size_distribution {dist}")
        print(f"  avg_winning_position_size {m['avg_winning_position_size']:.2f} "
              f"avg_losing_position_size {m['avg_losing_position_size']:.2f} "
              f"max_position_reached {m['max_position_reached']} "
              f"size_changes {m['size_changes']} invalid_actions {m['invalid_actions']}")
        print(f"  action_histogram {m['action_histogram']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
