"""``python -m tinyae.teach.exercises FILE``: the same as ``tinyae check FILE``."""

import sys

from .command import main_check

sys.exit(main_check(sys.argv[1:]))
