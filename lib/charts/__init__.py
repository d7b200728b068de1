"""Charts of a budget: ``data``/``balance`` build a typed spec from stored series (pure); ``svg`` and
``png`` draw it. Nothing here is imported by the timer: callers import the module they draw with.

``render_svg(usage_chart(...))`` for a page; ``render_png(usage_chart(..., language="en"))`` for a channel.
"""
