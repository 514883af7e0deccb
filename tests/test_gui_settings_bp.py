"""The home blood-pressure guideline in the Settings screen: chosen, saved, shown again."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import Qt

from isogrip.home_bp.categories import Guideline
from isogrip.settings import load_settings
from isogrip.ui.main_window import MainWindow


def test_the_bp_guideline_is_chosen_saved_and_shown_again(  # type: ignore[no-untyped-def]
        window: MainWindow, qtbot, tmp_path: Path, settings_file: Path) -> None:
    window.show_page("settings")
    page = window.settings_page
    names = [page.guideline.itemText(i) for i in range(page.guideline.count())]
    # The words carry the home thresholds of home_bp.categories.HOME_THRESHOLDS.
    assert names == ["European (ESH 2023): high at home at 135/85 or more",
                     "American (ACC/AHA 2017): high at home at 130/80 or more"]
    assert page.guideline.currentData() == Guideline.ESH_2023  # the default

    page.guideline.setCurrentIndex(page.guideline.findData(Guideline.ACC_AHA_2017))
    qtbot.mouseClick(page.save_btn, Qt.MouseButton.LeftButton)
    assert page.message.text() == "Saved."
    assert window.settings.bp_guideline is Guideline.ACC_AHA_2017
    assert load_settings(settings_file)[0].bp_guideline is Guideline.ACC_AHA_2017
    window.close()

    again = MainWindow(settings_file=settings_file, data_dir=tmp_path / "data")
    qtbot.addWidget(again)
    again.show_page("settings")
    assert again.settings_page.guideline.currentData() == Guideline.ACC_AHA_2017
    assert again.settings_page.guideline.currentText().startswith("American (ACC/AHA 2017)")
    again.close()
