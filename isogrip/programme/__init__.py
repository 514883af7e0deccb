"""The training programme: weeks of sessions, blood-pressure weeks, intensity steps.

:mod:`~isogrip.programme.plan` holds the numbers a programme is started with,
:mod:`~isogrip.programme.intensity` and :mod:`~isogrip.programme.review` the pure
rules that decide, from the recorded sessions, where it stands and what is due;
:mod:`~isogrip.programme.service` reads those inputs from the store.
"""
