"""The Settings screen. Changes are checked and saved when the user presses Save."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QScrollArea,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from isogrip.errors import IsogripError
from isogrip.home_bp.categories import HOME_THRESHOLDS, Guideline
from isogrip.protocols.display import participant_title
from isogrip.protocols.loader import builtin_protocols, load_protocol
from isogrip.settings import Settings, SettingsError, apply_band
from isogrip.signal.units import Unit
from isogrip.types import Hand
from isogrip.ui.common import button, label, panel, set_text

UNIT_NAMES = {Unit.KGF: "kilograms (kg)", Unit.N: "newtons (N)", Unit.LBF: "pounds (lb)"}
#: Where each guideline comes from, for people who do not know the acronyms.
_GUIDELINE_ORIGIN = {Guideline.ESH_2023: "European", Guideline.ACC_AHA_2017: "American"}


def guideline_name(g: Guideline) -> str:
    """A guideline in plain words with its home threshold.

    The threshold is read from :data:`~isogrip.home_bp.categories.HOME_THRESHOLDS`,
    so the words cannot disagree with the categories the summaries use.

    Example:
        >>> guideline_name(Guideline.ESH_2023)
        'European (ESH 2023): high at home at 135/85 or more'
    """
    t = HOME_THRESHOLDS[g]
    return f"{_GUIDELINE_ORIGIN[g]} ({g.label}): high at home at {t.sbp}/{t.dbp} or more"


def _form(*pairs: tuple[str, QWidget | QHBoxLayout]) -> QWidget:
    """A two-column form of labelled fields (a field may be a row of widgets)."""
    w = QWidget()
    form = QFormLayout(w)
    # Large text on a small screen: a field too wide beside its label goes below it,
    # so no row is cut off at the right (the form never scrolls sideways).
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    for text, field in pairs:
        form.addRow(text, field)
    return w


def _scrolling(sections: tuple[QWidget, ...]) -> QScrollArea:
    """The sections in one column that scrolls vertically, never sideways.

    The form scrolls when large text makes it taller or wider than the window; Save
    stays visible below it.
    """
    cols = QVBoxLayout()
    cols.setContentsMargins(0, 0, 12, 0)
    for section in sections:
        cols.addWidget(section)
    cols.addStretch(1)
    body = QWidget()
    body.setLayout(cols)
    scroll = QScrollArea()
    scroll.setWidget(body)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return scroll


class SettingsScreen(QWidget):
    """Edit :class:`~isogrip.settings.Settings`.

    Signals:
        saved(object): The new, checked :class:`Settings`.
        test_sound(): The user wants to hear a cue.
    """

    saved = pyqtSignal(object)
    test_sound = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = Settings()
        self.locked_protocol = False
        sections = (self._training_panel(), self._display_panel(), self._data_panel())
        buttons = self._button_row()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 16, 24, 16)
        lay.addWidget(label("Settings", "title"))
        lay.addWidget(_scrolling(sections), 1)
        lay.addLayout(buttons)
        self.choose_file = self._ask_file
        self.choose_dir = self._ask_dir

    def _training_panel(self) -> QWidget:
        """The protocol, the green band, the dominant hand and the blood-pressure rules."""
        self.protocol = QComboBox()
        self.protocol.setEditable(False)
        # Long protocol titles must not widen the whole window.
        self.protocol.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.protocol.setMinimumContentsLength(28)
        self.protocol_file_btn = button("Open a protocol file\u2026", slot=self._pick_protocol)
        proto_row = QHBoxLayout()
        proto_row.addWidget(self.protocol, 1)
        proto_row.addWidget(self.protocol_file_btn)
        self.band_default = QCheckBox("as in the protocol")
        self.band = QDoubleSpinBox()
        self.band.setRange(1.0, 10.0)
        self.band.setSingleStep(0.5)
        self.band.setSuffix(" % of max")
        self.band.setToolTip("Half-width of the green band, either side of the target")
        self.band_default.toggled.connect(lambda on: self.band.setEnabled(not on))
        band_row = QHBoxLayout()
        band_row.addWidget(self.band)
        band_row.addWidget(self.band_default)
        self.dominant = QComboBox()
        self.dominant.addItem("right", Hand.RIGHT)
        self.dominant.addItem("left", Hand.LEFT)
        self.sbp = QSpinBox()
        self.sbp.setRange(140, 220)
        self.sbp.setSuffix(" mmHg")
        self.dbp = QSpinBox()
        self.dbp.setRange(90, 130)
        self.dbp.setSuffix(" mmHg")
        self.guideline = QComboBox()
        for g in (Guideline.ESH_2023, Guideline.ACC_AHA_2017):  # the default first
            self.guideline.addItem(guideline_name(g), g)
        # Wide enough for its longest choice (about 52 characters; Qt counts each as a
        # wide one), so the threshold at the end is read whole: with large text on a
        # small screen the row goes below its label rather than cut the words.
        self.guideline.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.guideline.setMinimumContentsLength(42)
        self.guideline.setToolTip(
            "Which guideline names your home blood-pressure averages: an average is "
            "high when the upper or the lower number reaches it")
        return panel(label("Training", "heading"), _form(
            ("Protocol", proto_row), ("Green band", band_row), ("Dominant hand", self.dominant),
            ("Do not train at or above", self._pair(self.sbp, self.dbp)),
            ("Home blood pressure", self.guideline),
        ))

    def _display_panel(self) -> QWidget:
        """Units, text size and contrast, and the sounds."""
        self.unit = QComboBox()
        for u, name in UNIT_NAMES.items():
            self.unit.addItem(name, u)
        self.large_text = QCheckBox("Large text")
        self.high_contrast = QCheckBox("High contrast")
        self.audio = QCheckBox("Play sounds")
        self.audio.setToolTip("Countdown, go, halfway, 10 s left, stop, out of the band")
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setRange(0, 100)
        self.volume.setMinimumWidth(200)
        self.sound_btn = button("Test sound", slot=self.test_sound.emit)
        vol_row = QHBoxLayout()
        vol_row.addWidget(self.volume, 1)
        vol_row.addWidget(self.sound_btn)
        self.audio_state = label("", "muted", wrap=True)
        return panel(label("Display and sound", "heading"), _form(
            ("Units", self.unit), ("", self.large_text), ("", self.high_contrast),
            ("", self.audio), ("Volume", vol_row), ("", self.audio_state),
        ))

    def _data_panel(self) -> QWidget:
        """The data folder, the participant ID and the live stream."""
        self.data_dir = QLineEdit()
        self.data_dir.setPlaceholderText("default folder")
        self.data_btn = button("Choose\u2026", slot=self._pick_folder)
        data_row = QHBoxLayout()
        data_row.addWidget(self.data_dir, 1)
        data_row.addWidget(self.data_btn)
        self.participant = QLineEdit()
        self.participant.setPlaceholderText("a code such as P017 (never a name)")
        self.lsl = QCheckBox("Stream force and events live (Lab Streaming Layer)")
        self.lsl.setToolTip("For research: other programs on this network can receive "
                            "the force and the events while you train")
        return panel(label("Data", "heading"), _form(
            ("Data folder", data_row), ("Participant ID", self.participant),
            ("", self.lsl),
        ))

    def _button_row(self) -> QHBoxLayout:
        """The message line with Undo changes and Save."""
        self.message = label("", wrap=True)
        self.save_btn = button("Save", "primary", slot=self.save)
        self.revert_btn = button("Undo changes", slot=lambda: self.show_settings(self.settings))
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.revert_btn)
        buttons.addWidget(self.save_btn)
        return buttons

    @staticmethod
    def _pair(a: QWidget, b: QWidget) -> QWidget:
        w = QWidget()
        w.setStyleSheet("background: transparent;")
        row = QHBoxLayout(w)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(a)
        row.addWidget(label("or"))
        row.addWidget(b)
        row.addStretch(1)
        return w

    def _fill_protocols(self, current: str) -> None:
        self.protocol.clear()
        for p in builtin_protocols():
            self.protocol.addItem(f"{p.title or p.name}", p.name)
        idx = self.protocol.findData(current)
        if idx < 0:
            self.protocol.addItem(f"File: {Path(current).name}", current)
            idx = self.protocol.count() - 1
        self.protocol.setCurrentIndex(idx)

    def _blind_current_protocol(self) -> None:
        """Show a locked blinded protocol as it looks: its title says "sham"."""
        try:
            current = load_protocol(str(self.protocol.currentData()))
        except (IsogripError, ValueError, OSError):
            return
        if current.hide_intensity:
            self.protocol.setItemText(self.protocol.currentIndex(),
                                      participant_title(current))

    def show_settings(self, s: Settings, locked_protocol: bool = False) -> None:
        """Fill the form from ``s``."""
        self.settings = s
        self.locked_protocol = locked_protocol
        self.unit.setCurrentIndex(self.unit.findData(s.unit))
        self.band_default.setChecked(s.band_pct is None)
        self.band.setValue(s.band_pct if s.band_pct is not None else 3.0)
        self.band.setEnabled(s.band_pct is not None)
        self.audio.setChecked(s.audio)
        self.volume.setValue(round(s.volume * 100))
        self._fill_protocols(s.protocol)
        locked = locked_protocol or s.protocol_locked
        self.protocol.setEnabled(not locked)
        self.protocol_file_btn.setEnabled(not locked)
        self.band.setEnabled(not locked and s.band_pct is not None)
        self.band_default.setEnabled(not locked)
        self.protocol.setToolTip("Set by your study team" if locked else "")
        if locked:
            self._blind_current_protocol()
        self.lsl.setChecked(s.lsl)
        self.dominant.setCurrentIndex(self.dominant.findData(s.dominant))
        self.data_dir.setText(s.data_dir or "")
        self.participant.setText(s.participant)
        self.large_text.setChecked(s.large_text)
        self.high_contrast.setChecked(s.high_contrast)
        self.sbp.setValue(s.sbp_limit)
        self.dbp.setValue(s.dbp_limit)
        self.guideline.setCurrentIndex(self.guideline.findData(s.bp_guideline))
        set_text(self.message, "")

    def form_settings(self) -> Settings:
        """The settings as typed, checked.

        Raises:
            SettingsError: A value is not acceptable.
            IsogripError: The protocol cannot be used with this band.
        """
        s = self.settings.replace(
            unit=self.unit.currentData(),
            band_pct=None if self.band_default.isChecked() else self.band.value(),
            audio=self.audio.isChecked(),
            volume=self.volume.value() / 100,
            protocol=self.protocol.currentData(),
            dominant=self.dominant.currentData(),
            data_dir=self.data_dir.text().strip() or None,
            participant=self.participant.text(),
            large_text=self.large_text.isChecked(),
            high_contrast=self.high_contrast.isChecked(),
            sbp_limit=self.sbp.value(),
            dbp_limit=self.dbp.value(),
            bp_guideline=self.guideline.currentData(),
            lsl=self.lsl.isChecked(),
        )
        if self.settings.protocol_locked and (s.protocol, s.band_pct) != (
                self.settings.protocol, self.settings.band_pct):
            raise SettingsError("the protocol is set by your study team and cannot be "
                                "changed here")
        apply_band(load_protocol(s.protocol), s.band_pct)  # raises if they do not fit
        return s

    def save(self) -> None:
        """Check the form; emit :attr:`saved` or say what is wrong."""
        try:
            s = self.form_settings()
        except (SettingsError, IsogripError) as exc:
            set_text(self.message, f"Not saved: {exc}")
            return
        self.settings = s
        set_text(self.message, "Saved.")
        self.saved.emit(s)

    def _ask_file(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a protocol file", "",
                                              "Protocol files (*.toml)")
        return path or None

    def _ask_dir(self) -> str | None:
        path = QFileDialog.getExistingDirectory(self, "Choose the data folder")
        return path or None

    def _pick_protocol(self) -> None:
        path = self.choose_file()
        if not path:
            return
        try:
            load_protocol(Path(path))
        except IsogripError as exc:
            set_text(self.message, f"That protocol file cannot be used: {exc}")
            return
        self._fill_protocols(str(path))
        set_text(self.message, "Protocol file loaded; press Save to use it.")

    def _pick_folder(self) -> None:
        path = self.choose_dir()
        if path:
            self.data_dir.setText(path)
