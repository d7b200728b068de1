"""Signed links: a token names one operation, its targets and expiry; tampered, expired, other-target, other
operation and replayed links are refused; a token never carries the secret."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.errors import ConfigError
from lib.links import MAX_TOKEN, Link, LinkError, link_url, new_nonce, sign, verify
from tests.unit.action_support import NOW, repo

SECRET = "link-secret-4f1c9a7e"
T0 = 1_800_000_000
LINK = Link("approve", ("act_0123456789abcdef01234567",), T0 + 3600, "nonce-1")


def test_a_signed_link_verifies_for_its_operation_and_target_until_it_expires() -> None:
    token = sign(SECRET, LINK)
    assert verify(SECRET, token, now=T0, operation="approve", target=LINK.targets[0]) == LINK
    assert verify(SECRET, token, now=T0 + 3599) == LINK
    assert link_url("https://api.example.com/", token) == f"https://api.example.com/l/{token}"
    assert all(c.isalnum() or c in "-_." for c in token) and len(token) <= MAX_TOKEN


def test_an_expired_link_is_refused() -> None:
    with pytest.raises(LinkError) as caught:
        verify(SECRET, sign(SECRET, LINK), now=T0 + 3600)
    assert caught.value.reason == "expired" and "expired" in str(caught.value)


def test_a_link_for_another_target_or_operation_is_refused() -> None:
    token = sign(SECRET, LINK)
    with pytest.raises(LinkError) as other:
        verify(SECRET, token, now=T0, target="act_other")
    assert other.value.reason == "target"
    with pytest.raises(LinkError) as undo:
        verify(SECRET, token, now=T0, operation="undo")
    assert undo.value.reason == "operation"


def test_a_tampered_payload_or_another_key_is_refused() -> None:
    token = sign(SECRET, LINK)
    version, body, mac = token.split(".")
    doc = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    doc["exp"] += 10**6  # extend its life
    forged = base64.urlsafe_b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode().rstrip("=")
    for bad in (f"{version}.{forged}.{mac}", f"{version}.{body}.{mac[:-2]}AA", token + "x", "v2." + token[3:]):
        with pytest.raises(LinkError) as caught:
            verify(SECRET, bad, now=T0)
        assert caught.value.reason in ("signature", "malformed")
    with pytest.raises(LinkError) as wrong:
        verify("another-secret-0000", token, now=T0)
    assert wrong.value.reason == "signature"
    for junk in ("", "a.b", "v1..", "v1.!!!.???", "x" * (MAX_TOKEN + 1)):
        with pytest.raises(LinkError):
            verify(SECRET, junk, now=T0)


def test_a_token_never_carries_the_secret_and_needs_one() -> None:
    token = sign(SECRET, LINK)
    decoded = b"".join(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)) for p in token.split(".")[1:])
    assert SECRET.encode() not in decoded and SECRET not in token
    with pytest.raises(ConfigError, match="BUDGET_LINK_SECRET"):
        sign("", LINK)
    with pytest.raises(ConfigError, match="operation"):
        sign(SECRET, Link("delete", LINK.targets, LINK.expires, "n"))
    assert new_nonce() != new_nonce()


def test_a_link_works_once_the_used_marker_is_create_only() -> None:
    state = repo()
    link = verify(SECRET, sign(SECRET, LINK), now=T0)
    assert state.actions.use_link(link.nonce, at=NOW, operation=link.operation, by="link") is True
    assert state.actions.link_used(link.nonce)
    assert state.actions.use_link(link.nonce, at=NOW, operation=link.operation, by="link") is False  # replayed
    assert not state.actions.link_used("nonce-2")


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_change_to_a_token_is_refused(data: st.DataObject) -> None:
    token = sign(SECRET, LINK)
    index = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.characters(codec="ascii").filter(lambda c: c != token[index]))
    changed = token[:index] + replacement + token[index + 1 :]
    with pytest.raises(LinkError):  # even a last character that decodes to the same bytes (base64 spare bits)
        verify(SECRET, changed, now=T0)
