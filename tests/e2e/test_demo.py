"""``python -m sandbox demo`` end to end: the in-process part, then the deployed part through a Function URL.

The demo runs as ``make demo`` runs it, a process of its own with no credentials and no ``BUDGET_*``
variables; its temporary folders go under a ``TMPDIR`` of the test's own, which must be empty at the end.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import sandbox.demo_deployed
from lib.app import instance
from sandbox import demo
from sandbox.demo_deployed import run_deployed
from tests.e2e.live_support import close_app, run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
BANNER = "=== "
BANNERS = [  # part 1, in-process against demo.yaml; part 2, deployed; part 3, budget actions
    "sandbox at",
    "check #1",
    "check #2",
    "GET /status through the API handler",
    "the dashboard",
    "deployed:",
    "deploy into the sandbox's SCF",
    "the Function URL",
    "timer #1",
    "timer #2",
    "GET /status through the Function URL",
    "python -m lib undeploy",
    "actions:",
    "action check #1",
    "action check #2",
    "action check #3",
    "approving the manual action by following its link",
]


def _sections(out: str) -> dict[str, list[str]]:
    """The demo's output cut at its banners: each banner's first words -> the lines under it."""
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for line in out.splitlines():
        if line.startswith(BANNER):
            current = sections.setdefault(line[len(BANNER) :], [])
        else:
            current.append(line)
    return sections


def _section(sections: dict[str, list[str]], start: str) -> list[str]:
    (found,) = [lines for title, lines in sections.items() if title.startswith(start)]
    return found


def _received(lines: list[str]) -> list[str]:
    return [line for line in lines if line.strip().startswith("[receiver:")]


def test_demo_deploys_into_the_sandbox_and_drives_the_function_url(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    done = run_cli(["demo"], {"TMPDIR": str(tmp), "HOME": str(tmp_path)}, timeout=300, package="sandbox")
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert out.rstrip().splitlines()[-1] == "demo: ok"

    first, second = (int(n) for n in re.findall(r"^demo: first run sent (\d+), second run sent (\d+)$", out, re.M)[0])
    assert first > 0
    assert second == 0
    deployed = re.findall(r"^demo: deployed timer: first run sent (\d+), second run sent (\d+)$", out, re.M)
    assert len(deployed) == 1
    assert int(deployed[0][0]) > 0
    assert deployed[0][1] == "0"

    sections = _sections(out)
    assert re.search(r"^demo: manual action act_\S+ approved by its link; site \S+ paused$", out, re.M), out
    assert [next((p for p in BANNERS if t.startswith(p)), t) for t in sections] == BANNERS

    written = [line.split()[1] for line in _section(sections, "the dashboard") if line.strip().startswith("wrote ")]
    assert written == ["build/demo/dashboard.html", "build/demo/edgeone-traffic.svg", "build/demo/edgeone-traffic.png"]

    deploy = _section(sections, "deploy into")
    (url,) = [line.split("url: ", 1)[1] for line in deploy if line.strip().startswith("url: ")]
    assert url.startswith("http://127.0.0.1:")
    assert "hook" not in "\n".join(deploy)  # the robots' addresses are never printed by deploy
    assert any(line.strip().startswith("GET /health -> 200 ") for line in _section(sections, "the Function URL"))

    fired = _section(sections, "timer #1")
    assert _received(fired), "the first fired run reaches the robots"
    summary = rf"^run [0-9a-f]{{32}} at .*: {deployed[0][0]} sent, 0 other deliveries, 0 errors$"
    assert re.search(summary, "\n".join(fired), re.M)
    again = _section(sections, "timer #2")
    assert _received(again) == []
    assert re.search(r"^run [0-9a-f]{32} at .*: 0 sent, 0 other deliveries, 0 errors$", "\n".join(again), re.M)

    status = [line.strip() for line in _section(sections, "GET /status through the Function URL")]
    assert status[0] == "GET /status -> 200"
    assert {line.split()[1] for line in status if line.startswith("firing: ")} == {
        "edgeone-traffic",
        "monthly-spend",
        "low-balance",
    }
    assert sum(1 for line in status if line.startswith("run: ") and "(timer)" in line) == 2

    undeploy = [line.strip() for line in _section(sections, "python -m lib undeploy")]
    assert "undeploy: done" in undeploy
    assert f"{url} no longer answers" in undeploy
    assert list(tmp.iterdir()) == []  # every temporary folder (state, package, unpacked code) is gone

    crossed = "\n".join(_section(sections, "action check #2"))
    assert re.search(r"^demo: automatic action act_[0-9a-f]{24} done; site zone-live0001 paused$", crossed, re.M)
    assert re.search(r"^demo: manual action act_[0-9a-f]{24} pending-approval ", crossed, re.M)
    assert "Budget action done: pause EdgeOne site zone-live0001" in crossed
    assert "demo: paused site flat: True; waiting site still grows: True" in _section(sections, "action check #3")


def test_the_deployed_part_reports_a_refused_status(capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong bearer token: /status answers 401 and the demo names that expectation as failed."""
    banners: list[str] = []
    failures = run_deployed(banners.append, lambda kind, text: None, "not-the-deployed-token")
    assert failures == ["GET /status answered 401"]
    out = capsys.readouterr().out
    assert "GET /health -> 200" in out
    assert "GET /status -> 401" in out
    assert any(b.startswith("python -m lib undeploy") for b in banners)  # the stage is removed all the same


def test_a_failed_expectation_makes_the_demo_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sandbox.demo_deployed, "run_deployed", lambda *args: ["GET /health answered 502"])
    monkeypatch.setattr(instance._slot, "app", None)
    try:
        assert demo.main() == 1
    finally:
        if instance._slot.app is not None:  # part 1 hands its App to the API handler: close it
            close_app(instance._slot.app)
    assert capsys.readouterr().out.rstrip().splitlines()[-1] == "demo: FAILED (GET /health answered 502)"
