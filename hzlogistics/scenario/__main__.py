"""``python -m hzlogistics.scenario --write-doc docs/scenario.md`` (or ``--check-doc``)."""

import sys

from hzlogistics.scenario.write import main

sys.exit(main())
