"""``python -m liveband``: the same command as the ``liveband`` console script."""

import sys

from liveband.cli import main

if __name__ == "__main__":
    sys.exit(main())
