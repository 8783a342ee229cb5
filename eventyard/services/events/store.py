"""Resource documents and tags in EventBridge's own tables (schema.py), through the document tables
both EventBridge and Scheduler use (services/documents.py).

Functions of a connection, run inside `platform.db.write`, so each API call is one transaction."""

from __future__ import annotations

from eventyard.services.documents import DEFAULT_LIMIT, DocumentTables, in_memory

_TABLES = DocumentTables("events_resources", "events_tags", "events")

get = _TABLES.get
put = _TABLES.put
delete = _TABLES.delete
list_docs = _TABLES.list_docs
get_tags = _TABLES.get_tags
set_tags = _TABLES.set_tags
remove_tags = _TABLES.remove_tags
docs_after = _TABLES.docs_after
listing = _TABLES.listing

__all__ = ["DEFAULT_LIMIT", "delete", "docs_after", "get", "get_tags", "in_memory", "list_docs", "listing", "put",
           "remove_tags", "set_tags"]
