"""Entry point of the PyInstaller bundle (packaging/isogrip.spec): the ``isogrip`` command.

PyInstaller freezes a script, not a console-script entry point, so this calls the same
function that ``isogrip = isogrip.cli:main`` names in pyproject.toml.
"""

from __future__ import annotations

import multiprocessing
import sys

from isogrip.cli import main

if __name__ == "__main__":
    # isogrip starts no processes itself, but a library may (multiprocessing or a
    # ProcessPoolExecutor): in a frozen program each child re-runs this executable, and
    # freeze_support() makes such a child run its task instead of a second isogrip. It
    # does nothing when the program is not frozen or is not such a child.
    multiprocessing.freeze_support()
    sys.exit(main())
