"""A web console for Eventyard, served by the server itself under /_eventyard/console/.

Server-rendered Jinja2 templates, a vendored htmx (static/htmx.min.js, unmodified, with its
license) and server-sent events for live parts. See console.py for how pages reach the data.
"""

from eventyard.console.console import Console
from eventyard.console.web import MOUNT, is_console_path, wants_console

__all__ = ["MOUNT", "Console", "is_console_path", "wants_console"]
