"""Settings shared by the whole suite."""

from __future__ import annotations

import os
import tempfile

# Qt tests draw off-screen: CI machines have no display. Set before Qt is imported.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Never read or write the developer's own settings file from a test.
os.environ["ISOGRIP_CONFIG_DIR"] = tempfile.mkdtemp(prefix="isogrip-test-config-")

# The desktop-app fixtures (``window``, ``settings_file``) for the GUI test modules.
pytest_plugins = ["gui_support"]
