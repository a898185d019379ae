"""`KalsimEnv`: one kalsim environment as a `gymnasium.Env`."""

from __future__ import annotations

import ctypes
from typing import Any, Optional, SupportsFloat

import gymnasium as gym
import numpy as np

from ._lib import INFO_FIELDS, Metrics, Step, StepInfo, check, lib
from .errors import InvalidActionError
from .core import ACTION_COUNT, TIER_COUNT, ConfigLike, config_json, invalid_action_name, obs_bounds

_F32P = ctypes.POINTER(ctypes.c_float)
_U8P = ctypes.POINTER(ctypes.c_uint8)


def info_dict(info: Any) -> dict[str, Any]:
    """SPEC §7 info (a `StepInfo`) as a dict, plus ``invalid_action_name``."""
    d = {name: getattr(info, name) for name in INFO_FIELDS}
    d["invalid_action_name"] = invalid_action_name(info.invalid_action)
    return d


class KalsimEnv(gym.Env[np.ndarray, np.int64]):
    """Kalshi binary-contract trading, ``Discrete(ACTION_COUNT)`` actions with five size tiers.

    ``config`` is an `EnvConfig` as a dict or JSON string (``None``: defaults on the embedded
    synthetic markets; ``{"data": {"files": [...]}}`` replays Kalshi captures).

    ``reset(seed=s)`` reseeds and restarts the market cycle; ``reset()`` moves on to the next
    market. ``action_masks()`` gives the SPEC §6 mask for sb3-contrib's MaskablePPO.
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
        self._obs_ptr = self._obs.ctypes.data_as(_F32P)
        # numpy bools are one byte holding 0 or 1: the library writes the mask into it.
        self._mask = np.zeros(ACTION_COUNT, dtype=np.bool_)
        self._mask_ptr = self._mask.ctypes.data_as(_U8P)
        self._step = Step()
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
            check(lib.kalsim_env_reset(self._handle, seed & 0xFFFF_FFFF_FFFF_FFFF, self._obs_ptr, self._obs.size))
            self._seeded = True
        else:
            check(lib.kalsim_env_reset_next(self._handle, self._obs_ptr, self._obs.size))
        info = StepInfo()
        check(lib.kalsim_env_info(self._handle, ctypes.byref(info)))
        return self._obs.copy(), info_dict(info)

    def step(self, action: np.int64) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        a = int(action)
        if not 0 <= a <= 0xFFFF_FFFF:
            raise InvalidActionError(f"action {a} is out of range (the space is 0..={ACTION_COUNT - 1})")
        check(lib.kalsim_env_step(self._handle, a, ctypes.byref(self._step), self._obs_ptr, self._obs.size))
        s = self._step
        return self._obs.copy(), s.reward, bool(s.terminated), bool(s.truncated), info_dict(s.info)

    def action_masks(self) -> np.ndarray:
        """SPEC §6 mask as a bool array of ``ACTION_COUNT`` (HOLD always allowed, reserved
        never).

        No copy: the array is the environment's own buffer, overwritten by the next
        ``action_masks()`` call; copy it to keep it across steps.
        """
        check(lib.kalsim_env_action_mask(self._handle, self._mask_ptr, self._mask.size))
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
