"""Message text for notifications: human units and the zh/en wording every channel marks up.

``format_quantity(Decimal("8.1e12"), "B", "en") == "8.1 TB"``; ``render_text(n, "zh", tz)`` gives a
plain ``(title, body)``; ``compose`` gives the structured form channels turn into markdown or cards.
"""

from lib.messages.text import batch_title, compose, plain_body, render_text
from lib.messages.units import format_duration, format_money, format_percent, format_quantity
from lib.messages.words import Fact, Message, local_time

__all__ = [
    "Fact",
    "Message",
    "batch_title",
    "compose",
    "format_duration",
    "format_money",
    "format_percent",
    "format_quantity",
    "local_time",
    "plain_body",
    "render_text",
]
