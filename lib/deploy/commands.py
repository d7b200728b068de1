"""``python -m lib deploy`` and ``undeploy``: observe SCF, plan, print the plan, apply it, print the URL.

A run that finds everything as wanted makes no mutating call; ``--dry-run`` never makes one. The code
package is built from this checkout (or taken from ``BUDGET_DEPLOY_PACKAGE``, a zip or folder built
beforehand, e.g. by ``make package``), and its digest, kept in each function's description, decides
whether code is uploaded at all.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from lib.client import ApiClient
from lib.deploy.environment import check_no_credentials, function_environment
from lib.deploy.package import build, code_digest, compile_package, find_interpreter, with_config, zip_bytes
from lib.deploy.plan import Change, Observed, mutating, plan_deploy, plan_undeploy
from lib.deploy.scf import Scf
from lib.deploy.spec import ASYNC_RETRY, Target, check_role, desired_functions, desired_triggers
from lib.deploy.upload import CodeLocation, place_code
from lib.errors import ConfigError
from lib.settings import Settings

log = logging.getLogger("lib.deploy")
PACKAGE_VARIABLE = "BUDGET_DEPLOY_PACKAGE"  # deployer-side only: never part of a function's environment
Printer = Callable[[str], None]


def target_from(args: argparse.Namespace, environ: Mapping[str, str]) -> Target:
    region = getattr(args, "region", None) or environ.get("TENCENTCLOUD_REGION") or "ap-guangzhou"
    return Target(region=region, namespace=args.namespace or "default", stage=args.stage or "prod")


def package_archive(environ: Mapping[str, str], config_text: str | None) -> bytes:
    """The code zip: ``BUDGET_DEPLOY_PACKAGE`` if set, else built now for SCF's Python 3.10."""
    prebuilt = Settings.from_environ(environ).deploy_package
    if prebuilt:
        path = Path(prebuilt)
        if path.is_dir():
            archive = zip_bytes(path)
        elif path.is_file():
            archive = path.read_bytes()
        else:
            raise ConfigError(f"{prebuilt!r} is neither a package folder nor a zip", field=PACKAGE_VARIABLE)
        return with_config(archive, config_text) if config_text is not None else archive
    with tempfile.TemporaryDirectory(prefix="budget-deploy-") as tmp:
        folder = build(Path(tmp) / "package", "3.10", config_text=config_text)
        interpreter = find_interpreter("3.10")
        if interpreter:
            compile_package(folder, interpreter)
        return zip_bytes(folder)


def observe(scf: Scf, names: Sequence[str], *, invoke_config_of: str | None = None) -> Observed:
    functions = {name: scf.get_function(name) for name in names}
    triggers = {name: scf.list_triggers(name) for name, state in functions.items() if state is not None}
    configs: dict[str, Mapping[str, Any] | None] = {}
    if invoke_config_of and functions.get(invoke_config_of) is not None:
        configs[invoke_config_of] = scf.get_invoke_config(invoke_config_of)
    return Observed(functions, triggers, configs)


def function_url(triggers: Sequence[Mapping[str, Any]]) -> str | None:
    """The Function URL from an ``http`` trigger's ``TriggerDesc`` (the key that holds an http(s) URL)."""
    for trigger in triggers:
        if trigger.get("Type") != "http":
            continue
        try:
            desc = json.loads(str(trigger.get("TriggerDesc") or "{}"))
        except ValueError:
            continue
        if not isinstance(desc, dict):
            continue
        for key, value in desc.items():
            if key.lower().endswith("url") and isinstance(value, str) and value.startswith(("http://", "https://")):
                return value
    return None


class Deployer:
    """One deploy or undeploy run: everything from outside (client, printing, sleeping) is passed in."""

    def __init__(
        self,
        target: Target,
        client: ApiClient,
        environ: Mapping[str, str],
        *,
        echo: Printer = print,
        sleep: Callable[[float], None] = time.sleep,
        poll: float = 1.0,
    ) -> None:
        self.target = target
        self.client = client
        self.environ = environ
        self.echo = echo
        self.scf = Scf(client, target.region, target.namespace, sleep=sleep, poll=poll)

    def _show(self, title: str, changes: Sequence[Change]) -> None:
        self.echo(title)
        for change in changes:
            self.echo(change.line())

    def deploy(self, *, role: str | None, code_bucket: str | None, dry_run: bool) -> int:
        target = self.target
        env = function_environment(self.environ)  # every configuration problem before any call
        check_no_credentials(env.variables)
        for warning in env.warnings:
            self.echo(f"warning: {warning}")
        archive = package_archive(self.environ, env.config_text)
        digest = code_digest(archive)
        self.echo(f"package: {len(archive) / 1e6:.1f} MB zipped, code sha256 {digest[:12]}")
        functions = desired_functions(target, code_sha256=digest, environment=env.variables, role=role)
        triggers = desired_triggers(target)
        observed = observe(self.scf, target.functions, invoke_config_of=target.timer_function)
        changes = plan_deploy(functions, triggers, (target.timer_function, ASYNC_RETRY), observed, target.namespace)
        where = f"{target.region}/{target.namespace}, stage {target.stage}"
        self._show(f"plan for {where} (environment values are not shown):", changes)
        if not role and any(r.action == "CreateFunction" for r in mutating(changes)):
            self.echo("warning: no --role: new functions get no credentials (docs/deployment.md, execution role)")
        if dry_run:
            self.echo(f"dry run: {len(mutating(changes))} call(s) would be made; nothing was changed")
            return 0
        responses = self._apply(changes, archive, digest, code_bucket)
        url = function_url(responses) or function_url(self.scf.list_triggers(target.api_function))
        self.echo(f"timer: {target.timer_function} ({triggers[0].desc})")
        if url:
            self.echo(f"url: {url}")
        else:
            self.echo(f"url: not reported by SCF; see the Function URL of {target.api_function} in the console")
        if url and Settings.from_environ(self.environ).public_url is None:
            self.echo(f"hint: set BUDGET_PUBLIC_URL={url} and deploy again to put links in messages")
        return 0

    def _apply(self, changes: Sequence[Change], archive: bytes, digest: str, code_bucket: str | None) -> list[Any]:
        """Run every request in order, waiting for Active where a request changed a function."""
        location: CodeLocation | None = None
        triggers: list[Any] = []
        for request in mutating(changes):
            params = dict(request.params)
            if request.code:
                if location is None:
                    location = place_code(
                        archive,
                        digest,
                        stage=self.target.stage,
                        region=self.target.region,
                        code_bucket=code_bucket,
                        client=self.client,
                        environ=self.environ,
                    )
                    self.echo(f"code: {location.describe()}")
                extra = location.for_create() if request.action == "CreateFunction" else location.for_update()
                params.update(extra)
            self.echo(f"{request.action} {params.get('FunctionName')} {params.get('TriggerName') or ''}".rstrip())
            answer = self.scf.call(request.action, params)
            if isinstance(answer.get("TriggerInfo"), dict):
                triggers.append(answer["TriggerInfo"])
            if request.wait:
                if request.action == "DeleteFunction":
                    self.scf.wait_gone(request.wait)
                else:
                    self.scf.wait_active(request.wait)
        return triggers

    def undeploy(self) -> int:
        target = self.target
        names = [t.name for t in desired_triggers(target)]
        observed = observe(self.scf, target.functions)
        changes = plan_undeploy(target.functions, names, observed, target.namespace)
        self._show(f"removing stage {target.stage} from {target.region}/{target.namespace}:", changes)
        self._apply(changes, b"", "", None)
        self.echo("undeploy: done")
        return 0


def _deployer(args: argparse.Namespace) -> Deployer:
    environ = dict(os.environ)
    target = target_from(args, environ)
    client = ApiClient.from_env(environ)
    return Deployer(target, client, environ)


def deploy(args: argparse.Namespace) -> int:
    deployer = _deployer(args)
    try:
        return deployer.deploy(role=check_role(args.role), code_bucket=args.code_bucket, dry_run=args.dry_run)
    finally:
        deployer.client.close()


def undeploy(args: argparse.Namespace) -> int:
    deployer = _deployer(args)
    try:
        return deployer.undeploy()
    finally:
        deployer.client.close()
