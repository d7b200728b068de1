"""What the benchmarks' child processes share: their peak memory, and the SDK baseline's call loop."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def peak_rss_mb() -> float:
    """Peak resident memory of this process (``VmHWM``), in MB.

    Not ``getrusage`` first: on Linux a child's ``ru_maxrss`` also keeps the high-water mark of the memory
    it was forked from (the sandbox-holding parent, when subprocess uses vfork), so it overstates.
    """
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sdk_call(call: Callable[[Any], Any], request: Any, counts: dict[str, int]) -> Any:
    """One SDK call as a straightforward loop makes it: on RequestLimitExceeded, wait a second and retry.

    ``counts["requests"]`` and ``counts["limited"]`` count the attempts and the refusals.
    """
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

    while True:
        counts["requests"] += 1
        try:
            return call(request)
        except TencentCloudSDKException as exc:
            if exc.get_code() != "RequestLimitExceeded":
                raise
            counts["limited"] += 1
            time.sleep(1)
