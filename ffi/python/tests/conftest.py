import os
import sys
from pathlib import Path

import pytest

# Run against the source tree when the package is not installed.
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

REPO = HERE.parent.parent.parent
VECTORS = Path(os.environ.get("KALSIM_VECTORS", REPO / "tests" / "vectors"))

SMALL = {"data": {"synthetic_markets": 3, "synthetic_events": 60}}


@pytest.fixture
def small_config():
    return dict(SMALL)
