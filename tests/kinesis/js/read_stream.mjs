// Reads every record of a stream with the AWS SDK for JavaScript v3 and prints them as JSON lines.
// Usage: node read_stream.mjs <endpoint> <stream-name>
import {
  KinesisClient, ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand, PutRecordCommand,
  DescribeStreamSummaryCommand,
} from "@aws-sdk/client-kinesis";

const [endpoint, streamName] = process.argv.slice(2);
const client = new KinesisClient({
  endpoint, region: "us-east-1", maxAttempts: 1,
  // No requestHandler: the Kinesis client's default speaks HTTP/2 (prior knowledge to an http:// endpoint).
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
});

const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
const put = await client.send(new PutRecordCommand({
  StreamName: streamName, PartitionKey: "from-js", Data: new TextEncoder().encode("written by js"),
}));
const { Shards } = await client.send(new ListShardsCommand({ StreamName: streamName }));
const records = [];
for (const shard of Shards) {
  let { ShardIterator } = await client.send(new GetShardIteratorCommand({
    StreamName: streamName, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON",
  }));
  while (ShardIterator) {
    const page = await client.send(new GetRecordsCommand({ ShardIterator, Limit: 2 }));
    for (const r of page.Records) {
      records.push({
        shard: shard.ShardId, sequence: r.SequenceNumber, key: r.PartitionKey,
        data: new TextDecoder().decode(r.Data), arrival: r.ApproximateArrivalTimestamp.getTime(),
      });
    }
    ShardIterator = page.NextShardIterator;
    if (page.Records.length === 0 && page.MillisBehindLatest === 0) break;
  }
}
console.log(JSON.stringify({
  status: summary.StreamDescriptionSummary.StreamStatus, put: put.SequenceNumber, putShard: put.ShardId, records,
}));
