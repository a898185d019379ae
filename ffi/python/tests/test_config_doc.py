"""docs/environment.md documents every configuration key, with the library's defaults."""

import re
import sys

import pytest

import kalsim
from conftest import REPO

tomllib = pytest.importorskip("tomllib") if sys.version_info >= (3, 11) else None


def _flatten(d, prefix=""):
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and k != "decision_interval":
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


DOC = REPO / "docs" / "environment.md"


@pytest.mark.skipif(tomllib is None, reason="tomllib needs Python >= 3.11")
@pytest.mark.skipif(not DOC.exists(), reason="an installed wheel tested outside the repository")
def test_every_config_key_is_documented_with_its_default():
    doc = DOC.read_text()
    block = re.search(r"## Configuration.*?```toml\n(.*?)```", doc, re.S)
    assert block, "the configuration block of docs/environment.md"
    documented = _flatten(tomllib.loads(block.group(1)))
    # Every key with its default, as the library fills it in (the held-out config moves
    # only the generator seed).
    library = _flatten(kalsim.held_out_config(None))
    library["data.synthetic_seed"] -= 1000
    assert sorted(documented) == sorted(library), "keys documented vs keys the library has"
    for key, value in library.items():
        assert documented[key] == value, f"{key}: documented {documented[key]!r}, default {value!r}"
