"""No-data: repeated fetch failures alert, data coming back resolves, unready data is neither."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.rules_support import Runner, at, budget, config, observation

T0 = at("2026-11-22T09:00:00+08:00")
F, R, OK = "fail", "not-ready", "ok"


@pytest.mark.parametrize(
    ("after", "repeat", "runs", "expected", "statuses"),
    [
        (3, None, [F, F, F, F, OK], [None, None, "firing", None, "resolved"],
         ["error", "error", "no-data", "no-data", "resolved"]),
        (3, None, [F, F, OK, F, F], [None] * 5, ["error", "error", "ok", "error", "error"]),
        # Unready data neither counts as a failure nor clears the count.
        (3, None, [F, F, R, F], [None, None, None, "firing"], ["error", "error", "ok", "no-data"]),
        (3, None, [F, F, F, R, OK], [None, None, "firing", None, "resolved"],
         ["error", "error", "no-data", "ok", "resolved"]),
        (1, None, [F, OK], ["firing", "resolved"], ["no-data", "resolved"]),
        (0, None, [F, F, F, F], [None] * 4, ["error"] * 4),  # 0 turns the rule off
        # Runs are 10 minutes apart: with repeat 30m the 3rd failure fires, 3 runs later it repeats.
        (3, "30m", [F, F, F, F, F, F, OK], [None, None, "firing", None, None, "firing", "resolved"],
         ["error", "error", "no-data", "no-data", "no-data", "no-data", "resolved"]),
    ],
)  # fmt: skip
def test_no_data(
    after: int, repeat: str | None, runs: list[str], expected: list[str | None], statuses: list[str]
) -> None:
    cfg = config(budget(limit=100, no_data_after=after, repeat=repeat))
    runner = Runner(cfg)
    got, rows = [], []
    for i, kind in enumerate(runs):
        now = T0 + timedelta(minutes=10 * i)
        value = 10 if kind == OK else None
        obs = observation(cfg, "traffic", value, now, error="TransportError: timeout" if kind == F else None,
                          ready=kind != R)  # fmt: skip
        outcome = runner.step(now, [obs])
        assert all(n.kind == "no-data" for n in outcome.notifications)
        got.append(outcome.notifications[0].status if outcome.notifications else None)
        rows.append(outcome.evaluations[0].status)
    assert got == expected
    assert rows == statuses


def test_no_data_message_says_why() -> None:
    cfg = config(budget(limit=100, no_data_after=1))
    outcome = Runner(cfg).step(
        T0, [observation(cfg, "traffic", None, T0, error="ApiError: AuthFailure.SignatureExpire")]
    )
    (n,) = outcome.notifications
    assert (n.kind, n.status, n.value) == ("no-data", "firing", None)
    assert n.detail["error"] == "ApiError: AuthFailure.SignatureExpire"
    assert n.detail["failures"] == 1
    (row,) = outcome.evaluations
    assert (row.status, row.kind, row.error) == ("no-data", "no-data", "ApiError: AuthFailure.SignatureExpire")


def test_a_grouped_budget_whose_whole_fetch_failed_is_resolved_by_its_groups_data() -> None:
    cfg = config(budget(limit=100, group_by=["zone-id"], no_data_after=2))
    runner = Runner(cfg)
    for i in range(2):
        now = T0 + timedelta(minutes=10 * i)
        runner.step(now, [observation(cfg, "traffic", None, now, error="TransportError: 502")])
    assert [(n.group, n.status) for n in runner.sent] == [((), "firing")]
    now = T0 + timedelta(minutes=20)
    back = runner.step(now, [observation(cfg, "traffic", 5, now, group=(("zone-id", "z1"),))])
    assert [(n.group, n.kind, n.status) for n in back.notifications] == [((), "no-data", "resolved")]
    assert [(e.group, e.status) for e in back.evaluations] == [((("zone-id", "z1"),), "ok"), ((), "resolved")]
    assert back.ledger["entries"].get("traffic|") is None or back.ledger["entries"]["traffic|"]["failures"] == 0


def test_a_member_whose_role_was_refused_is_resolved_by_its_groups_data_and_others_stay() -> None:
    cfg = config(budget(limit=100, group_by=["zone-id"], no_data_after=2))
    runner = Runner(cfg)
    shop, blog = (("account", "2001"),), (("account", "2002"),)
    for i in range(2):  # both members unreachable twice: a no-data per member, at the member's whole group
        now = T0 + timedelta(minutes=10 * i)
        runner.step(
            now, [observation(cfg, "traffic", None, now, group=g, error="AssumeRoleError: x") for g in (shop, blog)]
        )
    assert sorted((n.group, n.status) for n in runner.sent) == [(shop, "firing"), (blog, "firing")]
    now = T0 + timedelta(minutes=20)
    recovered = observation(cfg, "traffic", 5, now, group=(*shop, ("zone-id", "z1")))
    back = runner.step(now, [recovered, observation(cfg, "traffic", None, now, group=blog, error="AssumeRoleError")])
    assert [(n.group, n.kind, n.status) for n in back.notifications] == [(shop, "no-data", "resolved")]
    assert back.ledger["entries"]["traffic|account=2002"]["failures"] == 3  # blog is still unreachable


def test_a_failure_never_resolves_nor_crosses() -> None:
    cfg = config(budget(limit=100, thresholds=[50]))
    runner = Runner(cfg)
    runner.step(T0, [observation(cfg, "traffic", 60, T0)])
    later = T0 + timedelta(minutes=10)
    outcome = runner.step(later, [observation(cfg, "traffic", None, later, error="boom")])
    assert outcome.notifications == []
    assert outcome.ledger["entries"]["traffic|"]["told"] == ["50%"]  # the told level survives the failure
