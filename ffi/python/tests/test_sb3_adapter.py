"""`kalsim.sb3.KalsimSB3VecEnv`: SB3's VecEnv conventions over the native vector env.

Runs without torch (the adapter's standalone base); with Stable-Baselines3 importable the
same tests run against its ``VecEnv`` subclass, plus ``isinstance`` and MaskablePPO's mask
helpers.
"""

import importlib.util

import numpy as np
import pytest

import kalsim
from kalsim.sb3 import HAVE_SB3, KalsimSB3VecEnv
from conftest import SMALL

SHORT = {"max_steps": 5, **SMALL}




def test_same_step_convention_matches_a_next_step_rollout():
    n, seed = 3, 12
    env = KalsimSB3VecEnv(n, SHORT, threads=1)
    env.seed(seed)
    obs = env.reset()
    ref = kalsim.KalsimVecEnv(n, SHORT, threads=1)
    ref_obs, _ = ref.reset(seed=seed)
    assert obs.tobytes() == ref_obs.tobytes()
    assert obs.dtype == np.float32 and obs.shape == (n, kalsim.OBS_DIM)
    rng = np.random.default_rng(0)
    episodes = 0
    for _ in range(23):
        masks = np.stack(env.env_method("action_masks"))
        assert (masks == ref.action_masks()).all()
        actions = np.array([rng.choice(np.flatnonzero(m)) for m in masks])
        obs, rewards, dones, infos = env.step(actions)
        r_obs, r_rew, r_te, r_tr, r_inf = ref.step(actions)
        assert rewards.dtype == np.float32 and dones.dtype == bool and len(infos) == n
        assert (rewards == r_rew.astype(np.float32)).all()
        assert (dones == (r_te | r_tr)).all()
        for i in range(n):
            assert infos[i]["step"] == r_inf["step"][i]
            assert infos[i]["cash_cents"] == r_inf["cash_cents"][i]
        if dones.any():
            episodes += 1
            for i in np.flatnonzero(dones):
                info = infos[i]
                assert info["terminal_observation"].tobytes() == r_obs[i].tobytes()
                assert info["TimeLimit.truncated"] == (bool(r_tr[i]) and not bool(r_te[i]))
                assert info["episode"]["l"] == r_inf["step"][i]
                assert info["metrics"]["steps"] == r_inf["step"][i]
                assert info["metrics"] == ref.metrics(int(i))
            # The reference resets on its next step; the adapter already did.
            r_obs, _, _, _, _ = ref.step(np.zeros(n, dtype=np.int64))
            assert (obs[dones] == r_obs[dones]).all()
            assert all("terminal_observation" not in infos[i] for i in np.flatnonzero(~dones))
        else:
            assert (obs == r_obs).all()
    assert episodes >= 3


def test_episode_returns_sum_the_rewards():
    env = KalsimSB3VecEnv(2, SHORT, threads=1)
    env.seed(1)
    env.reset()
    total = np.zeros(2)
    for _ in range(5):
        _, rewards, dones, infos = env.step(np.zeros(2, dtype=np.int64))
        total += rewards
    assert dones.all()
    for i in range(2):
        assert infos[i]["episode"]["r"] == pytest.approx(total[i], rel=1e-6, abs=1e-9)


def test_vec_env_interface():
    env = KalsimSB3VecEnv(4, SMALL, threads=2)
    assert env.num_envs == 4
    assert env.observation_space.shape == (kalsim.OBS_DIM,)
    assert env.action_space.n == kalsim.ACTION_COUNT
    env.seed(3)
    obs = env.reset()
    assert len(env.reset_infos) == 4 and env.reset_infos[0]["step"] == 0
    assert env.get_attr("action_masks")  # MaskablePPO's is_masking_supported probe
    with pytest.raises(AttributeError):
        env.get_attr("no_such_attribute")
    assert len(env.env_method("action_masks", indices=[1, 3])) == 2
    assert env.env_is_wrapped(object) == [False] * 4
    assert len(env.env_method("metrics", indices=2)) == 1
    env.step_async(np.zeros(4, dtype=np.int64))
    obs2, _, _, _ = env.step_wait()
    assert obs2.shape == obs.shape
    with pytest.raises(kalsim.InvalidArgumentError):
        env.step_wait()
    # Same seed, same bits.
    a = KalsimSB3VecEnv(4, SMALL, threads=1)
    a.seed(3)
    assert a.reset().tobytes() == obs.tobytes()
    env.close()


@pytest.mark.skipif(not HAVE_SB3, reason="stable-baselines3 (and torch) not importable")
def test_is_an_sb3_vec_env_and_masks_work_with_sb3_contrib():
    from stable_baselines3.common.vec_env import VecEnv

    env = KalsimSB3VecEnv(2, SMALL)
    assert isinstance(env, VecEnv)
    if importlib.util.find_spec("sb3_contrib") is not None:
        from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported

        assert is_masking_supported(env)
        env.reset()
        assert get_action_masks(env).shape == (2, kalsim.ACTION_COUNT)
