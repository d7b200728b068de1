"""The words of one-click links, in zh and en: button labels in alerts and the phrases of the ``/l`` pages."""

from __future__ import annotations

from lib.messages.words import language_of

ACTION_NAMES = {
    "zh": {"pause-zone": "暂停站点", "domains-offline": "下线域名", "stop-cdn-domain": "停用 CDN 域名"},
    "en": {
        "pause-zone": "pause the zone",
        "domains-offline": "take the domains offline",
        "stop-cdn-domain": "stop the CDN domain",
    },
}

LABELS = {
    "zh": {
        "silence_1h": "静音 1 小时",
        "silence": "静音 1 天",
        "silence_period": "静音至周期结束",
        "approve": "批准：{action}",
        "undo": "撤销：{action}",
        "dashboard": "查看看板",
    },
    "en": {
        "silence_1h": "Silence 1 h",
        "silence": "Silence 1 day",
        "silence_period": "Silence until period end",
        "approve": "Approve: {action}",
        "undo": "Undo: {action}",
        "dashboard": "Dashboard",
    },
}

# Page phrases: titles, what will happen, refusals. ``{…}`` fields are filled (and HTML-escaped) by the page.
PAGE = {
    "zh": {
        "confirm": "确认",
        "approve.title": "批准预算动作",
        "approve.what": "将立即执行：{action}（预算 {budget}）。",
        "undo.title": "撤销预算动作",
        "undo.what": "将立即撤销：{action}（预算 {budget}），目标恢复到动作之前的状态。",
        "silence.title": "静音预算告警",
        "silence.what": "将静音预算 {budget} 的告警：{until}。",
        "silence.for": "从确认起 {hours}",
        "silence.until": "直到 {when}",
        "view.title": "预算看板",
        "view.what": "此链接只能查看看板，不能执行任何操作。",
        "view.open": "打开看板",
        "targets": "对象",
        "group": "分组",
        "state": "当前状态",
        "expires": "链接有效期至",
        "once": "此链接只能使用一次。",
        "done.approve": "已批准。动作状态：{state}。",
        "done.undo": "已撤销。动作状态：{state}。",
        "done.silence": "已静音，直到 {until}（静音 {id}）。",
        "not.acted": "未执行：{reason}",
        "refused": "链接无法使用",
        "malformed": "链接不完整或已损坏。请从告警中重新打开完整链接。",
        "signature": "链接签名不匹配：它被改动过，或不是本服务生成的。",
        "expired": "链接已过期。请使用更新的告警中的链接，或通过 API 操作。",
        "operation": "这是只读的看板链接，不能用来执行操作。",
        "target": "链接与动作不符：该动作现在指向其他对象。请使用 API 查看并操作。",
        "used": "链接已经使用过；每个链接只能使用一次。",
        "missing": "找不到链接所指的动作或预算（可能已被删除或属于其他部署）。",
        "state.refused": "该动作当前状态为 {state}，不能{wanted}。",
        "disabled": "此部署未启用链接（需要 BUDGET_PUBLIC_URL 和 BUDGET_LINK_SECRET）。",
        "failed": "操作失败：{reason}",
        "wanted.approve": "批准",
        "wanted.undo": "撤销",
    },
    "en": {
        "confirm": "Confirm",
        "approve.title": "Approve a budget action",
        "approve.what": "This will {action} now (budget {budget}).",
        "undo.title": "Undo a budget action",
        "undo.what": "This will undo “{action}” now (budget {budget}): each target goes back to how it was before.",
        "silence.title": "Silence budget alerts",
        "silence.what": "This silences the alerts of budget {budget} {until}.",
        "silence.for": "for {hours} from when you confirm",
        "silence.until": "until {when}",
        "view.title": "Budget dashboard",
        "view.what": "This link only shows the dashboard; it cannot act.",
        "view.open": "Open the dashboard",
        "targets": "Targets",
        "group": "Group",
        "state": "State now",
        "expires": "Link valid until",
        "once": "This link works once.",
        "done.approve": "Approved. The action is now {state}.",
        "done.undo": "Undone. The action is now {state}.",
        "done.silence": "Silenced until {until} (silence {id}).",
        "not.acted": "Nothing was done: {reason}",
        "refused": "This link cannot be used",
        "malformed": "The link is incomplete or damaged. Open the whole link from the alert again.",
        "signature": "The link's signature does not match: it was changed, or it was not made here.",
        "expired": "The link has expired. Use the link of a newer alert, or the API.",
        "operation": "This is a read-only dashboard link; it cannot act.",
        "target": "The link does not match the action: the action now names other targets. Use the API.",
        "used": "The link was already used; each link works once.",
        "missing": "The action or budget this link names does not exist (removed, or in another deployment).",
        "state.refused": "The action is {state}; it cannot be {wanted} now.",
        "disabled": "Links are not enabled here (BUDGET_PUBLIC_URL and BUDGET_LINK_SECRET are needed).",
        "failed": "The operation failed: {reason}",
        "wanted.approve": "approved",
        "wanted.undo": "undone",
    },
}


def action_name(action: str, language: str) -> str:
    """An action type in words (its type name when it has none)."""
    return ACTION_NAMES[language_of(language)].get(action, action)


def label(key: str, language: str, action: str = "") -> str:
    """A link's button label: ``silence``, ``approve`` (with the action in words) …"""
    text = LABELS[language_of(language)][key]
    return text.format(action=action_name(action, language)) if "{action}" in text else text


def page_words(language: str) -> dict[str, str]:
    return PAGE[language_of(language)]


def hours_text(seconds: int, language: str) -> str:
    """``1 小时`` / ``1 day`` … for a silence length."""
    zh = language_of(language) == "zh"
    if seconds % 86400 == 0:
        days = seconds // 86400
        return f"{days} 天" if zh else (f"{days} day" + ("s" if days > 1 else ""))
    hours = max(1, round(seconds / 3600))
    return f"{hours} 小时" if zh else (f"{hours} hour" + ("s" if hours > 1 else ""))


__all__ = ["action_name", "hours_text", "label", "page_words"]
