"""The blood-pressure check of ``isogrip run`` and the limits of ``isogrip bp add``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from isogrip.bp_check import BpCheck, BpEntry, BpLimits
from isogrip.bp_cli import HighBloodPressureError, pre_session_check
from isogrip.cli import main
from isogrip.errors import BpValueError
from isogrip.settings import Settings, save_settings
from isogrip.storage.store import Store

LIMITS = BpLimits(180, 110)


def answers(*replies: str):  # type: ignore[no-untyped-def]
    """An ``ask`` that gives these replies in turn and remembers the questions."""
    asked: list[str] = []
    queue = list(replies)

    def ask(question: str) -> str:
        asked.append(question)
        return queue.pop(0)

    ask.asked = asked  # type: ignore[attr-defined]
    return ask


def test_interactive_check_asks_refuses_typos_and_confirms_high() -> None:
    said: list[str] = []
    ask = answers("300/20", "128/82")
    check = pre_session_check(None, None, limits=LIMITS, train_anyway=False, ask=ask,
                              say=said.append)
    assert check == BpCheck(BpEntry(128, 82), LIMITS)
    assert "20 looks like a typing error" in said[0] and len(ask.asked) == 2
    # Enter skips: no reading, nothing recorded.
    assert pre_session_check(None, None, limits=LIMITS, train_anyway=False,
                             ask=answers(""), say=said.append) is None
    # High: the advice, then only a deliberate "train" continues.
    said.clear()
    with pytest.raises(HighBloodPressureError, match="190/100 mmHg is at or above 180/110"):
        pre_session_check(None, None, limits=LIMITS, train_anyway=False,
                          ask=answers("190/100", ""), say=said.append)
    assert "Please do not train now" in said[0]
    check = pre_session_check(None, None, limits=LIMITS, train_anyway=False,
                              ask=answers("190/100", "train"), say=said.append)
    assert check == BpCheck(BpEntry(190, 100), LIMITS, trained_anyway=True)


def test_command_line_reading_without_a_terminal() -> None:
    said: list[str] = []
    with pytest.raises(BpValueError, match="looks like a typing error"):
        pre_session_check("300/20", None, limits=LIMITS, train_anyway=True, ask=None,
                          say=said.append)
    assert not said  # a typing error gets no blood-pressure advice
    with pytest.raises(HighBloodPressureError):
        pre_session_check("150/95", None, limits=BpLimits(140, 90), train_anyway=False,
                          ask=None, say=said.append)
    check = pre_session_check("150/95", 70, limits=BpLimits(140, 90), train_anyway=True,
                              ask=None, say=said.append)
    assert check == BpCheck(BpEntry(150, 95, 70), BpLimits(140, 90), trained_anyway=True)


def run(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data), "run", "--speed", "max", "--headless",
                 "--reuse-mvc", "30,32", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_run_uses_the_settings_limits_and_records_the_choice(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    monkeypatch.setenv("ISOGRIP_CONFIG_DIR", str(config))
    save_settings(Settings(sbp_limit=160, dbp_limit=100), config / "settings.json")
    data = tmp_path / "data"
    code, out, err = run(capsys, data, "--bp", "300/20")
    assert code == 2 and "20 looks like a typing error" in err and "do not train" not in out
    code, out, err = run(capsys, data, "--bp", "165/90")
    assert code == 2 and "at or above 160/100 mmHg" in err
    assert "Please do not train now" in out
    store = Store.open(data)
    assert store.list_sessions() == []  # nothing started
    store.close()
    code, out, err = run(capsys, data, "--bp", "165/90", "--pulse", "72", "--train-anyway")
    assert code == 0, err
    store = Store.open(data)
    (session,) = store.list_sessions()
    (reading,) = store.list_bp_readings()
    assert (reading.sbp, reading.dbp, reading.pulse, reading.context, reading.session_id) == \
        (165, 90, 72, "pre", session.id)
    (check,) = [e.detail for e in store.load_events(session.id) if e.kind == "bp_check"]
    assert (check["sbp_limit"], check["dbp_limit"], check["trained_anyway"]) == (160, 100, True)
    store.close()
    code, _, _ = cli_export(data, tmp_path / "exp", session.id)
    summary = json.loads((tmp_path / "exp" / "summary.json").read_text())
    assert summary["bp_check"]["trained_anyway"] is True


def cli_export(data: Path, out: Path, sid: int) -> tuple[int, str, str]:
    return main(["--data-dir", str(data), "export", str(sid), "--out", str(out)]), "", ""


def test_bp_add_advice_follows_the_settings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    monkeypatch.setenv("ISOGRIP_CONFIG_DIR", str(config))
    data = ["--data-dir", str(tmp_path / "data")]
    assert main([*data, "bp", "add", "175/100"]) == 0
    assert capsys.readouterr().out.strip() == "Saved 175/100 mmHg."  # under 180/110
    save_settings(Settings(sbp_limit=170, dbp_limit=100), config / "settings.json")
    assert main([*data, "bp", "add", "175/100"]) == 0
    assert "This is high (at or above 170/100 mmHg)" in capsys.readouterr().out
    assert main([*data, "bp", "add", "300/20"]) == 2
    assert "20 looks like a typing error" in capsys.readouterr().err
