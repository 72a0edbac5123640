"""`python -m monitor.demo` regenerates `data/demo/` at the shipped anchor."""

from __future__ import annotations

import sys

from monitor.demo import _main

sys.exit(_main())
