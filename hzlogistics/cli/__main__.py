"""``python -m hzlogistics.cli``: the command line."""

import sys

from hzlogistics.cli.main import main

sys.exit(main())
