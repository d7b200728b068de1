"""EdgeOne answers to Observations: one fetch's buckets reduced to each budget's value, series and lookback."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from lib.errors import BudgetError, CollectError
from lib.model import Failure, GroupKey, Observation, Point, group_key
from lib.sources import teo_plan
from lib.sources.catalogue import Aggregate
from lib.sources.failures import failed
from lib.sources.metrics import aggregate
from lib.sources.numbers import number
from lib.sources.teo_plan import ALL_ZONES, GROUP_FIELDS, BudgetPlan, Fetch, Plan, Query
from lib.sources.teo_quota import Quotas

if TYPE_CHECKING:
    from lib.config.models import Budget

ACTION = "DescribeBillingData"
Slot = dict[datetime, Decimal]  # one group's values by bucket start (UTC)


@dataclass
class Result:
    """What one Fetch produced: values by group dimensions and bucket start (UTC), or the error it met."""

    fetch: Fetch
    buckets: dict[tuple[str, ...], dict[datetime, Decimal]] = field(default_factory=dict)
    error: BudgetError | None = None

    def add(self, query: Query, data: dict[str, Any]) -> None:
        records = data.get("Data")
        if records is None:  # documented as nullable: no buckets at all
            return
        if not isinstance(records, list):
            raise CollectError(f"{ACTION}: Data is not a list")
        fields = [GROUP_FIELDS[d] for d in self.fetch.group_by]
        single = fields[0] if len(fields) == 1 else None
        day = self.fetch.interval == "day"
        buckets = self.buckets
        # An answer holds thousands of records over a few groups, bucket times and values: each is
        # parsed once per answer (one zone's slot, one datetime per time, one Decimal per integer).
        slots: dict[str, dict[datetime, Decimal]] = {}
        times: dict[Any, datetime] = {}
        values: dict[int, Decimal] = {}
        for record in records:
            try:
                if single is not None:
                    label = record[single]
                    slot = slots.get(label) if type(label) is str else None
                    if slot is None:
                        slot = buckets.setdefault((str(label),), {})
                        if type(label) is str:
                            slots[label] = slot
                else:
                    slot = buckets.setdefault(tuple([str(record[f]) for f in fields]), {})
                raw = record["Time"]
                when = times.get(raw)
                if when is None:
                    when = parse_time(str(raw))
                    if day:
                        when = teo_plan.day_of_bucket(when, query, self.fetch.tz)
                    times[raw] = when
                raw_value = record["Value"]
                if type(raw_value) is int:
                    value = values.get(raw_value)
                    if value is None:
                        value = values[raw_value] = Decimal(raw_value)  # zeros and repeats share one Decimal
                else:
                    value = number(raw_value)
            except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
                raise CollectError(f"{ACTION}: unexpected record {str(record)[:200]}") from exc
            # The same group and bucket twice: zone requests over groups that span zones (no zone-id
            # in group_by). They add up: amounts, and 5-minute bandwidth samples (planned for this).
            old = slot.get(when)
            slot[when] = value if old is None else old + value


def parse_time(text: str) -> datetime:
    """``2023-12-31T16:00:00Z`` (or with an offset) as an aware UTC datetime; Python 3.10 refuses ``Z``."""
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        raise ValueError(f"time without offset: {text}")
    return when.astimezone(timezone.utc)


def _explicit_zones(budget: Budget) -> tuple[str, ...] | None:
    zones = teo_plan.normal_zones(budget.zones)
    return None if zones == ALL_ZONES else zones


_UNSET: Any = object()  # ``zones`` not given to ``observe``: worked out from the budget


def observe(
    bp: BudgetPlan,
    result: Result,
    quotas: Quotas | BudgetError | None,
    tz: tzinfo,
    *,
    steps: dict[datetime, datetime] | None = None,
    layouts: dict[Any, Layout] | None = None,
    within: frozenset[str] | None = None,
    zones: tuple[str, ...] | None = _UNSET,
) -> list[Observation]:
    """The Observations of one budget from its fetch's result (``steps``: a cache for ``series``;
    ``layouts``: a cache of how each set of bucket times reduces, shared by the budgets of one fetch;
    ``within``: the zones of the one answer ``result`` holds, when reduced answer by answer; ``zones``:
    the budget's listed zones, None for ``*``, when the caller has worked them out already)."""
    steps = {} if steps is None else steps
    layouts = {} if layouts is None else layouts
    budget, fetch = bp.budget, result.fetch
    if zones is _UNSET:
        zones = _explicit_zones(budget)
    per_zone = fetch.group_by == ("zone-id",) and zones is not None
    if result.error is not None:
        groups: list[GroupKey] = [group_key({"zone-id": z}) for z in zones] if per_zone and zones else [()]
        return failed(budget.name, groups, bp.period, bp.info.unit, error=result.error, as_of=fetch.end)

    groups_found = _groups(result, zones, per_zone=per_zone, within=within)
    fixed: Decimal | None = budget.limit if isinstance(budget.limit, Decimal) else None
    how = "sum" if bp.info.additive else bp.aggregate
    out: list[Observation] = []
    for key in sorted(groups_found):
        slot = groups_found[key]
        limit, error = fixed, None
        if budget.limit == "plan":
            limit, error = _plan_limit(bp, key, zones, quotas)
        if error is not None:
            failure = Failure.of(error)
            out.append(Observation(budget.name, key, bp.period, None, bp.info.unit, failure=failure, as_of=fetch.end))
            continue
        shape = (bp.step, bp.period.start, bp.since, tuple(slot))
        layout = layouts.get(shape)
        if layout is None:
            layout = layouts[shape] = Layout.of(slot, bp, tz, steps)
        # A request reaching back for a spike baseline also answers buckets before the period: the
        # value and the series are the period's own buckets only, exactly as without the lookback.
        value = aggregate(bp.aggregate, [slot[t] for t in layout.period])
        points = layout.points(slot, how)
        out.append(
            Observation(
                budget=budget.name,
                group=key,
                period=bp.period,
                value=value,
                unit=bp.info.unit,
                series=points[layout.first :],
                limit=limit,
                as_of=fetch.end,
                history=points[layout.since : layout.first],
            )
        )
    return out


def _groups(
    result: Result, zones: tuple[str, ...] | None, *, per_zone: bool, within: frozenset[str] | None
) -> dict[GroupKey, Slot]:
    """The fetch's slots by group key, without the zones of other budgets sharing the requests."""
    group_by = result.fetch.group_by
    found: dict[GroupKey, Slot] = {}
    if len(group_by) == 1:
        # One dimension: its group key is that one pair (what group_key makes of it, without the sort).
        dim = group_by[0]
        wanted = set(zones) if zones is not None and dim == "zone-id" else None
        for (label,), slot in result.buckets.items():
            if wanted is not None and label not in wanted:
                continue  # another budget's zone in a shared request
            found[((dim, label),)] = slot
    else:
        wanted = set(zones) if zones is not None else None
        for dims, slot in result.buckets.items():
            labels = dict(zip(group_by, dims, strict=True))
            if wanted is not None and "zone-id" in labels and labels["zone-id"] not in wanted:
                continue  # another budget's zone in a shared request
            found[group_key(labels)] = slot
    if not group_by:
        found.setdefault((), {})
    if per_zone and zones:
        for zone_id in zones:  # asked for and answered: a zone without records used nothing
            if within is None or zone_id in within:
                found.setdefault((("zone-id", zone_id),), {})
    return found


@dataclass(frozen=True)
class Layout:
    """How a slot with these bucket times reduces to a value and a series, worked out once per fetch.

    The groups of one answer almost always have the same bucket times, so sorting them, mapping
    buckets to series steps and finding the period's and the lookback's points is done once, not per group.
    """

    period: tuple[datetime, ...]  # the bucket times of the period itself, sorted
    steps: tuple[datetime, ...]  # every series step, sorted
    members: tuple[tuple[datetime, ...], ...]  # the bucket times of each step, sorted
    flat: tuple[datetime, ...] | None  # every bucket time when each step has exactly one
    first: int  # index of the first step in the period
    since: int  # index of the first step of the lookback (``first`` without one)
    # Series already built, by the identities of their values (kept alive here, so an identity is
    # never reused): an answer parses each distinct number once, so idle zones share one series.
    built: dict[tuple[int, ...], tuple[tuple[Decimal, ...], tuple[Point, ...]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def of(cls, slot: dict[datetime, Decimal], bp: BudgetPlan, tz: tzinfo, steps: dict[datetime, datetime]) -> Layout:
        start = bp.period.start
        ordered = sorted(slot)
        grouped: dict[datetime, list[datetime]] = {}
        last: datetime | None = None
        for when in ordered:
            step = steps.get(when)
            if step is None:
                if last is None:
                    last = _last_step(bp, tz)
                step = steps[when] = min(teo_plan.floor_step(when, bp.step, tz), last)
            grouped.setdefault(step, []).append(when)
        order = sorted(grouped)
        members = tuple(tuple(grouped[s]) for s in order)
        flat = tuple(m[0] for m in members) if all(len(m) == 1 for m in members) else None
        first = bisect.bisect_left(order, start)
        since = first if bp.since is None else bisect.bisect_left(order, bp.since)
        period = tuple(t for t in ordered if t >= start)
        return cls(period, tuple(order), members, flat, first, min(since, first))

    def points(self, slot: dict[datetime, Decimal], how: Aggregate) -> tuple[Point, ...]:
        if self.flat is not None:  # one bucket per step: the aggregate of one value is that value
            values = tuple([slot[t] for t in self.flat])
            key = tuple(map(id, values))
            found = self.built.get(key)
            if found is None:
                found = self.built[key] = (values, tuple(map(Point, self.steps, values)))
            return found[1]
        return tuple(
            Point(step, aggregate(how, [slot[t] for t in times]))
            for step, times in zip(self.steps, self.members, strict=True)
        )


def _last_step(bp: BudgetPlan, tz: tzinfo) -> datetime:
    # A day bucket asked in the offset the month started with can begin after the month's last local
    # midnight (the last hour of a month that ended daylight saving): it counts in that last day.
    return teo_plan.floor_step(bp.period.end - timedelta(seconds=1), bp.step, tz)


def _plan_limit(
    bp: BudgetPlan, key: GroupKey, zones: tuple[str, ...] | None, quotas: Quotas | BudgetError | None
) -> tuple[Decimal | None, BudgetError | None]:
    if quotas is None:
        return None, CollectError("limit: plan: plans were not fetched")
    if isinstance(quotas, BudgetError):
        return None, quotas
    labels = dict(key)
    scope = [labels["zone-id"]] if "zone-id" in labels else zones
    try:
        return quotas.limit(bp.info.name, bp.info.plan_quota, scope), None
    except CollectError as exc:
        return None, exc


def partitioned(fetch: Fetch) -> bool:
    """True when every group of ``fetch`` comes from one answer: grouped by zone, in a single window
    (answers over other zones, and the halves of a split request, never add to the same group)."""
    return "zone-id" in fetch.group_by and len({(q.start, q.end) for q in fetch.queries}) == 1


class Reduction:
    """A plan's answers reduced to each budget's Observations while other requests are still in flight.

    A partitioned fetch (``partitioned``) is reduced answer by answer, so little is left to do when
    its last answer arrives; any other fetch when all its answers are in. A fetch that failed is
    reduced to its budgets' failures, whatever its earlier answers held.
    """

    def __init__(self, plan: Plan, tz: tzinfo, quota: Callable[[], Quotas | BudgetError | None]) -> None:
        self.plan, self.tz, self.quota = plan, tz, quota
        self.members: dict[int, list[int]] = {}
        for i, bp in enumerate(plan.budgets):
            self.members.setdefault(bp.fetch, []).append(i)
        self.split = [partitioned(f) for f in plan.fetches]
        self.found: list[list[Observation]] = [[] for _ in plan.budgets]
        self._steps: list[dict[str, dict[datetime, datetime]]] = [{} for _ in plan.fetches]
        self._layouts: list[dict[Any, Layout]] = [{} for _ in plan.fetches]
        # Each budget's listed zones, sorted once (None: "*"), and for a fetch reduced answer by answer,
        # which of its budgets list each zone: an answer over 100 zones concerns one budget of ten,
        # and the others need not look through its groups.
        self._zones = [_explicit_zones(bp.budget) for bp in plan.budgets]
        self._listing: dict[int, dict[str, list[int]]] = {}
        for index, members in self.members.items():
            if self.split[index]:
                listing = self._listing[index] = {}
                for i in members:
                    for zone in self._zones[i] or ():
                        listing.setdefault(zone, []).append(i)

    def answer(self, index: int, query: Query, data: dict[str, Any]) -> bool:
        """Reduce one answer of fetch ``index`` now; False when it must be folded into the fetch's result."""
        if not self.split[index]:
            return False
        piece = Result(self.plan.fetches[index])
        piece.add(query, data)
        within = frozenset(query.zones)
        for i in self._concerned(index, query):
            self.found[i].extend(self._observe(i, piece, within))
        return True

    def _concerned(self, index: int, query: Query) -> list[int]:
        """The budgets of fetch ``index`` an answer to ``query`` can hold groups of, in plan order: those
        listing one of its zones, and every ``*`` budget (its answer names the zones)."""
        if query.zones == ALL_ZONES:
            return self.members[index]
        listing = self._listing[index]
        found = {i for zone in query.zones for i in listing.get(zone, ())}
        return [i for i in self.members[index] if i in found or self._zones[i] is None]

    def done(self, index: int, result: Result) -> None:
        """Fetch ``index`` has all its answers (or failed): its budgets' Observations, in group order."""
        for i in self.members[index]:
            if result.error is None and self.split[index]:
                self.found[i].sort(key=_group_of)
            else:
                self.found[i] = self._observe(i, result, None)
        result.buckets = {}  # the observations hold what is needed: free the rest now

    def observations(self) -> list[Observation]:
        return [obs for group in self.found for obs in group]

    def _observe(self, i: int, result: Result, within: frozenset[str] | None) -> list[Observation]:
        bp = self.plan.budgets[i]
        steps = self._steps[bp.fetch].setdefault(bp.step, {})
        layouts = self._layouts[bp.fetch]
        return observe(
            bp, result, self.quota(), self.tz, steps=steps, layouts=layouts, within=within, zones=self._zones[i]
        )


def _group_of(obs: Observation) -> GroupKey:
    return obs.group
