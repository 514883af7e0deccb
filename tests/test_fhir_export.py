"""``isogrip export --participant ID --format fhir``: an HL7 FHIR R4 Bundle, read back."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from isogrip.cli import main
from isogrip.storage.fhir_export import NothingToExportError, write_fhir
from isogrip.storage.paths import database_path
from isogrip.storage.store import Store

UTC = dt.UTC
T0 = dt.datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
STAMP = dt.datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "data")
    yield s
    s.close()


def session(store: Store, when: dt.datetime, mvc: dict[str, float], *,
            participant: str = "P1", reused: bool = False) -> int:
    sid = store.create_session(started_at=when, protocol_name="p", protocol={"name": "p"},
                               device="sim", participant=participant, app_version="t",
                               t0_s=0.0)
    for hand, value in mvc.items():
        store.write_mvc(sid, hand, value, None if reused else 1,
                        ["reused"] if reused else [])
    store.finish_session(sid, "complete", when + dt.timedelta(minutes=15))
    return sid


def fill(store: Store) -> None:
    """P1: three readings (one with pulse), two sessions (one MVC reused); P2: noise."""
    session(store, T0, {"left": 250.0, "right": 300.0})
    session(store, T0 + dt.timedelta(days=2), {"left": 260.0}, reused=True)
    session(store, T0 + dt.timedelta(days=2, minutes=1), {"right": 310.0})
    store.add_bp_reading(sbp=131, dbp=84, pulse=67, taken_at=T0 - dt.timedelta(minutes=10),
                         participant="P1", context="pre", note="after lunch with Anna")
    store.add_bp_reading(sbp=126, dbp=79, taken_at=T0 + dt.timedelta(minutes=20),
                         participant="P1", context="post")
    store.add_bp_reading(sbp=122, dbp=77, taken_at=T0 + dt.timedelta(days=1),
                         participant="P1", context="rest")
    store.add_bp_reading(sbp=177, dbp=99, pulse=88, taken_at=T0, participant="P2")
    session(store, T0, {"left": 999.0}, participant="P2")


def export(store: Store, out: Path, participant: str = "P1") -> tuple[Bundle, str]:
    result = write_fhir(store, participant, out, timestamp=STAMP)
    text = result.path.read_text(encoding="utf-8")
    return Bundle.model_validate_json(text), text  # validates every resource


def resources(bundle: Bundle) -> list[Any]:
    return [e.resource for e in bundle.entry or []]


def urls(bundle: Bundle) -> list[str]:
    return [str(e.fullUrl) for e in bundle.entry or []]


def by_code(bundle: Bundle, code: str) -> list[Any]:
    return [r for r in resources(bundle)
            if r.get_resource_type() == "Observation" and r.code.coding[0].code == code]


def when(resource: Any) -> dt.datetime:
    value = resource.effectiveDateTime
    assert isinstance(value, dt.datetime)
    return value


def test_bundle_holds_patient_bp_heart_rate_and_grip(store: Store, tmp_path: Path) -> None:
    fill(store)
    bundle, text = export(store, tmp_path / "out")
    assert (tmp_path / "out" / "participant-P1.fhir.json").is_file()
    assert bundle.type == "collection"
    entries = resources(bundle)
    kinds = [r.get_resource_type() for r in entries]
    # 1 Patient + 3 BP + 1 heart rate (one pulse) + 3 grip (the reused MVC left out)
    assert kinds == ["Patient"] + ["Observation"] * 7
    assert len(by_code(bundle, "85354-9")) == 3
    assert len(by_code(bundle, "8867-4")) == 1
    assert len(by_code(bundle, "83173-5")) == 1 and len(by_code(bundle, "83174-3")) == 2
    # Every entry has its own urn:uuid, and every Observation is about the Patient.
    full = urls(bundle)
    assert len(set(full)) == len(full) and all(u.startswith("urn:uuid:") for u in full)
    assert {r.subject.reference for r in entries[1:]} == {full[0]}
    # Nothing of P2 and no free-text note.
    assert "177" not in text and "999" not in text and "Anna" not in text


def test_patient_is_known_by_the_participant_id_only(store: Store, tmp_path: Path) -> None:
    fill(store)
    bundle, text = export(store, tmp_path)
    patient = resources(bundle)[0]
    assert [i.value for i in patient.identifier] == ["P1"]
    assert patient.name is None and patient.birthDate is None and patient.gender is None
    raw = json.loads(text)["entry"][0]["resource"]
    assert set(raw) == {"resourceType", "id", "identifier"}
    assert '"name"' not in text


def test_blood_pressure_follows_the_vital_signs_profile(store: Store, tmp_path: Path) -> None:
    fill(store)
    bundle, _ = export(store, tmp_path)
    bps = by_code(bundle, "85354-9")
    first = bps[0]
    assert first.code.coding[0].system == LOINC
    assert first.status == "final"
    assert first.meta.profile == ["http://hl7.org/fhir/StructureDefinition/bp"]
    cat = first.category[0].coding[0]
    assert (cat.system, cat.code) == (
        "http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs")
    assert first.valueQuantity is None
    values = {c.code.coding[0].code: c.valueQuantity for c in first.component}
    assert set(values) == {"8480-6", "8462-4"}
    assert values["8480-6"].value == 131 and values["8462-4"].value == 84
    for q in values.values():
        assert (q.unit, q.system, q.code) == ("mm[Hg]", UCUM, "mm[Hg]")
    assert [(c.code.coding[0].system) for c in first.component] == [LOINC, LOINC]
    assert [when(o) for o in bps] == [T0 - dt.timedelta(minutes=10),
                                      T0 + dt.timedelta(minutes=20), T0 + dt.timedelta(days=1)]
    assert [[c.valueQuantity.value for c in o.component] for o in bps[1:]] == [[126, 79],
                                                                              [122, 77]]
    assert [o.note[0].text.split(" (")[0] for o in bps] == [
        "isogrip context: pre", "isogrip context: post", "isogrip context: rest"]


def test_heart_rate_only_where_the_pulse_was_given(store: Store, tmp_path: Path) -> None:
    fill(store)
    bundle, _ = export(store, tmp_path)
    (hr,) = by_code(bundle, "8867-4")
    assert hr.code.coding[0].system == LOINC
    assert hr.meta.profile == ["http://hl7.org/fhir/StructureDefinition/heartrate"]
    assert hr.valueQuantity.value == 67
    assert (hr.valueQuantity.unit, hr.valueQuantity.system, hr.valueQuantity.code) == (
        "/min", UCUM, "/min")
    assert when(hr) == T0 - dt.timedelta(minutes=10)  # the reading that had a pulse
    assert hr.note[0].text.startswith("isogrip context: pre")


def test_grip_strength_per_hand_in_kilogram_force(store: Store, tmp_path: Path) -> None:
    fill(store)
    bundle, _ = export(store, tmp_path)
    (left,) = by_code(bundle, "83173-5")
    right = by_code(bundle, "83174-3")
    assert "left" in left.code.coding[0].display
    assert all("right" in o.code.coding[0].display for o in right)
    # 250 N / 9.80665 N/kgf = 25.493 kgf; 300 N -> 30.591; 310 N -> 31.611
    assert left.valueQuantity.value == Decimal("25.49")
    assert [o.valueQuantity.value for o in right] == [Decimal("30.59"), Decimal("31.61")]
    for o in [left, *right]:
        assert o.code.coding[0].system == LOINC
        q = o.valueQuantity
        assert (q.unit, q.system, q.code) == ("kgf", UCUM, "kgf")
        assert o.category[0].coding[0].code == "exam"
    assert when(left) == T0 and [when(o) for o in right] == [
        T0, T0 + dt.timedelta(days=2, minutes=1)]  # the session starts; no reused 260 N


def test_repeated_export_keeps_the_identifiers(store: Store, tmp_path: Path) -> None:
    fill(store)
    first, _ = export(store, tmp_path / "a")
    again, _ = export(store, tmp_path / "b")
    assert urls(first) == urls(again)
    other, _ = export(store, tmp_path / "c", "P2")
    assert urls(other)[0] != urls(first)[0]


def test_only_bp_or_only_grip_is_enough(store: Store, tmp_path: Path) -> None:
    store.add_bp_reading(sbp=120, dbp=80, participant="P3")
    bundle, _ = export(store, tmp_path, "P3")
    assert len(resources(bundle)) == 2 and not by_code(bundle, "8867-4")
    session(store, T0, {"right": 200.0}, participant="P4")
    bundle, _ = export(store, tmp_path, "P4")
    assert len(resources(bundle)) == 2 and len(by_code(bundle, "83174-3")) == 1


def test_nothing_to_export(store: Store, tmp_path: Path) -> None:
    with pytest.raises(NothingToExportError, match="no blood-pressure readings or grip"):
        write_fhir(store, "P9", tmp_path)
    session(store, T0, {"left": 250.0}, participant="P5", reused=True)  # not a measurement
    with pytest.raises(NothingToExportError):
        write_fhir(store, "P5", tmp_path)
    assert not list(tmp_path.glob("*.json"))


def test_a_damaged_row_is_left_out_and_counted(store: Store, tmp_path: Path) -> None:
    fill(store)
    with sqlite3.connect(database_path(tmp_path / "data")) as con:
        con.execute("UPDATE bp_readings SET taken_at = 'yesterday' WHERE sbp = 126")
    con.close()
    result = write_fhir(store, "P1", tmp_path / "out", timestamp=STAMP)
    assert (result.blood_pressure, result.heart_rate, result.grip, result.skipped) == (
        2, 1, 3, 1)
    Bundle.model_validate_json(result.path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------- CLI
def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    with Store.open(folder) as s:  # closed cleanly: nothing left in a -wal file
        fill(s)
    return folder


def test_cli_writes_the_bundle_and_leaves_the_database_alone(
        data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = database_path(data)
    before = (db.read_bytes(), db.stat().st_mtime_ns)
    code, out, err = cli(capsys, "--data-dir", str(data), "export", "--participant", "P1",
                         "--format", "fhir", "--out", str(tmp_path / "out"))
    assert code == 0, err
    path = tmp_path / "out" / "participant-P1.fhir.json"
    assert out.strip() == str(path)
    assert len(resources(Bundle.model_validate_json(path.read_text(encoding="utf-8")))) == 8
    assert (path.stat().st_mode & 0o777) == 0o600
    assert (db.read_bytes(), db.stat().st_mtime_ns) == before


@pytest.mark.parametrize(("args", "words"), [
    (["--format", "fhir"], "give --participant ID"),
    (["last", "--format", "fhir"], "give --participant ID"),
    (["last", "--participant", "P1", "--format", "fhir"], "and no session"),
    (["--participant", "P9", "--format", "fhir"], "'P9' has no blood-pressure readings"),
    (["--participant", "John Smith", "--format", "fhir"], "not a name"),
])
def test_cli_errors_are_one_line(data: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str], args: list[str],
                                 words: str) -> None:
    code, _, err = cli(capsys, "--data-dir", str(data), "export", *args,
                         "--out", str(tmp_path / "out"))
    assert code == 2
    assert err.startswith("isogrip: error: ") and err.count("\n") == 1 and words in err
    assert not list(tmp_path.glob("out/*.json"))


def test_the_module_imports_fhir_resources_only_when_exporting() -> None:
    code = ("import sys, isogrip.cli, isogrip.storage.fhir_export; "
            "isogrip.cli.build_parser(); "
            "print(any(m.startswith(('fhir', 'pydantic')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "False"
