"""The installed wheel: the package and its library come from site-packages (run by
`ffi/test_wheel.sh` with KALSIM_TEST_INSTALLED=1, cargo off PATH, outside the repository)."""

import os
import shutil
import sysconfig
from pathlib import Path

import pytest

INSTALLED = os.environ.get("KALSIM_TEST_INSTALLED") == "1"


@pytest.mark.skipif(not INSTALLED, reason="only for an installed wheel (ffi/test_wheel.sh)")
def test_the_package_and_its_library_load_from_site_packages():
    import kalsim
    from kalsim import _lib

    site = {Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")}
    pkg = Path(kalsim.__file__).resolve()
    lib = _lib.find_library().resolve()
    assert any(s in pkg.parents for s in site), pkg
    assert any(s in lib.parents for s in site), lib
    assert shutil.which("cargo") is None, "cargo must be off PATH for this test"
    env = kalsim.KalsimEnv({"data": {"synthetic_markets": 2, "synthetic_events": 40}})
    obs, _ = env.reset(seed=1)
    assert obs.shape == (kalsim.OBS_DIM,)


def test_a_wrong_kalsim_lib_falls_back_to_the_bundled_library(monkeypatch):
    from kalsim import _lib

    monkeypatch.setenv("KALSIM_LIB", "/nonexistent/libkalsim.so")
    with pytest.warns(UserWarning, match="KALSIM_LIB"):
        found = _lib.find_library()
    assert found.exists()
