"""``python -m lib``: the command line (DESIGN §3.1)."""

import sys

from lib.cli import main
from lib.shutdown import before_exit

code = main()
before_exit()
sys.exit(code)
