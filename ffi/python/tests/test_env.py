import numpy as np
import pytest
import gymnasium as gym
from gymnasium.utils.env_checker import check_env

import kalsim
from conftest import SMALL


def test_check_env_passes():
    env = kalsim.KalsimEnv(SMALL)
    check_env(env, skip_render_check=True)
    env.close()


def test_gymnasium_make_and_spaces():
    env = gym.make("kalsim/Kalshi-v0", config=SMALL)
    assert env.action_space == gym.spaces.Discrete(25)
    obs, info = env.reset(seed=5)
    assert obs.dtype == np.float32 and obs.shape == env.observation_space.shape
    assert env.observation_space.contains(obs)
    for key in ("step", "cash_cents", "position", "portfolio_value_cents", "fees_paid_cents",
                "last_order_intent", "last_order_size", "last_order_limit_cents",
                "last_order_filled", "last_order_avg_fill_price", "invalid_action"):
        assert key in info
    env.close()


def test_same_seed_same_bits_and_metrics():
    def run(seed):
        env = kalsim.KalsimEnv(SMALL)
        obs, _ = env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        trace = [obs.view(np.uint32).tolist()]
        done = False
        while not done:
            mask = env.action_masks()
            a = int(rng.choice(np.flatnonzero(mask)))
            obs, r, term, trunc, info = env.step(a)
            trace.append((obs.view(np.uint32).tolist(), r, info["position"]))
            done = term or trunc
        return trace, env.metrics()

    assert run(11) == run(11)


def test_masks_hold_always_reserved_never():
    env = kalsim.KalsimEnv(SMALL)
    env.reset(seed=1)
    m = env.action_masks()
    assert m.dtype == bool and m.shape == (25,)
    assert m[0] and not m[21:].any()


def test_reserved_action_runs_as_hold():
    env = kalsim.KalsimEnv(SMALL)
    env.reset(seed=1)
    _, _, _, _, info = env.step(23)
    assert info["invalid_action"] == 8 and info["invalid_action_name"] == "reserved"


def test_metrics_after_episode():
    env = kalsim.KalsimEnv(SMALL)
    env.reset(seed=2)
    done = False
    while not done:
        _, _, term, trunc, _ = env.step(1)
        done = term or trunc
    m = env.metrics()
    assert m["steps"] > 0 and len(m["action_histogram"]) == 25 and len(m["fills_per_tier"]) == 5
    assert sum(m["action_histogram"]) == m["steps"]


def test_reset_without_seed_moves_to_next_market():
    env = kalsim.KalsimEnv(SMALL)
    _, i0 = env.reset(seed=4)
    _, i1 = env.reset()
    assert i0["market_index"] != i1["market_index"]


def test_core_primitives():
    assert kalsim.encode_action(3, 3) == 14
    assert kalsim.decode_action(14) == (3, 3)
    assert kalsim.decode_action(0) == (0, 255)
    assert kalsim.size_table() == [5, 10, 20, 50, 100]
    assert kalsim.taker_fee_cents(100, 50) == 175
    assert kalsim.validate_order(600, 0, 10_000_000, 10) == "position_limit"
    assert kalsim.validate_order(5, 0, 100_000, 50) == "none"
    schema = kalsim.obs_schema()
    assert len(schema) == 40 and schema[0]["name"]  # schema v2 (SPEC §8)
    assert kalsim.obs_schema_version() >= 1
