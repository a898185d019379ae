"""Loading ``libkalsim.so`` and declaring the C ABI for ctypes.

Search order: ``$KALSIM_LIB`` (a path to the library; one that does not exist is reported
with a warning and skipped), a copy bundled in this package, then
the workspace build outputs ``target/{release,debug}`` (``$CARGO_TARGET_DIR`` first) found by
walking up from this file, the most recently built first.

The structs (`StepInfo`, `Step`, `Metrics`, `ObsFeature`, `VecStepBuffers`, `EnvStepBuffers`) are not restated
here: they are built from the library's own description of its layout
(``kalsim_struct_layout`` / ``kalsim_struct_field``) and checked against it, offset by offset,
at import. Only `Field` (``kalsim_field``, the description's own row) is declared by hand, and
it is checked the same way.
"""

from __future__ import annotations

import ctypes
import os
import sys
import warnings
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
from typing import Any

from . import errors

# The C ABI this package is written against (``KALSIM_ABI_VERSION``).
ABI_VERSION = 2

if sys.platform == "darwin":
    LIB_NAME = "libkalsim.dylib"
elif sys.platform == "win32":
    LIB_NAME = "kalsim.dll"
else:
    LIB_NAME = "libkalsim.so"


def _candidates() -> list[Path]:
    found = []
    env = os.environ.get("KALSIM_LIB")
    if env:
        if Path(env).exists():
            return [Path(env)]
        warnings.warn(
            f"kalsim: KALSIM_LIB={env} does not exist; using the bundled or built library",
            stacklevel=3,
        )
    here = Path(__file__).resolve().parent
    found.append(here / LIB_NAME)
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


class Field(Structure):
    """``kalsim_field``: one row of the library's description of a struct."""

    _fields_ = [
        ("name", c_char_p),
        ("offset", c_size_t),
        ("kind", c_uint32),
        ("count", c_size_t),
        ("struct_id", c_uint32),
    ]


class KalsimStruct(Structure):
    """Base of the structs built from the library's layout description."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, _ in self._fields_:
            v = getattr(self, name)
            out[name] = v if isinstance(v, (int, float, bool, bytes)) or v is None else list(v)
        return out


# ``kalsim_field_kind`` -> ctypes type (``KALSIM_FIELD_KIND_STRUCT`` = 10 is nested).
_KIND_CTYPES: dict[int, Any] = {
    0: c_uint8,
    1: c_bool,
    2: c_uint32,
    3: c_uint64,
    4: c_int64,
    5: c_float,
    6: c_double,
    7: c_size_t,
    8: c_char_p,
    9: c_void_p,
}
_KIND_STRUCT = 10

def _open() -> ctypes.CDLL:
    path = find_library()
    lib = ctypes.CDLL(str(path))
    lib.kalsim_abi_version.restype = c_uint32
    lib.kalsim_abi_version.argtypes = []
    version = lib.kalsim_abi_version()
    if version != ABI_VERSION:
        raise ImportError(f"kalsim: {path} has ABI version {version}, this package expects {ABI_VERSION}")
    lib.path = path
    for name, restype, argtypes in (
        ("kalsim_struct_count", c_uint32, []),
        ("kalsim_struct_name", c_char_p, [c_uint32]),
        ("kalsim_struct_layout", c_uint32, [c_uint32, POINTER(c_size_t), POINTER(c_size_t)]),
        ("kalsim_struct_field", c_uint32, [c_uint32, c_size_t, POINTER(Field)]),
    ):
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


def _layout(lib: ctypes.CDLL, struct_id: int) -> tuple[str, int, list[Field]]:
    size, count = c_size_t(), c_size_t()
    if lib.kalsim_struct_layout(struct_id, ctypes.byref(size), ctypes.byref(count)) != 0:
        raise ImportError(f"kalsim: no layout for struct {struct_id}")
    fields = []
    for i in range(count.value):
        f = Field()
        if lib.kalsim_struct_field(struct_id, i, ctypes.byref(f)) != 0:
            raise ImportError(f"kalsim: no field {i} of struct {struct_id}")
        fields.append(f)
    return lib.kalsim_struct_name(struct_id).decode(), size.value, fields


def _check_layout(cls: Any, name: str, size: int, fields: list[Field]) -> None:
    """Fail the import when ctypes lays `cls` out otherwise than the library."""
    if ctypes.sizeof(cls) != size:
        raise ImportError(f"kalsim: {name} is {size} bytes in the library, {ctypes.sizeof(cls)} in ctypes")
    for f in fields:
        got = getattr(cls, f.name.decode()).offset
        if got != f.offset:
            raise ImportError(f"kalsim: {name}.{f.name.decode()} at offset {f.offset} in the library, {got} in ctypes")


def _build_structs(lib: ctypes.CDLL) -> dict[int, Any]:
    """Every struct the library describes, by ``kalsim_struct_id`` (ids are looked up by the
    structs' C names, so none is restated here)."""
    ids = {lib.kalsim_struct_name(i).decode(): i for i in range(lib.kalsim_struct_count())}
    field_id = ids["kalsim_field"]
    name, size, fields = _layout(lib, field_id)
    if [f.name.decode() for f in fields] != [n for n, _ in Field._fields_]:
        raise ImportError(f"kalsim: {name} has fields {[f.name for f in fields]}, this package knows others")
    _check_layout(Field, name, size, fields)
    built: dict[int, Any] = {field_id: Field}
    pending = [i for i in ids.values() if i != field_id]
    while pending:
        progress = False
        for struct_id in list(pending):
            name, size, fields = _layout(lib, struct_id)
            if any(f.kind == _KIND_STRUCT and f.struct_id not in built for f in fields):
                continue  # a nested struct not built yet
            members = []
            for f in fields:
                if f.kind == _KIND_STRUCT:
                    t = built[f.struct_id]
                elif f.kind in _KIND_CTYPES:
                    t = _KIND_CTYPES[f.kind]
                else:
                    raise ImportError(f"kalsim: {name}.{f.name.decode()} has field kind {f.kind}, unknown here")
                members.append((f.name.decode(), t * f.count if f.count != 1 else t))
            cls = type(
                name,
                (KalsimStruct,),
                {"_fields_": members, "__doc__": f"``{name}``, built from the library's layout description."},
            )
            _check_layout(cls, name, size, fields)
            built[struct_id] = cls
            pending.remove(struct_id)
            progress = True
        if not progress:
            raise ImportError(f"kalsim: structs {pending} nest in a cycle")
    return built


lib = _open()
_STRUCTS = _build_structs(lib)
_BY_NAME = {cls.__name__: cls for cls in _STRUCTS.values()}
StepInfo: Any = _BY_NAME["kalsim_step_info"]
Step: Any = _BY_NAME["kalsim_step"]
Metrics: Any = _BY_NAME["kalsim_metrics"]
ObsFeature: Any = _BY_NAME["kalsim_obs_feature"]
VecStepBuffers: Any = _BY_NAME["kalsim_vec_step_buffers"]
EnvStepBuffers: Any = _BY_NAME["kalsim_env_step_buffers"]
TrainProgress: Any = _BY_NAME["kalsim_train_progress"]

INFO_FIELDS: tuple[str, ...] = tuple(name for name, _ in StepInfo._fields_)

_F32P = POINTER(c_float)
_U8P = POINTER(c_uint8)
_U32P = POINTER(c_uint32)
_I64P = POINTER(c_int64)

_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    # name: (restype, argtypes); restype c_uint32 = kalsim_status
    "kalsim_version": (c_char_p, []),
    "kalsim_status_str": (c_char_p, [c_uint32]),
    "kalsim_last_error": (c_char_p, []),
    "kalsim_action_count": (c_size_t, []),
    "kalsim_intent_count": (c_size_t, []),
    "kalsim_tier_count": (c_size_t, []),
    "kalsim_intent_name": (c_char_p, [c_uint32]),
    "kalsim_tier_name": (c_char_p, [c_uint32]),
    "kalsim_invalid_action_max_code": (c_uint32, []),
    "kalsim_invalid_action_name": (c_char_p, [c_uint32]),
    "kalsim_env_new": (c_uint32, [c_char_p, POINTER(c_void_p)]),
    "kalsim_env_free": (None, [c_void_p]),
    "kalsim_env_obs_len": (c_size_t, [c_void_p]),
    "kalsim_env_market_count": (c_size_t, [c_void_p]),
    "kalsim_env_reset": (c_uint32, [c_void_p, c_uint64, _F32P, c_size_t]),
    "kalsim_env_reset_next": (c_uint32, [c_void_p, _F32P, c_size_t]),
    "kalsim_env_step": (c_uint32, [c_void_p, c_uint32, POINTER(Step), _F32P, c_size_t]),
    "kalsim_env_step_into": (c_uint32, [c_void_p, c_uint32, POINTER(EnvStepBuffers)]),
    "kalsim_env_reset_into": (c_uint32, [c_void_p, c_uint64, c_bool, POINTER(EnvStepBuffers)]),
    "kalsim_env_info": (c_uint32, [c_void_p, POINTER(StepInfo)]),
    "kalsim_env_action_mask": (c_uint32, [c_void_p, _U8P, c_size_t]),
    "kalsim_env_metrics": (c_uint32, [c_void_p, POINTER(Metrics)]),
    "kalsim_env_size_table": (c_uint32, [c_void_p, _U32P, c_size_t]),
    "kalsim_vec_env_new": (c_uint32, [c_char_p, c_size_t, c_size_t, POINTER(c_void_p)]),
    "kalsim_vec_env_free": (None, [c_void_p]),
    "kalsim_vec_env_num_envs": (c_size_t, [c_void_p]),
    "kalsim_vec_env_reset": (c_uint32, [c_void_p, c_uint64, _F32P, c_size_t, _U8P, c_size_t]),
    "kalsim_vec_env_step": (c_uint32, [c_void_p, POINTER(VecStepBuffers)]),
    "kalsim_vec_env_infos": (c_uint32, [c_void_p, c_void_p, c_size_t]),
    "kalsim_vec_env_metrics": (c_uint32, [c_void_p, c_size_t, POINTER(Metrics)]),
    "kalsim_vec_env_set_autoreset": (c_uint32, [c_void_p, c_uint32]),
    "kalsim_vec_env_autoreset": (c_uint32, [c_void_p]),
    "kalsim_vec_env_run_random": (c_uint32, [c_void_p, c_uint64, c_uint64, POINTER(c_uint64)]),
    "kalsim_vec_env_final_observations": (c_uint32, [c_void_p, _F32P, c_size_t, _U8P, c_size_t]),
    "kalsim_string_free": (None, [c_void_p]),
    # The callbacks' types are checked by the callers in train.py (CFUNCTYPE objects).
    "kalsim_train": (c_uint32, [c_char_p, c_char_p, c_char_p, c_char_p, c_void_p, c_void_p, POINTER(c_void_p)]),
    "kalsim_evaluate": (c_uint32, [c_char_p, c_char_p, c_uint32, c_uint64, c_char_p, POINTER(c_void_p)]),
    "kalsim_experiment_plan": (c_uint32, [c_char_p, c_char_p, POINTER(c_void_p)]),
    "kalsim_experiment_train_task": (c_uint32, [c_char_p, c_char_p, c_size_t, c_void_p, c_void_p, POINTER(c_void_p)]),
    "kalsim_experiment_gather": (
        c_uint32,
        [c_char_p, c_char_p, c_char_p, c_char_p, c_size_t, c_double, POINTER(c_void_p)],
    ),
    "kalsim_experiment_run": (c_uint32, [c_char_p, c_char_p, c_char_p, c_size_t, c_void_p, c_void_p, POINTER(c_void_p)]),
    "kalsim_config_held_out": (c_uint32, [c_char_p, POINTER(ctypes.c_char), c_size_t, POINTER(c_size_t)]),
    "kalsim_encode_action": (c_uint32, [c_uint32, c_uint32, _U8P]),
    "kalsim_decode_action": (c_uint32, [c_uint32, _U8P, _U8P]),
    "kalsim_validate_order": (c_uint32, [c_int64, c_int64, c_int64, c_uint32, _U8P]),
    "kalsim_taker_fee_cents": (c_uint32, [c_uint32, c_uint32, _I64P]),
    "kalsim_maker_fee_cents": (c_uint32, [c_uint32, c_uint32, _I64P]),
    "kalsim_size_table": (c_uint32, [_U32P, c_size_t]),
    "kalsim_policy_load": (c_uint32, [c_char_p, POINTER(c_void_p)]),
    "kalsim_policy_free": (None, [c_void_p]),
    "kalsim_policy_seed": (c_uint32, [c_void_p, c_uint64]),
    "kalsim_policy_check_env": (c_uint32, [c_void_p, c_void_p]),
    "kalsim_policy_act": (c_uint32, [c_void_p, _F32P, c_size_t, _U8P, c_size_t, c_bool, _U32P]),
    "kalsim_policy_action_probs": (c_uint32, [c_void_p, _F32P, c_size_t, _U8P, c_size_t, _F32P, c_size_t]),
    "kalsim_policy_value": (c_uint32, [c_void_p, _F32P, c_size_t, _F32P]),
    "kalsim_obs_feature_count": (c_size_t, []),
    "kalsim_obs_schema_version": (c_uint32, []),
    "kalsim_obs_feature_name": (c_char_p, [c_size_t]),
    "kalsim_obs_feature_info": (c_uint32, [c_size_t, POINTER(ObsFeature)]),
}

for _name, (_restype, _argtypes) in _SIGNATURES.items():
    _fn = getattr(lib, _name)
    _fn.restype = _restype
    _fn.argtypes = _argtypes


def check(status: int) -> None:
    """Raise the `KalsimError` subclass for a non-zero status, with the library's message."""
    if status != 0:
        message = lib.kalsim_last_error().decode("utf-8", "replace")
        summary = lib.kalsim_status_str(status).decode("utf-8", "replace")
        raise errors.error_for(status, summary, message)
