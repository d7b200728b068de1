"""``App``: everything a run needs, built once from the environment (DESIGN §3.2) and reused warm."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from typing import TYPE_CHECKING, Any

from lib.periods import zone
from lib.settings import Settings

if TYPE_CHECKING:
    import requests

    from lib.app.result import RunResult
    from lib.client import ApiClient
    from lib.config.models import Config
    from lib.state.repo import StateRepository
    from lib.state.store import ObjectStore


def _wall_now() -> datetime:
    return datetime.fromtimestamp(time.time(), timezone.utc)


@dataclass
class App:
    """Config, state, API client and HTTP session for one function instance; ``now`` is injectable."""

    config: Config
    store: ObjectStore
    repo: StateRepository
    client: ApiClient
    session: requests.Session
    settings: Settings = field(default_factory=Settings)  # the BUDGET_* variables, read once
    clock: Callable[[], datetime] = _wall_now
    environ: Mapping[str, str] = field(default_factory=dict)
    config_source: str | None = None  # where ``reload_config`` reads from; None: the configuration was given
    config_problems: list[str] = field(default_factory=list)  # reported in the next run's errors
    _config_text: str | None = field(default=None, repr=False)  # the text ``config`` was last parsed from

    def reload_config(self) -> bool:
        """Read the configuration again, so an edited ``budgets.yaml`` (file or COS) applies on the next tick.

        A warm SCF instance lives for hours; without this, edits would wait for a new instance. A broken
        edit never stops the alerts: the previous configuration stays in force and the run reports why.
        Returns True when the configuration changed.
        """
        from lib.config.loader import parse_config, read_config_text
        from lib.errors import ConfigError

        if self.config_source is None:
            return False
        try:
            text = read_config_text(self.config_source, environ=self.environ)
            if text == self._config_text:
                return False  # unchanged: an API instance re-reads on every request, so skip the parse
            fresh = parse_config(text, environ=self.environ, source=self.config_source)
        except ConfigError as exc:
            self.config_problems.append(f"configuration not reloaded, the previous one stays in force: {exc}")
            return False
        self._config_text = text
        if fresh == self.config:
            return False
        self.config = fresh
        return True

    @property
    def tz(self) -> tzinfo:
        return zone(self.config.timezone)

    def now(self) -> datetime:
        return self.clock()

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        config_source: str | None = None,
        clock: Callable[[], datetime] | None = None,
        **overrides: Any,
    ) -> App:
        """Build from ``BUDGET_*`` variables; keyword overrides replace any part (tests, the demo)."""
        import requests

        from lib.client import ApiClient
        from lib.config.loader import load_config
        from lib.state import open_store
        from lib.state.repo import StateRepository

        env = dict(os.environ if environ is None else environ)
        settings = Settings.from_environ(env)
        given = overrides.pop("config", None)
        source = None if given is not None else (config_source or settings.config)
        config = given or load_config(source, environ=env)
        store = overrides.pop("store", None) or open_store(settings.state, environ=env)
        repo = overrides.pop("repo", None) or StateRepository(store)
        client = overrides.pop("client", None) or ApiClient(
            None, environ=env, site=settings.site, endpoint=settings.api_endpoint
        )
        session = overrides.pop("session", None) or requests.Session()
        if overrides:
            raise TypeError(f"unknown App parts: {', '.join(sorted(overrides))}")
        return cls(
            settings=settings,
            config=config,
            store=store,
            repo=repo,
            client=client,
            session=session,
            clock=clock or _wall_now,
            environ=env,
            config_source=source,
        )

    def run_check(self, *, at: datetime | None = None, dry_run: bool = False, trigger: str = "cli") -> RunResult:
        """One evaluation run: collect → evaluate → claim → notify → record. Returns the result document."""
        from lib.app.pipeline import run_check

        return run_check(self, at=at, dry_run=dry_run, trigger=trigger)
