"""``python -m geoconv`` and the ``geoconv`` console script (see :mod:`geoconv.cli`)."""

from __future__ import annotations

import sys

from geoconv.cli import main

if __name__ == "__main__":
    sys.exit(main())
