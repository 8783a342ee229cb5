"""Schedule groups, schedules and the groups' tags in Scheduler's own tables (schema.py), through the
document tables both EventBridge and Scheduler use (services/documents.py)."""

from __future__ import annotations

from eventyard.services.documents import DEFAULT_LIMIT, DocumentTables

_TABLES = DocumentTables("scheduler_resources", "scheduler_tags", "scheduler")

get = _TABLES.get
put = _TABLES.put
delete = _TABLES.delete
delete_prefixed = _TABLES.delete_prefixed
get_tags = _TABLES.get_tags
set_tags = _TABLES.set_tags
remove_tags = _TABLES.remove_tags
listing = _TABLES.listing

__all__ = ["DEFAULT_LIMIT", "delete", "delete_prefixed", "get", "get_tags", "listing", "put", "remove_tags",
           "set_tags"]
