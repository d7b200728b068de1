"""SCF entry points: thin handlers that parse the event, call ``lib`` and shape the answer."""
