"""The terminal view: a live display of a session, and the CLI's summary tables (rich).

Text that did not come from isogrip itself (protocol titles, device names, notes,
stored flags) is passed to rich as :class:`~rich.text.Text` made by :func:`literal`:
rich would otherwise read ``[...]`` in it as markup (``[/]`` raises, ``[sham]``
vanishes) and ``:name:`` as an emoji code.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from isogrip.protocols.display import display_map, shown_hold_metrics, stored_blinded_protocol
from isogrip.protocols.events import Phase, Snapshot, Stage, Zone
from isogrip.signal.units import Unit, from_newtons

BAR_WIDTH = 60

_ZONE_STYLE = {
    Zone.IN_BAND: "bold black on green",
    Zone.NEAR_LOW: "bold black on yellow",
    Zone.NEAR_HIGH: "bold black on yellow",
    Zone.LOW: "bold white on red",
    Zone.HIGH: "bold white on red",
    Zone.NONE: "bold",
}
# A shape as well as a colour, so colour is never the only cue.
_ZONE_SHAPE = {
    Zone.IN_BAND: "●",
    Zone.NEAR_LOW: "▲",
    Zone.NEAR_HIGH: "▼",
    Zone.LOW: "▲▲",
    Zone.HIGH: "▼▼",
    Zone.NONE: "",
}


def literal(value: object) -> Text:
    """``value`` as text that rich shows exactly: no markup, emoji codes or highlighting.

    Example:
        >>> literal("Study A [/] week 2").plain
        'Study A [/] week 2'
    """
    return Text(str(value))


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = max(0, math.ceil(seconds - 1e-9))
    return f"{s // 60}:{s % 60:02d}"


def force_bar(snap: Snapshot, width: int = BAR_WIDTH) -> Text:
    """A horizontal bar: amber and green target zones, and the current force.

    Everything is as the participant is shown it (a sham's display mapping applied).

    Args:
        snap: Engine snapshot.
        width: Characters.
    """
    force = max(0.0, (snap.shown_force_n or 0.0))
    band = snap.shown_band
    if band is not None:
        full = band[3] * 1.6
    elif snap.mvc_n:
        full = snap.mvc_n * 1.2
    else:
        full = max(force * 1.5, 200.0)
    if snap.trial_peak_n is not None:
        full = max(full, snap.trial_peak_n * 1.2)
    pos = min(width - 1, int(force / full * width))
    cells: list[tuple[str, str]] = []
    for i in range(width):
        lo = i / width * full
        style = "on grey23"
        if band is not None:
            if band[0] <= lo < band[1]:
                style = "on green4"
            elif band[2] <= lo < band[3]:
                style = "on dark_orange3"
        ch = " "
        if i < pos:
            ch = "█"
        elif i == pos:
            ch = "▌"
        cells.append((ch, "white " + style))
    text = Text()
    for ch, style in cells:
        text.append(ch, style=style)
    return text


def live_panel(snap: Snapshot, unit: Unit, header: str = "", footer: str = "") -> Panel:
    """The live view for one moment of a session."""
    lines: list[Any] = []
    where = ""
    if snap.hand is not None:
        if snap.stage is Stage.HOLD:
            where = f"Hold {snap.rep} of {snap.reps} · {snap.hand.label} hand"
        elif snap.trial:
            where = f"Maximal squeeze {snap.trial} · {snap.hand.label} hand"
        if where and snap.phase in (Phase.REST, Phase.MVC_REST, Phase.COUNTDOWN):
            where = "Next: " + where
    lines.append(Text(where or snap.phase.value.replace("_", " ").title(), style="bold"))
    big = Text(_clock(snap.time_left_s), style="bold cyan")
    if snap.paused:
        big = Text("PAUSED", style="bold yellow")
    lines.append(big)
    shape = _ZONE_SHAPE[snap.zone]
    lines.append(Text(f" {shape} {snap.cue} " if shape else f" {snap.cue} ",
                      style=_ZONE_STYLE[snap.zone]))
    lines.append(force_bar(snap))
    # Shown values only: in a sham's holds the display mapping, in MVC efforts the
    # true force (consistent with "best so far"). A resting hand reads 0, not -0.1.
    shown = max(0.0, snap.shown_force_n or 0.0)
    info = f"Force {from_newtons(shown, unit):6.1f} {unit.value}"
    band = snap.shown_band
    target = snap.shown_target_n
    if snap.phase is Phase.HOLD and target is not None and band is not None:
        info += (f"   target {from_newtons(target, unit):.1f} {unit.value} "
                 f"(green {from_newtons(band[0], unit):.1f}-"
                 f"{from_newtons(band[1], unit):.1f})")
        pct = snap.shown_pct_mvc
        if pct is not None and math.isfinite(pct):
            info += f"   {max(0.0, pct):.0f} % of your maximum"
    if snap.trial_peak_n is not None:
        info += f"   best so far {from_newtons(snap.trial_peak_n, unit):.1f} {unit.value}"
    if snap.in_gap:
        info += "   [no data from the device: reconnecting...]"
    lines.append(Text(info))
    lines.append(Text("Breathe normally; never hold your breath. "
                      + (footer or "Ctrl-C stops the session."), style="dim"))
    return Panel(Group(*lines), title=literal(header or "isogrip"), border_style="blue")


def mvc_table(summary: dict[str, Any], unit: Unit) -> Table:
    """MVC per hand with all trials."""
    table = Table(title="Maximal grip (MVC)")
    table.add_column("Hand")
    table.add_column(f"MVC ({unit.value})", justify="right")
    table.add_column(f"Trials ({unit.value})")
    table.add_column("Notes")
    # Right first: the order the trials are taken in.
    for hand, m in sorted((summary.get("mvc") or {}).items(), reverse=True):
        trials = ", ".join(
            f"{from_newtons(tr['score_n'], unit):.1f}" + ("" if tr.get("used", True) else "*")
            for tr in m.get("trials", [])
            if tr.get("score_n") is not None
        )
        mvc = m.get("mvc_n")
        table.add_row(
            literal(hand.upper()),
            "-" if mvc is None else f"{from_newtons(mvc, unit):.1f}",
            trials,
            literal(", ".join(m.get("flags") or [])),
        )
    return table


def participant_summary(summary: dict[str, Any], t: NDArray[np.float64],
                        force_n: NDArray[np.float64]) -> dict[str, Any]:
    """The session summary as its participant may see it (the CLI's closing tables).

    For a sham every hold's target and figures are those of the force as it was
    shown (the display mapping), so the table reads like the active arm's; for a
    protocol that hides its intensity and shows true force, the intensity figures
    are left out. Other protocols' summaries are returned unchanged. ``summary.json``
    and the exports keep the true values.

    Args:
        summary: :func:`isogrip.storage.export.session_summary` output.
        t: The session's sample times, s.
        force_n: Its forces, N.
    """
    sham = stored_blinded_protocol(summary.get("protocol") or {})
    if sham is None:
        return summary
    holds = []
    for h in summary.get("holds", []):
        h = dict(h)
        mvc, go, end = h.get("mvc_n"), h.get("t_go_s"), h.get("t_end_s")
        if sham.display_scale == 1.0 or not mvc or go is None or end is None:
            h.update(target_n=None, mean_pct_mvc=None, drift_pct_mvc_per_min=None)
        else:
            i0, i1 = np.searchsorted(t, [go, end])
            m = shown_hold_metrics(sham, t[i0:i1], force_n[i0:i1], mvc_n=mvc,
                                   start_s=go, end_s=end)
            h.update(target_n=display_map(sham, mvc).show_one(h["target_n"]),
                     mean_pct_mvc=m.mean_pct_mvc, time_in_band_pct=m.time_in_band_pct,
                     cv_mean_pct=m.cv_mean_pct,
                     drift_pct_mvc_per_min=m.drift_pct_mvc_per_min)
        holds.append(h)
    return {**summary, "holds": holds}


def holds_table(summary: dict[str, Any], unit: Unit) -> Table:
    """One row per hold with the main metrics."""
    table = Table(title="Holds")
    for col in ("#", "Hand", f"Target ({unit.value})", "Mean % MVC", "Time in band",
                "CV", "Drift (% MVC/min)", "Gaps (s)", "Done"):
        table.add_column(col, justify="right" if col not in ("Hand",) else "left")

    def num(v: Any, fmt: str) -> str:
        return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, fmt)

    for h in summary.get("holds", []):
        table.add_row(
            literal(h.get("rep")),
            literal(str(h.get("hand", "")).upper()),
            num(from_newtons(h["target_n"], unit) if h.get("target_n") else None, ".1f"),
            num(h.get("mean_pct_mvc"), ".1f"),
            num(h.get("time_in_band_pct"), ".0f") + " %",
            num(h.get("cv_mean_pct"), ".1f") + " %",
            num(h.get("drift_pct_mvc_per_min"), "+.2f"),
            num(h.get("gap_s"), ".1f"),
            "yes" if h.get("completed") else "no",
        )
    return table
