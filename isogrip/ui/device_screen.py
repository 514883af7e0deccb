"""The Device screen: find a dynamometer, connect, zero it and see the force live.

The simulated device is always offered first, so isogrip can be tried (and a session
demonstrated) without hardware; its virtual participant can be chosen (steady, unsteady,
tiring, weak), so a clinician can show what out-of-band feedback looks like. A device
given on the command line (``isogrip gui --device ...``) is selected and connected at
start. Scans and connections run off the GUI thread; every failure ends in one plain
sentence that says what to do.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import QComboBox, QHBoxLayout, QHeaderView, QVBoxLayout, QWidget

from isogrip.ble_device.registry import DeviceSpec
from isogrip.ble_device.scanner import FoundDevice, scan
from isogrip.device_host import DeviceHost
from isogrip.errors import IsogripError
from isogrip.preview import DevicePreview, Handover
from isogrip.signal.units import Unit
from isogrip.ui.common import (
    button,
    fill_table,
    fmt_force,
    label,
    panel,
    run_task,
    selected_row,
    set_point_size,
    set_text,
    table,
)
from isogrip.ui.device_words import SIM_PARTICIPANTS, friendly_error, signal_words
from isogrip.ui.programme_card import ProgrammeCard

#: The simulated device offered in every list.
SIM = FoundDevice("Simulated device", "sim", "simulated (no hardware)", "sim", 0)
SCAN_SECONDS = 5.0


class DeviceScreen(QWidget):
    """Scan, connect, tare and a live readout.

    Signals:
        start_requested(str): The user wants to train with this device spec.
    """

    start_requested = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None, *, host: DeviceHost | None = None,
                 ble_backend: type | None = None,
                 ble_scanner_backend: type | None = None,
                 scanner: Callable[[], list[FoundDevice]] | None = None) -> None:
        super().__init__(parent)
        self.unit = Unit.KGF
        self._ble = (ble_backend, ble_scanner_backend)
        #: The program's device thread; scans and the preview run on it.
        self.host = host if host is not None else DeviceHost("isogrip-device-screen")
        self._scanner = scanner or (lambda: self.host.submit(
            scan(SCAN_SECONDS, backend=self._ble[1])).result())
        self.found: list[FoundDevice] = [SIM]
        self.preview: DevicePreview | None = None
        self._connecting: concurrent.futures.Future[None] | None = None
        self.connected_spec: str | None = None
        #: A device given on the command line that no list entry stands for: its
        #: entry and its exact spec.
        self._given: tuple[FoundDevice, str] | None = None
        #: Options of a simulated device given on the command line (``?seed=3``),
        #: kept whichever participant is chosen.
        self.sim_options = ""

        self.title = label("Your device", "title")
        intro = label("Switch your handgrip device on and press \u201cFind devices\u201d. "
                      "The simulated device lets you try isogrip without one.", "muted",
                      wrap=True)
        left = self._build_list_side()
        right = self._build_live_side()
        body = QHBoxLayout()
        body.addLayout(left, 3)
        body.addLayout(right, 2)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 16, 24, 16)
        lay.addWidget(self.title)
        lay.addWidget(intro)
        #: The programme's status or the offer to start one (the window loads it).
        self.programme = ProgrammeCard()
        lay.addWidget(self.programme)
        lay.addLayout(body, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._refresh)
        self._fill_table()
        self.table.selectRow(0)
        self._participant_changed()
        self._update_buttons()

    # ------------------------------------------------------------------ building
    def _build_table(self) -> None:
        """The list of devices found (the simulated one always first)."""
        self.table = table(["Name", "Kind", "Signal", "Battery"], selectable=True)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        # Whole words on small windows and large text: cells wrap onto a second line
        # instead of being cut to "Simulated ...", and the name column fits its names.
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        header, rows = self.table.horizontalHeader(), self.table.verticalHeader()
        assert header is not None and rows is not None
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def _build_list_side(self) -> QVBoxLayout:
        """The left column: the list, the simulated participant, the actions, messages."""
        self._build_table()
        self.message = label("", wrap=True)
        self.participant = QComboBox()
        for choice in SIM_PARTICIPANTS:
            self.participant.addItem(choice.title, choice.preset)
        self.participant.currentIndexChanged.connect(self._participant_changed)
        self.participant_words = label("", "muted", wrap=True)
        sim_row = QHBoxLayout()
        sim_row.addWidget(label("Simulated participant:"))
        sim_row.addWidget(self.participant)
        sim_row.addStretch(1)
        self.scan_btn = button("Find devices", slot=self.start_scan)
        self.connect_btn = button("Connect", "primary", slot=self.connect_selected)
        self.disconnect_btn = button("Disconnect", slot=self.disconnect)
        self.tare_btn = button("Zero (tare)", slot=self.tare)
        actions = QHBoxLayout()
        for b in (self.scan_btn, self.connect_btn, self.disconnect_btn, self.tare_btn):
            actions.addWidget(b)
        actions.addStretch(1)
        left = QVBoxLayout()
        left.addWidget(self.table, 1)
        left.addLayout(sim_row)
        left.addWidget(self.participant_words)
        left.addLayout(actions)
        left.addWidget(self.message)
        return left

    def _build_live_side(self) -> QVBoxLayout:
        """The right column: the connection, the live force and "Start training"."""
        self.status = label("Not connected", "heading", wrap=True)
        self.readout = label("\u2014", align=Qt.AlignmentFlag.AlignCenter)
        set_point_size(self.readout, 54)
        hint = label("Squeeze gently: the number should rise. Let go and press "
                     "\u201cZero\u201d if it does not show 0 at rest.", "muted", wrap=True)
        live = panel(self.status, self.readout, hint)
        self.start_btn = button("Start training  (Space)", "primary",
                                slot=self.request_start)
        self.start_btn.setMinimumHeight(56)
        right = QVBoxLayout()
        right.addWidget(live, 1)
        right.addWidget(self.start_btn)
        return right

    # ------------------------------------------------------------------ list
    def _fill_table(self) -> None:
        rows = []
        for d in self.found:
            battery = ""
            if self.preview is not None and self.connected_spec == self.spec_of(d):
                b = self.preview.battery
                battery = f"{b:.0f} %" if b is not None else "not reported"
            elif d.kind != "sim":
                battery = "shown when connected"
            unseen = d.kind == "sim" or (self._given is not None and d is self._given[0])
            rows.append((d.name or "(no name)", d.kind_label,
                         "\u2014" if unseen else signal_words(d.rssi), battery))
        fill_table(self.table, rows)

    def spec_of(self, d: FoundDevice) -> str:
        """Device spec string for a list entry (the simulated one: its participant)."""
        if self._given is not None and d is self._given[0]:
            return self._given[1]
        if d.kind == "sim":
            return f"sim:{self.participant.currentData()}{self.sim_options}"
        return d.spec

    def selected(self) -> FoundDevice | None:
        """The highlighted list entry."""
        row = selected_row(self.table)
        return self.found[row] if row is not None else None

    def select_spec(self, spec: str) -> None:
        """Highlight the entry for this spec, adding one if no entry stands for it.

        A simulated device with a known participant selects the simulated device and
        that participant (its options, e.g. ``?seed=3``, are kept); any other spec
        not in the list gets an entry of its own, so the session uses exactly it.
        """
        try:
            parsed = DeviceSpec.parse(spec)
        except IsogripError as exc:
            set_text(self.message, friendly_error(exc))
            return
        presets = [c.preset for c in SIM_PARTICIPANTS]
        if parsed.driver == "sim" and (parsed.argument or "good").lower() in presets:
            self.sim_options = spec[len(spec.partition("?")[0]):]
            self.participant.setCurrentIndex(presets.index((parsed.argument or
                                                            "good").lower()))
            self.table.selectRow(0)
            return
        for i, d in enumerate(self.found):
            if self.spec_of(d) == spec:
                self.table.selectRow(i)
                return
        entry = FoundDevice(spec, parsed.driver, "given at start (--device)", spec, 0)
        self._given = (entry, spec)
        self.found.insert(1, entry)
        self._fill_table()
        self.table.selectRow(1)

    def _selection_changed(self) -> None:
        d = self.selected()
        self.participant.setEnabled(d is not None and d.kind == "sim"
                                    and (self._given is None or d is not self._given[0]))
        self._update_buttons()

    def _participant_changed(self) -> None:
        """Show what the chosen participant does; a live preview follows the choice."""
        choice = SIM_PARTICIPANTS[max(0, self.participant.currentIndex())]
        set_text(self.participant_words, choice.words)
        if self.connected_spec is not None and self.connected_spec.startswith("sim"):
            d = self.selected()
            if d is not None and d.kind == "sim":
                self.connect_selected()  # the readout now comes from the new participant

    def start_scan(self) -> None:
        """Look for devices for a few seconds (in the background)."""
        self.scan_btn.setEnabled(False)
        set_text(self.message, f"Looking for devices for {SCAN_SECONDS:g} seconds\u2026")
        run_task(self, self._scanner, self._scan_done, self._scan_failed)

    def _scan_done(self, found: list[FoundDevice]) -> None:
        self.scan_btn.setEnabled(True)
        given = [self._given[0]] if self._given is not None else []
        self.found = [SIM, *given, *found]
        self._fill_table()
        if found:
            self.table.selectRow(1 + len(given))
            weak = " A weak signal means the device is far away: move it closer." \
                if any(d.rssi < -75 for d in found) else ""
            set_text(self.message, f"Found {len(found)} device(s). Choose one and press "
                     "\u201cConnect\u201d." + weak)
        else:
            self.table.selectRow(1 if given else 0)
            set_text(self.message, "No handgrip devices found. Check that yours is switched "
                     "on, close to the computer and not connected to a phone, then try again. "
                     "You can train with the simulated device meanwhile.")

    def _scan_failed(self, exc: BaseException) -> None:
        self.scan_btn.setEnabled(True)
        set_text(self.message, friendly_error(exc))

    # ------------------------------------------------------------------ link
    def connect_selected(self) -> None:
        """Connect to the highlighted device (in the background)."""
        d = self.selected()
        if d is None:
            set_text(self.message, "Choose a device in the list first.")
            return
        self.disconnect()
        spec = self.spec_of(d)
        try:
            self.preview = DevicePreview(spec, host=self.host, ble_backend=self._ble[0],
                                         ble_scanner_backend=self._ble[1])
        except IsogripError as exc:
            set_text(self.message, friendly_error(exc))
            return
        self.connected_spec = spec
        set_text(self.status, f"Connecting to {d.name}\u2026")
        set_text(self.message, "")
        self._connecting = self.preview.connect()
        self._timer.start()
        self._update_buttons()

    def disconnect(self) -> None:
        """Close the live connection (the device stays on)."""
        self._timer.stop()
        if self.preview is not None:
            self.preview.close()
        self.preview = None
        self._connecting = None
        self.connected_spec = None
        set_text(self.status, "Not connected")
        set_text(self.readout, "\u2014")
        self._fill_table()
        self._update_buttons()

    def tare(self) -> None:
        """Zero the device."""
        if self.preview is not None and self._connecting is None:
            self.preview.tare().add_done_callback(lambda f: None)
            set_text(self.message, "Zeroed. Keep your hand off the handle while zeroing.")

    def _refresh(self) -> None:
        pv = self.preview
        if pv is None:
            return
        fut = self._connecting
        if fut is not None:
            if not fut.done():
                return
            self._connecting = None
            exc = fut.exception()
            if exc is not None:
                message = friendly_error(exc)
                self.disconnect()
                set_text(self.message, message)
                return
            info = pv.info
            bat = f" \u00b7 battery {pv.battery:.0f} %" if pv.battery is not None else ""
            set_text(self.status, f"Connected: {info.name}{bat}")
            self._fill_table()
            self._update_buttons()
        if pv.lost.is_set():
            reason = pv.status or "the connection was lost"
            self.disconnect()
            set_text(self.message, f"The device disconnected ({reason}). Press "
                     "\u201cConnect\u201d to try again.")
            return
        set_text(self.readout, fmt_force(pv.latest_force(), self.unit))

    def _update_buttons(self) -> None:
        linked = self.preview is not None
        self.connect_btn.setEnabled(self.selected() is not None)
        self.disconnect_btn.setEnabled(linked)
        self.tare_btn.setEnabled(linked and self._connecting is None)

    def request_start(self) -> None:
        """Ask to train with the connected device, else the highlighted one."""
        d = self.selected()
        spec = self.connected_spec or (self.spec_of(d) if d is not None else None)
        if spec is None:
            set_text(self.message, "Choose a device in the list first.")
            return
        self.start_requested.emit(spec)

    def release(self) -> None:
        """Close the preview connection so a session can connect."""
        self.disconnect()

    def hand_over(self, spec: str) -> Handover | None:
        """Give the live connection to a session of ``spec`` (``None``: there is none).

        The device stays connected and streaming, so the session starts at once; the
        screen shows it as not connected (the session has it now).
        """
        pv, fut = self.preview, self._connecting
        connected = fut is None or (fut.done() and fut.exception() is None)
        if pv is None or not connected or self.connected_spec != spec \
                or not pv.device.is_connected:
            return None
        handover = pv.hand_over()
        self.preview = None  # its device is the session's now: not closed here
        self.disconnect()
        return handover
