"""Train sb3-contrib's MaskablePPO on kalsim's native vector env with variable position
sizing, then evaluate on held-out markets and print the SPEC §9 metrics.

    pip install sb3-contrib torch
    python ffi/python/examples/train_maskable_ppo.py --timesteps 20000
    python ffi/python/examples/train_maskable_ppo.py --config docs/informed.toml --timesteps 500000

MaskablePPO steps `kalsim.sb3.KalsimSB3VecEnv` directly (SB3's same-step autoreset, one
library call for all ``--num-envs`` envs). Evaluation runs on held-out markets from
`kalsim.held_out_config` (the generator seed + 1000, a disjoint seed range, as
`kalsim experiment` does): no evaluation market was seen in training. ``--config`` takes
a TOML/JSON file such as ``docs/informed.toml`` (the informed markets of SPEC §10, where
an edge after costs exists to be learned).

Needs torch and sb3-contrib (not dependencies of the kalsim package).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kalsim  # noqa: E402
from kalsim.sb3 import KalsimSB3VecEnv  # noqa: E402


def evaluate(model: Any, config: dict, episodes: int, seed: int) -> list[dict]:
    """Deterministic episodes of `model` on `config`; their SPEC §9 metrics and rewards."""
    env = kalsim.KalsimEnv(config)
    out = []
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        done, total = False, 0.0
        while not done:
            action, _ = model.predict(obs, action_masks=env.action_masks(), deterministic=True)
            obs, reward, term, trunc, _ = env.step(int(action))
            total += float(reward)
            done = term or trunc
        out.append({"reward": total, **env.metrics()})
    env.close()
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--timesteps", type=int, default=20_000)
    p.add_argument("--episodes", type=int, default=3, help="evaluation episodes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--num-envs", type=int, default=8)
    p.add_argument("--config", default=None, help="a TOML/JSON config file (e.g. docs/informed.toml)")
    p.add_argument("--markets", type=int, default=8, help="synthetic markets (without --config)")
    p.add_argument("--events", type=int, default=500, help="events per market (without --config)")
    args = p.parse_args(argv)

    from sb3_contrib import MaskablePPO

    if args.config:
        config = {**json.loads(kalsim.core.config_json(Path(args.config))), "sizing": "variable"}
    else:
        config = {
            "sizing": "variable",
            "data": {"synthetic_markets": args.markets, "synthetic_events": args.events, "synthetic_seed": 7},
        }
    eval_config = kalsim.held_out_config(config)
    print(f"training on generator seed {config['data']['synthetic_seed']}, "
          f"evaluating on held-out seed {eval_config['data']['synthetic_seed']}")

    env = KalsimSB3VecEnv(args.num_envs, config)
    n_steps = max(16, 512 // args.num_envs)
    model = MaskablePPO("MlpPolicy", env, seed=args.seed, n_steps=n_steps, batch_size=128, verbose=0)
    model.learn(total_timesteps=args.timesteps)

    sizes = kalsim.KalsimEnv(config).size_table()
    for ep, m in enumerate(evaluate(model, eval_config, args.episodes, args.seed + 1000)):
        dist = {s: n for s, n in zip(sizes, m["fills_per_tier"])}
        print(f"held-out episode {ep}: reward {m['reward']:.4f} steps {m['steps']}")
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
