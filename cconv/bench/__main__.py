"""``python -m cconv.bench``: see ``cconv.bench.cli``."""
import sys

from .cli import main

sys.exit(main())
