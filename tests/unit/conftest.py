"""Make `ansible_collections.keel.platform` importable from the working tree."""

from __future__ import annotations

import sys
from pathlib import Path

COLLECTIONS = Path(__file__).parents[2] / ".collections"
if COLLECTIONS.is_dir() and str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
