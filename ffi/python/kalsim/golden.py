"""Golden vectors (``tests/vectors/*.json``, format ``kalsim-golden`` v1): record and replay.

A vector pins a configuration, a seed and an action sequence to the exact observation bits
(f32 bit patterns), rewards, flags, masks and infos. Every front-end replays the same files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Union

import numpy as np

from .env import KalsimEnv

FORMAT = "kalsim-golden"
VERSION = 1


def _bits(obs: np.ndarray) -> list[int]:
    return np.asarray(obs, dtype=np.float32).view(np.uint32).tolist()


def _info(info: dict) -> dict:
    return {k: v for k, v in info.items() if k != "invalid_action_name"}


def record(config: dict, seed: int, actions: Iterable[int], name: str, note: str = "") -> dict:
    """Run ``actions`` from ``reset(seed)`` and return the vector (stops at episode end)."""
    env = KalsimEnv(config)
    obs, info = env.reset(seed=seed)
    out: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "name": name,
        "note": note,
        "config": config,
        "seed": seed,
        "reset": {"obs_bits": _bits(obs), "mask": env.action_masks().astype(int).tolist(), "info": _info(info)},
        "steps": [],
    }
    for a in actions:
        obs, reward, term, trunc, info = env.step(a)
        out["steps"].append(
            {
                "action": int(a),
                "obs_bits": _bits(obs),
                "reward": reward,
                "terminated": term,
                "truncated": trunc,
                "mask": env.action_masks().astype(int).tolist(),
                "info": _info(info),
            }
        )
        if term or trunc:
            break
    env.close()
    return out


def _compare(where: str, want: dict, obs, mask, info: dict, errors: list[str]) -> None:
    got_bits = _bits(obs)
    if "obs_bits" in want and got_bits != list(want["obs_bits"]):
        diff = [i for i, (a, b) in enumerate(zip(got_bits, want["obs_bits"])) if a != b]
        errors.append(f"{where}: obs bits differ at indices {diff or 'length'}")
    if "mask" in want and [int(m) for m in mask] != [int(m) for m in want["mask"]]:
        errors.append(f"{where}: mask {[int(m) for m in mask]} != {want['mask']}")
    for key, value in want.get("info", {}).items():
        if key not in info:
            errors.append(f"{where}: info.{key} not reported")
        elif info[key] != value:
            errors.append(f"{where}: info.{key} = {info[key]!r}, want {value!r}")


def replay(vector: Union[str, Path, dict]) -> list[str]:
    """Replay a vector (a path or the parsed dict); return the mismatches (empty = pass)."""
    if not isinstance(vector, dict):
        vector = json.loads(Path(vector).read_text())
    if vector.get("format") != FORMAT or vector.get("version") != VERSION:
        return [f"unsupported vector format {vector.get('format')!r} v{vector.get('version')!r}"]
    errors: list[str] = []
    env = KalsimEnv(vector.get("config") or None)
    try:
        obs, info = env.reset(seed=int(vector["seed"]))
        _compare("reset", vector["reset"], obs, env.action_masks(), info, errors)
        for i, step in enumerate(vector["steps"]):
            obs, reward, term, trunc, info = env.step(int(step["action"]))
            where = f"step {i} (action {step['action']})"
            if "reward" in step and reward != step["reward"]:
                errors.append(f"{where}: reward {reward!r}, want {step['reward']!r}")
            for flag, got in (("terminated", term), ("truncated", trunc)):
                if flag in step and got != bool(step[flag]):
                    errors.append(f"{where}: {flag} {got}, want {step[flag]}")
            _compare(where, step, obs, env.action_masks(), info, errors)
            if len(errors) > 20:
                errors.append("... stopping after 20 mismatches")
                break
    finally:
        env.close()
    return errors
