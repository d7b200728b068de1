"""Start-up: which modules a run loads, and the collector paused while the run's modules import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from lib.sources import CATALOGUES, SOURCES

ROOT = Path(__file__).resolve().parents[2]

# A run whose budgets are all EdgeOne's: validated, checked, planned and collected in a fresh process.
TEO_ONLY_RUN = r"""
import json, sys
from datetime import datetime, timezone
from lib.config.loader import parse_config
from lib.sources import collect

class Caller:
    def call(self, service, version, action, params=None, region=None):
        return {"Data": [], "RequestId": "r"}

config = parse_config(
    'timezone: Asia/Shanghai\nchannels: {ops: {type: wecom, url: "https://qyapi.weixin.qq.com/x"}}\n'
    "budgets:\n  - {name: flux, source: teo, metric: acc_flux, zones: [zone-1], limit: 1 TB, channels: [ops]}\n",
    environ={},
)
found = collect(config, Caller(), datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc))
print(json.dumps({"budgets": sorted({o.budget for o in found}), "modules": sorted(sys.modules)}))
"""


def _run(code: str, **environ: str) -> Any:
    """What ``code``, run in a fresh interpreter (``environ`` added to ours), printed as JSON on its last line."""
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"} | environ
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_run_without_cdn_or_billing_budgets_never_imports_their_modules() -> None:
    loaded = _run(TEO_ONLY_RUN)
    assert loaded["budgets"] == ["flux"]
    modules = loaded["modules"]
    assert "lib.sources.teo_source" in modules
    for name in ("lib.sources.cdn", "lib.sources.cdn_source", "lib.sources.cdn_plan", "lib.sources.billing"):
        assert name not in modules, name


def test_reading_an_entry_of_the_registry_imports_that_source_only() -> None:
    code = (
        "import json, sys\nfrom lib.sources import SOURCES\nnames = list(SOURCES)\nsource = SOURCES['cdn']\n"
        "print(json.dumps({'names': names, 'name': source.name, 'modules': sorted(sys.modules)}))"
    )
    loaded = _run(code)
    assert loaded["names"] == ["teo", "cdn", "billing"] and loaded["name"] == "cdn"
    modules = loaded["modules"]
    assert "lib.sources.cdn_source" in modules and "lib.sources.billing" not in modules


def test_each_plugin_carries_the_catalogue_configuration_reads() -> None:
    assert list(CATALOGUES) == list(SOURCES)
    for name, source in SOURCES.items():
        assert source.metrics is CATALOGUES[name], name


def test_the_collector_is_paused_while_importing_then_back_on_with_the_imports_frozen() -> None:
    code = r"""
import gc, json
from lib.startup import collector_paused, load_run_modules
seen = []
with collector_paused():
    seen.append(gc.isenabled())
after = [gc.isenabled(), gc.get_freeze_count()]
gc.unfreeze()
load_run_modules()
frozen = gc.get_freeze_count()
gc.unfreeze()
load_run_modules()  # loaded already: nothing frozen again
again = gc.get_freeze_count()
gc.disable()
try:
    with collector_paused():
        raise KeyError("inside")
except KeyError:
    pass
print(json.dumps({"inside": seen[0], "after": after, "frozen": frozen, "again": again, "off": gc.isenabled()}))
"""
    loaded = _run(code)
    assert loaded["inside"] is False
    assert loaded["after"][0] is True
    assert isinstance(loaded["frozen"], int) and loaded["frozen"] > 10_000  # pydantic, requests, the models
    assert loaded["again"] == 0
    assert loaded["off"] is False  # off before the block: left off, even when the block raised


def test_python_m_lib_loads_the_run_modules_only_for_a_run() -> None:
    code = r"""
import json, runpy, sys
import lib.startup
calls = []
lib.startup.load_run_modules = lambda: calls.append(1)
for argv in (["lib", "check", "--help"], ["lib", "schema", "--help"]):
    sys.argv = argv
    try:
        runpy.run_module("lib", run_name="__main__")
    except SystemExit:
        pass
    calls.append(argv[1])
print(json.dumps(calls))
"""
    assert _run(code) == [1, "check", "schema"]


def test_pydantic_looks_for_no_plugins_unless_told_otherwise() -> None:
    code = (
        "import json, os\nfrom lib.startup import load_run_modules\nload_run_modules()\n"
        "print(json.dumps(os.environ.get('PYDANTIC_DISABLE_PLUGINS')))"
    )
    assert _run(code) == "__all__"
    assert _run(code, PYDANTIC_DISABLE_PLUGINS="") == ""  # an operator's own setting stays
