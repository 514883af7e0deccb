"""``python -m isogrip``: the same as the ``isogrip`` command."""

from isogrip.cli import main

raise SystemExit(main())
