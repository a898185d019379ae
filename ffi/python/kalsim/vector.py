"""`KalsimVecEnv`: N environments stepped by the library as one batch
(`gymnasium.vector.VectorEnv`, next-step autoreset)."""

from __future__ import annotations

import ctypes
import os
from typing import Any, Optional, Union

import gymnasium as gym
import numpy as np
from gymnasium.vector.utils import batch_space

from ._lib import INFO_FIELDS, Metrics, StepInfo, VecStepBuffers, check, lib
from .core import ACTION_COUNT, ConfigLike, config_json, obs_bounds
from .errors import InvalidActionError

try:  # Gymnasium >= 1.0
    from gymnasium.vector import AutoresetMode

    _NEXT_STEP: Any = AutoresetMode.NEXT_STEP
except ImportError:  # pragma: no cover
    _NEXT_STEP = "NextStep"

_INFO_DTYPE = np.dtype(StepInfo)


def _ptr(array: np.ndarray, ctype: Any) -> Any:
    return array.ctypes.data_as(ctypes.POINTER(ctype))


class KalsimVecEnv(gym.vector.VectorEnv[np.ndarray, np.ndarray, np.ndarray]):
    """``num_envs`` kalsim environments over the same markets, stepped in the library on
    ``threads`` worker threads (default: all cores, at most ``num_envs``; results do not
    depend on it). Numpy buffers are handed to the library by pointer, no per-env copies.

    Autoreset is Gymnasium's next-step mode: after env ``i`` ends, the following ``step``
    ignores its action and returns the first observation of its next episode with reward 0
    and both flags false. Env ``i`` is seeded from ``(seed, i)``.

    ``infos`` holds one array per SPEC §7 field (length N) plus ``action_mask`` (N x
    ``ACTION_COUNT`` bool). With ``copy=False`` the returned arrays are the internal
    buffers, overwritten by the next call. ``action_masks()`` never copies.
    """

    metadata: dict[str, Any] = {"render_modes": [], "autoreset_mode": _NEXT_STEP}

    def __init__(
        self,
        num_envs: int,
        config: ConfigLike = None,
        threads: Optional[int] = None,
        copy: bool = True,
    ) -> None:
        super().__init__()
        if threads is None:
            threads = min(os.cpu_count() or 1, num_envs)
        handle = ctypes.c_void_p()
        check(lib.kalsim_vec_env_new(config_json(config), num_envs, threads, ctypes.byref(handle)))
        self._handle = handle
        self.num_envs = num_envs
        self.copy = copy
        low, high = obs_bounds()
        self.single_observation_space = gym.spaces.Box(low=low, high=high, dtype=np.float32)
        self.single_action_space = gym.spaces.Discrete(ACTION_COUNT)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        n, d = num_envs, low.shape[0]
        self._obs = np.zeros((n, d), dtype=np.float32)
        self._rewards = np.zeros(n, dtype=np.float64)
        self._terminated = np.zeros(n, dtype=np.uint8)
        self._truncated = np.zeros(n, dtype=np.uint8)
        # numpy bools are one byte holding 0 or 1: the library writes the masks into them.
        self._masks = np.zeros((n, ACTION_COUNT), dtype=np.bool_)
        self._actions = np.zeros(n, dtype=np.uint32)
        self._infos = np.zeros(n, dtype=_INFO_DTYPE)
        self._obs_ptr = _ptr(self._obs, ctypes.c_float)
        self._masks_ptr = _ptr(self._masks, ctypes.c_uint8)
        # Every step passes the same buffers: described once, by address and length.
        self._buffers = VecStepBuffers(
            actions=self._actions.ctypes.data,
            actions_len=self._actions.size,
            obs_out=self._obs.ctypes.data,
            obs_len=self._obs.size,
            rewards_out=self._rewards.ctypes.data,
            rewards_len=self._rewards.size,
            terminated_out=self._terminated.ctypes.data,
            terminated_len=self._terminated.size,
            truncated_out=self._truncated.ctypes.data,
            truncated_len=self._truncated.size,
            masks_out=self._masks.ctypes.data,
            masks_len=self._masks.size,
        )
        self._buffers_ref = ctypes.byref(self._buffers)
        self._infos_ptr = self._infos.ctypes.data_as(ctypes.POINTER(StepInfo))

    def reset(
        self, *, seed: Optional[Union[int, list[int]]] = None, options: Optional[dict[str, Any]] = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if isinstance(seed, (list, tuple)):
            seed = seed[0]
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(0, 2**63))
        check(
            lib.kalsim_vec_env_reset(
                self._handle,
                seed & 0xFFFF_FFFF_FFFF_FFFF,
                self._obs_ptr,
                self._obs.size,
                self._masks_ptr,
                self._masks.size,
            )
        )
        return self._out(self._obs), self._info_arrays()

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        a = np.asarray(actions)
        if a.shape != (self.num_envs,):
            raise InvalidActionError(f"actions has shape {a.shape}, expected ({self.num_envs},)")
        if a.size and (a.min() < 0 or a.max() > 0xFFFF_FFFF):
            raise InvalidActionError(f"actions must be within 0..={ACTION_COUNT - 1}")
        np.copyto(self._actions, a, casting="unsafe")
        check(lib.kalsim_vec_env_step(self._handle, self._buffers_ref))
        return (
            self._out(self._obs),
            self._out(self._rewards),
            self._out(self._terminated.view(np.bool_)),
            self._out(self._truncated.view(np.bool_)),
            self._info_arrays(),
        )

    def action_masks(self) -> np.ndarray:
        """N x ``ACTION_COUNT`` bool masks of the last reset/step.

        No copy: the array is the vector env's own buffer, overwritten by the next
        ``reset``/``step``; copy it to keep it.
        """
        return self._masks

    def metrics(self, index: int) -> dict[str, Any]:
        """SPEC §9 metrics of env ``index`` (right after its episode ended: that episode's)."""
        m = Metrics()
        check(lib.kalsim_vec_env_metrics(self._handle, index, ctypes.byref(m)))
        return m.to_dict()

    def close_extras(self, **kwargs: Any) -> None:
        if getattr(self, "_handle", None):
            lib.kalsim_vec_env_free(self._handle)
            self._handle = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _out(self, a: np.ndarray) -> np.ndarray:
        return a.copy() if self.copy else a

    def _info_arrays(self) -> dict[str, np.ndarray]:
        check(lib.kalsim_vec_env_infos(self._handle, self._infos_ptr, self.num_envs))
        infos = {name: self._infos[name].copy() for name in INFO_FIELDS}
        infos["action_mask"] = self._out(self._masks)
        return infos
