"""``RunResult``: one check run's outcome, typed; ``to_dict()`` is the result document (DESIGN §3.4).

The timer returns it, ``check --json`` prints it, ``POST /check`` answers with it and the run history
stores it; all of them go through ``to_dict()``, so the document has one shape wherever it appears.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lib.deliveries import DeliveryReport
    from lib.model import Evaluation


@dataclass(frozen=True)
class RunError:
    """Something that did not work in this run: which part (``source``), what, and for which budget."""

    source: str  # config | state | collect | rules | run | …
    message: str
    budget: str | None = None

    def to_dict(self) -> dict[str, str]:
        out = {"source": self.source}
        if self.budget is not None:
            out["budget"] = self.budget
        out["message"] = self.message
        return out


@dataclass(frozen=True)
class Skipped:
    """A budget this run did not evaluate, and why (e.g. billing in a backtest)."""

    budget: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"budget": self.budget, "reason": self.reason}


# A delivery outcome that means the run finished with something not delivered (exit status 1).
UNDELIVERED = frozenset({"retry", "failed", "rejected"})


@dataclass(frozen=True)
class RunResult:
    """A finished (or failed-to-start: ``run_id`` None) run."""

    run_id: str | None
    at: str  # ISO 8601 in the configuration's time zone (UTC when the run could not load it)
    trigger: str
    dry_run: bool
    evaluations: Sequence[Evaluation] = ()
    notifications: Sequence[DeliveryReport] = ()
    skipped: Sequence[Skipped] = ()
    errors: Sequence[RunError] = ()
    actions: Sequence[Mapping[str, Any]] = field(default=())  # budget actions (DESIGN §3.4); none yet
    shards: Sequence[Mapping[str, Any]] = ()  # issue 18: the shards a fan-out coordinator started

    @property
    def failed(self) -> bool:
        """True when the run finished but something did not go through (exit status 1)."""
        return bool(self.errors) or any(d["outcome"] in UNDELIVERED for d in self.notifications)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "at": self.at,
            "trigger": self.trigger,
            "dry_run": self.dry_run,
            "evaluations": [e.to_dict() for e in self.evaluations],
            "skipped": [s.to_dict() for s in self.skipped],
            "notifications": [dict(d) for d in self.notifications],
            "actions": [dict(a) for a in self.actions],
            "errors": [e.to_dict() for e in self.errors],
            **({"shards": [dict(s) for s in self.shards]} if self.shards else {}),
        }


def failed_to_start(message: str, *, at: str, trigger: str) -> RunResult:
    """The result of a run that could not start or finish (its one error says why)."""
    return RunResult(run_id=None, at=at, trigger=trigger, dry_run=False, errors=(RunError("run", message),))
