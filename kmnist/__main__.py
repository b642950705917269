"""`python -m kmnist ...`: the command-line interface."""

import sys

from kmnist.cli import main

sys.exit(main())
