"""A cuff's readings go into the log once each: over a virtual cuff, and the rules alone.

The BLE tests run on fake loop time (looptime): the cuff's gaps, the scan and the quiet
timeout are virtual, so nothing here waits on the machine's speed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from virtual_ble import BpCuffPeripheral, VirtualBleWorld
from virtual_ble.fake_time import FAKE_TIME

from isogrip.ble_device.bp_monitor import BpMeasurement, CuffRead, encode_sfloat, read_cuff
from isogrip.cli import main
from isogrip.storage.bp_cuff import FRESH, JustTaken
from isogrip.storage.store import Store

NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
DAY = dt.datetime(2026, 12, 1, 7, 30)  # the cuff's clock: local time


def reading(sbp: int, dbp: int, pulse: int | None = 64, *, minutes: int | None = 0,
            user: int | None = 1) -> BpMeasurement:
    when = None if minutes is None else DAY + dt.timedelta(minutes=minutes)
    return BpMeasurement(sbp, dbp, (sbp + 2 * dbp) / 3, timestamp=when, pulse_bpm=pulse,
                         user_id=user)


def utc(local: dt.datetime) -> str:
    return local.astimezone(dt.UTC).isoformat(timespec="milliseconds")


async def read(world: VirtualBleWorld, quiet_s: float = 2.0) -> CuffRead:
    return await read_cuff(timeout_s=quiet_s, scan_timeout_s=5.0,
                           backend=world.client_backend, scanner_backend=world.scanner_backend)


@FAKE_TIME
async def test_reading_the_cuff_twice_stores_each_reading_once(tmp_path: Path) -> None:
    memory = [reading(141, 92, 70, minutes=0), reading(128, 82, 64, minutes=5),
              reading(126, 80, None, minutes=720)]
    async with VirtualBleWorld() as world:
        cuff = BpCuffPeripheral([bytes(m) for m in memory])
        address = await world.add(cuff)
        first = await read(world)
        cuff.readings.append(bytes(reading(133, 85, 66, minutes=1440)))  # measured since
        second = await read(world)  # the cuff sends its whole memory again
    assert cuff.connection_count == 2 and cuff.sent == 3 + 4
    assert first.address == second.address == address
    with Store.open(tmp_path) as store:
        one = store.add_cuff_readings(first.readings, device=first.address,
                                      participant="P4", context="rest", now=NOW)
        two = store.add_cuff_readings(second.readings, device=second.address,
                                      participant="P4", context="rest", now=NOW)
        rows = store.list_bp_readings("P4")
    assert (one.added, one.already, one.resent) == (3, 0, 0)
    assert (two.added, two.already, two.resent) == (1, 3, 0)
    assert [(r.sbp, r.dbp, r.pulse) for r in rows] == [(141, 92, 70), (128, 82, 64),
                                                       (126, 80, None), (133, 85, 66)]
    assert [r.taken_at for r in rows] == [utc(DAY + dt.timedelta(minutes=m))
                                          for m in (0, 5, 720, 1440)]
    assert {(r.time_source, r.device, r.cuff_user, r.source, r.context) for r in rows} == {
        ("cuff", address, 1, "ble", "rest")}
    assert two.newest is not None and (two.newest.sbp, two.newest.dbp) == (133, 85)


@FAKE_TIME
async def test_readings_without_a_time_are_marked_received_and_a_resend_is_dropped(
        tmp_path: Path) -> None:
    memory = [reading(150, 95, 72, minutes=None), reading(150, 95, 72, minutes=None,
                                                          user=2),
              reading(138, 88, 70, minutes=None)]
    async with VirtualBleWorld() as world:
        cuff = BpCuffPeripheral([bytes(m) for m in memory], repeats=2)  # starts over once
        await world.add(cuff)
        got = await read(world)
        again = await read(world)
    assert len(got.readings) == len(again.readings) == 6
    with Store.open(tmp_path) as store:
        done = store.add_cuff_readings(got.readings, device=got.address, now=NOW)
        rows = store.list_bp_readings()
        assert (done.added, done.already, done.resent) == (3, 0, 3)
        assert [(r.sbp, r.dbp, r.pulse, r.cuff_user) for r in rows] == [
            (150, 95, 72, 1), (150, 95, 72, 2), (138, 88, 70, 1)]
        assert {(r.time_source, r.taken_at) for r in rows} == {
            ("received", NOW.isoformat(timespec="milliseconds"))}
        # The documented limit: a later read cannot tell them from new readings.
        later = store.add_cuff_readings(again.readings, device=got.address,
                                        now=NOW + dt.timedelta(hours=1))
        assert (later.added, later.resent) == (3, 3)
        assert len(store.list_bp_readings()) == 6


@FAKE_TIME
async def test_a_cuff_that_hangs_up_ends_the_read_at_once_and_values_are_right(
        tmp_path: Path) -> None:
    kpa = bytes([0x1F]) + b"".join(encode_sfloat(v, -1).to_bytes(2, "little")
                                   for v in (16.3, 10.7, 12.6))
    kpa += bytes([0xEA, 0x07, 12, 1, 7, 30, 0]) + encode_sfloat(61).to_bytes(2, "little")
    kpa += bytes([2, 0x00, 0x00])  # user 2, status 0
    unknown_user = bytes(reading(119, 77, 58, minutes=3, user=0xFF))
    async with VirtualBleWorld() as world:
        cuff = BpCuffPeripheral([kpa, unknown_user], hang_up=True)
        await world.add(cuff)
        loop = asyncio.get_running_loop()
        start = loop.time()
        got = await read(world, quiet_s=60.0)
        took = loop.time() - start
    assert took < 60.0  # ended when the cuff hung up, not after the quiet minute
    with Store.open(tmp_path) as store:
        store.add_cuff_readings(got.readings, device=got.address, now=NOW)
        rows = store.list_bp_readings()
    assert [(r.sbp, r.dbp, r.pulse, r.cuff_user) for r in rows] == [(122, 80, 61, 2),
                                                                    (119, 77, 58, None)]
    assert rows[0].taken_at == utc(DAY)


def test_the_same_values_at_the_same_time_are_kept_per_user_and_per_cuff(
        tmp_path: Path) -> None:
    same = [reading(128, 82, user=1), reading(128, 82, user=2), reading(128, 82, user=None)]
    with Store.open(tmp_path) as store:
        done = store.add_cuff_readings(same, device="F0:00:00:00:00:01", now=NOW)
        other = store.add_cuff_readings(same, device="F0:00:00:00:00:02", now=NOW)
        again = store.add_cuff_readings(same, device="f0:00:00:00:00:01", now=NOW)
        rows = store.list_bp_readings()
    assert (done.added, other.added, again.added, again.already) == (3, 3, 0, 3)
    assert sorted((r.device, r.cuff_user or 0) for r in rows) == [
        (f"F0:00:00:00:00:0{d}", u) for d in (1, 2) for u in (0, 1, 2)]


@pytest.mark.parametrize(("sent", "kept"), [
    ("ABCABCD", "ABCD"),  # the memory, then it again with a new reading
    ("ABCABCABC", "ABC"),
    ("ABAC", "ABAC"),  # the same values again, but not a run that repeats: kept
    ("ABA", "ABA"),
    ("AA", "A"),  # two in a row cannot be told from one sent twice (the limit)
])
def test_a_resend_within_one_read_is_a_run_repeated_whole(
        tmp_path: Path, sent: str, kept: str) -> None:
    values = {"A": (120, 80), "B": (130, 85), "C": (140, 90), "D": (125, 81)}
    with Store.open(tmp_path) as store:
        store.add_cuff_readings([reading(*values[c], minutes=None) for c in sent],
                                device="F0:00:00:00:00:01", now=NOW)
        got = [(r.sbp, r.dbp) for r in store.list_bp_readings()]
    assert got == [values[c] for c in kept]


def test_a_reading_the_log_refuses_is_skipped_and_the_others_kept(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        done = store.add_cuff_readings([reading(128, 82), reading(300, 20, minutes=1),
                                        reading(135, 85, minutes=2)],
                                       device="F0:00:00:00:00:01", now=NOW)
        assert done.added == 2 and len(done.refused) == 1
        assert done.refused[0].startswith("300/20: ")
        assert [r.sbp for r in store.list_bp_readings()] == [128, 135]


def test_the_newest_reading_is_marked_just_taken_only_when_it_is_recent(
        tmp_path: Path) -> None:
    taken = DAY.astimezone(dt.UTC)
    memory = [reading(141, 92, minutes=-60), reading(128, 82, minutes=0)]
    with Store.open(tmp_path) as store:
        late = store.add_cuff_readings(memory, device="F0:00:00:00:00:01", context="rest",
                                       now=taken + FRESH + dt.timedelta(minutes=1),
                                       just_taken=JustTaken("pre"))
        assert late.just_taken is None and late.newest is not None
        assert late.newest.context == "rest"
        soon = store.add_cuff_readings(memory, device="F0:00:00:00:00:01", context="rest",
                                       now=taken + dt.timedelta(minutes=2),
                                       just_taken=JustTaken("pre"))
        assert soon.just_taken is not None and soon.already == 2
        assert (soon.just_taken.sbp, soon.just_taken.context) == (128, "pre")
        assert [r.context for r in store.list_bp_readings()] == ["rest", "pre"]
        # Already "pre": a read after the session does not make it the "post" reading.
        post = store.add_cuff_readings(memory, device="F0:00:00:00:00:01", context="rest",
                                       now=taken + dt.timedelta(minutes=5),
                                       just_taken=JustTaken("post"))
        assert post.just_taken is None


def test_bp_read_says_how_many_were_new(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import isogrip.ble_device.bp_monitor as bp_monitor

    memory = [bytes(reading(120 + i, 80, minutes=i)) for i in range(5)]
    real_read = bp_monitor.read_cuff

    async def virtual_read(address: str | None = None, **kw: object) -> CuffRead:
        # The cuff hangs up once it has sent its memory: no wait on the clock.
        async with VirtualBleWorld() as world:
            await world.add(BpCuffPeripheral(memory, hang_up=True))
            return await real_read(address, timeout_s=30.0, scan_timeout_s=10.0,
                                   backend=world.client_backend,
                                   scanner_backend=world.scanner_backend)

    monkeypatch.setattr(bp_monitor, "read_cuff", virtual_read)
    data = ["--data-dir", str(tmp_path / "data")]
    assert main([*data, "bp", "read"]) == 0
    assert "5 new readings." in capsys.readouterr().out
    memory[2:2] = [bytes(reading(131, 84, minutes=90)), bytes(reading(132, 84, minutes=95)),
                   bytes(reading(133, 84, minutes=99))]
    assert main([*data, "bp", "read", "--context", "pre"]) == 0
    assert "3 new readings, 5 already stored." in capsys.readouterr().out
    with Store.open(tmp_path / "data") as store:
        assert len(store.list_bp_readings()) == 8


# A reading typed in, then read from the cuff: one measurement, one row.
CUFF = "F0:00:00:00:00:01"
TYPED_AT = (DAY + dt.timedelta(minutes=2)).astimezone(dt.UTC)  # typed just after the cuff


def test_a_typed_reading_read_again_from_the_cuff_is_one_row(tmp_path: Path) -> None:
    memory = [reading(132, 84, 70, minutes=0), reading(128, 80, 62, minutes=-600)]
    with Store.open(tmp_path) as store:
        typed = store.add_bp_reading(sbp=132, dbp=84, pulse=70, taken_at=TYPED_AT,
                                     participant="P4", context="rest")
        done = store.add_cuff_readings(memory, device=CUFF, participant="P4",
                                       context="pre", now=NOW)
        rows = store.list_bp_readings("P4")
        again = store.add_cuff_readings(memory, device=CUFF, participant="P4", now=NOW)
        assert store.list_bp_readings("P4") == rows  # a second read changes nothing
    assert len(rows) == 2  # not 3
    same = next(r for r in rows if r.id == typed)
    assert (same.device, same.cuff_user, same.time_source, same.taken_at) == (
        CUFF, 1, "cuff", utc(DAY))
    assert (same.sbp, same.dbp, same.pulse, same.context, same.source) == (
        132, 84, 70, "rest", "manual")  # the typed context kept, not the read's
    assert (done.added, done.already, done.matched) == (1, 1, 1)
    assert (again.added, again.already, again.matched) == (0, 2, 0)


def test_a_typed_reading_without_a_pulse_takes_the_cuffs(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        typed = store.add_bp_reading(sbp=132, dbp=84, taken_at=TYPED_AT)
        done = store.add_cuff_readings([reading(132, 84, 70)], device=CUFF, now=NOW)
        again = store.add_cuff_readings([reading(132, 84, 70)], device=CUFF, now=NOW)
        rows = store.list_bp_readings()
    assert [(r.id, r.pulse, r.time_source) for r in rows] == [(typed, 70, "cuff")]
    assert (done.matched, again.added) == (1, 0)


@pytest.mark.parametrize(("typed", "minutes", "participant"), [
    ((132, 84, 71), 2, "P4"),  # another pulse
    ((134, 84, 70), 2, "P4"),  # another systolic
    ((132, 84, 70), 40, "P4"),  # typed 40 minutes after the cuff's time
    ((132, 84, 70), -40, "P4"),  # ... or before it
    ((132, 84, 70), 2, "P5"),  # someone else's
])
def test_a_typed_reading_that_differs_is_not_the_cuffs(
        tmp_path: Path, typed: tuple[int, int, int], minutes: int, participant: str) -> None:
    when = (DAY + dt.timedelta(minutes=minutes)).astimezone(dt.UTC)
    with Store.open(tmp_path) as store:
        store.add_bp_reading(sbp=typed[0], dbp=typed[1], pulse=typed[2], taken_at=when,
                             participant=participant)
        done = store.add_cuff_readings([reading(132, 84, 70)], device=CUFF,
                                       participant="P4", now=NOW)
        rows = store.list_bp_readings()
    assert (done.added, done.matched) == (1, 0)
    assert sorted(r.time_source for r in rows) == ["cuff", "entered"]


def test_a_reading_without_a_cuff_time_is_not_matched(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        store.add_bp_reading(sbp=132, dbp=84, pulse=70, taken_at=NOW - dt.timedelta(minutes=1))
        done = store.add_cuff_readings([reading(132, 84, 70, minutes=None)], device=CUFF,
                                       now=NOW)
        assert (done.added, done.matched) == (1, 0)
        assert len(store.list_bp_readings()) == 2


def test_each_typed_reading_is_one_cuff_reading(tmp_path: Path) -> None:
    cuff = [reading(132, 84, 70, minutes=0), reading(132, 84, 70, minutes=1),
            reading(132, 84, 70, minutes=3)]
    with Store.open(tmp_path) as store:
        typed = [store.add_bp_reading(sbp=132, dbp=84, pulse=70,
                                      taken_at=TYPED_AT + dt.timedelta(minutes=m))
                 for m in (0, 1)]
        done = store.add_cuff_readings(cuff, device=CUFF, now=NOW)
        rows = store.list_bp_readings()
    assert [(r.taken_at, r.time_source) for r in rows] == [
        (utc(DAY + dt.timedelta(minutes=m)), "cuff") for m in (0, 1, 3)]
    assert [r.id for r in rows][:2] == typed  # the closest typed row for each
    assert (done.added, done.already, done.matched) == (1, 2, 2)


def test_bp_read_counts_a_typed_reading_as_already_stored(tmp_path: Path) -> None:
    from isogrip.cli.bp import cuff_summary
    from isogrip.ui.cuff_reader import CuffJob, outcome_text

    with Store.open(tmp_path) as store:
        store.add_bp_reading(sbp=132, dbp=84, pulse=70, taken_at=TYPED_AT)
        done = store.add_cuff_readings([reading(132, 84, 70), reading(125, 80, minutes=-60)],
                                       device=CUFF, now=NOW)
    assert cuff_summary(done.added, done.already) == "1 new reading, 1 already stored."
    assert outcome_text(done, CuffJob(None), 2).startswith("Found 1 new reading (1 already saved)")


def test_a_typed_reading_just_taken_is_the_one_marked(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        typed = store.add_bp_reading(sbp=132, dbp=84, pulse=70, taken_at=TYPED_AT)
        done = store.add_cuff_readings([reading(132, 84, 70)], device=CUFF, context="rest",
                                       now=TYPED_AT + dt.timedelta(minutes=1),
                                       just_taken=JustTaken("pre"))
        assert len(store.list_bp_readings()) == 1
        assert done.just_taken is not None
        assert (done.just_taken.id, done.just_taken.context) == (typed, "pre")
        assert done.matched == 1
