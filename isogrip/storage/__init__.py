"""Session storage: the SQLite store, the crash-safe recorder and the exports."""
