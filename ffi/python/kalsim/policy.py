"""`Policy`: inference with a checkpoint written by kalsim's PPO trainer (``kalsim-policy`` JSON)."""

from __future__ import annotations

import ctypes
import json
from pathlib import Path
from typing import Any, Union

import numpy as np

from ._lib import check, lib
from .core import ACTION_COUNT

_F32P = ctypes.POINTER(ctypes.c_float)
_U8P = ctypes.POINTER(ctypes.c_uint8)


def _f32(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


def _u8(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.uint8)


class Policy:
    """A trained policy. ``checkpoint`` is a path, the JSON text or the parsed dict.
    Load errors raise `PolicyError` with the reason."""

    def __init__(self, checkpoint: Union[str, Path, dict], seed: int = 0) -> None:
        if isinstance(checkpoint, dict):
            text = json.dumps(checkpoint)
        elif isinstance(checkpoint, Path) or not str(checkpoint).lstrip().startswith("{"):
            text = Path(checkpoint).read_text()
        else:
            text = str(checkpoint)
        handle = ctypes.c_void_p()
        check(lib.kalsim_policy_load(text.encode(), ctypes.byref(handle)))
        self._handle = handle
        self.seed(seed)

    def seed(self, seed: int) -> None:
        """Reseed the sampling RNG (non-greedy `act`)."""
        check(lib.kalsim_policy_seed(self._handle, seed & 0xFFFF_FFFF_FFFF_FFFF))

    def check_env(self, env: Any) -> None:
        """Raise `PolicyError` unless the policy fits ``env`` (a `KalsimEnv`)."""
        check(lib.kalsim_policy_check_env(self._handle, env.unwrapped._handle))

    def act(self, obs: Any, mask: Any, greedy: bool = True) -> int:
        """An action for one observation under ``mask`` (never a masked one)."""
        o, m = _f32(obs), _u8(mask)
        out = ctypes.c_uint32()
        check(
            lib.kalsim_policy_act(
                self._handle, o.ctypes.data_as(_F32P), o.size, m.ctypes.data_as(_U8P), m.size, bool(greedy),
                ctypes.byref(out),
            )
        )
        return out.value

    def action_probs(self, obs: Any, mask: Any) -> np.ndarray:
        """Masked action probabilities (0 for masked and reserved actions)."""
        o, m = _f32(obs), _u8(mask)
        out = np.zeros(ACTION_COUNT, dtype=np.float32)
        check(
            lib.kalsim_policy_action_probs(
                self._handle, o.ctypes.data_as(_F32P), o.size, m.ctypes.data_as(_U8P), m.size,
                out.ctypes.data_as(_F32P), out.size,
            )
        )
        return out

    def value(self, obs: Any) -> float:
        """The critic's value estimate, reward units."""
        o = _f32(obs)
        out = ctypes.c_float()
        check(lib.kalsim_policy_value(self._handle, o.ctypes.data_as(_F32P), o.size, ctypes.byref(out)))
        return out.value

    def close(self) -> None:
        if getattr(self, "_handle", None):
            lib.kalsim_policy_free(self._handle)
            self._handle = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
