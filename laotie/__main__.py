"""``python -m laotie``: the same as the ``laotie`` command."""

import sys

from .cli import main

sys.exit(main())
