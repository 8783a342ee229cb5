"""CloudWatch Logs Insights: the query language people use most (fields, filter, stats by bin(),
sort, limit, parse, display, dedup), parsed by a lark grammar into a small query model and
evaluated over a log group's events by the query runner."""
