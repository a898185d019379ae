"""Loading ``libkalsim.so`` and declaring the C ABI for ctypes.

Search order: ``$KALSIM_LIB`` (a path to the library), a copy bundled in this package, then
the workspace build outputs ``target/{release,debug}`` (``$CARGO_TARGET_DIR`` first) found by
walking up from this file, the most recently built first.
"""

from __future__ import annotations

import ctypes
import os
import sys
from ctypes import (
    POINTER,
    Structure,
    c_bool,
    c_char_p,
    c_double,
    c_float,
    c_int64,
    c_size_t,
    c_uint8,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path

from . import errors

ABI_VERSION = 1
ACTION_COUNT = 25
TIER_COUNT = 5

if sys.platform == "darwin":
    LIB_NAME = "libkalsim.dylib"
elif sys.platform == "win32":
    LIB_NAME = "kalsim.dll"
else:
    LIB_NAME = "libkalsim.so"


def _candidates() -> list[Path]:
    env = os.environ.get("KALSIM_LIB")
    if env:
        return [Path(env)]
    here = Path(__file__).resolve().parent
    found = [here / LIB_NAME]
    targets = []
    if os.environ.get("CARGO_TARGET_DIR"):
        targets.append(Path(os.environ["CARGO_TARGET_DIR"]))
    for parent in here.parents:
        if (parent / "Cargo.toml").exists() and (parent / "target").is_dir():
            targets.append(parent / "target")
            break
    built = [t / p / LIB_NAME for t in targets for p in ("release", "debug")]
    built = [b for b in built if b.exists()]
    built.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return found + built


def find_library() -> Path:
    """The path of the library that will be loaded (see the module docs)."""
    tried = _candidates()
    for path in tried:
        if path.exists():
            return path
    raise ImportError(
        f"kalsim: cannot find {LIB_NAME}; build it with `cargo build --release -p kalsim-ffi` "
        f"or set KALSIM_LIB. Tried: {', '.join(str(p) for p in tried) or 'nothing'}"
    )


class StepInfo(Structure):
    """``kalsim_step_info``: SPEC §7 info."""

    _fields_ = [
        ("step", c_uint32),
        ("market_index", c_uint32),
        ("event_index", c_uint32),
        ("cash_cents", c_int64),
        ("position", c_int64),
        ("portfolio_value_cents", c_int64),
        ("fees_paid_cents", c_int64),
        ("realized_pnl_cents", c_int64),
        ("last_order_intent", c_uint8),
        ("last_order_tier", c_uint8),
        ("last_order_limit_cents", c_uint8),
        ("invalid_action", c_uint8),
        ("settled", c_uint8),
        ("last_order_size", c_uint32),
        ("last_order_filled", c_uint32),
        ("last_order_avg_fill_price", c_double),
        ("filled_this_step", c_uint32),
        ("working_order_remaining", c_uint32),
        ("fee_this_step_cents", c_int64),
    ]


INFO_FIELDS = tuple(name for name, _ in StepInfo._fields_)


class Step(Structure):
    """``kalsim_step``."""

    _fields_ = [
        ("reward", c_double),
        ("terminated", c_bool),
        ("truncated", c_bool),
        ("info", StepInfo),
    ]


class Metrics(Structure):
    """``kalsim_metrics``: SPEC §9 metrics of one episode."""

    _fields_ = [
        ("total_return", c_double),
        ("sharpe", c_double),
        ("max_drawdown", c_double),
        ("win_rate", c_double),
        ("fees_cents", c_int64),
        ("hold_fraction", c_double),
        ("size_efficiency", c_double),
        ("fills_per_tier", c_uint64 * TIER_COUNT),
        ("action_histogram", c_uint64 * ACTION_COUNT),
        ("max_position_reached", c_uint64),
        ("size_changes", c_uint64),
        ("invalid_actions", c_uint64),
        ("avg_winning_position_size", c_double),
        ("avg_losing_position_size", c_double),
        ("avg_position_size", c_double),
        ("round_trips", c_uint64),
        ("steps", c_uint64),
        ("initial_pv_cents", c_int64),
        ("final_pv_cents", c_int64),
    ]

    def to_dict(self) -> dict:
        out = {}
        for name, _ in self._fields_:
            v = getattr(self, name)
            out[name] = list(v) if not isinstance(v, (int, float)) else v
        return out


class ObsFeature(Structure):
    """``kalsim_obs_feature``."""

    _fields_ = [
        ("name", c_char_p),
        ("group", c_char_p),
        ("scaling", c_char_p),
        ("min", c_float),
        ("max", c_float),
    ]


_F32P = POINTER(c_float)
_U8P = POINTER(c_uint8)
_U32P = POINTER(c_uint32)
_F64P = POINTER(c_double)
_I64P = POINTER(c_int64)

_SIGNATURES = {
    # name: (restype, argtypes); restype c_uint32 = kalsim_status
    "kalsim_abi_version": (c_uint32, []),
    "kalsim_version": (c_char_p, []),
    "kalsim_status_str": (c_char_p, [c_uint32]),
    "kalsim_last_error": (c_char_p, []),
    "kalsim_env_new": (c_uint32, [c_char_p, POINTER(c_void_p)]),
    "kalsim_env_free": (None, [c_void_p]),
    "kalsim_env_obs_len": (c_size_t, [c_void_p]),
    "kalsim_env_market_count": (c_size_t, [c_void_p]),
    "kalsim_env_reset": (c_uint32, [c_void_p, c_uint64, _F32P]),
    "kalsim_env_reset_next": (c_uint32, [c_void_p, _F32P]),
    "kalsim_env_step": (c_uint32, [c_void_p, c_uint32, POINTER(Step), _F32P]),
    "kalsim_env_info": (c_uint32, [c_void_p, POINTER(StepInfo)]),
    "kalsim_env_action_mask": (c_uint32, [c_void_p, _U8P]),
    "kalsim_env_metrics": (c_uint32, [c_void_p, POINTER(Metrics)]),
    "kalsim_env_size_table": (c_uint32, [c_void_p, _U32P]),
    "kalsim_vec_env_new": (c_uint32, [c_char_p, c_size_t, c_size_t, POINTER(c_void_p)]),
    "kalsim_vec_env_free": (None, [c_void_p]),
    "kalsim_vec_env_num_envs": (c_size_t, [c_void_p]),
    "kalsim_vec_env_reset": (c_uint32, [c_void_p, c_uint64, _F32P, _U8P]),
    "kalsim_vec_env_step": (c_uint32, [c_void_p, _U32P, _F32P, _F64P, _U8P, _U8P, _U8P]),
    "kalsim_vec_env_infos": (c_uint32, [c_void_p, POINTER(StepInfo), c_size_t]),
    "kalsim_vec_env_metrics": (c_uint32, [c_void_p, c_size_t, POINTER(Metrics)]),
    "kalsim_encode_action": (c_uint32, [c_uint32, c_uint32, _U8P]),
    "kalsim_decode_action": (c_uint32, [c_uint32, _U8P, _U8P]),
    "kalsim_validate_order": (c_uint32, [c_int64, c_int64, c_int64, c_uint32, _U8P]),
    "kalsim_taker_fee_cents": (c_uint32, [c_uint32, c_uint32, _I64P]),
    "kalsim_maker_fee_cents": (c_uint32, [c_uint32, c_uint32, _I64P]),
    "kalsim_size_table": (c_uint32, [_U32P]),
    "kalsim_invalid_action_name": (c_char_p, [c_uint32]),
    "kalsim_policy_load": (c_uint32, [c_char_p, POINTER(c_void_p)]),
    "kalsim_policy_free": (None, [c_void_p]),
    "kalsim_policy_seed": (c_uint32, [c_void_p, c_uint64]),
    "kalsim_policy_check_env": (c_uint32, [c_void_p, c_void_p]),
    "kalsim_policy_act": (c_uint32, [c_void_p, _F32P, _U8P, c_bool, _U32P]),
    "kalsim_policy_action_probs": (c_uint32, [c_void_p, _F32P, _U8P, _F32P]),
    "kalsim_policy_value": (c_uint32, [c_void_p, _F32P, _F32P]),
    "kalsim_obs_feature_count": (c_size_t, []),
    "kalsim_obs_schema_version": (c_uint32, []),
    "kalsim_obs_feature_name": (c_char_p, [c_size_t]),
    "kalsim_obs_feature_info": (c_uint32, [c_size_t, POINTER(ObsFeature)]),
}


def _load() -> ctypes.CDLL:
    path = find_library()
    lib = ctypes.CDLL(str(path))
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    version = lib.kalsim_abi_version()
    if version != ABI_VERSION:
        raise ImportError(f"kalsim: {path} has ABI version {version}, this package expects {ABI_VERSION}")
    lib.path = path
    return lib


lib = _load()


def check(status: int) -> None:
    """Raise the `KalsimError` subclass for a non-zero status, with the library's message."""
    if status != 0:
        message = lib.kalsim_last_error().decode("utf-8", "replace")
        summary = lib.kalsim_status_str(status).decode("utf-8", "replace")
        raise errors.error_for(status, summary, message)
