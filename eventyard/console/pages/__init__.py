"""The console's pages, one module per service; each exposes `routes`."""

from eventyard.console import live
from eventyard.console.pages import overview, sqs

PAGE_ROUTES = [live.routes, overview.routes, sqs.routes]
