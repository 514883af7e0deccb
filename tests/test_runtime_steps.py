"""A device step that gets no answer says which step, how long it waited, and why."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from isogrip import runtime
from isogrip.errors import DeviceError, DeviceErrorReason
from isogrip.runtime import SessionConfig, SessionRuntime
from isogrip.storage.store import Store


async def _never() -> None:
    await asyncio.Event().wait()


@pytest.mark.parametrize(("step", "words"), [
    ("battery", "did not report its battery level within 0.3 s"),
    ("tare", "did not zero within 0.3 s"),
    ("start", "did not start streaming within 0.3 s"),
])
def test_a_step_without_an_answer_names_itself_and_is_not_called_not_found(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str, words: str) -> None:
    monkeypatch.setattr(runtime, "STEP_TIMEOUT_S", 0.3)
    rt = SessionRuntime(SessionConfig(device="sim?seed=1", speed=None, data_dir=tmp_path))
    monkeypatch.setattr(rt.device, step, _never)
    with pytest.raises(DeviceError) as caught:
        rt.run()
    rt.close()
    assert words in str(caught.value)
    assert caught.value.reason is DeviceErrorReason.NOT_RESPONDING
    with Store.open(tmp_path) as store:
        (session,) = store.list_sessions()
        assert session.status == "interrupted"
