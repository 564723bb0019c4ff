"""``python -m sim`` is the ``twin`` command."""

import sys

from sim.cli import main

sys.exit(main())
