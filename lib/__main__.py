"""``python -m lib``: the command line (DESIGN §3.1)."""

import sys

from lib.cli import main

sys.exit(main())
