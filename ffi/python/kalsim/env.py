"""`KalsimEnv`: one kalsim environment as a `gymnasium.Env`."""

from __future__ import annotations

import ctypes
from typing import Any, Optional

import gymnasium as gym
import numpy as np

from ._lib import INFO_FIELDS, Metrics, Step, StepInfo, check, lib
from .errors import InvalidActionError
from .core import ACTION_COUNT, ConfigLike, config_json, invalid_action_name, obs_bounds

_F32P = ctypes.POINTER(ctypes.c_float)
_U8P = ctypes.POINTER(ctypes.c_uint8)


_REASONS = tuple(invalid_action_name(code) for code in range(9))


def info_dict(info: StepInfo) -> dict[str, Any]:
    """SPEC §7 info as a dict (plus ``invalid_action_name``)."""
    d = {name: getattr(info, name) for name in INFO_FIELDS}
    code = info.invalid_action
    d["invalid_action_name"] = _REASONS[code] if code < len(_REASONS) else invalid_action_name(code)
    return d


class KalsimEnv(gym.Env):
    """Kalshi binary-contract trading, ``Discrete(25)`` actions with five size tiers.

    ``config`` is an `EnvConfig` as a dict or JSON string (``None``: defaults on the embedded
    synthetic markets; ``{"data": {"files": [...]}}`` replays Kalshi captures).

    ``reset(seed=s)`` reseeds and restarts the market cycle; ``reset()`` moves on to the next
    market. ``action_masks()`` gives the SPEC §6 mask for sb3-contrib's MaskablePPO.
    """

    metadata = {"render_modes": []}

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
        self._mask = np.zeros(ACTION_COUNT, dtype=np.uint8)
        self._mask_ptr = self._mask.ctypes.data_as(_U8P)
        self._step = Step()
        self._seeded = False

    # -- Gymnasium API -------------------------------------------------------------------

    def reset(self, *, seed: Optional[int] = None, options: Optional[dict] = None):
        super().reset(seed=seed)
        if seed is None and not self._seeded:
            # Gymnasium seeds np_random from entropy when no seed was ever given.
            seed = int(self.np_random.integers(0, 2**63))
        if seed is not None:
            check(lib.kalsim_env_reset(self._handle, seed & 0xFFFF_FFFF_FFFF_FFFF, self._obs_ptr))
            self._seeded = True
        else:
            check(lib.kalsim_env_reset_next(self._handle, self._obs_ptr))
        info = StepInfo()
        check(lib.kalsim_env_info(self._handle, ctypes.byref(info)))
        return self._obs.copy(), info_dict(info)

    def step(self, action):
        a = int(action)
        if not 0 <= a <= 0xFFFF_FFFF:
            raise InvalidActionError(f"action {a} is out of range (the space is 0..=24)")
        check(lib.kalsim_env_step(self._handle, a, ctypes.byref(self._step), self._obs_ptr))
        s = self._step
        return self._obs.copy(), s.reward, bool(s.terminated), bool(s.truncated), info_dict(s.info)

    def action_masks(self) -> np.ndarray:
        """SPEC §6 mask as a bool array of 25 (HOLD always allowed, reserved never)."""
        check(lib.kalsim_env_action_mask(self._handle, self._mask_ptr))
        return self._mask.astype(bool)

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
        out = (ctypes.c_uint32 * 5)()
        check(lib.kalsim_env_size_table(self._handle, out))
        return list(out)

    @property
    def market_count(self) -> int:
        return lib.kalsim_env_market_count(self._handle)
