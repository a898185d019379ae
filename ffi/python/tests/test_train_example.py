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
