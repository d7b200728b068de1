"""Dashboard sessions and CSRF tokens, pure: forged, tampered, expired, rotated, another session's."""

from __future__ import annotations

import pytest

from lib.web.csrf import check_origin, check_token, csrf_token
from lib.web.session import (
    MAX_AGE,
    WebRefused,
    clear_cookie,
    cookie_value,
    issue,
    read,
    session_key,
    set_cookie,
)

TOKENS = ("first-token-0123456789", "second-token-9876543210")
SECRET = "link-secret-abcdef"
NOW = 1_795_000_000.0
SID = "A" * 24


def _reason(value: str | None, tokens: tuple[str, ...] = TOKENS, secret: str | None = SECRET, now: float = NOW) -> str:
    with pytest.raises(WebRefused) as caught:
        read(value, tokens, secret, now=now)
    return caught.value.reason


def test_a_session_reads_back_with_its_token_and_expiry() -> None:
    value = issue(TOKENS, 1, SECRET, now=NOW, sid=SID)
    session = read(value, TOKENS, SECRET, now=NOW + MAX_AGE - 1)
    assert (session.token_index, session.sid, session.expires, session.name) == (1, SID, NOW + MAX_AGE, "token-2")


def test_an_expired_session_is_refused() -> None:
    value = issue(TOKENS, 0, SECRET, now=NOW, sid=SID)
    assert _reason(value, now=NOW + MAX_AGE) == "expired"


@pytest.mark.parametrize(
    "change",
    [
        lambda v: v.replace("v1.0.", "v1.1.", 1),  # claims the other token
        lambda v: v.replace(f".{SID}.", f".{'B' * 24}."),  # another session id
        lambda v: ".".join([*v.split(".")[:2], str(int(v.split(".")[2]) + 3600), *v.split(".")[3:]]),  # longer life
        lambda v: v[:-2] + ("AA" if not v.endswith("AA") else "BB"),  # another MAC
    ],
)
def test_a_tampered_cookie_is_refused(change: object) -> None:
    value = issue(TOKENS, 0, SECRET, now=NOW, sid=SID)
    assert callable(change)
    assert _reason(change(value)) == "forged"


def test_a_forged_cookie_without_the_keys_is_refused() -> None:
    forged = issue(("attacker-token-0000000000",), 0, SECRET, now=NOW, sid=SID)
    assert _reason(forged) == "forged"
    assert _reason(issue(TOKENS, 0, "guessed-secret", now=NOW, sid=SID)) == "forged"


@pytest.mark.parametrize("value", ["", None, "v1.0.x.y.z", "v2.0.1.2.3", "a.b", "v1." + "x" * 400, "v1.0.1.短.x"])
def test_a_damaged_or_missing_cookie_is_refused(value: str | None) -> None:
    assert _reason(value) in {"signed-out", "malformed", "forged"}


def test_rotating_the_token_or_the_link_secret_ends_sessions() -> None:
    value = issue(TOKENS, 1, SECRET, now=NOW, sid=SID)
    assert _reason(value, tokens=(TOKENS[0], "rotated-token-0123456789")) == "forged"
    assert _reason(value, tokens=(TOKENS[0],)) == "forged"  # the token was removed
    assert _reason(value, secret="rotated-link-secret") == "forged"
    assert read(value, TOKENS, SECRET, now=NOW).token_index == 1


def test_without_a_link_secret_the_key_comes_from_the_token_alone() -> None:
    value = issue(TOKENS, 0, None, now=NOW, sid=SID)
    assert read(value, TOKENS, None, now=NOW).sid == SID
    assert session_key(TOKENS[0], None) != session_key(TOKENS[1], None)
    assert session_key(TOKENS[0], None) != session_key(TOKENS[0], SECRET)


def test_the_cookie_is_httponly_secure_strict_and_scoped() -> None:
    header = set_cookie("abc", path="/release")
    assert header.startswith("budget_session=abc; ")
    assert {"HttpOnly", "Secure", "SameSite=Strict", "Path=/release", f"Max-Age={MAX_AGE}"} <= set(header.split("; "))
    assert "Max-Age=0" in clear_cookie(path="/")
    assert cookie_value("a=1; budget_session=xyz; b=2") == "xyz"
    assert cookie_value("a=1; budget_sessionx=1") is None


def test_csrf_token_is_bound_to_the_session() -> None:
    key = session_key(TOKENS[0], SECRET)
    mine = csrf_token(key, SID)
    check_token(key, SID, mine)
    for given in (
        None,
        "",
        csrf_token(key, "B" * 24),
        csrf_token(session_key(TOKENS[1], SECRET), SID),
        mine + "0",
        "é",
    ):
        with pytest.raises(WebRefused) as caught:
            check_token(key, SID, given)
        assert (caught.value.reason, caught.value.status) == ("csrf", 403)


def test_origin_must_be_this_site_where_the_browser_says() -> None:
    check_origin({"host": "a.example.com", "origin": "https://a.example.com"}, None)
    check_origin({"host": "fn.example.com", "origin": "https://gw.example.com"}, "https://gw.example.com/release")
    check_origin({"host": "a.example.com", "referer": "https://a.example.com/?x=1"}, None)
    check_origin({"host": "a.example.com"}, None)  # neither header: the token and SameSite still stand
    for headers in (
        {"host": "a.example.com", "origin": "https://evil.example.net"},
        {"host": "a.example.com", "origin": "null"},
        {"host": "a.example.com", "referer": "https://evil.example.net/a.example.com"},
    ):
        with pytest.raises(WebRefused) as caught:
            check_origin(headers, None)
        assert caught.value.reason == "origin"
