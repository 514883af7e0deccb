"""Pure signal processing: no I/O, no clock reads, no Qt, no bleak.

Modules: :mod:`~isogrip.signal.units`, :mod:`~isogrip.signal.ringbuffer`,
:mod:`~isogrip.signal.filters`, :mod:`~isogrip.signal.timebase`,
:mod:`~isogrip.signal.mvc` and :mod:`~isogrip.signal.metrics`.
"""
