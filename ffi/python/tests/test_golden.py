"""Replay every golden vector in tests/vectors/ bit for bit (skipped only when there are none)."""

import json

import numpy as np
import pytest

from kalsim import golden
from conftest import SMALL, VECTORS

FILES = sorted(VECTORS.glob("*.json")) if VECTORS.is_dir() else []


@pytest.mark.skipif(not FILES, reason=f"no golden vectors in {VECTORS}")
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_golden_vector(path):
    vector = json.loads(path.read_text())
    errors = golden.replay(vector)
    assert not errors, f"{vector.get('name', path.stem)}: " + "\n".join(errors)


def test_record_replay_round_trip(tmp_path):
    # Exercises the replay code on a vector written in the same format.
    rng = np.random.default_rng(3)
    actions = rng.integers(0, 25, size=40).tolist()
    v = golden.record(SMALL, 77, actions, name="self_check", note="recorded by the Python suite")
    path = tmp_path / "v.json"
    path.write_text(json.dumps(v))
    assert golden.replay(path) == []
    v["steps"][3]["obs_bits"][0] ^= 1
    v["steps"][5]["reward"] += 1e-9
    errors = golden.replay(v)
    assert any("step 3" in e and "obs bits" in e for e in errors)
    assert any("step 5" in e and "reward" in e for e in errors)
