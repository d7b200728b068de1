"""The /l/{token} pages through lib.api.handle with Function URL events, and hostile links.

GET and HEAD never act (link previews, crawlers); only POST acts, once. Tampered, expired, replayed,
another target's and view links are refused with a page and the status that says why.
"""

from __future__ import annotations

import base64
import itertools
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lib.api
from lib.app.runtime import App
from lib.links import Link, action_targets, sign, silence_targets, verify
from lib.notify.links import LinkMaker
from lib.settings import Settings
from tests.api_fixtures import CONFIG
from tests.unit.action_support import NOW, PERIOD, FakeCloud, machine, pause_intent, repo
from tests.unit.notify_samples import TRAFFIC

SECRET = "link-secret-for-tests-0123456789"
PUBLIC = "https://1250000000-abcd.ap-guangzhou.tencentscf.com"
_nonces = itertools.count()


@dataclass
class World:
    app: App
    cloud: FakeCloud
    action_id: str
    clock: list[datetime] = field(default_factory=lambda: [NOW])

    def token(self, operation: str = "approve", *, targets: tuple[str, ...] | None = None, expires: int = 0) -> str:
        if targets is None:
            targets = action_targets(self.action_id, ["zone-1"])
        until = expires or int((NOW + timedelta(days=2)).timestamp())
        return sign(SECRET, Link(operation, targets, until, f"n{next(_nonces):06d}"))

    def state(self) -> str:
        record = self.app.repo.actions.get(self.action_id)
        assert record is not None
        return record.state


@pytest.fixture
def world() -> World:
    repository = repo()
    cloud = FakeCloud()
    ident, intent = pause_intent()
    machine(repository, cloud).record(ident, intent, by="run:test", now=NOW)
    clock = [NOW]
    app = App(
        config=CONFIG,
        store=repository.store,
        repo=repository,
        client=cloud,  # type: ignore[arg-type]
        session=None,  # type: ignore[arg-type]
        settings=Settings(public_url=PUBLIC, link_secret=SECRET),
        clock=lambda: clock[0],
    )
    return World(app, cloud, ident, clock)


def url_event(method: str, path: str, *, body: str | None = None, base64_body: bool = False) -> dict[str, Any]:
    """A Function URL event (no requestContext; lower-case headers; the caller in x-scf-remote-addr)."""
    headers = {"host": "1250000000-abcd.ap-guangzhou.tencentscf.com", "x-scf-remote-addr": "198.51.100.4"}
    ev: dict[str, Any] = {"headers": headers, "httpMethod": method, "path": path, "queryString": {}}
    if body is not None:
        headers["content-type"] = "application/x-www-form-urlencoded"
        ev["body"] = base64.b64encode(body.encode()).decode() if base64_body else body
        if base64_body:
            ev["isBase64Encoded"] = True
    return ev


def hit(world: World, method: str, token: str, **kwargs: Any) -> tuple[int, dict[str, str], str]:
    lib.api.set_app(world.app)
    try:
        answer = lib.api.handle(url_event(method, f"/l/{token}", **kwargs), {"request_id": "rid-links"})
    finally:
        lib.api.set_app(None)
    return answer["statusCode"], answer["headers"], answer["body"]


def post(world: World, token: str) -> tuple[int, dict[str, str], str]:
    return hit(world, "POST", token, body="confirm=1")


# --- the happy paths -----------------------------------------------------------------------------------


def test_get_shows_what_will_happen_and_a_form_and_does_not_act(world: World) -> None:
    token = world.token()
    status, headers, page = hit(world, "GET", token)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "暂停站点" in page and "zone-1" in page and '<form method="post">' in page
    assert token not in page and SECRET not in page and token.split(".")[1] not in page
    assert headers["Referrer-Policy"] == "no-referrer" and "form-action 'self'" in headers["Content-Security-Policy"]
    assert world.state() == "pending-approval" and not world.cloud.mutations()


def test_post_approves_at_once_by_link_and_the_zone_is_paused(world: World) -> None:
    status, _, page = post(world, world.token())
    assert status == 200, page
    assert world.state() == "done" and world.cloud.paused["zone-1"] is True
    record = world.app.repo.actions.get(world.action_id)
    assert record is not None and any(t.by == "link" for t in record.trail)
    assert "done" in page


def test_a_base64_form_body_from_a_function_url_is_read(world: World) -> None:
    status, _, page = hit(world, "POST", world.token(), body="confirm=1", base64_body=True)
    assert status == 200, page
    assert world.state() == "done"


def test_undo_link_restores_the_zone(world: World) -> None:
    post(world, world.token())
    status, _, page = post(world, world.token("undo"))
    assert status == 200, page
    assert world.state() == "undone" and world.cloud.paused["zone-1"] is False


def test_silence_link_holds_the_group_for_an_hour_from_the_click(world: World) -> None:
    (offer,) = [o for o in LinkMaker(PUBLIC, SECRET, NOW).links(TRAFFIC) if o.key == "silence_1h"]
    token = offer.url.rsplit("/l/", 1)[1]
    world.clock[0] = NOW + timedelta(hours=3)  # clicked later: an hour from the click, not from the alert
    status, _, page = hit(world, "GET", token)
    assert status == 200 and "edgeone-traffic" in page and not world.app.repo.silences.list().value
    status, _, page = post(world, token)
    assert status == 200, page
    (held,) = world.app.repo.silences.list().value
    assert held.matchers == {"budget": "edgeone-traffic", "zone-id": "zone-2m2gq4dnpmd2"}
    assert held.ends_at == NOW + timedelta(hours=4) and held.created_by == "link"


def test_silence_until_period_end(world: World) -> None:
    until = int(PERIOD.end.timestamp())
    token = world.token("silence", targets=silence_targets("edgeone-traffic", (), until=until), expires=until)
    assert post(world, token)[0] == 200
    (held,) = world.app.repo.silences.list().value
    assert held.matchers == {"budget": "edgeone-traffic"} and held.ends_at == PERIOD.end


def test_english_pages_follow_the_configured_language(world: World) -> None:
    world.app = replace(world.app, config=CONFIG.model_copy(update={"language": "en"}))
    page = hit(world, "GET", world.token())[2]
    assert "This will pause the zone now" in page and "Confirm" in page


def test_gateway_event_with_a_base64_form_body_under_the_stage_path(world: World) -> None:
    from tests.api_fixtures import event

    ev = event("POST", f"/release/l/{world.token()}", token=None, body="confirm=1", base64_body=True)
    ev["requestContext"]["path"] = "/l/{token}"
    lib.api.set_app(world.app)
    try:
        answer = lib.api.handle(ev, {"request_id": "rid"})
    finally:
        lib.api.set_app(None)
    assert answer["statusCode"] == 200, answer["body"]
    assert world.state() == "done"


# --- hostile links ------------------------------------------------------------------------------------


def test_crawlers_and_previews_never_act(world: World) -> None:
    token = world.token()
    for method in ("GET", "HEAD", "GET", "HEAD", "GET"):
        status, headers, body = hit(world, method, token)
        assert status == 200
        if method == "HEAD":
            assert body == "" and headers["Content-Type"].startswith("text/html")
    assert world.state() == "pending-approval" and not world.cloud.mutations()
    assert post(world, token)[0] == 200  # the previews did not spend the link


def test_a_used_link_is_refused_on_get_and_post(world: World) -> None:
    token = world.token("silence", targets=silence_targets("edgeone-traffic", (), seconds=3600))
    assert post(world, token)[0] == 200
    for method in ("GET", "POST"):
        status, _, page = hit(world, method, token, **({"body": ""} if method == "POST" else {}))
        assert status == 409 and "只能使用一次" in page
    assert len(world.app.repo.silences.list().value) == 1


@pytest.mark.parametrize(
    ("damage", "status"),
    [
        (lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"), 403),  # another MAC
        (lambda t: t.split(".")[0] + "." + t.split(".")[1][:-4] + "ABCD." + t.split(".")[2], 403),  # payload edited
        (lambda t: t.rsplit(".", 1)[0], 400),  # truncated
        (lambda t: "v2" + t[2:], 400),  # unknown version
        (lambda t: t.replace(".", "!", 1), 400),
        (lambda t: "x" * 2040, 400),  # no parts at all
    ],
)
def test_tampered_links_are_refused_and_act_on_nothing(world: World, damage: Any, status: int) -> None:
    got, headers, page = post(world, damage(world.token()))
    assert got == status and headers["Content-Type"].startswith("text/html")
    assert "链接无法使用" in page
    assert world.state() == "pending-approval" and not world.cloud.mutations()


def test_a_link_signed_with_another_secret_is_refused(world: World) -> None:
    foreign = sign(
        "another-deployments-secret", Link("approve", action_targets(world.action_id, ["zone-1"]), 2**31, "n")
    )
    assert post(world, foreign)[0] == 403 and world.state() == "pending-approval"


def test_an_expired_link_is_gone(world: World) -> None:
    token = world.token(expires=int((NOW + timedelta(hours=1)).timestamp()))
    world.clock[0] = NOW + timedelta(hours=1)
    for method in ("GET", "POST"):
        status, _, page = hit(world, method, token, **({"body": ""} if method == "POST" else {}))
        assert status == 410 and "过期" in page
    assert world.state() == "pending-approval"


def test_a_link_for_another_target_is_refused_and_not_spent(world: World) -> None:
    other = world.token(targets=action_targets(world.action_id, ["zone-2"]))
    status, _, page = post(world, other)
    assert status == 403 and "其他对象" in page
    assert world.state() == "pending-approval" and not world.cloud.mutations()
    missing = world.token(targets=action_targets("act_" + "0" * 24, ["zone-1"]))
    assert post(world, missing)[0] == 404


def test_a_silence_link_for_a_budget_that_is_gone_is_refused(world: World) -> None:
    token = world.token("silence", targets=silence_targets("renamed-budget", (), seconds=3600))
    assert post(world, token)[0] == 404 and not world.app.repo.silences.list().value


def test_a_view_link_cannot_act(world: World) -> None:
    view = world.token("view", targets=("dashboard",))
    status, _, page = hit(world, "GET", view)
    assert status == 200 and "<form" not in page and 'href="../?v=' in page
    status, _, page = post(world, view)
    assert status == 403 and "只读" in page
    assert world.state() == "pending-approval"


def test_approve_of_an_action_already_approved_elsewhere_says_so_and_keeps_the_link(world: World) -> None:
    from lib.app import operations

    operations.approve(world.app, world.action_id, by="api:ops", now=NOW)
    token = world.token()
    status, _, page = hit(world, "GET", token)
    assert status == 409 and "done" in page
    assert post(world, token)[0] == 409
    assert len([m for m in world.cloud.mutations() if m[0] == "ModifyZoneStatus"]) == 1
    nonce = verify(SECRET, token, now=NOW.timestamp()).nonce
    assert not world.app.repo.actions.link_used(nonce)  # refused before it was spent


def test_links_off_without_the_secret(world: World) -> None:
    world.app = replace(world.app, settings=Settings(public_url=PUBLIC))
    status, _, page = hit(world, "GET", world.token())
    assert status == 404 and "BUDGET_LINK_SECRET" in page


def test_the_token_stays_out_of_the_function_log(world: World, caplog: pytest.LogCaptureFixture) -> None:
    token = world.token()
    with caplog.at_level("INFO", logger="lib.api"):
        hit(world, "GET", token)
    assert caplog.records and token not in caplog.text and "/l/[token]" in caplog.text


@pytest.mark.parametrize("operation", ["approve", "silence"])
def test_two_racing_posts_of_one_link_act_once(world: World, operation: str, monkeypatch: pytest.MonkeyPatch) -> None:
    world.cloud.yield_each_call = True
    targets = None if operation == "approve" else silence_targets("edgeone-traffic", (), seconds=3600)
    token = world.token(operation, targets=targets)
    barrier = threading.Barrier(4)
    store = world.app.repo.actions
    first_look = store.link_used

    def slow_look(nonce: str) -> bool:
        seen = first_look(nonce)
        time.sleep(0.2)  # every POST has looked (and seen the link unused) before any of them marks it
        return seen

    monkeypatch.setattr(store, "link_used", slow_look)
    statuses: list[int] = []
    lib.api.set_app(world.app)

    def press() -> None:
        barrier.wait()
        answer = lib.api.handle(url_event("POST", f"/l/{token}", body="confirm=1"), {"request_id": "race"})
        statuses.append(answer["statusCode"])

    try:
        threads = [threading.Thread(target=press) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    finally:
        lib.api.set_app(None)
    assert sorted(statuses) == [200, 409, 409, 409]
    if operation == "approve":
        assert len([m for m in world.cloud.mutations() if m[0] == "ModifyZoneStatus"]) == 1
    else:
        assert len(world.app.repo.silences.list().value) == 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0), char=st.sampled_from("AQgw-_.=+/%0aZz9"))
def test_any_one_character_changed_never_acts_and_never_errors(world: World, position: int, char: str) -> None:
    token = world.token()
    index = position % len(token)
    changed = token[:index] + char + token[index + 1 :]  # a "/" makes another path: 401 like any unknown one
    if changed == token:
        return
    status, headers, _ = post(world, changed)
    assert status in (400, 401, 403, 404) and headers["Content-Type"].startswith(("text/html", "application/json"))
    assert world.state() == "pending-approval" and not world.cloud.mutations()
