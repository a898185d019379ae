"""Train RLlib's PPO on the kalsim Gymnasium env with several env runners (needs torch and
``ray[rllib]``; skipped by the test suite when they are absent).

    pip install "ray[rllib]" torch
    python ffi/python/examples/rllib_ppo.py --env-runners 2 --iterations 5
    python ffi/python/examples/rllib_ppo.py --address auto --env-runners 32   # on a cluster

Each env runner is a Ray actor stepping its own `KalsimEnv`s, so rollouts scale with the
cluster while the learner updates one policy. RLlib's default model does not read
``action_masks()``; masked actions run as HOLD (the environment's ``invalid_action =
"hold"``, counted in ``info["invalid_action"]``), so the policy learns to avoid them. For
masked PPO with kalsim's own trainer, see `kalsim.train` and `kalsim.ray`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kalsim  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--env-runners", type=int, default=2)
    p.add_argument("--iterations", type=int, default=2)
    p.add_argument("--address", default=None)
    p.add_argument("--config", default=None, help="a kalsim TOML/JSON config (default: small synthetic)")
    args = p.parse_args(argv)
    import ray
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.tune.registry import register_env

    import kalsim.ray as kr

    ray.init(address=args.address, include_dashboard=False, log_to_driver=False, runtime_env=kr.runtime_env())
    env_config = {"kalsim": args.config or {"sizing": "variable", "data": {"synthetic_markets": 4, "synthetic_events": 300}}}
    register_env("kalsim", lambda c: kalsim.KalsimEnv(c["kalsim"]))
    config = (
        PPOConfig()
        .environment("kalsim", env_config=env_config)
        .env_runners(num_env_runners=args.env_runners, rollout_fragment_length=128)
        .training(train_batch_size_per_learner=128 * max(1, args.env_runners), minibatch_size=128, num_epochs=2)
        .debugging(seed=0)
    )
    algo = config.build_algo() if hasattr(config, "build_algo") else config.build()
    for i in range(args.iterations):
        result = algo.train()
        runners = result.get("env_runners", {})
        print(f"iteration {i + 1}: episode_return_mean {runners.get('episode_return_mean', float('nan')):.3f} "
              f"env_steps {result.get('num_env_steps_sampled_lifetime', runners.get('num_env_steps_sampled_lifetime'))}")
    algo.stop()
    ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
