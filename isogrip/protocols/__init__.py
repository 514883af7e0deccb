"""Protocol definitions, their files, and the protocol engine.

Public names: :class:`Protocol`, :func:`load_protocol`, :func:`builtin_protocols`,
:data:`DEFAULT_PROTOCOL` and :class:`Engine` (in :mod:`isogrip.protocols.engine`).
"""

from isogrip.protocols.loader import (
    DEFAULT_PROTOCOL,
    builtin_names,
    builtin_protocols,
    load_protocol,
    parse_protocol,
)
from isogrip.protocols.model import HandPattern, MvcSpec, Protocol

__all__ = [
    "DEFAULT_PROTOCOL",
    "HandPattern",
    "MvcSpec",
    "Protocol",
    "builtin_names",
    "builtin_protocols",
    "load_protocol",
    "parse_protocol",
]
