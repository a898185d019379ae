"""One library call per step, the lazy info dict, same-step autoreset, the held-out config."""

import copy
import json
import pickle

import gymnasium as gym
import numpy as np
import pytest

import kalsim
from kalsim.info import LazyInfo
from conftest import SMALL

SHORT = {"max_steps": 4, **SMALL}


def _random_run(env, seed, steps):
    """Observations, rewards, flags, infos and masks of a seeded random valid-action run."""
    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    out = [(obs.tobytes(), dict(info), env.action_masks().copy())]
    for _ in range(steps):
        a = int(rng.choice(np.flatnonzero(env.action_masks())))
        obs, r, term, trunc, info = env.step(a)
        out.append((obs.tobytes(), r, term, trunc, dict(info), env.action_masks().copy()))
        if term or trunc:
            obs, info = env.reset()
            out.append((obs.tobytes(), dict(info), env.action_masks().copy()))
    return out


def test_step_is_one_call_and_equals_the_separate_calls():
    """`step` and `reset` write obs, mask and info in one call; the results equal the
    library's separate step / mask / info calls (kalsim_env_step, _action_mask, _info)."""
    import ctypes

    from kalsim._lib import Step, StepInfo, check, lib

    env = kalsim.KalsimEnv(SHORT)
    handle = ctypes.c_void_p()
    check(lib.kalsim_env_new(kalsim.core.config_json(SHORT), ctypes.byref(handle)))
    obs_ref = np.zeros(kalsim.OBS_DIM, dtype=np.float32)
    mask_ref = np.zeros(kalsim.ACTION_COUNT, dtype=np.uint8)
    f32p = obs_ref.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
    u8p = mask_ref.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8))
    obs, info = env.reset(seed=3)
    check(lib.kalsim_env_reset(handle, 3, f32p, obs_ref.size))
    rng = np.random.default_rng(3)
    for _ in range(40):
        check(lib.kalsim_env_action_mask(handle, u8p, mask_ref.size))
        assert (env.action_masks() == mask_ref.astype(bool)).all()
        a = int(rng.choice(np.flatnonzero(mask_ref)))
        obs, r, term, trunc, info = env.step(a)
        step = Step()
        check(lib.kalsim_env_step(handle, a, ctypes.byref(step), f32p, obs_ref.size))
        assert obs.tobytes() == obs_ref.tobytes()
        assert (r, term, trunc) == (step.reward, step.terminated, step.truncated)
        assert isinstance(term, bool) and isinstance(trunc, bool)
        assert info == kalsim.env.info_dict(step.info)
        if term or trunc:
            obs, info = env.reset()
            check(lib.kalsim_env_reset_next(handle, f32p, obs_ref.size))
            assert obs.tobytes() == obs_ref.tobytes()
            ref = StepInfo()
            check(lib.kalsim_env_info(handle, ctypes.byref(ref)))
            assert info == kalsim.env.info_dict(ref)
    lib.kalsim_env_free(handle)


def test_same_seed_same_bits_through_the_fast_path():
    a = _random_run(kalsim.KalsimEnv(SHORT), 5, 60)
    b = _random_run(kalsim.KalsimEnv(SHORT), 5, 60)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        for u, v in zip(x, y):
            assert (u == v).all() if isinstance(u, np.ndarray) else u == v


def test_the_info_of_a_step_survives_the_next_step():
    env = kalsim.KalsimEnv(SMALL)
    env.reset(seed=1)
    _, _, _, _, first = env.step(0)
    _, _, _, _, second = env.step(0)
    assert first["step"] == 1 and second["step"] == 2


def test_vector_infos_are_copied_only_when_kept_and_survive_later_steps():
    v = kalsim.KalsimVecEnv(3, SMALL, threads=1, copy=False)
    copies = []
    real = v._infos_fn

    def counting(*args):
        copies.append(1)
        return real(*args)

    v._infos_fn = counting
    v.reset(seed=4)
    for _ in range(5):
        v.step(np.zeros(3, dtype=np.int64))  # infos dropped: never copied
    assert copies == []
    snapshot = v.info_snapshot  # still the last step's, read from the library now
    assert (snapshot["step"] == 5).all() and len(copies) == 1
    # Kept unread across steps, a reset and close: copied before each change, right values.
    kept = [v.step(np.zeros(3, dtype=np.int64))[4] for _ in range(3)]
    _, reset_infos = v.reset(seed=4)
    last = v.step(np.zeros(3, dtype=np.int64))[4]
    v.close()
    assert [k["step"].tolist() for k in kept] == [[6] * 3, [7] * 3, [8] * 3]
    assert reset_infos["step"].tolist() == [0] * 3 and last["step"].tolist() == [1] * 3
    assert len(copies) == 1 + 5
    # Read at once, the dict is copied once and the next step does not copy it again.
    w = kalsim.KalsimVecEnv(2, SMALL, threads=1)
    copies.clear()
    real_w = w._infos_fn
    w._infos_fn = lambda *args: (copies.append(1), real_w(*args))[1]
    w.reset(seed=4)
    first = w.step(np.zeros(2, dtype=np.int64))[4]
    assert first["step"].tolist() == [1, 1] and len(copies) == 1
    second = w.step(np.zeros(2, dtype=np.int64))[4]
    assert len(copies) == 1
    assert first["step"].tolist() == [1, 1] and second["step"].tolist() == [2, 2]
    assert len(copies) == 2


def test_lazy_info_behaves_as_a_dict():
    env = kalsim.KalsimEnv(SMALL)
    env.reset(seed=2)
    _, _, _, _, info = env.step(0)
    assert isinstance(info, dict) and isinstance(info, LazyInfo)
    plain = kalsim.env.info_dict(env._step.info)
    assert info == plain and plain == info
    assert len(info) == len(plain) and set(info) == set(plain)
    assert {**info} == plain and dict(info) == plain
    assert json.loads(json.dumps(info)) == json.loads(json.dumps(plain))
    restored = pickle.loads(pickle.dumps(info))
    assert type(restored) is dict and restored == plain
    assert copy.deepcopy(info) == plain and info.copy() == plain
    assert "step" in info and info.get("nope", 7) == 7
    assert info["invalid_action_name"] == kalsim.invalid_action_name(info["invalid_action"])
    fresh = env.step(0)[4]
    fresh["episode"] = {"r": 1.0}  # a wrapper writing before anything read it
    assert fresh["step"] == 2 and fresh["episode"] == {"r": 1.0}
    assert repr(env.step(0)[4]).startswith("{'step': 3")


def test_action_masks_is_the_buffer_written_by_step():
    env = kalsim.KalsimEnv(SMALL)
    env.reset(seed=4)
    m = env.action_masks()
    assert m is env.action_masks() and m[0] and not m[21:].any()
    rng = np.random.default_rng(0)
    for _ in range(30):
        allowed = np.flatnonzero(m)
        assert m[0]
        env.step(int(rng.choice(allowed)))


def test_out_of_range_actions_are_errors_not_wrapped():
    env = kalsim.KalsimEnv(SMALL)
    env.reset(seed=1)
    for bad in (25, 2**32 + 1, -1, np.int64(2**40)):
        with pytest.raises(kalsim.InvalidActionError):
            env.step(bad)
    env.step(np.int64(0))


def _vec_rollout(mode, seed=8, steps=25):
    v = kalsim.KalsimVecEnv(3, SHORT, threads=1, autoreset_mode=mode)
    obs, _ = v.reset(seed=seed)
    rows = [obs.copy()]
    for _ in range(steps):
        obs, r, te, tr, infos = v.step(np.zeros(3, dtype=np.int64))
        rows.append((obs.copy(), r.copy(), te.copy(), tr.copy(), infos))
    return v, rows


def test_vector_same_step_autoreset_follows_gymnasium():
    from gymnasium.vector import AutoresetMode

    v, rows = _vec_rollout(AutoresetMode.SAME_STEP)
    assert v.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    nv, nrows = _vec_rollout("next_step")
    assert nv.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    # Next-step: env i ends at step t (max_steps 4), resets at t+1. Same-step: the final
    # observation at t is next-step's obs at t, and same-step's obs at t is next-step's at t+1.
    ends = 0
    j = 1  # index into the next-step rollout
    for t in range(1, len(rows)):
        obs, r, te, tr, infos = rows[t]
        nobs, nr, nte, ntr, _ = nrows[j]
        assert (r == nr).all() and (te == nte).all() and (tr == ntr).all()
        done = te | tr
        if done.any():
            ends += 1
            assert (infos["_final_obs"] == done).all() and (infos["_final_info"] == done).all()
            for i in np.flatnonzero(done):
                assert (infos["final_obs"][i] == nobs[i]).all()
                assert infos["final_info"]["step"][i] == 4
            assert all(infos["final_obs"][i] is None for i in np.flatnonzero(~done))
            # next-step's following row is the reset row: its obs is ours now.
            j += 1
            assert (nrows[j][0][done] == obs[done]).all()
        else:
            assert "final_obs" not in infos
            assert (obs == nobs).all()
        j += 1
        if j >= len(nrows):
            break
    assert ends >= 2
    with pytest.raises(kalsim.InvalidArgumentError):
        kalsim.KalsimVecEnv(2, SMALL, autoreset_mode="disabled")


def test_make_vec_with_same_step_autoreset():
    from gymnasium.vector import AutoresetMode

    v = gym.make_vec(
        "kalsim/Kalshi-v0",
        num_envs=2,
        vectorization_mode="vector_entry_point",
        config=SHORT,
        autoreset_mode=AutoresetMode.SAME_STEP,
    )
    assert v.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    v.reset(seed=1)
    for _ in range(4):
        _, _, te, tr, infos = v.step(np.zeros(2, dtype=np.int64))
    assert (te | tr).all() and infos["_final_obs"].all()
    assert v.unwrapped.action_masks().shape == (2, 25)


def test_held_out_config_moves_only_the_generator_seed():
    cfg = {"data": {"synthetic_seed": 11, "synthetic_markets": 3, "synthetic_events": 60}, "max_steps": 9}
    held = kalsim.held_out_config(cfg)
    assert held["data"]["synthetic_seed"] == 1011
    assert held["max_steps"] == 9 and held["data"]["synthetic_markets"] == 3
    train, evaluation = kalsim.KalsimEnv(cfg), kalsim.KalsimEnv(held)
    a, _ = train.reset(seed=0)
    b, _ = evaluation.reset(seed=0)
    assert a.tobytes() != b.tobytes(), "different markets"
    with pytest.raises(kalsim.ConfigError, match="bogus"):
        kalsim.held_out_config({"bogus": 1})
