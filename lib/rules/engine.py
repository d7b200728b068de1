"""``evaluate``: observations + the previous ledger + now → evaluations, notifications and the next ledger.

Pure: no I/O, no clock, no logging; the same inputs always give the same outputs, and the input
ledger is never mutated. Per (budget, group) observation, in this order:

1. a failed fetch counts towards ``no-data`` and is reported as ``error`` (or ``no-data``): it is
   never read as zero, so nothing resolves and no level is crossed on it;
2. data that is not ready (billing ``Ready=0``) is skipped: not a failure, not a value;
3. otherwise ``no-data`` clears, then thresholds, forecast, ``below``, ``runway`` and spike rules run.

Silences hold notifications (``Evaluation.silenced``); the ledger records the held id and the first
run after the silence tells what is still true, under the same id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from lib.config.metrics import find_metric
from lib.config.models import Budget, Config
from lib.model import (
    Evaluation,
    GroupKey,
    Kind,
    Notification,
    Observation,
    Silence,
    Status,
    group_label,
    notification_id,
)
from lib.periods import zone
from lib.rules import nodata
from lib.rules.below import is_below
from lib.rules.episodes import Action, advance
from lib.rules.forecast import Forecast, data_end, project
from lib.rules.ledger import Entry, Ledger
from lib.rules.runway import estimate
from lib.rules.silences import holding
from lib.rules.spike import SpikeCheck, check_spike
from lib.rules.thresholds import Level, build_levels, crossed, plain, to_tell

TOP_BREAKDOWN = 5


@dataclass(frozen=True)
class Outcome:
    """What one run decided. ``ledger`` is JSON-ready and goes back in on the next run."""

    evaluations: list[Evaluation]
    notifications: list[Notification]
    ledger: dict[str, Any]
    problems: list[str] = field(default_factory=list)  # ledger entries that could not be read, stray inputs


def evaluate(
    config: Config,
    observations: Sequence[Observation],
    ledger: Mapping[str, Any] | None,
    now: datetime,
    *,
    silences: Sequence[Silence] = (),
) -> Outcome:
    """Decide what to tell, once per crossing (DESIGN §4)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    run = _Run(config, Ledger.load(ledger), now, zone(config.timezone), tuple(silences))
    budgets = {b.name: b for b in config.budgets}
    seen: set[tuple[str, Any]] = set()
    for obs in observations:
        budget = budgets.get(obs.budget)
        if budget is None:
            run.problems.append(f"observation for unknown budget {obs.budget!r} ignored")
            continue
        if (obs.budget, obs.group) in seen:
            run.problems.append(f"second observation for {obs.budget} {group_label(obs.group)!r} ignored")
            continue
        seen.add((obs.budget, obs.group))
        run.observe(budget, obs)
    run.clear_whole_budget_no_data(budgets, observations, seen)
    run.ledger.prune(set(budgets), now)
    return Outcome(run.evaluations, run.notifications, run.ledger.dump(), run.problems)


@dataclass
class _Case:
    """One (budget, group) in this run, and what the rules found for it."""

    budget: Budget
    obs: Observation
    entry: Entry
    silence: Silence | None
    limit: Decimal | None = None
    percent: float | None = None
    forecast: Forecast | None = None
    level: Level | None = None
    firing: list[Kind] = field(default_factory=list)
    resolved: list[Kind] = field(default_factory=list)
    silenced: bool = False

    @property
    def label(self) -> str:
        return group_label(self.obs.group)


class _Run:
    def __init__(self, config: Config, ledger: Ledger, now: datetime, tz: tzinfo, silences: tuple[Silence, ...]):
        self.config = config
        self.ledger = ledger
        self.now = now
        self.tz = tz
        self.silences = silences
        self.problems: list[str] = list(ledger.problems)
        self.evaluations: list[Evaluation] = []
        self.notifications: list[Notification] = []

    # -- one observation ---------------------------------------------------------------------------

    def observe(self, budget: Budget, obs: Observation) -> None:
        entry = self.ledger.entry(budget.name, obs.group)
        case = _Case(budget, obs, entry, holding(self.silences, budget.name, obs.group, self.now))
        no_data = nodata.record(entry, obs, budget.no_data_after)
        if nodata.failed(obs):
            self._episode(case, "no-data", no_data, detail={"failures": entry.failures, "error": obs.error})
            status: Status = "no-data" if no_data else "error"
            self._row(case, status, "no-data" if no_data else None, error=obs.error or "no value reported")
            return
        if not obs.ready:
            self._row(case, "ok", None, error="data not ready yet; skipped")
            return
        self._episode(case, "no-data", False, detail={"failures": 0})
        value = obs.value
        assert value is not None  # nodata.failed() covers a ready observation without a value
        entry.enter_period(obs.period)

        limit_error = self._limit(case)
        metric = find_metric(budget.source, budget.metric)
        if case.limit is not None:
            case.percent = round(float(value * 100 / case.limit), 2)
        if metric is None or metric.cumulative:
            case.forecast = project(
                budget.period, obs.period, value, obs.series, now=data_end(obs, self.now), tz=self.tz
            )
        if limit_error is None:
            self._thresholds(case, value)
            self._forecast(case, value)
        if budget.below is not None:
            below = is_below(value, budget.below)
            self._episode(case, "below", below, detail={"below": str(budget.below)})
        if budget.runway is not None:
            # The balances earlier runs recorded (the series store, read back into ``history``) and now.
            runway = estimate(case.obs.history, value, self.now, self.tz, budget.runway)
            if runway.evaluated:  # too few complete days: neither firing nor resolved
                self._episode(case, "runway", runway.firing, detail=runway.detail(budget.runway, self.tz))
        if budget.spike is not None:
            self._spike(case)
        self._summarise(case, limit_error)

    def _limit(self, case: _Case) -> str | None:
        budget = case.budget
        if budget.limit == "plan":
            quota = case.obs.limit
            if quota is None or quota <= 0:
                return "the EdgeOne plan quota for this metric is unknown (DescribePlans gave none)"
            case.limit = quota
        elif isinstance(budget.limit, Decimal):
            case.limit = budget.limit
        return None

    # -- rules -------------------------------------------------------------------------------------

    def _thresholds(self, case: _Case, value: Decimal) -> None:
        entry, budget = case.entry, case.budget
        levels = build_levels(budget.thresholds, budget.absolute, case.limit)
        past = crossed(levels, value)
        if past:
            case.level = past[-1]
            case.firing.append("threshold")
        level = to_tell(levels, value, entry.told)
        if level is None:
            entry.held.pop("threshold", None)
            return
        nid = self._id(case, entry.period_start or "", "threshold", level.key)
        if case.silence is not None:
            entry.held["threshold"] = nid
            case.silenced = True
            return
        was_held = entry.held.pop("threshold", None) == nid
        entry.told.update(lv.key for lv in past)
        lower = [lv.number for lv in past if lv is not level]
        detail = {
            "level_key": level.key,
            "level_kind": level.kind,
            "thresholds": [float(t) for t in budget.thresholds],
            "absolute": [plain(a) for a in budget.absolute],
            "also_crossed": lower,
            "trigger": plain(level.trigger),
        }
        self._emit(case, nid, "threshold", "firing", value, level=level.number, detail=detail, held=was_held)

    def _forecast(self, case: _Case, value: Decimal) -> None:
        entry, budget, limit, fc = case.entry, case.budget, case.limit, case.forecast
        if not budget.forecast or limit is None or fc is None:
            return
        if value >= limit:  # the limit itself is crossed: thresholds speak now, the forecast is moot
            entry.forecast = True
            entry.held.pop("forecast", None)
            return
        if fc.value is None or fc.value < limit:
            entry.held.pop("forecast", None)
            return
        case.firing.append("forecast")
        if entry.forecast:
            return
        nid = self._id(case, entry.period_start or "", "forecast", "firing")
        if case.silence is not None:
            entry.held["forecast"] = nid
            case.silenced = True
            return
        was_held = entry.held.pop("forecast", None) == nid
        entry.forecast = True
        detail = {"forecast": fc.detail(), "thresholds": [float(t) for t in budget.thresholds]}
        self._emit(case, nid, "forecast", "firing", value, detail=detail, held=was_held)

    def _spike(self, case: _Case) -> None:
        spec = case.budget.spike
        assert spec is not None
        # The points before the period (the collector's lookback) give the first buckets of a period,
        # and the previous period's last one, a baseline; the forecast never sees them.
        points = (*case.obs.history, *case.obs.series)
        check: SpikeCheck = check_spike(spec, points, self.now, self.tz)
        if not check.evaluated:  # too little history: neither a spike nor the end of one
            return
        self._episode(case, "spike", check.firing, detail=check.detail(spec), value=check.value)

    def _episode(
        self,
        case: _Case,
        kind: Kind,
        firing: bool,
        *,
        detail: dict[str, Any],
        value: Decimal | None = None,
    ) -> None:
        entry = case.entry
        if not firing and kind not in entry.episodes:
            return
        episode = entry.episode(kind)
        previously_held = episode.held

        def make_id(action: Action) -> str:
            return self._id(case, kind, action.status, action.episode, str(action.ordinal))

        action, held = advance(
            episode,
            firing,
            self.now,
            self.tz,
            repeat=case.budget.repeat,
            held=case.silence is not None,
            make_id=make_id,
        )
        if episode.active:
            case.firing.append(kind)
        case.silenced = case.silenced or held
        if action is None:
            return
        if action.status == "resolved":
            case.resolved.append(kind)
        nid = make_id(action)
        full = {**detail, "since": action.since, "episode": action.episode, "repeat": action.ordinal}
        shown = value if value is not None else case.obs.value
        self._emit(case, nid, kind, action.status, shown, detail=full, held=nid == previously_held)

    # -- output ------------------------------------------------------------------------------------

    def _id(self, case: _Case, *parts: str) -> str:
        return notification_id(case.budget.name, case.label, *parts)

    def _emit(
        self,
        case: _Case,
        nid: str,
        kind: Kind,
        status: str,
        value: Decimal | None,
        *,
        level: float | None = None,
        detail: dict[str, Any],
        held: bool,
    ) -> None:
        budget, obs = case.budget, case.obs
        base: dict[str, Any] = {
            "source": budget.source,
            "metric": budget.metric,
            "period_kind": budget.period,
        }
        if held:
            base["held"] = True  # decided during a silence, told now that it is over
        if obs.data_until is not None:
            base["data_until"] = obs.data_until.isoformat()  # late data: the message says how far it goes
        forecast = case.forecast.value if case.forecast is not None else None
        self.notifications.append(
            Notification(
                id=nid,
                budget=budget.name,
                group=obs.group,
                kind=kind,
                status="resolved" if status == "resolved" else "firing",
                period=obs.period,
                at=self.now,
                value=value,
                unit=obs.unit,
                limit=case.limit if kind != "below" else budget.below,
                percent=case.percent if kind in ("threshold", "forecast") else None,
                forecast=forecast,
                level=level,
                channels=budget.channels,
                breakdown=_top(obs.breakdown),
                detail={**base, **detail},
            )
        )

    def _summarise(self, case: _Case, limit_error: str | None) -> None:
        if limit_error is not None:
            self._row(case, "error", None, error=limit_error)
            return
        firing_kinds: tuple[Kind, ...] = ("threshold", "forecast", "below", "runway", "spike")
        for kind in firing_kinds:
            if kind in case.firing:
                self._row(case, "firing", kind)
                return
        if case.resolved:
            self._row(case, "resolved", case.resolved[0])
            return
        self._row(case, "ok", None)

    def _row(self, case: _Case, status: Status, kind: Kind | None, *, error: str | None = None) -> None:
        budget, obs = case.budget, case.obs
        limit = case.limit if case.limit is not None else budget.below if budget.below is not None else None
        usable = obs.ok
        self.evaluations.append(
            Evaluation(
                budget=budget.name,
                group=obs.group,
                period=obs.period,
                value=obs.value if usable else None,
                unit=obs.unit,
                limit=limit,
                percent=case.percent,
                forecast=case.forecast.value if case.forecast is not None else None,
                level=case.level.number if case.level is not None else None,
                status=status,
                kind=kind,
                silenced=case.silenced,
                error=error,
            )
        )

    # -- whole-budget failures ---------------------------------------------------------------------

    def clear_whole_budget_no_data(
        self, budgets: Mapping[str, Budget], observations: Sequence[Observation], seen: set[tuple[str, Any]]
    ) -> None:
        """A grouped budget whose whole fetch failed has a no-data state at group (); its groups' data clears it.

        A member account's whole fetch (issue 18) stands at ``(("account", uin),)``: that member's groups clear it.
        """
        samples: dict[str, dict[GroupKey, Observation]] = {}  # one pass: budget -> stand-in group -> an ok sample
        for o in observations:
            if o.ok and o.budget in budgets:
                found = samples.setdefault(o.budget, {})
                found.setdefault((), o)
                found.setdefault(tuple(pair for pair in o.group if pair[0] == "account"), o)
        for name, stand_ins in samples.items():
            for whole, sample in stand_ins.items():
                if (name, whole) not in seen:
                    self._clear_stand_in(budgets[name], whole, sample)

    def _clear_stand_in(self, budget: Budget, whole: GroupKey, sample: Observation) -> None:
        entry = self.ledger.find(budget.name, whole)
        if entry is not None:
            name = budget.name
            entry.failures = 0
            stand_in = Observation(budget=name, group=whole, period=sample.period, value=None, unit=sample.unit)
            case = _Case(budget, stand_in, entry, holding(self.silences, name, whole, self.now))
            self._episode(case, "no-data", False, detail={"failures": 0})
            if case.resolved:
                self._row(case, "resolved", "no-data")


def _top(breakdown: tuple[tuple[str, Decimal], ...]) -> tuple[tuple[str, Decimal], ...]:
    return tuple(sorted(breakdown, key=lambda item: (-item[1], item[0]))[:TOP_BREAKDOWN])
