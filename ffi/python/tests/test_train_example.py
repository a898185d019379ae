"""The MaskablePPO example runs end to end (skipped cleanly without torch / sb3-contrib)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

MISSING = [m for m in ("torch", "sb3_contrib") if importlib.util.find_spec(m) is None]


@pytest.mark.skipif(bool(MISSING), reason=f"not importable: {', '.join(MISSING)}")
def test_train_maskable_ppo_example():
    script = Path(__file__).resolve().parent.parent / "examples" / "train_maskable_ppo.py"
    out = subprocess.run(
        [sys.executable, str(script), "--timesteps", "1024", "--episodes", "1", "--markets", "2",
         "--events", "100"],
        capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr
    assert "position_size_distribution" in out.stdout
    assert "evaluating on held-out seed 1007" in out.stdout


@pytest.mark.skipif(bool(MISSING), reason=f"not importable: {', '.join(MISSING)}")
def test_train_maskable_ppo_example_on_the_informed_preset():
    here = Path(__file__).resolve().parent
    script = here.parent / "examples" / "train_maskable_ppo.py"
    config = here.parent.parent.parent / "docs" / "informed.toml"
    out = subprocess.run(
        [sys.executable, str(script), "--config", str(config), "--timesteps", "512",
         "--episodes", "1", "--num-envs", "4"],
        capture_output=True, text=True, timeout=900,
    )
    assert out.returncode == 0, out.stderr
    assert "held-out episode 0" in out.stdout


RLLIB_MISSING = [m for m in ("torch", "ray") if importlib.util.find_spec(m) is None]
if not RLLIB_MISSING:
    try:
        import ray.rllib  # noqa: F401
    except Exception:  # ray without its rllib extra
        RLLIB_MISSING = ["ray[rllib]"]


@pytest.mark.skipif(bool(RLLIB_MISSING), reason=f"not importable: {', '.join(RLLIB_MISSING)}")
def test_rllib_example_trains_with_two_env_runners():
    script = Path(__file__).resolve().parent.parent / "examples" / "rllib_ppo.py"
    out = subprocess.run(
        [sys.executable, str(script), "--env-runners", "2", "--iterations", "1"],
        capture_output=True, text=True, timeout=900,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    assert "iteration 1:" in out.stdout
