import numpy as np
import pytest

import kalsim

DIM = len(kalsim.obs_schema())


def checkpoint(sizes=(5, 10, 20, 50, 100), hidden=8, seed=0):
    rng = np.random.default_rng(seed)

    def layer(i, o):
        return {"inputs": i, "outputs": o,
                "weight": (rng.standard_normal(i * o) * 0.1).astype(np.float32).tolist(),
                "bias": [0.0] * o}

    return {
        "format": "kalsim-policy",
        "version": 1,
        "meta": {"obs_schema_version": kalsim.obs_schema_version(), "obs_dim": DIM, "action_count": 25,
                 "size_table": list(sizes), "sizing": "variable"},
        "activation": "tanh",
        "hidden": [hidden],
        "policy_net": {"layers": [layer(DIM, hidden), layer(hidden, 25)]},
        "value_net": {"layers": [layer(DIM, hidden), layer(hidden, 1)]},
    }


def test_policy_plays_an_episode_within_the_mask():
    env = kalsim.KalsimEnv({"data": {"synthetic_markets": 2, "synthetic_events": 100}})
    policy = kalsim.Policy(checkpoint(), seed=1)
    policy.check_env(env)
    obs, _ = env.reset(seed=0)
    done = False
    while not done:
        mask = env.action_masks()
        a = policy.act(obs, mask, greedy=False)
        assert mask[a]
        p = policy.action_probs(obs, mask)
        assert abs(p.sum() - 1) < 1e-4 and (p[~mask] == 0).all()
        assert np.isfinite(policy.value(obs))
        obs, _, t, tr, _ = env.step(a)
        done = t or tr


def test_policy_errors():
    with pytest.raises(kalsim.PolicyError, match="policy"):
        kalsim.Policy('{"format": "other"}')
    p = kalsim.Policy(checkpoint(sizes=(1, 2, 3, 4, 5)))
    with pytest.raises(kalsim.PolicyError, match="size"):
        p.check_env(kalsim.KalsimEnv())
