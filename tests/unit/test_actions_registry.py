"""The action registry: the three actions by name, their plans from a scope, unknown names refused."""

from __future__ import annotations

import pytest

from lib.actions import ACTIONS, Scope, Target, action_for
from lib.errors import ConfigError


def test_the_registry_holds_the_three_actions_by_name() -> None:
    assert sorted(ACTIONS) == ["domains-offline", "pause-zone", "stop-cdn-domain"]
    for name, action in ACTIONS.items():
        assert action.name == name and action_for(name) is action and action.description


def test_an_unknown_action_is_refused_naming_the_ones_there_are() -> None:
    with pytest.raises(ConfigError) as caught:
        action_for("delete-zone")
    text = str(caught.value)
    assert "'delete-zone'" in text and "domains-offline, pause-zone, stop-cdn-domain" in text


def test_plans_take_the_group_or_the_explicit_list_inside_what_the_budget_covers() -> None:
    zone = action_for("pause-zone").plan(Scope({"zone-id": "zone-1"}, covered=("zone-1", "zone-2")))
    assert zone.targets == (Target("zone", "zone-1"),) and "zone-1" in zone.summary
    both = action_for("pause-zone").plan(Scope({}, covered=("*",), explicit=("zone-2", "zone-3", "zone-2")))
    assert [t.id for t in both.targets] == ["zone-2", "zone-3"]
    with pytest.raises(ConfigError, match=r"zone-9.*does not cover"):
        action_for("pause-zone").plan(Scope({"zone-id": "zone-1"}, covered=("zone-1",), explicit=("zone-9",)))
    with pytest.raises(ConfigError, match="group the budget by 'zone-id'"):
        action_for("pause-zone").plan(Scope({"host": "a.example.com"}, budget="b"))
    hosts = action_for("domains-offline").plan(Scope({"zone-id": "zone-1", "host": "a.example.com"}), force=True)
    assert hosts.targets == (Target("domain", "a.example.com", zone="zone-1"),) and hosts.force
    with pytest.raises(ConfigError, match="zone-id, host"):
        action_for("domains-offline").plan(Scope({"host": "a.example.com"}))
    cdn = action_for("stop-cdn-domain").plan(Scope({"domain": "cdn.example.com"}, covered=("cdn.example.com",)))
    assert cdn.targets == (Target("cdn-domain", "cdn.example.com"),)
    with pytest.raises(ConfigError, match="does not cover"):
        action_for("stop-cdn-domain").plan(Scope({"domain": "other.example.com"}, covered=("cdn.example.com",)))
