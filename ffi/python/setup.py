"""Build hook: compile the kalsim C ABI with cargo and bundle the shared library.

``pip install ./ffi/python`` runs ``cargo build --release -p kalsim-ffi`` in the workspace
(two levels up) when cargo is on PATH, and copies ``libkalsim.so`` into the package. Without
cargo, a library named by ``$KALSIM_LIB`` or already built under ``target/release`` is
bundled instead; failing all three the package is installed without it and finds the
library at import time (``$KALSIM_LIB``). ``KALSIM_NO_CARGO=1`` skips the cargo build.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
WORKSPACE = HERE.parent.parent
if sys.platform == "darwin":
    LIB = "libkalsim.dylib"
elif sys.platform == "win32":
    LIB = "kalsim.dll"
else:
    LIB = "libkalsim.so"


def _terminal():
    """The user's terminal, when there is one: pip captures a build backend's output (and
    shows it only with ``-v``), so cargo's progress goes straight to the terminal instead of
    leaving ``Building wheel`` silent for minutes. ``KALSIM_BUILD_QUIET=1`` opts out."""
    if os.environ.get("KALSIM_BUILD_QUIET"):
        return None
    try:
        return open("/dev/tty", "w")  # noqa: SIM115 (closed by the caller)
    except OSError:  # no controlling terminal (CI, a daemon): pip -v shows the log
        return None


def _library() -> "Path | None":
    if os.environ.get("KALSIM_LIB"):
        return Path(os.environ["KALSIM_LIB"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", WORKSPACE / "target"))
    cargo = shutil.which("cargo")
    if cargo and (WORKSPACE / "Cargo.toml").exists() and not os.environ.get("KALSIM_NO_CARGO"):
        print("kalsim: cargo build --release -p kalsim-ffi", file=sys.stderr)
        tty = _terminal()
        try:
            if tty is not None:
                tty.write(
                    "kalsim: compiling the Rust library (cargo build --release -p kalsim-ffi; "
                    "a few minutes the first time)\n"
                )
                tty.flush()
            subprocess.check_call(
                [cargo, "build", "--release", "-p", "kalsim-ffi"], cwd=WORKSPACE, stderr=tty
            )
        finally:
            if tty is not None:
                tty.close()
    built = target / "release" / LIB
    return built if built.exists() else None


class BuildWithCargo(build_py):
    def run(self):
        super().run()
        lib = _library()
        dest = Path(self.build_lib) / "kalsim"
        if lib is None:
            print(f"kalsim: no {LIB} bundled; set KALSIM_LIB at run time", file=sys.stderr)
            return
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(lib, dest / LIB)


class BinaryDistribution(Distribution):
    """The wheel carries a native library: tag it for this platform."""

    def has_ext_modules(self):
        return True


try:
    from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
except ImportError:  # setuptools < 70.1: the `wheel` package's
    try:
        from wheel.bdist_wheel import bdist_wheel as _bdist_wheel
    except ImportError:
        _bdist_wheel = None

cmdclass = {"build_py": BuildWithCargo}
if _bdist_wheel is not None:

    class PlatformWheel(_bdist_wheel):
        """``py3-none-<platform>``: the wheel holds a shared library reached through ctypes,
        no CPython extension, so one wheel serves every Python 3 on the platform."""

        def finalize_options(self):
            super().finalize_options()
            self.root_is_pure = False

        def get_tag(self):
            _, _, plat = super().get_tag()
            return "py3", "none", plat

    cmdclass["bdist_wheel"] = PlatformWheel

setup(cmdclass=cmdclass, distclass=BinaryDistribution)
