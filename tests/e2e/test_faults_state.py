"""Damaged state end to end, on disk (local folder) and in COS: an unreadable object is reported in the
run's errors and moved aside, the run goes on, and nothing the sent markers say was sent goes out again.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from lib.errors import StateError
from lib.notify import delivery_id
from lib.state.repo import segment
from tests.e2e.fault_support import FIRST_RUN, Rig, hook_ids, outcomes, report, rig, tally, timer_app

pytestmark = pytest.mark.e2e


def damage(r: Rig, key: str, data: bytes) -> None:
    """Overwrite one state object in place: a torn write on disk, or a bad upload to COS."""
    if r.state == "file":
        path = r.state_dir.joinpath(*key.split("/"))
        assert path.exists(), key
        path.write_bytes(data)
    else:
        store = r.store()
        assert store.get(key) is not None, key
        store.put(key, data)


def read(r: Rig, key: str) -> bytes:
    obj = r.store().get(key)
    assert obj is not None, key
    return obj.data


def state_errors(result: dict[str, Any]) -> list[str]:
    return [e["message"] for e in result["errors"] if e["source"] == "state"]


@pytest.mark.parametrize("state", ["file", "cos"])
def test_corrupt_ledger_series_and_sent_markers(tmp_path: Path, state: str) -> None:
    with rig(tmp_path, state=state) as r:
        app = r.app()
        first = app.run_check(trigger="timer").to_dict()
        assert outcomes(first) == {"sent": 3}
        ledger = read(r, "ledger.json")
        damage(r, "ledger.json", ledger[: len(ledger) // 2])  # torn write
        damage(r, "series/traffic.json", b"\xff\xfe\x00 not utf-8")
        for nid in hook_ids(r.receiver):
            damage(r, f"sent/{segment(delivery_id(nid, 'hook'))}", b"[]")  # wrong shape

        r.clock.tick()
        second = app.run_check(trigger="timer").to_dict()
        problems = state_errors(second)
        assert any("'ledger.json'" in p and "not JSON" in p and "moved to 'corrupt/ledger.json." in p for p in problems)
        assert any("'series/traffic.json'" in p and "not UTF-8" in p for p in problems)
        # The rules start afresh and decide the same crossings; the damaged sent markers still hold them back.
        assert outcomes(second) == {"skipped": 3}
        assert [e["status"] for e in second["evaluations"]] == ["firing", "ok", "firing", "firing"]
        moved = r.store().list("corrupt/")
        assert sorted(k.rsplit(".", 1)[0] for k in moved) == ["corrupt/ledger.json", "corrupt/series/traffic.json"]
        assert any(read(r, k) == ledger[: len(ledger) // 2] for k in moved)  # kept for inspection

        r.clock.tick()
        third = app.run_check(trigger="timer").to_dict()
        assert third["errors"] == [] and outcomes(third) == {}
        counted = tally(r.receiver, FIRST_RUN)
        report(f"ledger torn, series and sent markers garbage ({state})", 3, counted, "reported, moved aside")
        assert counted.exact, counted


@pytest.mark.parametrize("state", ["file", "cos"])
def test_corrupt_outbox_entry_and_claim(tmp_path: Path, state: str) -> None:
    with rig(tmp_path, state=state) as r:
        r.receiver.fail("webhook", times=1, error="unavailable")
        app = r.app()
        first = app.run_check(trigger="timer").to_dict()
        assert outcomes(first) == {"retry": 3}
        ids = {d["budget"]: d["id"] for d in first["notifications"]}
        spend = segment(delivery_id(ids["spend"], "hook"))
        balance = segment(delivery_id(ids["balance"], "hook"))
        damage(r, f"outbox/{spend}.json", b'{"schema":1,"delivery_id":"nt')  # torn
        damage(r, f"claims/{balance}/000001", b"garbage")

        r.clock.tick()
        second = app.run_check(trigger="timer").to_dict()
        problems = state_errors(second)
        assert any(
            f"'outbox/{spend}.json'" in p
            and "moved to" in p
            and f"recovered the delivery {delivery_id(ids['spend'], 'hook')!r}" in p
            for p in problems
        ), problems
        assert any(f"'claims/{balance}/000001'" in p and "treating it as expired" in p for p in problems), problems
        # The run goes on: the readable deliveries go out (the one with the damaged claim too), and the torn
        # entry is rebuilt from the copy of its notification in its claim and retried in the same run.
        sent = sorted(d["budget"] for d in second["notifications"] if d["outcome"] == "sent")
        assert sent == ["balance", "spend", "traffic"], second["notifications"]
        assert [k.split("/")[1] for k in r.store().list("corrupt/")] == ["outbox"]  # the torn bytes, kept
        assert r.store().list("outbox/") == []

        r.clock.tick()
        third = app.run_check(trigger="timer").to_dict()
        assert third["errors"] == [] and outcomes(third) == {}
        counted = tally(r.receiver, FIRST_RUN)
        report(
            f"pending outbox entry torn, claim garbage ({state})",
            3,
            counted,
            "torn entry rebuilt from its claim, sent in the next run; reported",
        )
        assert counted.exact, counted
        assert hook_ids(r.receiver)[ids["spend"]] == 1


def test_state_from_a_newer_version_stops_the_run_without_sending(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        app = r.app()
        app.run_check(trigger="timer").to_dict()
        damage(r, "ledger.json", b'{"schema": 99, "ledger": {}}\n')
        r.receiver.clear()
        with timer_app(app) as invoke:
            r.clock.tick()
            result = invoke()  # not retried by SCF: the same would happen three times
        assert result["run_id"] is None
        assert "newer version" in result["errors"][0]["message"]
        assert read(r, "ledger.json") == b'{"schema": 99, "ledger": {}}\n'  # never overwritten
        assert r.receiver.received == []


def test_an_outbox_replaced_by_a_file_is_reported_and_its_deliveries_recovered(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        r.receiver.fail("webhook", times=1, error="unavailable")
        app = r.app()
        first = app.run_check(trigger="timer").to_dict()
        assert outcomes(first) == {"retry": 3}
        outbox = r.state_dir / "outbox"
        shutil.rmtree(outbox)
        outbox.write_bytes(b"not a folder\n")

        r.clock.tick()
        second = app.run_check(trigger="timer").to_dict()
        problems = state_errors(second)
        assert any("the outbox" in p and "cannot be read" in p for p in problems), problems
        assert any("recovered 3 pending deliveries from their claims" in p for p in problems), problems
        assert outcomes(second) == {"sent": 3}, second["notifications"]
        r.clock.tick()
        third = app.run_check(trigger="timer").to_dict()
        assert third["errors"] == [] and outcomes(third) == {}
        counted = tally(r.receiver, FIRST_RUN)
        report("outbox folder replaced by a file (file)", 3, counted, "reported; rebuilt from the claims")
        assert counted.exact, counted


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_ledger_that_is_a_folder_is_an_error_not_a_fresh_start(tmp_path: Path, dry_run: bool) -> None:
    with rig(tmp_path) as r:
        app = r.app()
        app.run_check(trigger="timer").to_dict()
        (r.state_dir / "ledger.json").unlink()
        (r.state_dir / "ledger.json" / "inside").mkdir(parents=True)
        r.receiver.clear()
        r.clock.tick()
        with pytest.raises(StateError, match=r"ledger\.json.*it is a folder"):
            app.run_check(trigger="timer", dry_run=dry_run).to_dict()
        assert r.receiver.received == []


def test_a_corrupt_maintenance_record_is_in_the_runs_errors(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        app = r.app()
        first = app.run_check(trigger="timer").to_dict()
        assert first["errors"] == []
        damage(r, "maintenance.json", b"{torn")
        r.clock.tick()
        second = app.run_check(trigger="timer").to_dict()
        assert any("'maintenance.json'" in p and "not JSON" in p for p in state_errors(second)), second["errors"]
        r.clock.tick()
        assert app.run_check(trigger="timer").to_dict()["errors"] == []
