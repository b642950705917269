"""`python -m kmnist ...`: the command-line interface."""

import sys

from kmnist.commands.cli import main

sys.exit(main())
