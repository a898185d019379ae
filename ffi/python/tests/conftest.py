import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
# Against the source tree, unless testing an installed wheel (KALSIM_TEST_INSTALLED=1, the
# tests copied outside the repository).
if os.environ.get("KALSIM_TEST_INSTALLED") != "1":
    sys.path.insert(0, str(HERE.parent))

REPO = HERE.parent.parent.parent
VECTORS = Path(os.environ.get("KALSIM_VECTORS", REPO / "tests" / "vectors"))

SMALL = {"data": {"synthetic_markets": 3, "synthetic_events": 60}}


@pytest.fixture
def small_config():
    return dict(SMALL)
