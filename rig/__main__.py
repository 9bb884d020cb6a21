"""``python -m rig`` runs the ``rig`` command."""

import sys

from rig.cli import main

sys.exit(main())
