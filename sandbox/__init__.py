"""The sandbox: a local Tencent Cloud (API 3.0 teo/billing and COS) that real clients accept.

Modules: ``server`` (HTTP server, ``Sandbox`` context manager, ``python -m sandbox cloud``), ``api3``
(transport rules, envelope, dispatch), ``verify`` (TC3 and v1 signature checks), ``teo`` and
``billing`` (the emulated actions), ``scenario`` (scenario files, data clock, faults), ``usage`` (the
deterministic usage generator), ``cos`` (COS objects). Scenario format: ``scenarios/README.md``.
"""
