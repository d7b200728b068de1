"""SCF (scf 2018-04-16) in the sandbox: functions, timer triggers, Function URLs, invocations.

Actions: CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration, GetFunction, DeleteFunction,
CreateTrigger, ListTriggers, UpdateTrigger, DeleteTrigger, Get/UpdateFunctionEventInvokeConfig, Invoke.
Their parameters (names and types) come from tccli's own ``scf/v20180416/api.json``, so an unknown or
mistyped parameter is refused as the real API refuses it. Rules the API documents, and their error codes
(from the SDK's ``errorcodes.py``):

- FunctionName: 2-60 letters, digits, ``-`` and ``_``, starts with a letter, ends with neither ``-`` nor
  ``_`` (``InvalidParameterValue.FunctionName``); a second one in the namespace is
  ``ResourceInUse.Function``; a missing one ``ResourceNotFound.Function``.
- Runtime (default Python2.7): the documented list, Python2.7/3.6/3.7/3.9/3.10, no 3.11+
  (``InvalidParameterValue.Runtime``); only Python functions can run here, all of them with the
  sandbox's own interpreter (a Python3.10 function runs on whatever Python runs the sandbox).
- MemorySize (default 128): 64, or 128 to 3072 in steps of 128 (``InvalidParameterValue.MemorySize``).
  Timeout (default 3): 1-900 s (``LimitExceeded.Timeout``).
- Environment: non-empty Key and Value (``InvalidParameterValue.Environment``), at most 4 KB in all
  (``…EnvironmentExceededLimit``), none of the variables SCF sets itself (``…EnvironmentSystemProtect``).
- Code: exactly one of ``ZipFile`` (base64 zip, at most 50 MB, 20 MB for UpdateFunctionCode's top-level
  ZipFile; the API's 10 MB request limit comes first in practice) or COS (``CosBucketName`` WITHOUT the
  ``-appid`` suffix, ``CosObjectName`` starting with ``/``, ``CosBucketRegion``) read from this sandbox's
  own COS (bucket ``<CosBucketName>-<app_id>``; the region is not checked). No code is
  ``MissingParameter.Code``; a bad zip ``InvalidParameterValue.ZipFile``; a missing object
  ``ResourceNotFound.CosObject``. Each code version is unpacked into a temporary directory of its own.
- Status: ``Creating`` after CreateFunction and ``Updating`` after a code or configuration update, then
  ``Active`` once ``settle`` seconds (0.2) have passed or one GetFunction has shown the transitional
  state. While not Active, updates, triggers and Invoke are refused (``FailedOperation.UpdateFunctionCode``,
  ``FailedOperation.UpdateFunctionConfiguration``, ``FailedOperation.FunctionStatusError``): a deployer
  must wait for Active.
- Triggers: ``timer`` (TriggerDesc a cron of 7 fields, second minute hour day month week year, or 5;
  ``InvalidParameterValue.TriggerCronConfig``) and ``http`` (a Function URL: TriggerDesc JSON
  ``{"AuthType": "NONE"|"CAM", "NetConfig": {"EnableIntranet", "EnableExtranet"}, "CorsConfig"?}``;
  ``InvalidParameterValue.TriggerDesc``; one per function and qualifier). Other types are
  ``UnsupportedOperation.Trigger`` here. A duplicate name is ``ResourceInUse.Trigger``, a missing one
  ``ResourceNotFound.Trigger``.
- Invoke: ``RequestResponse`` (default) runs the handler and answers its result (a handler error is a
  successful call whose ``Result.InvokeResult`` is -1 and ``ErrMsg`` says why); ``Event`` queues it on a
  background thread, each attempt a process of its own (retried ``RetryNum`` times at once on an error
  or a killed process: the sandbox compresses SCF's one-minute retry delay to nothing).
  ``InvalidParameterValue.InvokeType``, ``InvalidParameterValue.ClientContext`` (not JSON; over 6 MB
  sync or 128 KB async).
- Namespaces: any name is accepted (there is no CreateNamespace here).

Where the Function URL's address lives in the real API's answer is not documented: here it is the
``Url`` key of the http trigger's ``TriggerDesc`` (next to the real ``AuthType``/``NetConfig``). Each
Function URL is served on its own 127.0.0.1 port (``sandbox.function_url``). The control endpoint
``POST /_sandbox/scf/fire?function=NAME&namespace=NS[&trigger=TRIGGER]`` fires a timer trigger now.
"""

from __future__ import annotations

import base64
import binascii
import importlib.util
import json
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl

from sandbox.api3 import JSON, Action, ApiFailure, Context, Product, Reply, Schema
from sandbox.function_url import FunctionUrl
from sandbox.scf_runtime import CodeError, Outcome, Running, environment, run_handler, unpack
from sandbox.verify import Credential

VERSION = "2018-04-16"
RUNTIMES = (
    "Python2.7", "Python3.6", "Python3.7", "Python3.9", "Python3.10",
    "Nodejs6.10", "Nodejs8.9", "Nodejs10.15", "Nodejs12.16", "Nodejs14.18", "Nodejs16.13", "Nodejs18.15",
    "Php5.6", "Php7", "Php7.4", "Php8.0", "Go1", "Java8", "CustomRuntime",
)  # fmt: skip
MEMORY_SIZES = (64, *range(128, 3072 + 1, 128))
MAX_TIMEOUT = 900
ZIP_LIMIT = 50 * 1024 * 1024
UPDATE_ZIP_LIMIT = 20 * 1024 * 1024
ENV_LIMIT = 4 * 1024
SYNC_CONTEXT_LIMIT = 6 * 1024 * 1024
ASYNC_CONTEXT_LIMIT = 128 * 1024
QUALIFIERS = ("$LATEST", "$DEFAULT")
# Variables SCF sets in every instance; a function's own Environment may not name them.
PROTECTED = re.compile(r"^(SCF_[A-Z_]+|TENCENTCLOUD_(SECRETID|SECRETKEY|SESSIONTOKEN|RUNENV))$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$")
_HANDLER_PART = re.compile(r"^[A-Za-z](?:[A-Za-z0-9_-]{0,58}[A-Za-z0-9])?$")
_TRIGGER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{0,48}[a-z0-9]$|^[a-z0-9]$")
_APPID_SUFFIX = re.compile(r"-\d{8,}$")
_BEIJING = timezone(timedelta(hours=8))
_CRON_FIELDS = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 6), (1970, 2099))
_CRON_NAMES = {4: "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC", 5: "SUN MON TUE WED THU FRI SAT"}
_CRON_TOKEN = re.compile(r"^(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?$")


class CosReader(Protocol):
    def objects(self, bucket: str) -> dict[str, bytes]: ...


# --- parameters from tccli's api.json --------------------------------------------------------------


def _schemas(actions: list[str]) -> dict[str, dict[str, Schema]]:
    spec = importlib.util.find_spec("tccli")  # a pinned dev dependency; its api.json is the API's own shape data
    if spec is None or spec.origin is None:
        raise RuntimeError("the sandbox's SCF needs tccli (requirements-dev.txt) for its parameter shapes")
    path = Path(spec.origin).parent / "services" / "scf" / "v20180416" / "api.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    objects = doc["objects"]
    scalars: dict[str, type] = {"string": str, "int": int, "int64": int, "uint64": int, "bool": bool}

    def member(kind: str, name: str, depth: int) -> Schema:
        if kind == "list":
            return [scalars[name] if name in scalars else obj(name, depth)]
        if kind == "object":
            return obj(name, depth)
        return scalars[kind]

    def obj(name: str, depth: int) -> dict[str, Schema]:
        if depth > 8:
            raise ValueError(f"api.json nests {name} too deeply")
        return {m["name"]: member(m["type"], m.get("member", ""), depth + 1) for m in objects[name]["members"]}

    return {action: obj(doc["actions"][action]["input"], 0) for action in actions}


# --- state -------------------------------------------------------------------------------------------


@dataclass
class Trigger:
    name: str
    type: str
    desc: str
    qualifier: str
    enable: int
    custom_argument: str
    description: str
    add_time: str
    mod_time: str
    url: FunctionUrl | None = None

    def info(self) -> dict[str, Any]:
        return {
            "Enable": self.enable,
            "Qualifier": self.qualifier,
            "TriggerName": self.name,
            "Type": self.type,
            "TriggerDesc": self.desc,
            "AvailableStatus": "Available",
            "CustomArgument": self.custom_argument,
            "AddTime": self.add_time,
            "ModTime": self.mod_time,
            "ResourceId": "",
            "BindStatus": "",
            "TriggerAttribute": "",
            "Description": self.description,
            "BoundResources": "",
        }


@dataclass
class Function:
    namespace: str
    name: str
    function_id: str
    region: str
    runtime: str
    handler: str
    memory: int
    timeout: int
    description: str
    variables: list[dict[str, str]]
    role: str
    add_time: str
    mod_time: str
    status: str = "Creating"
    changed_at: float = 0.0
    polled: bool = False
    code_dir: Path | None = None
    code_size: int = 0
    retry_num: int = 2
    msg_ttl: int = 21600
    triggers: dict[str, Trigger] = field(default_factory=dict)
    code_dirs: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class AsyncRecord:
    """One finished asynchronous invocation (Invoke Event): the last attempt's outcome."""

    function: str
    namespace: str
    request_id: str
    attempts: int
    outcome: Outcome


class ScfService:
    """The SCF state of one sandbox; ``product()`` is what API 3.0 dispatches to."""

    def __init__(
        self,
        credential: Credential,
        *,
        app_id: int,
        uin: int,
        cos: CosReader | None = None,
        clock: Callable[[], float] = time.time,
        settle: float = 0.2,
        host: str = "127.0.0.1",
    ) -> None:
        self.credential = credential
        self.app_id = app_id
        self.uin = uin
        self.cos = cos
        self.clock = clock
        self.settle = settle
        self.host = host
        self._lock = threading.RLock()
        self._functions: dict[tuple[str, str], Function] = {}
        self._root_dir: Path | None = None  # made on the first upload
        self._threads: list[threading.Thread] = []
        self.async_records: list[AsyncRecord] = []
        self.running_async = Running()  # children of Event invocations now running (tests kill them)

    # -- lifecycle -------------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every Function URL, wait for queued invocations, remove the unpacked code."""
        with self._lock:
            urls = [t.url for f in self._functions.values() for t in f.triggers.values() if t.url is not None]
        for url in urls:
            url.stop()
        self.wait_async(timeout=30)
        if self._root_dir is not None:
            shutil.rmtree(self._root_dir, ignore_errors=True)

    def wait_async(self, timeout: float = 30.0) -> None:
        """Wait until the asynchronous invocations queued so far have finished (tests)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def product(self) -> Product:
        handlers: dict[str, Callable[[dict[str, Any], Context], dict[str, Any]]] = {
            "CreateFunction": self.create_function,
            "UpdateFunctionCode": self.update_function_code,
            "UpdateFunctionConfiguration": self.update_function_configuration,
            "GetFunction": self.get_function,
            "DeleteFunction": self.delete_function,
            "CreateTrigger": self.create_trigger,
            "ListTriggers": self.list_triggers,
            "UpdateTrigger": self.update_trigger,
            "DeleteTrigger": self.delete_trigger,
            "GetFunctionEventInvokeConfig": self.get_event_invoke_config,
            "UpdateFunctionEventInvokeConfig": self.update_event_invoke_config,
            "Invoke": self.invoke,
        }
        schemas = _schemas(list(handlers))
        return Product("scf", VERSION, {name: Action(h, schemas[name]) for name, h in handlers.items()})

    def function(self, name: str, namespace: str = "default") -> Function | None:
        """The function's record as it is now (tests, the control endpoint)."""
        with self._lock:
            found = self._functions.get((namespace, name))
            if found is not None:
                self._settle(found)
            return found

    # -- functions -------------------------------------------------------------------------------------

    def create_function(self, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
        name = _required(params, "FunctionName")
        _check_name(name)
        namespace = params.get("Namespace") or "default"
        runtime = params.get("Runtime") or "Python2.7"
        if runtime not in RUNTIMES:
            raise ApiFailure(
                "InvalidParameterValue.Runtime",
                f"Runtime `{runtime}` is not supported; use one of {', '.join(RUNTIMES)} (no Python 3.11+).",
            )
        function_type = params.get("Type") or "Event"
        if function_type not in ("Event", "HTTP"):
            raise ApiFailure("InvalidParameterValue.FunctionType", "Type must be Event or HTTP.")
        handler = params.get("Handler") or "index.main_handler"
        _check_handler(handler)
        memory = _memory(params.get("MemorySize"), 128)
        timeout = _timeout(params.get("Timeout"), 3)
        variables = _variables(params.get("Environment"))
        code = params.get("Code")
        if not isinstance(code, dict) or not code:
            raise ApiFailure("MissingParameter.Code", "The request is missing `Code` (ZipFile or CosBucketName).")
        data = self._code(code, ZIP_LIMIT, ctx.region)
        now = self._stamp()
        with self._lock:
            if (namespace, name) in self._functions:
                raise ApiFailure("ResourceInUse.Function", f"The function `{name}` already exists in `{namespace}`.")
            record = Function(
                namespace=namespace,
                name=name,
                function_id=f"lam-{uuid.uuid4().hex[:8]}",
                region=ctx.region or "ap-guangzhou",
                runtime=runtime,
                handler=handler,
                memory=memory,
                timeout=timeout,
                description=params.get("Description") or "",
                variables=variables,
                role=params.get("Role") or "",
                add_time=now,
                mod_time=now,
                changed_at=time.monotonic(),
            )
            self._install(record, data)
            self._functions[(namespace, name)] = record
        return {}

    def update_function_code(self, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
        record = self._find(params)
        code = params.get("Code") if isinstance(params.get("Code"), dict) else None
        top = {k: params[k] for k in ("ZipFile", "CosBucketName", "CosObjectName", "CosBucketRegion") if params.get(k)}
        if code and top:
            raise ApiFailure("InvalidParameterValue.Code", "Give the code either in `Code` or at the top level.")
        if not code and not top:
            raise ApiFailure("MissingParameter.Code", "The request is missing the code (ZipFile or CosBucketName).")
        data = self._code(code or top, ZIP_LIMIT if code else UPDATE_ZIP_LIMIT, ctx.region or record.region)
        handler = params.get("Handler")
        if handler:
            _check_handler(handler)
        with self._lock:
            self._require_active(record, "FailedOperation.UpdateFunctionCode")
            if handler:
                record.handler = handler
            self._install(record, data)
            self._changed(record)
        return {}

    def update_function_configuration(self, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
        record = self._find(params)
        runtime = params.get("Runtime")
        if runtime and runtime != record.runtime:
            raise ApiFailure("InvalidParameterValue.Runtime", "Runtime is chosen at creation and cannot be changed.")
        memory = _memory(params.get("MemorySize"), record.memory)
        timeout = _timeout(params.get("Timeout"), record.timeout)
        variables = _variables(params["Environment"]) if params.get("Environment") is not None else None
        with self._lock:
            self._require_active(record, "FailedOperation.UpdateFunctionConfiguration")
            record.memory, record.timeout = memory, timeout
            if variables is not None:
                record.variables = variables
            if params.get("Description") is not None:
                record.description = params["Description"]
            if params.get("Role") is not None:
                record.role = params["Role"]
            self._changed(record)
        return {}

    def get_function(self, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
        if not params.get("FunctionName"):
            raise ApiFailure(
                "InvalidParameter.FunctionNameOrResourceIdRequired", "Give `FunctionName` (or a resource ID)."
            )
        self._qualifier(params.get("Qualifier"))
        record = self._find(params)
        with self._lock:
            self._settle(record)
            if record.status != "Active":
                record.polled = True
            return self._describe(record)

    def delete_function(self, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
        record = self._find(params)
        qualifier = params.get("Qualifier")
        if qualifier and qualifier != "$LATEST":
            raise ApiFailure("ResourceNotFound.Version", f"The version `{qualifier}` does not exist.")
        with self._lock:
            self._functions.pop((record.namespace, record.name), None)
            urls = [t.url for t in record.triggers.values() if t.url is not None]
        for url in urls:
            url.stop()
        for path in record.code_dirs:
            shutil.rmtree(path, ignore_errors=True)
        return {}

    # -- triggers --------------------------------------------------------------------------------------

    def create_trigger(self, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
        record = self._find(params)
        name = _required(params, "TriggerName")
        kind = _required(params, "Type")
        qualifier = self._qualifier(params.get("Qualifier"))
        enable = _enable(params.get("Enable"), 1)
        if kind not in ("timer", "http"):
            raise ApiFailure(
                "UnsupportedOperation.Trigger", f"The sandbox emulates timer and http triggers only, not `{kind}`."
            )
        if not _TRIGGER_NAME.match(name):
            raise ApiFailure(
                "InvalidParameterValue.TriggerName",
                "TriggerName takes up to 100 letters, digits, hyphens and underscores.",
            )
        desc = params.get("TriggerDesc") or ""
        settings = _cron(desc) if kind == "timer" else _url_settings(desc)
        now = self._stamp()
        with self._lock:
            self._require_active(record, "FailedOperation.FunctionStatusError")
            if name in record.triggers:
                raise ApiFailure("ResourceInUse.Trigger", f"The trigger `{name}` already exists.")
            if kind == "http" and any(t.type == "http" and t.qualifier == qualifier for t in record.triggers.values()):
                raise ApiFailure(
                    "ResourceInUse.Trigger", f"The function already has a Function URL for qualifier `{qualifier}`."
                )
            trigger = Trigger(
                name=name,
                type=kind,
                desc=settings,
                qualifier=qualifier,
                enable=enable,
                custom_argument=params.get("CustomArgument") or "",
                description=params.get("Description") or "",
                add_time=now,
                mod_time=now,
            )
            if kind == "http":
                trigger.url = self._serve_url(record, trigger)
            record.triggers[name] = trigger
            return {"TriggerInfo": _trigger_brief(trigger)}

    def list_triggers(self, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
        record = self._find(params)
        offset = int(params.get("Offset") or 0)
        limit = int(params["Limit"]) if params.get("Limit") is not None else 20
        if offset < 0 or not 0 < limit <= 100:
            raise ApiFailure("InvalidParameterValue.Limit", "Limit takes 1 to 100 and Offset 0 or more.")
        order_by = params.get("OrderBy") or "mod_time"
        order = (params.get("Order") or "DESC").upper()
        if order_by not in ("add_time", "mod_time") or order not in ("ASC", "DESC"):
            raise ApiFailure("InvalidParameterValue", "OrderBy takes add_time or mod_time; Order ASC or DESC.")
        filters = {f["Name"]: set(f.get("Values") or []) for f in params.get("Filters") or []}
        fields = {"Qualifier": "qualifier", "TriggerName": "name", "Description": "description"}
        for name in filters:
            if name not in fields:
                raise ApiFailure("InvalidParameterValue", f"Filter `{name}` is not one of {', '.join(fields)}.")
        with self._lock:
            found = [
                t
                for t in record.triggers.values()
                if all(getattr(t, fields[n]) in values for n, values in filters.items())
            ]
        found.sort(key=lambda t: t.add_time if order_by == "add_time" else t.mod_time, reverse=order == "DESC")
        return {"TotalCount": len(found), "Triggers": [t.info() for t in found[offset : offset + limit]]}

    def update_trigger(self, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
        record = self._find(params)
        trigger = self._trigger(record, params)
        if trigger.type not in ("timer", "http"):
            raise ApiFailure("UnsupportedOperation.Trigger", "Only timer, ckafka and http triggers can be updated.")
        desc = params.get("TriggerDesc")
        settings = None
        if desc is not None:
            settings = _cron(desc) if trigger.type == "timer" else _url_settings(desc, trigger.url)
        with self._lock:
            self._require_active(record, "FailedOperation.FunctionStatusError")
            if params.get("Enable") is not None:
                trigger.enable = _enable(params["Enable"], trigger.enable)
            if settings is not None:
                trigger.desc = settings
                if trigger.url is not None:
                    trigger.url.auth_type = json.loads(settings)["AuthType"]
            if params.get("Description") is not None:
                trigger.description = params["Description"]
            if params.get("CustomArgument") is not None:
                trigger.custom_argument = params["CustomArgument"]
            trigger.mod_time = self._stamp()
        return {}

    def delete_trigger(self, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
        record = self._find(params)
        trigger = self._trigger(record, params)
        with self._lock:
            record.triggers.pop(trigger.name, None)
        if trigger.url is not None:
            trigger.url.stop()
        return {}

    # -- asynchronous invocation settings --------------------------------------------------------------

    def get_event_invoke_config(self, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
        record = self._find(params)
        self._qualifier(params.get("Qualifier"))
        return {"AsyncTriggerConfig": {"RetryConfig": [{"RetryNum": record.retry_num}], "MsgTTL": record.msg_ttl}}

    def update_event_invoke_config(self, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
        record = self._find(params)
        config = params.get("AsyncTriggerConfig")
        if not isinstance(config, dict) or not config.get("RetryConfig") or config.get("MsgTTL") is None:
            raise ApiFailure(
                "InvalidParameterValue.AsyncTriggerConfig", "AsyncTriggerConfig needs RetryConfig and MsgTTL."
            )
        retry = config["RetryConfig"][0].get("RetryNum")
        if not isinstance(retry, int) or not 0 <= retry <= 2:
            raise ApiFailure("LimitExceeded.RetryNum", "RetryNum takes 0 to 2.")
        ttl = config["MsgTTL"]
        if not 60 <= ttl <= 21600:
            raise ApiFailure("LimitExceeded.MsgTTL", "MsgTTL takes 60 to 21600 seconds.")
        with self._lock:
            record.retry_num, record.msg_ttl = retry, ttl
        return {}

    # -- invocation ------------------------------------------------------------------------------------

    def invoke(self, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
        record = self._find(params)
        self._qualifier(params.get("Qualifier"))
        kind = params.get("InvocationType") or "RequestResponse"
        if kind not in ("RequestResponse", "Event"):
            raise ApiFailure("InvalidParameterValue.InvokeType", "InvocationType takes RequestResponse or Event.")
        raw = params.get("ClientContext") or "{}"
        limit = ASYNC_CONTEXT_LIMIT if kind == "Event" else SYNC_CONTEXT_LIMIT
        if len(raw.encode("utf-8")) > limit:
            raise ApiFailure("InvalidParameterValue.ClientContext", f"ClientContext exceeds {limit} bytes.")
        try:
            event = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ApiFailure("InvalidParameterValue.ClientContext", f"ClientContext is not JSON: {exc.msg}.") from exc
        with self._lock:
            self._require_active(record, "FailedOperation.FunctionStatusError")
        request_id = str(uuid.uuid4())
        if kind == "Event":
            thread = threading.Thread(
                target=self._run_async, args=(record, event, request_id), name=f"scf-async-{record.name}", daemon=True
            )
            with self._lock:
                self._threads.append(thread)
            thread.start()
            return {"Result": {"FunctionRequestId": request_id}}
        outcome = self.run(record, event, request_id)
        return {"Result": _result(outcome, request_id)}

    def run(
        self, record: Function, event: Any, request_id: str | None = None, running: Running | None = None
    ) -> Outcome:
        """Run the function's handler on ``event`` now, in a child process (Invoke, URLs, timers)."""
        if not record.runtime.startswith("Python"):
            return Outcome(False, None, "UnsupportedRuntime", f"the sandbox runs Python only, not {record.runtime}",
                           "", 0.0)  # fmt: skip
        with self._lock:
            code_dir, handler, timeout = record.code_dir, record.handler, record.timeout
            variables = {v["Key"]: v["Value"] for v in record.variables}
        if code_dir is None:
            return Outcome(False, None, "CodeError", "the function has no code", "", 0.0)
        rid = request_id or str(uuid.uuid4())
        context = self._context(record, rid, variables)
        env = environment(variables, self._system(record))
        return run_handler(code_dir, handler, event, context, env=env, timeout=timeout, running=running)

    def _run_async(self, record: Function, event: Any, request_id: str) -> None:
        attempts = 0
        while True:
            attempts += 1
            outcome = self.run(record, event, request_id, self.running_async)
            if outcome.ok or attempts > record.retry_num:
                break
        with self._lock:
            self.async_records.append(AsyncRecord(record.name, record.namespace, request_id, attempts, outcome))

    # -- the control endpoint --------------------------------------------------------------------------

    def control(self, method: str, path: str, query: str) -> Reply:
        """``POST /_sandbox/scf/fire?function=NAME&namespace=NS[&trigger=T]``: fire a timer trigger now.

        Answers 200 with the handler's return value as the JSON body (headers ``X-Scf-Request-Id`` and
        ``X-Scf-Trigger``), 500 with ``{"errorType", "errorMessage", "log"}`` when the handler failed,
        404 when the function or timer trigger does not exist, 409 when the trigger is closed
        (``Enable: CLOSE``), 405 for another method.
        """
        if path.rstrip("/") != "/_sandbox/scf/fire":
            return _plain(404, {"error": f"no sandbox control endpoint {path}; use POST /_sandbox/scf/fire"})
        if method != "POST":
            return _plain(405, {"error": "use POST /_sandbox/scf/fire?function=NAME&namespace=NS"})
        args = dict(parse_qsl(query, keep_blank_values=True))
        record = self.function(args.get("function", ""), args.get("namespace") or "default")
        if record is None:
            return _plain(
                404, {"error": f"no function {args.get('function')!r} in {args.get('namespace') or 'default'!r}"}
            )
        with self._lock:
            timers = [t for t in record.triggers.values() if t.type == "timer"]
        wanted = args.get("trigger")
        chosen = next((t for t in timers if wanted in (None, t.name)), None)
        if chosen is None:
            return _plain(404, {"error": f"the function has no timer trigger {wanted or ''}".rstrip()})
        if not chosen.enable:
            return _plain(409, {"error": f"the timer trigger {chosen.name} is CLOSE: a closed timer never fires"})
        at = datetime.fromtimestamp(self.clock(), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {"Type": "Timer", "TriggerName": chosen.name, "Time": at, "Message": chosen.custom_argument}
        request_id = str(uuid.uuid4())
        outcome = self.run(record, event, request_id)
        headers = {"Content-Type": JSON, "X-Scf-Request-Id": request_id, "X-Scf-Trigger": chosen.name}
        if not outcome.ok:
            doc = {"errorType": outcome.error_type, "errorMessage": outcome.error_message, "log": outcome.log}
            return 500, headers, json.dumps(doc, ensure_ascii=False).encode("utf-8")
        return 200, headers, json.dumps(outcome.result, ensure_ascii=False).encode("utf-8")

    # -- helpers ---------------------------------------------------------------------------------------

    def _find(self, params: Mapping[str, Any]) -> Function:
        name = _required(params, "FunctionName")
        namespace = params.get("Namespace") or "default"
        with self._lock:
            found = self._functions.get((namespace, name))
        if found is None:
            raise ApiFailure("ResourceNotFound.Function", f"The function `{name}` does not exist in `{namespace}`.")
        return found

    @staticmethod
    def _trigger(record: Function, params: Mapping[str, Any]) -> Trigger:
        name = _required(params, "TriggerName")
        kind = _required(params, "Type")
        trigger = record.triggers.get(name)
        if trigger is None or trigger.type != kind:
            raise ApiFailure("ResourceNotFound.Trigger", f"The {kind} trigger `{name}` does not exist.")
        return trigger

    @staticmethod
    def _qualifier(value: str | None) -> str:
        qualifier = value or "$LATEST"
        if qualifier not in QUALIFIERS:
            raise ApiFailure(
                "InvalidParameterValue.Qualifier", f"The sandbox knows the qualifiers {' and '.join(QUALIFIERS)} only."
            )
        return qualifier

    def _settle(self, record: Function) -> None:
        if record.status in ("Creating", "Updating") and (
            record.polled or time.monotonic() - record.changed_at >= self.settle
        ):
            record.status, record.polled = "Active", False

    def _changed(self, record: Function) -> None:
        record.status, record.polled, record.changed_at = "Updating", False, time.monotonic()
        record.mod_time = self._stamp()

    def _require_active(self, record: Function, code: str) -> None:
        self._settle(record)
        if record.status != "Active":
            raise ApiFailure(code, f"The function is {record.status}; wait until GetFunction shows Active.")

    def _root(self) -> Path:
        if self._root_dir is None:
            self._root_dir = Path(tempfile.mkdtemp(prefix="sandbox-scf-"))
        return self._root_dir

    def _stamp(self) -> str:
        return datetime.fromtimestamp(self.clock(), _BEIJING).strftime("%Y-%m-%d %H:%M:%S")

    def _code(self, code: Mapping[str, Any], limit: int, region: str | None) -> bytes:
        zipped, bucket, key = code.get("ZipFile"), code.get("CosBucketName"), code.get("CosObjectName")
        if code.get("DemoId") or code.get("TempCosObjectName") or code.get("ImageConfig"):
            raise ApiFailure("InvalidParameterValue.CodeSource", "The sandbox takes ZipFile or COS code only.")
        if zipped and (bucket or key):
            raise ApiFailure("InvalidParameterValue.Code", "Give either ZipFile or CosBucketName/CosObjectName.")
        if zipped:
            if len(zipped) > limit * 4 // 3 + 4:
                raise ApiFailure("InvalidParameterValue.ZipFile", f"The zip exceeds {limit // (1024 * 1024)} MB.")
            try:
                data = base64.b64decode(zipped, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ApiFailure("InvalidParameterValue.ZipFile", "ZipFile is not base64.") from exc
            if len(data) > limit:
                raise ApiFailure("InvalidParameterValue.ZipFile", f"The zip exceeds {limit // (1024 * 1024)} MB.")
            return data
        if not bucket or not key:
            raise ApiFailure("MissingParameter.Code", "Give ZipFile, or both CosBucketName and CosObjectName.")
        if _APPID_SUFFIX.search(bucket) or not _BUCKET.match(bucket):
            raise ApiFailure(
                "InvalidParameterValue.CosBucketName",
                f"CosBucketName `{bucket}` must be the bucket's own name without the -appid suffix.",
            )
        if not key.startswith("/"):
            raise ApiFailure("InvalidParameterValue.CosObjectName", f"CosObjectName `{key}` must start with `/`.")
        if self.cos is None:
            raise ApiFailure("ResourceNotFound.Cos", "The sandbox was built without COS.")
        # COS keys carry no leading slash; SCF's CosObjectName does.
        stored = self.cos.objects(f"{bucket}-{self.app_id}").get(key[1:])
        if stored is None:
            raise ApiFailure(
                "ResourceNotFound.CosObject", f"The object `{key}` does not exist in bucket `{bucket}-{self.app_id}`."
            )
        if len(stored) > limit:
            raise ApiFailure("InvalidParameterValue.Cos", f"The code package exceeds {limit // (1024 * 1024)} MB.")
        return stored

    def _install(self, record: Function, data: bytes) -> None:
        try:
            target = unpack(data, self._root() / record.namespace / record.name)
        except CodeError as exc:
            raise ApiFailure("InvalidParameterValue.ZipFile", f"{exc}; upload a standard zip file.") from exc
        record.code_dir, record.code_size = target, len(data)
        record.code_dirs.append(target)

    def _serve_url(self, record: Function, trigger: Trigger) -> FunctionUrl:
        settings = json.loads(trigger.desc)

        def run(event: Any) -> Outcome:
            return self.run(record, event)

        url = FunctionUrl(run, auth_type=settings["AuthType"], host=self.host)
        url.start()
        settings["Url"] = url.url
        trigger.desc = json.dumps(settings, separators=(",", ":"))
        return url

    def _system(self, record: Function) -> dict[str, str]:
        # Keys and TENCENTCLOUD_RUNENV are documented (583/32748); the SCF_* names and the region are
        # what SCF is known to set, not confirmed against a document here.
        system = {
            "TENCENTCLOUD_SECRETID": self.credential.secret_id,
            "TENCENTCLOUD_SECRETKEY": self.credential.secret_key,
            "TENCENTCLOUD_RUNENV": "SCF",
            "SCF_FUNCTIONNAME": record.name,
            "SCF_NAMESPACE": record.namespace,
            "SCF_FUNCTIONVERSION": "$LATEST",
            "SCF_RUNTIME": record.runtime,
            "SCF_MEMORYSIZE": str(record.memory),
            "TENCENTCLOUD_REGION": record.region,
        }
        if self.credential.token:
            system["TENCENTCLOUD_SESSIONTOKEN"] = self.credential.token
        return system

    def _context(self, record: Function, request_id: str, variables: Mapping[str, str]) -> dict[str, Any]:
        return {
            "memory_limit_in_mb": record.memory,
            "time_limit_in_ms": record.timeout * 1000,
            "request_id": request_id,
            "environment": json.dumps({"SCF_NAMESPACE": record.namespace, **variables}),
            "environ": ";".join(f"{k}={v}" for k, v in {"SCF_NAMESPACE": record.namespace, **variables}.items()),
            "function_version": "$LATEST",
            "function_name": record.name,
            "namespace": record.namespace,
            "tencentcloud_region": record.region,
            "tencentcloud_appid": str(self.app_id),
            "tencentcloud_uin": str(self.uin),
        }

    def _describe(self, record: Function) -> dict[str, Any]:
        return {
            "ModTime": record.mod_time,
            "AddTime": record.add_time,
            "CodeInfo": "",
            "Description": record.description,
            "Triggers": [_trigger_brief(t) for t in record.triggers.values()],
            "Handler": record.handler,
            "CodeSize": record.code_size,
            "Timeout": record.timeout,
            "FunctionVersion": "$LATEST",
            "Qualifier": "$LATEST",
            "MemorySize": record.memory,
            "Runtime": record.runtime,
            "FunctionName": record.name,
            "FunctionId": record.function_id,
            "Namespace": record.namespace,
            "Type": "Event",
            "VpcConfig": {"VpcId": "", "SubnetId": ""},
            "UseGpu": "FALSE",
            "Environment": {"Variables": [dict(v) for v in record.variables]},
            "CodeResult": "success",
            "CodeError": "",
            "ErrNo": 0,
            "Role": record.role,
            "InstallDependency": "FALSE",
            "Status": record.status,
            "StatusDesc": "",
            "StatusReasons": [],
            "ClsLogsetId": "",
            "ClsTopicId": "",
            "Tags": [],
            "L5Enable": "FALSE",
            "Layers": [],
            "AvailableStatus": "Available",
            "InitTimeout": 65,
            "AsyncRunEnable": "FALSE",
            "TraceEnable": "FALSE",
            "DnsCache": "FALSE",
        }


# --- validation ----------------------------------------------------------------------------------------


def _required(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise ApiFailure("MissingParameter", f"The request is missing a required parameter `{name}`.")
    return value


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ApiFailure(
            "InvalidParameterValue.FunctionName",
            f"FunctionName `{name}` must be 2-60 letters, digits, - and _, start with a letter and end with a "
            "letter or digit.",
        )


def _check_handler(handler: str) -> None:
    file_part, dot, method = handler.rpartition(".")
    if not dot or not all(_HANDLER_PART.match(p) and len(p) >= 2 for p in (file_part, method)):
        raise ApiFailure(
            "InvalidParameterValue.Handler",
            f"Handler `{handler}` must be file.function, each 2-60 characters starting and ending with a letter.",
        )


def _memory(value: int | None, default: int) -> int:
    memory = default if value is None else value
    if memory not in MEMORY_SIZES:
        raise ApiFailure(
            "InvalidParameterValue.MemorySize", f"MemorySize {memory} MB: use 64, or 128 to 3072 in steps of 128."
        )
    return memory


def _timeout(value: int | None, default: int) -> int:
    timeout = default if value is None else value
    if not 1 <= timeout <= MAX_TIMEOUT:
        raise ApiFailure("LimitExceeded.Timeout", f"Timeout {timeout} s: use 1 to {MAX_TIMEOUT} seconds.")
    return timeout


def _variables(environment: Any) -> list[dict[str, str]]:
    items = (environment or {}).get("Variables") or []
    out: list[dict[str, str]] = []
    for item in items:
        key, value = item.get("Key"), item.get("Value")
        if not key or value is None or value == "":
            raise ApiFailure(
                "InvalidParameterValue.Environment", f"Environment variable `{key}` needs a non-empty Key and Value."
            )
        if PROTECTED.match(key):
            raise ApiFailure(
                "InvalidParameterValue.EnvironmentSystemProtect", f"`{key}` is set by SCF itself and cannot be set."
            )
        out.append({"Key": key, "Value": value})
    if sum(len(v["Key"]) + len(v["Value"]) for v in out) > ENV_LIMIT:
        raise ApiFailure("InvalidParameterValue.EnvironmentExceededLimit", "Environment variables exceed 4 KB.")
    return out


def _enable(value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    if value not in ("OPEN", "CLOSE"):
        raise ApiFailure("InvalidParameterValue", f"Enable takes OPEN or CLOSE, not `{value}`.")
    return 1 if value == "OPEN" else 0


def _cron(text: str) -> str:
    fields = text.split()
    if len(fields) not in (5, 7):
        raise ApiFailure(
            "InvalidParameterValue.TriggerCronConfig",
            f"TriggerDesc `{text}` must be a cron of 7 fields (second minute hour day month week year).",
        )
    offset = 0 if len(fields) == 7 else 1  # a 5-field cron has no second and no year
    for index, part in enumerate(fields):
        position = index + offset
        for token in part.split(","):
            if not _CRON_TOKEN.match(token) or not _cron_values_ok(token, position):
                raise ApiFailure(
                    "InvalidParameterValue.TriggerCronConfig",
                    f"TriggerDesc `{text}`: `{part}` is not a valid value for cron field {index + 1}.",
                )
    return " ".join(fields)


def _cron_values_ok(token: str, position: int) -> bool:
    base = token.split("/", 1)[0]
    if base in ("*", "?"):
        return base == "*" or position in (3, 5)
    low, high = _CRON_FIELDS[position]
    names = _CRON_NAMES.get(position, "").split()
    for value in base.split("-"):
        if value.upper() in names:
            continue
        if not value.isdigit() or not low <= int(value) <= high:
            return False
    return True


def _url_settings(text: str, url: FunctionUrl | None = None) -> str:
    try:
        doc = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise ApiFailure("InvalidParameterValue.TriggerDesc", f"TriggerDesc is not JSON: {exc.msg}.") from exc
    if not isinstance(doc, dict):
        raise ApiFailure("InvalidParameterValue.TriggerDesc", "TriggerDesc must be a JSON object.")
    auth = doc.get("AuthType", "NONE")
    if auth not in ("NONE", "CAM"):
        raise ApiFailure("InvalidParameterValue.TriggerDesc", f"AuthType takes NONE or CAM, not {auth!r}.")
    net = doc.get("NetConfig", {"EnableIntranet": False, "EnableExtranet": True})
    if not isinstance(net, dict) or not all(
        isinstance(net.get(k, False), bool) for k in ("EnableIntranet", "EnableExtranet")
    ):
        raise ApiFailure(
            "InvalidParameterValue.TriggerDesc", "NetConfig takes EnableIntranet and EnableExtranet as booleans."
        )
    unknown = set(doc) - {"AuthType", "NetConfig", "CorsConfig"}
    if unknown:
        raise ApiFailure(
            "InvalidParameterValue.TriggerDesc", f"TriggerDesc has unknown keys: {', '.join(sorted(unknown))}."
        )
    settings: dict[str, Any] = {"AuthType": auth, "NetConfig": net}
    if "CorsConfig" in doc:
        settings["CorsConfig"] = doc["CorsConfig"]
    if url is not None:
        settings["Url"] = url.url
    return json.dumps(settings, separators=(",", ":"))


def _trigger_brief(trigger: Trigger) -> dict[str, Any]:
    """The ``Trigger`` object of CreateTrigger and GetFunction (ListTriggers answers TriggerInfo)."""
    return {
        "ModTime": trigger.mod_time,
        "Type": trigger.type,
        "TriggerDesc": trigger.desc,
        "TriggerName": trigger.name,
        "AddTime": trigger.add_time,
        "Enable": trigger.enable,
        "CustomArgument": trigger.custom_argument,
        "AvailableStatus": "Available",
        "ResourceId": "",
        "BindStatus": "",
        "TriggerAttribute": "",
        "Qualifier": trigger.qualifier,
        "Description": trigger.description,
    }


def _result(outcome: Outcome, request_id: str) -> dict[str, Any]:
    error = "" if outcome.ok else json.dumps({"errorCode": -1, "errorMessage": outcome.error_message,
                                              "errorType": outcome.error_type}, ensure_ascii=False)  # fmt: skip
    return {
        "Log": outcome.log,
        "RetMsg": outcome.ret_msg,
        "ErrMsg": error,
        "MemUsage": 0,
        "Duration": round(outcome.duration_ms, 3),
        "BillDuration": max(1, int(outcome.duration_ms + 0.999)),
        "FunctionRequestId": request_id,
        "InvokeResult": 0 if outcome.ok else -1,
    }


def _plain(status: int, doc: Mapping[str, Any]) -> Reply:
    return status, {"Content-Type": JSON}, json.dumps(doc, ensure_ascii=False).encode("utf-8")
