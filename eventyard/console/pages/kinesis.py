"""Kinesis pages: streams, one stream's shards (hash ranges, open or closed, parent lineage) and
its consumers with their iterator age as CloudWatch reports it (enhanced fan-out consumers'
`SubscribeToShardEvent.MillisBehindLatest`, Lambda mappings' `IteratorAge`)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from eventyard.console.links import arn_parts, arn_region
from eventyard.console.pages.metrics import latest_value
from eventyard.console.paging import paginate
from eventyard.console.routing import Routes
from eventyard.console.web import ConsoleRequest
from eventyard.protocol.base import HttpResponse

if TYPE_CHECKING:
    from eventyard.console.console import Console

routes = Routes()
HASH_SPACE = 2 ** 128


@routes.get("kinesis")
async def streams(console: Console, request: ConsoleRequest) -> HttpResponse:
    names = await console.collect(request, "kinesis", "ListStreams", "StreamNames")
    page = paginate(sorted(names), request, lambda n: n)
    answers = await asyncio.gather(*(console.call(request, "kinesis", "DescribeStreamSummary", {"StreamName": name})
                                     for name in page.rows))
    rows = [answer["StreamDescriptionSummary"] for answer in answers]
    return console.render(request, "kinesis_streams.html", title="Kinesis streams", page=page, rows=rows)


@routes.get("kinesis/stream")
async def stream(console: Console, request: ConsoleRequest) -> HttpResponse:
    arn = request.arg("arn")
    region = arn_region(arn, request.region)
    name = (arn_parts(arn) or ("", "", "", "stream/"))[3].split("/")[1]
    summary = (await console.call(request, "kinesis", "DescribeStreamSummary", {"StreamName": name},
                                  region))["StreamDescriptionSummary"]
    shards = await console.collect(request, "kinesis", "ListShards", "Shards", {"StreamName": name}, region=region)
    consumers = await console.collect(request, "kinesis", "ListStreamConsumers", "Consumers",
                                      {"StreamARN": summary["StreamARN"]}, region=region)
    mappings: list[dict[str, Any]] = []
    if console.has("lambda"):
        mappings = await console.collect(request, "lambda", "ListEventSourceMappings", "EventSourceMappings",
                                         {"EventSourceArn": summary["StreamARN"]}, token="NextMarker", region=region)
    readers = {"name": "GetRecords readers (all)", "arn": summary["StreamARN"], "status": "",
               "age": await latest_value(console, request, region, "AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds",
                                         {"StreamName": name})}
    consumer_rows = [readers] + [{"name": c["ConsumerName"], "arn": c["ConsumerARN"], "status": c.get("ConsumerStatus", ""),
                      "age": await latest_value(console, request, region, "AWS/Kinesis",
                                                "SubscribeToShardEvent.MillisBehindLatest",
                                                {"StreamName": name, "ConsumerName": c["ConsumerName"]})}
                     for c in consumers]
    for mapping in mappings:
        function = mapping["FunctionArn"].split(":")[6]
        consumer_rows.append({"name": f"Lambda {function}", "arn": mapping["FunctionArn"],
                              "status": mapping.get("State", ""),
                              "age": await latest_value(console, request, region, "AWS/Lambda", "IteratorAge",
                                                        {"FunctionName": function})})
    page = paginate(shards, request, lambda s: s["ShardId"] + " " + s.get("ParentShardId", ""))
    return console.render(request, "kinesis_stream.html", title=name, summary=summary, page=page,
                          shards=[_shard_view(s) for s in page.rows], consumers=consumer_rows,
                          metrics_available=console.has("cloudwatch"))


def _shard_view(shard: dict[str, Any]) -> dict[str, Any]:
    low, high = int(shard["HashKeyRange"]["StartingHashKey"]), int(shard["HashKeyRange"]["EndingHashKey"])
    return {**shard, "open": "EndingSequenceNumber" not in shard.get("SequenceNumberRange", {}),
            "share": (high - low + 1) / HASH_SPACE, "offset": low / HASH_SPACE}
