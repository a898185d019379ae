"""`KalsimEnv`: one kalsim environment as a `gymnasium.Env`."""

from __future__ import annotations

import ctypes
from typing import Any, Optional, SupportsFloat

import gymnasium as gym
import numpy as np

from ._lib import INFO_FIELDS, EnvStepBuffers, Metrics, Step, StepInfo, check, lib
from .errors import InvalidActionError
from .core import ACTION_COUNT, TIER_COUNT, ConfigLike, config_json, obs_bounds
from .info import LazyInfo
from . import info as _info

_U64 = 0xFFFF_FFFF_FFFF_FFFF


def info_dict(info: Any) -> dict[str, Any]:
    """SPEC §7 info (a `StepInfo`) as a dict, plus ``invalid_action_name``."""
    return _info.info_dict(info, INFO_FIELDS)


class KalsimEnv(gym.Env[np.ndarray, np.int64]):
    """Kalshi binary-contract trading, ``Discrete(ACTION_COUNT)`` actions with five size tiers.

    ``config`` is an `EnvConfig` as a dict or JSON string (``None``: defaults on the embedded
    synthetic markets; ``{"data": {"files": [...]}}`` replays Kalshi captures).

    ``reset(seed=s)`` reseeds and restarts the market cycle; ``reset()`` moves on to the next
    market. ``action_masks()`` gives the SPEC §6 mask for sb3-contrib's MaskablePPO.

    Each ``step`` and ``reset`` is one call into the library, which writes the observation,
    the mask, the reward, the flags and the fixed info struct into buffers this object owns;
    the info dict is a `LazyInfo`, built only when something reads it.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, config: ConfigLike = None, render_mode: Optional[str] = None) -> None:
        super().__init__()
        self.render_mode = render_mode
        handle = ctypes.c_void_p()
        check(lib.kalsim_env_new(config_json(config), ctypes.byref(handle)))
        self._handle = handle
        low, high = obs_bounds()
        self.observation_space = gym.spaces.Box(low=low, high=high, dtype=np.float32)
        self.action_space = gym.spaces.Discrete(ACTION_COUNT)
        self._obs = np.zeros(low.shape, dtype=np.float32)
        # numpy bools are one byte holding 0 or 1: the library writes the mask into it.
        self._mask = np.zeros(ACTION_COUNT, dtype=np.bool_)
        self._step = Step()
        self._buffers = EnvStepBuffers(
            obs_out=self._obs.ctypes.data,
            obs_len=self._obs.size,
            mask_out=self._mask.ctypes.data,
            mask_len=self._mask.size,
            step_out=ctypes.addressof(self._step),
        )
        self._buffers_ref = ctypes.byref(self._buffers)
        self._info_size = ctypes.sizeof(StepInfo)
        self._info_offset = Step.info.offset
        self._step_into = lib.kalsim_env_step_into
        self._seeded = False

    # -- Gymnasium API -------------------------------------------------------------------

    def reset(
        self, *, seed: Optional[int] = None, options: Optional[dict[str, Any]] = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is None and not self._seeded:
            # Gymnasium seeds np_random from entropy when no seed was ever given.
            seed = int(self.np_random.integers(0, 2**63))
        if seed is not None:
            check(lib.kalsim_env_reset_into(self._handle, seed & _U64, True, self._buffers_ref))
            self._seeded = True
        else:
            check(lib.kalsim_env_reset_into(self._handle, 0, False, self._buffers_ref))
        return self._obs.copy(), self._lazy_info()

    def step(self, action: np.int64) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        a = action if type(action) is int else int(action)
        if not 0 <= a <= 0xFFFF_FFFF:
            raise InvalidActionError(f"action {a} is out of range (the space is 0..={ACTION_COUNT - 1})")
        status = self._step_into(self._handle, a, self._buffers_ref)
        if status:
            check(status)
        s = self._step
        return self._obs.copy(), s.reward, s.terminated, s.truncated, self._lazy_info()

    def _lazy_info(self) -> LazyInfo:
        # A copy of the fixed info struct (the step buffer is overwritten by the next step).
        src = StepInfo.from_buffer_copy(self._step, self._info_offset)
        return LazyInfo(src, INFO_FIELDS)

    def action_masks(self) -> np.ndarray:
        """SPEC §6 mask as a bool array of ``ACTION_COUNT`` (HOLD always allowed, reserved
        never), written by the last ``reset``/``step`` in the same call.

        No copy: the array is the environment's own buffer, overwritten by the next
        ``reset``/``step``; copy it to keep it across steps.
        """
        return self._mask

    def close(self) -> None:
        if getattr(self, "_handle", None):
            lib.kalsim_env_free(self._handle)
            self._handle = None
        super().close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # -- kalsim extras -------------------------------------------------------------------

    def metrics(self) -> dict[str, Any]:
        """SPEC §9 metrics of the current (or just finished) episode."""
        m = Metrics()
        check(lib.kalsim_env_metrics(self._handle, ctypes.byref(m)))
        return m.to_dict()

    def size_table(self) -> list[int]:
        """Effective contracts per tier of this environment."""
        out = (ctypes.c_uint32 * TIER_COUNT)()
        check(lib.kalsim_env_size_table(self._handle, out, TIER_COUNT))
        return list(out)

    @property
    def market_count(self) -> int:
        return lib.kalsim_env_market_count(self._handle)
