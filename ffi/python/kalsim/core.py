"""Core rules without an environment: action codec, limits, fees, sizes, observation schema.

Every count and name here is read from the library (the core's one definition), never
restated: `ACTION_COUNT`, `TIER_COUNT`, `OBS_DIM`, `INTENTS`, `TIERS`, `INVALID_ACTIONS`.
"""

from __future__ import annotations

import ctypes
import json
import os
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from ._lib import ObsFeature, check, lib

#: Number of discrete actions (``Discrete(ACTION_COUNT)``).
ACTION_COUNT: int = lib.kalsim_action_count()
#: Number of size tiers.
TIER_COUNT: int = lib.kalsim_tier_count()
#: Length of the observation vector.
OBS_DIM: int = lib.kalsim_obs_feature_count()
#: Intent names in codec order (``"HOLD"``, ``"BUY_YES"``, ...).
INTENTS: tuple[str, ...] = tuple(lib.kalsim_intent_name(i).decode() for i in range(lib.kalsim_intent_count()))
#: Tier names in size-table order (``"Small"`` ... ``"Giant"``).
TIERS: tuple[str, ...] = tuple(lib.kalsim_tier_name(t).decode() for t in range(TIER_COUNT))
#: ``info["invalid_action"]`` code -> name (``"none"``, the limit rules, ``"reserved"``).
INVALID_ACTIONS: tuple[str, ...] = tuple(
    lib.kalsim_invalid_action_name(c).decode() for c in range(lib.kalsim_invalid_action_max_code() + 1)
)

ConfigLike = Optional[Union[str, bytes, dict, "os.PathLike[str]"]]


def _config_file(config: Union[str, "os.PathLike[str]"]) -> Optional[Path]:
    """The file a config argument names: any path object, or a string ending in ``.toml`` /
    ``.json`` that is not JSON text."""
    if isinstance(config, os.PathLike):
        return Path(config)
    text = config.strip()
    if text.startswith("{") or not text.endswith((".toml", ".json")):
        return None
    return Path(text)


def config_json(config: ConfigLike) -> bytes:
    """An `EnvConfig` as JSON bytes: ``None`` = defaults, a dict is serialised, a str is JSON
    text, and a path (a ``Path``, or a string ending in ``.toml`` / ``.json``) names a config
    file (TOML needs Python >= 3.11's ``tomllib``). Keys are those of docs/environment.md,
    including ``data.preset = "informed"`` and ``decision_interval``."""
    if config is None:
        return b""
    if isinstance(config, dict):
        return json.dumps(config).encode()
    if isinstance(config, (str, os.PathLike)):
        path = _config_file(config)
        if path is None:
            return str(config).encode()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise FileNotFoundError(f"kalsim: config file {path}: {e.strerror or e}") from e
        if path.suffix != ".toml":
            return text.encode()
        try:
            import tomllib
        except ImportError as e:  # Python < 3.11
            raise ImportError(
                f"kalsim: reading {path} needs Python >= 3.11 (tomllib); pass a dict or JSON"
            ) from e
        try:
            return json.dumps(tomllib.loads(text)).encode()
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"kalsim: config file {path}: invalid TOML: {e}") from e
    return bytes(config)


def held_out_config(config: ConfigLike = None) -> dict[str, Any]:
    """The held-out evaluation configuration of ``config``, as ``kalsim experiment`` selects
    it: every key of the training configuration (defaults filled in) with
    ``data.synthetic_seed`` moved by ``EVAL_SEED_OFFSET`` (1000), so no evaluation market
    was generated for training. The library computes it (``kalsim_config_held_out``); the
    result is a dict any env accepts as its ``config``."""
    text = config_json(config)
    required = ctypes.c_size_t()
    lib.kalsim_config_held_out(text, None, 0, ctypes.byref(required))  # sizes the buffer
    buf = ctypes.create_string_buffer(max(required.value, 1))
    check(lib.kalsim_config_held_out(text, buf, len(buf), ctypes.byref(required)))
    return json.loads(buf.value.decode())


def encode_action(intent: int, tier: int) -> int:
    """Action id of ``(intent 0..=4, tier 0..=4)`` (SPEC §2)."""
    out = ctypes.c_uint8()
    check(lib.kalsim_encode_action(intent, tier, ctypes.byref(out)))
    return out.value


def decode_action(action: int) -> tuple[int, int]:
    """``(intent, tier)`` of an action id; tier 255 for HOLD. Reserved ids raise
    `ReservedActionError`, ids >= 25 `InvalidActionError`."""
    intent, tier = ctypes.c_uint8(), ctypes.c_uint8()
    check(lib.kalsim_decode_action(action, ctypes.byref(intent), ctypes.byref(tier)))
    return intent.value, tier.value


def validate_order(size: int, position: int, cash_cents: int, price_cents: int) -> str:
    """The plan's ``validate_order`` with default limits: ``"none"`` when allowed, otherwise
    the first rule broken (e.g. ``"position_limit"``)."""
    reason = ctypes.c_uint8()
    check(lib.kalsim_validate_order(size, position, cash_cents, price_cents, ctypes.byref(reason)))
    return invalid_action_name(reason.value)


def invalid_action_name(code: int) -> str:
    """Name of an ``invalid_action`` reason code (the library's ``"unknown"`` past the last)."""
    if 0 <= code < len(INVALID_ACTIONS):
        return INVALID_ACTIONS[code]
    return lib.kalsim_invalid_action_name(code if 0 <= code <= 0xFFFF_FFFF else 0xFFFF_FFFF).decode()


def taker_fee_cents(contracts: int, price_cents: int) -> int:
    """Kalshi's taker fee for ``contracts`` filled at ``price_cents`` in one order and step."""
    out = ctypes.c_int64()
    check(lib.kalsim_taker_fee_cents(contracts, price_cents, ctypes.byref(out)))
    return out.value


def maker_fee_cents(contracts: int, price_cents: int) -> int:
    """Kalshi's maker fee on a maker-fee market."""
    out = ctypes.c_int64()
    check(lib.kalsim_maker_fee_cents(contracts, price_cents, ctypes.byref(out)))
    return out.value


def size_table() -> list[int]:
    """Default contracts per tier."""
    out = (ctypes.c_uint32 * TIER_COUNT)()
    check(lib.kalsim_size_table(out, TIER_COUNT))
    return list(out)


def obs_schema_version() -> int:
    return lib.kalsim_obs_schema_version()


def obs_schema() -> list[dict[str, Any]]:
    """The observation schema (SPEC §8): index, name, group, scaling, min, max per feature."""
    out = []
    for i in range(lib.kalsim_obs_feature_count()):
        f = ObsFeature()
        check(lib.kalsim_obs_feature_info(i, ctypes.byref(f)))
        out.append(
            {
                "index": i,
                "name": f.name.decode(),
                "group": f.group.decode(),
                "scaling": f.scaling.decode(),
                "min": f.min,
                "max": f.max,
            }
        )
    return out


def obs_bounds() -> tuple[np.ndarray, np.ndarray]:
    schema = obs_schema()
    low = np.array([f["min"] for f in schema], dtype=np.float32)
    high = np.array([f["max"] for f in schema], dtype=np.float32)
    return low, high
