"""``python -m lib``: the command line (DESIGN §3.1)."""

import sys

from lib.shutdown import before_exit
from lib.startup import load_run_modules

# The runs always need them; --help, schema or deploy do not. A word that only looks like a command
# (an option's value) costs an unused import, no more.
if {"check", "invoke"} & set(sys.argv[1:]):
    load_run_modules()
from lib.cli import main

code = main()
before_exit()
sys.exit(code)
