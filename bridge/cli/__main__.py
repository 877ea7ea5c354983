"""`python -m bridge.cli`: the same as the `avatar-bridge` command."""
import sys

from . import main

sys.exit(main())
