"""``python -m session_manager``: the same as the ``session-manager`` command."""
import sys

from .cli import main

sys.exit(main())
