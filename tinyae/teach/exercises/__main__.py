"""``python -m tinyae.teach.exercises FILE``: the same as ``tinyae check FILE``."""

import sys

from .runner import main_check

sys.exit(main_check(sys.argv[1:]))
