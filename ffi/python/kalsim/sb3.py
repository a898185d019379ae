"""`KalsimSB3VecEnv`: kalsim's native vector env as a Stable-Baselines3 ``VecEnv``.

MaskablePPO (sb3-contrib) and every SB3 algorithm step it directly: one library call steps
all N envs (on the library's threads, the GIL released), instead of N Python envs in a
``DummyVecEnv``. It follows SB3's conventions, not Gymnasium's:

- **same-step autoreset**: the step that ends env ``i`` returns its reward and
  ``done = True`` with the first observation of its next episode; the episode's last
  observation is ``infos[i]["terminal_observation"]`` and ``infos[i]["TimeLimit.truncated"]``
  says whether it was cut off (the data ran out or ``max_steps``) rather than settled, so
  SB3 bootstraps the value of truncated episodes;
- ``infos[i]`` also holds the SPEC §7 fields (a `LazyInfo`, built when read) and, for an
  env that ended, ``"episode": {"r", "l", "t"}`` as SB3's ``Monitor`` writes it (so
  ``ep_rew_mean`` is logged without wrapping; ``VecMonitor`` still works and writes the same
  values) and ``"metrics"``, the finished episode's SPEC §9 metrics;
- ``env_method("action_masks")`` (what MaskablePPO calls) and ``action_masks()`` give the
  N x 25 masks of the current observations;
- ``seed(s)`` then ``reset()`` seeds env ``i`` from ``(s, i)`` as `KalsimVecEnv` does.

When Stable-Baselines3 is importable the class is a subclass of its ``VecEnv`` (so
``isinstance`` checks pass); without it the same class works standalone with the same
methods, which is how the test suite runs it without torch.

    from sb3_contrib import MaskablePPO
    from kalsim.sb3 import KalsimSB3VecEnv
    env = KalsimSB3VecEnv(16, config="docs/informed.toml")
    model = MaskablePPO("MlpPolicy", env).learn(100_000)
"""

from __future__ import annotations

import time
from typing import Any, Iterable, Optional, Sequence, Union

import numpy as np

from ._lib import INFO_FIELDS
from .core import ConfigLike
from .errors import InvalidArgumentError
from .info import LazyInfo
from .vector import KalsimVecEnv

try:
    from stable_baselines3.common.vec_env import VecEnv as _Base

    HAVE_SB3 = True
except ImportError:  # torch or SB3 missing: the standalone base
    _Base = object
    HAVE_SB3 = False

Indices = Union[None, int, Iterable[int]]

# kalsim_step_info.settled: 0 = not settled (the episode was cut off, not resolved).
_NOT_SETTLED = 0


class _RowInfo(LazyInfo):
    """Env ``i``'s SPEC §7 info, read from row ``i`` of the step's info snapshot."""

    __slots__ = ()

    def _make(self, src: Any) -> dict[str, Any]:
        from .core import invalid_action_name

        snapshot, i = src
        row = snapshot[i]
        d = {name: row[name].item() for name in self._fields}
        d["invalid_action_name"] = invalid_action_name(d["invalid_action"])
        return d


class KalsimSB3VecEnv(_Base):  # type: ignore[misc, valid-type]
    """``num_envs`` kalsim environments as one SB3 ``VecEnv`` (see the module docs).

    ``config`` as `KalsimEnv` (dict, JSON, TOML/JSON path); ``threads`` as `KalsimVecEnv`.
    """

    def __init__(self, num_envs: int, config: ConfigLike = None, threads: Optional[int] = None) -> None:
        self._venv = KalsimVecEnv(num_envs, config, threads=threads, copy=False, autoreset_mode="same_step")
        observation_space = self._venv.single_observation_space
        action_space = self._venv.single_action_space
        self.render_mode = None
        if HAVE_SB3:
            super().__init__(num_envs, observation_space, action_space)
        else:
            self.num_envs = num_envs
            self.observation_space = observation_space
            self.action_space = action_space
            self.reset_infos: list[dict[str, Any]] = [{} for _ in range(num_envs)]
        self._seed: Optional[int] = None
        self._actions: Optional[np.ndarray] = None
        self._returns = np.zeros(num_envs, dtype=np.float64)
        self._lengths = np.zeros(num_envs, dtype=np.int64)
        self._start = time.time()

    # -- the SB3 VecEnv interface --------------------------------------------------------

    def seed(self, seed: Optional[int] = None) -> list[Optional[int]]:
        """Seed the next ``reset`` (env ``i`` from ``(seed, i)``); ``None`` draws one."""
        if seed is None:
            seed = int(np.random.randint(0, 2**31 - 1))
        self._seed = int(seed)
        return [self._seed] * self.num_envs

    def reset(self) -> np.ndarray:
        obs, _ = self._venv.reset(seed=self._seed)
        self._seed = None
        self._returns[:] = 0.0
        self._lengths[:] = 0
        snapshot = self._venv.info_snapshot
        self.reset_infos = [_RowInfo((snapshot, i), INFO_FIELDS) for i in range(self.num_envs)]
        return obs.copy()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions).reshape(self.num_envs)

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        if self._actions is None:
            raise InvalidArgumentError("step_wait() without step_async(actions)")
        actions, self._actions = self._actions, None
        obs, rewards, terminated, truncated, _ = self._venv.step(actions)
        dones = terminated | truncated
        self._returns += rewards
        self._lengths += 1
        snapshot = self._venv.info_snapshot
        infos: list[dict[str, Any]] = [_RowInfo((snapshot, i), INFO_FIELDS) for i in range(self.num_envs)]
        ended = np.flatnonzero(dones)
        if ended.size:
            _, final = self._venv.final_observations()
            now = round(time.time() - self._start, 6)
            for i in ended:
                info = infos[i]
                info["terminal_observation"] = final[i].copy()
                info["TimeLimit.truncated"] = bool(truncated[i]) and not bool(terminated[i])
                info["episode"] = {"r": float(self._returns[i]), "l": int(self._lengths[i]), "t": now}
                info["metrics"] = self._venv.metrics(int(i))
            self._returns[ended] = 0.0
            self._lengths[ended] = 0
        return obs.copy(), rewards.astype(np.float32), dones.copy(), infos

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        """``step_async`` then ``step_wait``, as SB3's ``VecEnv.step``."""
        self.step_async(actions)
        return self.step_wait()

    def close(self) -> None:
        self._venv.close()

    def get_attr(self, attr_name: str, indices: Indices = None) -> list[Any]:
        value = getattr(self, attr_name)  # AttributeError when absent, as SB3 expects
        return [value] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: Indices = None) -> None:
        setattr(self, attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: Indices = None, **method_kwargs: Any) -> list[Any]:
        idx = self._indices(indices)
        if method_name == "action_masks":
            masks = self._venv.action_masks()
            return list(masks[idx].copy()) if len(idx) != self.num_envs else list(masks.copy())
        if method_name == "metrics":
            return [self._venv.metrics(i) for i in idx]
        method = getattr(self, method_name)
        return [method(*method_args, **method_kwargs) for _ in idx]

    def env_is_wrapped(self, wrapper_class: type, indices: Indices = None) -> list[bool]:
        return [False] * len(self._indices(indices))

    def get_images(self) -> Sequence[Optional[np.ndarray]]:
        return [None] * self.num_envs

    # -- kalsim extras -------------------------------------------------------------------

    def action_masks(self) -> np.ndarray:
        """N x 25 bool masks of the current observations (the library's buffer; copy it to
        keep it across steps)."""
        return self._venv.action_masks()

    def metrics(self, index: int) -> dict[str, Any]:
        """SPEC §9 metrics of env ``index``'s current episode."""
        return self._venv.metrics(index)

    @property
    def unwrapped(self) -> "KalsimSB3VecEnv":
        return self

    def _indices(self, indices: Indices) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        if isinstance(indices, (int, np.integer)):
            return [int(indices)]
        return [int(i) for i in indices]


__all__ = ["HAVE_SB3", "KalsimSB3VecEnv"]
