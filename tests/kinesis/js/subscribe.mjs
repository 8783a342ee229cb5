// SubscribeToShard over HTTP/2 with the AWS SDK for JavaScript v3's default handler (NodeHttp2Handler):
// subscribes, writes records on the same HTTP/2 connection once the subscription is live, reads them
// from the event stream, then cancels the subscription (RST_STREAM), as a consumer that is done does.
// Usage: node subscribe.mjs <endpoint> <stream-name> <consumer-arn> <count>
import { KinesisClient, PutRecordsCommand, SubscribeToShardCommand } from "@aws-sdk/client-kinesis";

const [endpoint, streamName, consumerARN, count] = process.argv.slice(2);
const client = new KinesisClient({
  endpoint, region: "us-east-1", maxAttempts: 1,
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
});

const subscription = new AbortController();
const { EventStream } = await client.send(new SubscribeToShardCommand({
  ConsumerARN: consumerARN, ShardId: "shardId-000000000000", StartingPosition: { Type: "LATEST" },
}), { abortSignal: subscription.signal });
const received = [];
let wrote = false;
let events = 0;
for await (const event of EventStream) {
  if (!event.SubscribeToShardEvent) throw new Error(`unexpected event ${JSON.stringify(event)}`);
  events += 1;
  for (const record of event.SubscribeToShardEvent.Records) received.push(new TextDecoder().decode(record.Data));
  if (!wrote) {
    wrote = true;
    await client.send(new PutRecordsCommand({
      StreamName: streamName,
      Records: Array.from({ length: Number(count) }, (_, i) => ({
        PartitionKey: "k", Data: new TextEncoder().encode(`js-${i}`),
      })),
    }));
  }
  if (received.length >= Number(count)) break;
}
subscription.abort();
client.destroy();
console.log(JSON.stringify({ received, events }));
