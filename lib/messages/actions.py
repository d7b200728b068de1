"""What an ``action`` notification says: an action waiting for approval, done, failed, undone or expired (zh, en).

The detail comes from ``lib.actions.announce``: the action type, its targets, who moved it, and for a
failure the API's reason per target; a refusal by CAM is named as a missing permission with the
permissions the action needs, so the reader knows what to grant rather than what went wrong inside.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from lib.messages.words import ERROR_CHARS, Fact, Tone, subject_of
from lib.model import Notification

_TYPES = {
    "zh": {
        "pause-zone": "暂停 EdgeOne 站点",
        "domains-offline": "下线 EdgeOne 加速域名",
        "stop-cdn-domain": "停用 CDN 域名",
    },
    "en": {
        "pause-zone": "pause EdgeOne site",
        "domains-offline": "take EdgeOne domains offline",
        "stop-cdn-domain": "stop CDN domain",
    },
}
# state → (tone, zh words, en words)
_STATES: dict[str, tuple[Tone, str, str]] = {
    "pending-approval": ("warning", "待审批", "waiting for approval"),
    "done": ("critical", "已执行", "done"),
    "failed": ("critical", "执行失败", "failed"),
    "undone": ("ok", "已撤销", "undone"),
    "undo-failed": ("critical", "撤销失败", "undo failed"),
    "expired": ("info", "已过期（周期结束前未审批）", "expired (not approved before the period ended)"),
}
_WHO = {"automatic": ("自动执行", "automatic"), "period-end": ("周期结束自动撤销", "period end")}


def action_words(n: Notification, tz: tzinfo, lang: str) -> tuple[Tone, str, list[Fact]]:
    d = n.detail
    kind = str(d.get("action", ""))
    state = str(d.get("state", ""))
    tone, zh_state, en_state = _STATES.get(state, ("info", state, state))
    what = _TYPES[lang].get(kind, kind)
    targets = ", ".join(str(t) for t in d.get("targets") or ()) or "-"
    subject = subject_of(n)
    if lang == "zh":
        title = f"预算动作{zh_state}：{what} {targets}（{subject}）"
    else:
        title = f"Budget action {en_state}: {what} {targets} ({subject})"
    zh = lang == "zh"
    facts = [Fact("动作" if zh else "Action", f"{what} → {targets}", strong=True)]
    facts.append(Fact("状态" if zh else "State", zh_state if zh else en_state))
    by = str(d.get("by") or "")
    if by:
        facts.append(Fact("操作者" if zh else "By", _who(by, lang)))
    reason = reason_text(d, lang)
    if reason:
        facts.append(Fact("原因" if zh else "Reason", reason, strong=True))
    if state == "pending-approval":
        hint = (
            "通过告警中的审批链接或 POST /actions/{id}/approve 批准"
            if zh
            else "approve it from the alert's link or POST /actions/{id}/approve"
        )
        facts.append(Fact("审批" if zh else "Approve", hint.replace("{id}", str(d.get("action_id", "")))))
    if state == "done" and d.get("undo") == "period-end":
        facts.append(
            Fact("撤销" if zh else "Undo", "下个周期开始时自动撤销" if zh else "reversed when the next period starts")
        )
    ids = [str(r) for r in d.get("request_ids") or ()]
    if ids:
        facts.append(Fact("RequestId", ", ".join(ids)))
    facts.append(Fact("动作编号" if zh else "Action id", str(d.get("action_id", ""))))
    return tone, title, facts


def reason_text(d: Mapping[str, Any], lang: str) -> str:
    """A failure's reason in the reader's words: a missing CAM permission says so and names what to grant."""
    missing = [str(p) for p in d.get("missing_permissions") or ()]
    reason = str(d.get("reason") or "")
    if missing:
        grant = ", ".join(missing)
        head = (
            f"缺少 CAM 权限，请为函数角色授予 {grant}"
            if lang == "zh"
            else f"missing CAM permission: grant the function's role {grant}"
        )
        reason = f"{head}（{reason}）" if lang == "zh" and reason else (f"{head} ({reason})" if reason else head)
    return reason if len(reason) <= ERROR_CHARS else reason[: ERROR_CHARS - 1] + "…"


def _who(by: str, lang: str) -> str:
    words = _WHO.get(by)
    if words is not None:
        return words[0] if lang == "zh" else words[1]
    return by


def crossing_facts(n: Notification, lang: str) -> list[Fact]:
    """On a crossing's message, one line per action it set off: what, to which targets, and its state."""
    out = []
    for entry in n.detail.get("actions") or ():
        if not isinstance(entry, Mapping):
            continue
        what = _TYPES[lang].get(str(entry.get("type")), str(entry.get("type")))
        targets = ", ".join(str(t) for t in entry.get("targets") or ()) or "-"
        state = str(entry.get("state", ""))
        words = _STATES.get(state)
        shown = (words[1] if lang == "zh" else words[2]) if words else state
        out.append(
            Fact(
                "动作" if lang == "zh" else "Action",
                f"{what} {targets}：{shown}" if lang == "zh" else f"{what} {targets}: {shown}",
                strong=True,
            )
        )
    return out


__all__ = ["action_words", "crossing_facts", "reason_text"]
