"""``python -m sandbox``: the local Tencent Cloud and the demo (development only)."""

import sys

from sandbox.cli import main

sys.exit(main())
