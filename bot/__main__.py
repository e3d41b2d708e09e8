"""`python -m bot` does what `samenopvoeden` does."""

import sys

from bot.cli import main

sys.exit(main())
