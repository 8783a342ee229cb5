"""The console's pages, one module per service; each exposes `routes`."""

from eventyard.console import live
from eventyard.console.pages import cloudwatch, events, faults, kinesis, lambda_, overview, sns, sqs, stepfunctions

PAGE_ROUTES = [live.routes, overview.routes, sqs.routes, sns.routes, events.routes, lambda_.routes,
               stepfunctions.routes, kinesis.routes, cloudwatch.routes, faults.routes]
