import numpy as np
import pytest
import gymnasium as gym

import kalsim
from conftest import SMALL

# Short episodes so autoreset happens within a few steps.
SHORT = {"max_steps": 3, **SMALL}


def test_shapes_and_spaces():
    v = kalsim.KalsimVecEnv(4, SMALL, threads=2)
    obs, infos = v.reset(seed=1)
    assert obs.shape == (4, len(kalsim.obs_schema())) and obs.dtype == np.float32
    assert infos["action_mask"].shape == (4, 25)
    obs, rew, term, trunc, infos = v.step(np.zeros(4, dtype=np.int64))
    assert rew.dtype == np.float64 and term.dtype == bool and trunc.dtype == bool
    assert (infos["step"] == 1).all()
    v.close()


def test_next_step_autoreset():
    v = kalsim.KalsimVecEnv(3, SHORT, threads=1)
    v.reset(seed=9)
    for _ in range(3):
        obs, rew, term, trunc, infos = v.step(np.zeros(3, dtype=np.int64))
    assert (term | trunc).all()
    ended_market = infos["market_index"].copy()
    # The next step ignores the actions (even out-of-range ones) and resets.
    obs, rew, term, trunc, infos = v.step(np.full(3, 99))
    assert (rew == 0).all() and not term.any() and not trunc.any()
    assert (infos["step"] == 0).all()
    assert (infos["market_index"] != ended_market).any()
    obs, rew, term, trunc, infos = v.step(np.zeros(3, dtype=np.int64))
    assert (infos["step"] == 1).all()


def test_matches_itself_across_thread_counts():
    def run(threads):
        v = kalsim.KalsimVecEnv(6, SHORT, threads=threads)
        obs, _ = v.reset(seed=5)
        rng = np.random.default_rng(0)
        out = [obs.view(np.uint32).copy()]
        for _ in range(8):
            masks = v.action_masks()
            acts = np.array([rng.choice(np.flatnonzero(m)) for m in masks])
            obs, r, t, tr, _ = v.step(acts)
            out += [obs.view(np.uint32).copy(), r.copy(), t.copy(), tr.copy()]
        return out

    a, b = run(1), run(3)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_bad_action_raises_before_moving():
    v = kalsim.KalsimVecEnv(2, SMALL)
    v.reset(seed=1)
    with pytest.raises(kalsim.InvalidActionError, match="out of range"):
        v.step(np.array([0, 25]))
    _, _, _, _, infos = v.step(np.array([0, 0]))
    assert (infos["step"] == 1).all()


def test_make_vec_entry_point():
    v = gym.make_vec("kalsim/Kalshi-v0", num_envs=2, vectorization_mode="vector_entry_point", config=SMALL)
    obs, _ = v.reset(seed=0)
    assert obs.shape == (2, len(kalsim.obs_schema()))
    v.close()


def test_per_env_metrics():
    v = kalsim.KalsimVecEnv(2, SHORT)
    v.reset(seed=2)
    v.step(np.array([1, 0]))
    m = v.metrics(0)
    assert m["steps"] == 1 and m["action_histogram"][1] == 1
    with pytest.raises(kalsim.InvalidArgumentError):
        v.metrics(5)


def test_valid_action_sampler_is_exact_and_uniform():
    v = kalsim.KalsimVecEnv(16, SHORT, threads=1, copy=False)
    v.reset(seed=2)
    sample = kalsim.ValidActionSampler(16, np.random.default_rng(7))
    reference_rng = np.random.default_rng(7)
    for _ in range(40):
        masks = v.action_masks().copy()
        actions = sample(masks).copy()
        # The same draws, env by env: the floor(u * count)-th valid id.
        u = reference_rng.random(16)
        want = [np.flatnonzero(m)[int(x * m.sum())] for m, x in zip(masks, u)]
        assert actions.tolist() == want
        assert masks[np.arange(16), actions].all()
        v.step(actions)
    # Arbitrary masks (every id valid, only the last, random ones), N not a multiple of the
    # 8 envs the scan packs per word, masks as bool and as 0/1 ints: the same draws.
    n = 13
    rng = np.random.default_rng(11)
    odd = kalsim.ValidActionSampler(n, np.random.default_rng(5))
    reference_rng = np.random.default_rng(5)
    for trial in range(30):
        masks = rng.random((n, kalsim.ACTION_COUNT)) < rng.random()
        masks[0] = True
        masks[1] = False
        masks[1, -1] = True
        masks[np.arange(n), rng.integers(0, kalsim.ACTION_COUNT, n)] = True
        given = masks if trial % 2 else masks.astype(np.int64)
        actions = odd(given).copy()
        u = reference_rng.random(n)
        want = [np.flatnonzero(m)[int(x * m.sum())] for m, x in zip(masks, u)]
        assert actions.tolist() == want
    # Uniform over the valid ids: 12 000 draws on one fixed mask, chi-square with 10 d.o.f.
    mask = np.zeros((1, kalsim.ACTION_COUNT), dtype=bool)
    mask[0, [0, 1, 2, 3, 6, 7, 11, 16, 17, 18, 19]] = True
    one = kalsim.ValidActionSampler(1, np.random.default_rng(3))
    counts = np.bincount([int(one(mask)[0]) for _ in range(12_000)], minlength=kalsim.ACTION_COUNT)
    assert counts[~mask[0]].sum() == 0
    expected = 12_000 / 11
    chi2 = float((((counts[mask[0]] - expected) ** 2) / expected).sum())
    assert chi2 < 29.6, chi2  # p = 0.001
    with pytest.raises(kalsim.InvalidArgumentError, match="no valid action"):
        one(np.zeros((1, kalsim.ACTION_COUNT), dtype=bool))
    with pytest.raises(kalsim.InvalidArgumentError, match="shape"):
        one(np.ones((2, kalsim.ACTION_COUNT), dtype=bool))
