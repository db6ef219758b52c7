"""``python -m modelport.cli``: the same as the ``modelport`` console script."""

import sys

from modelport.cli import main

sys.exit(main())
