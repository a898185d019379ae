"""What the package reads from the library instead of restating it: counts, names, struct
layouts; and the typing/packaging polish."""

import ctypes
from pathlib import Path

import numpy as np
import pytest

import kalsim
from kalsim import _lib, errors
from conftest import SMALL


def test_counts_and_names_come_from_the_library():
    assert kalsim.ACTION_COUNT == 25 and kalsim.TIER_COUNT == 5 and kalsim.OBS_DIM == len(kalsim.obs_schema())
    assert kalsim.INTENTS == ("HOLD", "BUY_YES", "SELL_YES", "BUY_NO", "SELL_NO")
    # The core's spelling, not an upper-cased copy.
    assert kalsim.TIERS == ("Small", "Medium", "Large", "Huge", "Giant")
    assert kalsim.INVALID_ACTIONS[0] == "none" and kalsim.INVALID_ACTIONS[-1] == "reserved"
    assert kalsim.INVALID_ACTIONS[1] == "position_limit"
    assert kalsim.invalid_action_name(len(kalsim.INVALID_ACTIONS)) == "unknown"
    assert kalsim.invalid_action_name(-1) == "unknown"


def test_structs_are_built_from_the_library_layout():
    for struct_id, cls in _lib._STRUCTS.items():
        size, count = ctypes.c_size_t(), ctypes.c_size_t()
        _lib.check(_lib.lib.kalsim_struct_layout(struct_id, ctypes.byref(size), ctypes.byref(count)))
        assert ctypes.sizeof(cls) == size.value
        assert len(cls._fields_) == count.value
        for i, (name, _) in enumerate(cls._fields_):
            f = _lib.Field()
            _lib.check(_lib.lib.kalsim_struct_field(struct_id, i, ctypes.byref(f)))
            assert f.name.decode() == name and getattr(cls, name).offset == f.offset
    assert _lib.INFO_FIELDS[0] == "step" and "fee_this_step_cents" in _lib.INFO_FIELDS
    with pytest.raises(kalsim.InvalidArgumentError, match="struct id"):
        _lib.check(_lib.lib.kalsim_struct_layout(99, ctypes.byref(ctypes.c_size_t()), ctypes.byref(ctypes.c_size_t())))


def test_every_error_class_is_a_library_status():
    for status, cls in errors._BY_STATUS.items():
        assert cls.status == status
        assert _lib.lib.kalsim_status_str(status).decode() != "unknown status"
    assert _lib.lib.kalsim_status_str(max(errors._BY_STATUS) + 1).decode() == "unknown status"
    assert kalsim.BufferLengthError is not BufferError and not hasattr(errors, "BufferError")


def test_short_buffers_raise_buffer_length_error_naming_the_buffer():
    env = kalsim.KalsimEnv(SMALL)
    obs = np.zeros(kalsim.OBS_DIM - 1, dtype=np.float32)
    with pytest.raises(kalsim.BufferLengthError, match=r"`obs_out`.*40 elements required, 39 given"):
        _lib.check(_lib.lib.kalsim_env_reset(env._handle, 1, obs.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), obs.size))
    env.close()


def test_action_masks_do_not_copy():
    env = kalsim.KalsimEnv(SMALL)
    env.reset(seed=1)
    m1 = env.action_masks()
    m2 = env.action_masks()
    assert m1 is m2 and m1.dtype == np.bool_ and m1.shape == (kalsim.ACTION_COUNT,)
    v = kalsim.KalsimVecEnv(2, SMALL, threads=1)
    v.reset(seed=1)
    assert v.action_masks() is v.action_masks()
    assert v.action_masks()[:, 0].all()
    v.close()


def test_typed_package():
    assert (Path(kalsim.__file__).parent / "py.typed").exists()
    assert kalsim.KalsimEnv.__orig_bases__[0].__args__ == (np.ndarray, np.int64)
