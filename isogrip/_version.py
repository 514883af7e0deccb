"""The version of isogrip: the one place it is written.

``pyproject.toml`` reads it from here (``[tool.setuptools.dynamic]``, without importing
the package), and :data:`isogrip.__version__` imports it, so ``isogrip --version``
needs no package metadata (``importlib.metadata`` alone costs more than the rest of
the command line's start-up).
"""

__version__ = "0.1.0"
