"""A config given as a TOML or JSON file path equals the same config given as a dict."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import kalsim

SMALL_TOML = """
mark = "mid"
decision_interval = { events = 2 }

[data]
preset = "informed"
synthetic_markets = 3
synthetic_events = 80
synthetic_seed = 5
"""
SMALL = {
    "mark": "mid",
    "decision_interval": {"events": 2},
    "data": {"preset": "informed", "synthetic_markets": 3, "synthetic_events": 80, "synthetic_seed": 5},
}


def _rollout(config):
    env = kalsim.KalsimEnv(config)
    obs, _ = env.reset(seed=3)
    out = [obs.copy()]
    for _ in range(20):
        obs, reward, term, trunc, _ = env.step(0)
        out.append(obs.copy())
        if term or trunc:
            break
    return np.stack(out)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib needs Python 3.11")
def test_toml_and_json_paths_equal_the_dict(tmp_path: Path):
    toml = tmp_path / "env.toml"
    toml.write_text(SMALL_TOML)
    js = tmp_path / "env.json"
    js.write_text(json.dumps(SMALL))
    want = _rollout(SMALL)
    assert np.array_equal(_rollout(toml), want)
    assert np.array_equal(_rollout(str(toml)), want)
    assert np.array_equal(_rollout(str(js)), want)


def test_a_missing_or_bad_config_file_names_it(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="nope.toml"):
        kalsim.KalsimEnv(str(tmp_path / "nope.toml"))
    if sys.version_info >= (3, 11):
        bad = tmp_path / "bad.toml"
        bad.write_text("mark = = 1\n")
        with pytest.raises(ValueError, match="bad.toml"):
            kalsim.KalsimEnv(bad)
