"""A participant's blood pressure and grip strength as an HL7 FHIR R4 Bundle (JSON).

``isogrip export --participant ID --format fhir --out DIR`` writes
``DIR/participant-<ID>.fhir.json``: one Bundle of type ``collection`` holding

* one **Patient**, known only by the participant ID (``identifier``; no name, birth
  date, gender or any other demographic);
* per blood-pressure reading, one **Observation** following the FHIR vital-signs
  blood-pressure profile (LOINC 85354-9 with the components 8480-6 systolic and
  8462-4 diastolic, in ``mm[Hg]``), and, when the pulse was given, one heart-rate
  Observation (LOINC 8867-4, ``/min``) at the same time. The reading's context
  (before or after a session, or at rest) is a note on both;
* per session and hand, one grip-strength **Observation** with the session's MVC
  (LOINC 83173-5 left hand, 83174-3 right hand) in kilogram-force (UCUM ``kgf``),
  at the session's start. MVCs carried over from an earlier session are not
  measurements and are left out.

Free-text notes typed with a reading are not exported: they may name people. Every
resource has a ``urn:uuid`` fullUrl derived from the participant and the row, so a
repeated export gives the same identifiers and a receiver can drop duplicates.

The resources are built and validated with the ``fhir.resources`` models of FHIR
R4B (4.3.0), its subpackage closest to R4 (the package's top level is R5 and there is
no R4 subpackage). R4B reworked only the medication-regulation, evidence and
subscription resources; elsewhere it only widened a few elements (more kinds of
``Observation.subject``, say), and every element and value used here is the same in
R4 (4.0.1), so the file is valid R4. Codes and their sources are
in ``docs/science.md`` ("FHIR codes"); the file format is in ``docs/data-formats.md``.

``fhir.resources`` (with pydantic) is imported inside the functions that use it, so
importing this module, and ``isogrip --version``, stay quick. It is the ``clinic``
extra (``pip install 'isogrip[clinic]'``); without it the export says so in one line
(:class:`~isogrip.errors.MissingExtraError`).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

from isogrip.errors import IsogripError
from isogrip.extras import CLINIC, import_extra
from isogrip.files import write_atomic
from isogrip.ids import participant_or_none
from isogrip.signal.units import Unit, from_newtons
from isogrip.storage.export import output_folder
from isogrip.storage.rows import BpReading, MvcHistoryRow
from isogrip.storage.store import Store

if TYPE_CHECKING:
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.resource import Resource

LOINC: Final = "http://loinc.org"
UCUM: Final = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
#: Profiles of the FHIR R4 vital-signs set the BP and heart-rate Observations follow.
BP_PROFILE: Final = "http://hl7.org/fhir/StructureDefinition/bp"
HEART_RATE_PROFILE: Final = "http://hl7.org/fhir/StructureDefinition/heartrate"

#: (LOINC code, display) of each Observation and component.
BP_PANEL: Final = ("85354-9", "Blood pressure panel with all children optional")
SYSTOLIC: Final = ("8480-6", "Systolic blood pressure")
DIASTOLIC: Final = ("8462-4", "Diastolic blood pressure")
HEART_RATE: Final = ("8867-4", "Heart rate")
GRIP: Final = {
    "left": ("83173-5", "Grip strength Hand - left Dynamometer"),
    "right": ("83174-3", "Grip strength Hand - right Dynamometer"),
}
#: UCUM codes (also used as the units shown).
MM_HG: Final = "mm[Hg]"
PER_MIN: Final = "/min"
KGF: Final = "kgf"
#: Decimals of the grip force in kgf (10 gram-force: finer than any dynamometer).
KGF_DECIMALS: Final = 2

#: The note on a reading (and its heart rate) for each stored context.
CONTEXT_NOTES: Final = {
    "pre": "isogrip context: pre (taken before a handgrip training session)",
    "post": "isogrip context: post (taken after a handgrip training session)",
    "rest": "isogrip context: rest (taken at rest, not around a training session)",
}
_GRIP_NOTE: Final = ("Maximal voluntary contraction chosen in an isogrip handgrip "
                     "training session")
#: Namespace of the fullUrl UUIDs (a fixed, random UUID: never change it).
_NAMESPACE: Final = uuid.UUID("6f1c2a7e-93d4-4c55-9a0e-2b7f3e8d41c6")


class NothingToExportError(IsogripError, LookupError):
    """The participant has no blood-pressure reading and no measured MVC."""


@dataclasses.dataclass(frozen=True, slots=True)
class FhirExport:
    """What :func:`write_fhir` wrote.

    Attributes:
        path: The Bundle file.
        blood_pressure: Blood-pressure Observations.
        heart_rate: Heart-rate Observations.
        grip: Grip-strength Observations.
        skipped: Stored rows left out because their time or value cannot be written
            in FHIR (a damaged row; the database keeps it).
    """

    path: Path
    blood_pressure: int
    heart_rate: int
    grip: int
    skipped: int


def fhir_file_name(participant: str) -> str:
    """The Bundle's file name: ``participant-<ID>.fhir.json``."""
    return f"participant-{participant}.fhir.json"


def _full_url(participant: str, kind: str, key: object) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{participant}/{kind}/{key}')}"


def _when(iso: str) -> _dt.datetime | None:
    """A stored time as an aware datetime (no offset: local, as the store reads it)."""
    try:
        when = _dt.datetime.fromisoformat(iso.strip())
        return when if when.tzinfo is not None else when.astimezone()
    except (ValueError, OverflowError, AttributeError):
        return None


def _concept(code: tuple[str, str]) -> dict[str, Any]:
    return {"coding": [{"system": LOINC, "code": code[0], "display": code[1]}],
            "text": code[1]}


def _category(code: str, display: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": OBSERVATION_CATEGORY, "code": code,
                         "display": display}]}]


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _observation(full_url: str, patient_url: str, when: _dt.datetime,
                 **fields: Any) -> dict[str, Any]:
    """The parts every Observation here shares, plus ``fields``."""
    return {"resourceType": "Observation", "id": full_url.removeprefix("urn:uuid:"),
            "status": "final", "subject": {"reference": patient_url},
            "effectiveDateTime": when, **fields}


def _context_note(context: str | None) -> dict[str, Any]:
    note = CONTEXT_NOTES.get(context or "")
    return {"note": [{"text": note}]} if note else {}


def bp_resources(reading: BpReading, participant: str,
                 patient_url: str) -> list[tuple[str, dict[str, Any]]]:
    """The blood-pressure Observation of a reading, then its heart rate if given.

    Returns:
        (fullUrl, resource content) pairs; empty if the reading's time is unreadable.
    """
    when = _when(reading.taken_at)
    if when is None:
        return []
    note = _context_note(reading.context)
    bp_url = _full_url(participant, "bp", reading.id)
    out = [(bp_url, _observation(
        bp_url, patient_url, when, meta={"profile": [BP_PROFILE]},
        category=_category("vital-signs", "Vital Signs"), code=_concept(BP_PANEL),
        component=[{"code": _concept(SYSTOLIC), "valueQuantity": _quantity(reading.sbp, MM_HG)},
                   {"code": _concept(DIASTOLIC),
                    "valueQuantity": _quantity(reading.dbp, MM_HG)}],
        **note))]
    if reading.pulse is not None:
        hr_url = _full_url(participant, "heart-rate", reading.id)
        out.append((hr_url, _observation(
            hr_url, patient_url, when, meta={"profile": [HEART_RATE_PROFILE]},
            category=_category("vital-signs", "Vital Signs"), code=_concept(HEART_RATE),
            valueQuantity=_quantity(reading.pulse, PER_MIN), **note)))
    return out


def grip_resource(row: MvcHistoryRow, participant: str,
                  patient_url: str) -> tuple[str, dict[str, Any]] | None:
    """The grip-strength Observation of one session's MVC of one hand.

    Returns:
        (fullUrl, resource content), or ``None`` when the MVC is not a measurement of
        this session (reused) or cannot be written (unknown hand, unreadable time,
        a value that is not a positive number).
    """
    code = GRIP.get(row.hand)
    when = _when(row.started_at)
    if row.reused or code is None or when is None:
        return None
    if not (math.isfinite(row.mvc_n) and row.mvc_n > 0):
        return None
    kgf = round(from_newtons(row.mvc_n, Unit.KGF), KGF_DECIMALS)
    url = _full_url(participant, "grip", f"{row.session_id}/{row.hand}")
    return url, _observation(
        url, patient_url, when, category=_category("exam", "Exam"), code=_concept(code),
        valueQuantity=_quantity(kgf, KGF), note=[{"text": _GRIP_NOTE}])


def build_bundle(participant: str, readings: Sequence[BpReading],
                 mvcs: Sequence[MvcHistoryRow], *,
                 timestamp: _dt.datetime | None = None) -> tuple[Bundle, int]:
    """The Bundle of a participant's readings and MVCs (validated by fhir.resources).

    Args:
        participant: The participant ID (the Patient's only identifier).
        readings: Their blood-pressure readings.
        mvcs: Their recorded MVCs (reused ones are left out).
        timestamp: When the Bundle is made (default: now).

    Returns:
        The Bundle, and how many rows were left out as unwritable (see
        :class:`FhirExport`; reused MVCs are not counted).

    Raises:
        MissingExtraError: fhir.resources is not installed (the ``clinic`` extra).
    """
    import_extra("fhir.resources.R4B.bundle", "FHIR export", CLINIC)  # the one-line error
    from fhir.resources.R4B.bundle import Bundle

    patient_url = _full_url(participant, "patient", "")
    entries: list[tuple[str, dict[str, Any]]] = [(patient_url, {
        "resourceType": "Patient", "id": patient_url.removeprefix("urn:uuid:"),
        "identifier": [{"use": "usual", "value": participant}]})]
    skipped = 0
    for reading in readings:
        made = bp_resources(reading, participant, patient_url)
        skipped += not made
        entries += made
    for row in mvcs:
        grip = grip_resource(row, participant, patient_url)
        skipped += grip is None and not row.reused
        entries += [grip] if grip else []
    bundle = Bundle.model_validate({
        "resourceType": "Bundle", "type": "collection",
        "timestamp": timestamp or _dt.datetime.now(_dt.UTC),
        "entry": [{"fullUrl": url, "resource": res} for url, res in entries]})
    return bundle, skipped


def _count(bundle: Bundle, code: str) -> int:
    def is_code(res: Resource | None) -> bool:
        coding = getattr(getattr(res, "code", None), "coding", None) or []
        return any(c.code == code for c in coding)

    return sum(is_code(e.resource) for e in bundle.entry or [])


def write_fhir(store: Store, participant: str, out_dir: Path | str, *,
               timestamp: _dt.datetime | None = None) -> FhirExport:
    """Write ``participant-<ID>.fhir.json`` (see the module docstring) in ``out_dir``.

    Only reads the store.

    Raises:
        ParticipantIdError: ``participant`` is not an ID.
        NothingToExportError: The participant has no reading and no measured MVC.
        StorageError: The folder or file cannot be written.
        MissingExtraError: fhir.resources is not installed (the ``clinic`` extra).
    """
    import_extra("fhir.resources.R4B.bundle", "FHIR export", CLINIC)  # before any work
    who = participant_or_none(participant)
    if who is None:
        raise NothingToExportError("give a participant ID (such as P017) to export")
    folder = output_folder(out_dir)  # first: a bad folder costs nothing
    readings = store.list_bp_readings(who)
    mvcs = store.list_mvc(who)
    if not readings and all(m.reused for m in mvcs):
        raise NothingToExportError(
            f"participant {who!r} has no blood-pressure readings or grip measurements "
            "to export (list the sessions with `isogrip sessions`, readings with "
            "`isogrip bp list`)")
    bundle, skipped = build_bundle(who, readings, mvcs, timestamp=timestamp)
    text = bundle.model_dump_json(indent=2)

    def write(fh: IO[bytes]) -> None:
        fh.write(text.encode("utf-8"))

    path = write_atomic(folder / fhir_file_name(who), write)
    return FhirExport(path, _count(bundle, BP_PANEL[0]), _count(bundle, HEART_RATE[0]),
                      sum(_count(bundle, c) for c, _ in GRIP.values()), skipped)
