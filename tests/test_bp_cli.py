"""The blood-pressure check of ``isogrip run`` and the limits of ``isogrip bp add``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from isogrip.bp_check import BpCheck, BpEntry, BpLimits
from isogrip.cli import main
from isogrip.cli.bp import HighBloodPressureError, pre_session_check
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


# ---------------------------------------------------------------------- participant rule
# "An ID, never a name": the store checks it in every method that records a participant,
# so every way in refuses a name the same way (one line, exit 2, nothing written).
NAME = "John Smith"


def one_line_error(code: int, err: str) -> str:
    assert code == 2, err
    (line,) = err.splitlines()
    assert line.startswith("isogrip: error: ") and "not a name" in line and NAME in line
    return line


def test_run_refuses_a_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, tmp_path / "data", "--participant", NAME)
    one_line_error(code, err)
    with Store.open(tmp_path / "data") as store:
        assert store.list_sessions() == []


@pytest.mark.parametrize("command", [
    ["bp", "add", "128/82"],
    ["bp", "read", "--timeout", "30"],  # refused before waiting for a cuff
    ["bp", "import", "FIFO"],  # refused before the file is even opened
])
def test_bp_commands_refuse_a_name_first(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    import contextlib
    import os
    import threading

    fifo = tmp_path / "bp.csv"
    os.mkfifo(fifo)

    def unblock() -> None:  # should the FIFO be opened after all: give it an end
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    timer = threading.Timer(5.0, unblock)
    timer.start()
    args = [str(fifo) if a == "FIFO" else a for a in command]
    try:
        code = main(["--data-dir", str(tmp_path / "data"), *args, "--participant", NAME])
    finally:
        timer.cancel()
    one_line_error(code, capsys.readouterr().err)
    with Store.open(tmp_path / "data") as store:
        assert store.list_bp_readings() == []


def test_bp_import_refuses_a_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "bp.csv"
    file.write_text("taken_at,sbp,dbp\n2026-11-20 08:00,121,79\n")
    code = main(["--data-dir", str(tmp_path / "data"), "bp", "import", str(file),
                 "--participant", NAME])
    one_line_error(code, capsys.readouterr().err)
    assert main(["--data-dir", str(tmp_path / "data"), "bp", "import", str(file),
                 "--participant", " P17 "]) == 0
    with Store.open(tmp_path / "data") as store:
        assert [r.participant for r in store.list_bp_readings()] == ["P17"]


def test_every_store_write_checks_the_participant(tmp_path: Path) -> None:
    import datetime as dt

    from isogrip.ids import ParticipantIdError

    now = dt.datetime.now(dt.UTC)
    session = {"started_at": now, "protocol_name": "p", "protocol": {}, "device": "sim",
               "app_version": "t", "t0_s": 0.0}
    record = {"uuid": "5f0c2a9e-0000-4000-8000-000000000001", "started_at": now.isoformat(),
              "ended_at": now.isoformat(), "status": "complete", "note": None,
              "protocol_name": "p", "protocol": {}, "device": "sim", "device_info": None,
              "app_version": "t", "t0_s": 0.0}
    with Store.open(tmp_path / "data") as store:
        for bad in (NAME, "x" * 33, "P1\x00", 17, ["P1"]):
            with pytest.raises(ParticipantIdError):
                store.create_session(participant=bad, **session)  # type: ignore[arg-type]
            with pytest.raises(ParticipantIdError):
                store.insert_session_record(participant=bad, **record)  # type: ignore[arg-type]
            with pytest.raises(ParticipantIdError):
                store.add_bp_reading(sbp=120, dbp=80, participant=bad)  # type: ignore[arg-type]
        assert store.list_sessions() == [] and store.list_bp_readings() == []
        # An ID is kept (without stray spaces); an empty one means none.
        sid = store.create_session(participant=" P017 ", **session)
        assert store.get_session(sid).participant == "P017"
        store.add_bp_reading(sbp=120, dbp=80, participant="")
        assert store.list_bp_readings()[0].participant is None


def test_session_import_refuses_a_name(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    from isogrip.ids import ParticipantIdError
    from isogrip.storage.importer import import_session

    code, _, err = run(capsys, tmp_path / "data", "--participant", "P1")
    assert code == 0, err
    exported = tmp_path / "exp"
    assert main(["--data-dir", str(tmp_path / "data"), "export", "1", "--out",
                 str(exported)]) == 0
    summary = json.loads((exported / "summary.json").read_text())
    summary["participant"] = NAME
    (exported / "summary.json").write_text(json.dumps(summary))
    capsys.readouterr()
    other = tmp_path / "other"
    one_line_error(main(["--data-dir", str(other), "import", str(exported)]),
                   capsys.readouterr().err)
    with Store.open(other) as store:
        with pytest.raises(ParticipantIdError, match="not a name"):
            import_session(store, exported)
        assert store.list_sessions() == []  # nothing half-imported


def test_the_app_refuses_a_name(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from isogrip.ui.bp_panel import BpPanel

    panel = BpPanel()
    qtbot.addWidget(panel)
    with Store.open(tmp_path / "data") as store:
        panel.store, panel.participant = store, NAME
        panel.sbp.setText("128")
        panel.dbp.setText("82")
        panel.add_typed()
        assert panel.text.text().startswith("Not saved: participant ID")
        assert store.list_bp_readings() == []


def test_ctrl_d_at_the_blood_pressure_question_skips_it(tmp_path: Path) -> None:
    """At a real terminal, the end of input (Ctrl-D) at the question is Enter, not a
    traceback (``make demo`` with a closed input ended in EOFError)."""
    import os
    import pty
    import select
    import subprocess
    import sys

    isogrip = Path(sys.executable).with_name("isogrip")
    proto = tmp_path / "short.toml"
    proto.write_text('[protocol]\nname = "short"\n[holds]\nreps = 1\nhands = "right"\n'
                     'duration_s = 5\nrest_s = 5\n')
    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen(
        [str(isogrip), "--data-dir", str(tmp_path / "data"), "run", "--device", "sim:good",
         "--speed", "max", "--protocol", str(proto), "--reuse-mvc", "30,32"],
        stdin=child_fd, stdout=child_fd, stderr=child_fd, close_fds=True,
        env={**os.environ, "TERM": "xterm", "COLUMNS": "120", "LINES": "40"})
    os.close(child_fd)
    seen = b""

    def read_until(done: Callable[[bytes], bool]) -> None:
        nonlocal seen
        while not done(seen):
            ready, _, _ = select.select([main_fd], [], [], 60)  # a hang, not slowness
            assert ready, f"no output for 60 s; so far: {seen[-500:]!r}"
            try:
                chunk = os.read(main_fd, 4096)
            except OSError:  # the terminal closed: the program has ended
                return
            if not chunk:
                return
            seen += chunk

    try:
        read_until(lambda s: b"Enter to skip" in s)
        os.write(main_fd, b"\x04")  # Ctrl-D
        read_until(lambda s: False)  # to the end
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(main_fd)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", seen.decode("utf-8", "replace"))
    assert "Traceback" not in text and "EOFError" not in text, text[-2000:]
    assert code == 0, text[-2000:]
    assert "Session 1 complete" in text
