// Each service's main path with the AWS SDK for JavaScript v3, default settings except the endpoint
// (and disableHostPrefix for Step Functions' sync- operations). Prints what it saw as JSON.
// Usage: node scenario.mjs <endpoint> <scenario> <unique>   (the lambda scenario reads ZIP_BASE64)
import * as sqsSdk from "@aws-sdk/client-sqs";
import * as snsSdk from "@aws-sdk/client-sns";
import * as ebSdk from "@aws-sdk/client-eventbridge";
import * as schedulerSdk from "@aws-sdk/client-scheduler";
import * as kinesisSdk from "@aws-sdk/client-kinesis";
import * as lambdaSdk from "@aws-sdk/client-lambda";
import * as sfnSdk from "@aws-sdk/client-sfn";
import * as logsSdk from "@aws-sdk/client-cloudwatch-logs";
import * as cwSdk from "@aws-sdk/client-cloudwatch";
import * as iamSdk from "@aws-sdk/client-iam";
import * as stsSdk from "@aws-sdk/client-sts";
import * as pipesSdk from "@aws-sdk/client-pipes";
import * as schemasSdk from "@aws-sdk/client-schemas";

const [endpoint, scenario, unique] = process.argv.slice(2);
const config = { endpoint, region: "us-east-1", maxAttempts: 1,
                 credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" } };
const ROLE = "arn:aws:iam::000000000000:role/r";
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check, what, seconds = 30) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function queue(name) {
  const sqs = new sqsSdk.SQSClient(config);
  const { QueueUrl } = await sqs.send(new sqsSdk.CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(new sqsSdk.GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
  const receive = () => until(async () => (await sqs.send(new sqsSdk.ReceiveMessageCommand({
    QueueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }))).Messages, `a message on ${name}`);
  return { sqs, url: QueueUrl, arn: Attributes.QueueArn, receive };
}

const scenarios = {
  async sqs() {
    const q = await queue(`js-${unique}`);
    await q.sqs.send(new sqsSdk.SendMessageCommand({ QueueUrl: q.url, MessageBody: "hello from js",
      MessageAttributes: { kind: { DataType: "String", StringValue: "greeting" } } }));
    const [message] = await q.receive();
    await q.sqs.send(new sqsSdk.DeleteMessageCommand({ QueueUrl: q.url, ReceiptHandle: message.ReceiptHandle }));
    return { body: message.Body, md5: message.MD5OfBody };
  },
  async sns() {
    const q = await queue(`js-sns-${unique}`);
    const sns = new snsSdk.SNSClient(config);
    const { TopicArn } = await sns.send(new snsSdk.CreateTopicCommand({ Name: `js-${unique}` }));
    await sns.send(new snsSdk.SubscribeCommand({ TopicArn, Protocol: "sqs", Endpoint: q.arn,
      Attributes: { RawMessageDelivery: "true" } }));
    await sns.send(new snsSdk.PublishCommand({ TopicArn, Message: "fanned out" }));
    return { body: (await q.receive())[0].Body };
  },
  async eventbridge() {
    const q = await queue(`js-eb-${unique}`);
    const eb = new ebSdk.EventBridgeClient(config);
    await eb.send(new ebSdk.PutRuleCommand({ Name: `js-${unique}`, EventPattern: JSON.stringify({ source: ["js.test"] }) }));
    await eb.send(new ebSdk.PutTargetsCommand({ Rule: `js-${unique}`, Targets: [{ Id: "q", Arn: q.arn }] }));
    const put = await eb.send(new ebSdk.PutEventsCommand({ Entries: [
      { Source: "js.test", DetailType: "t", Detail: JSON.stringify({ n: 7 }) }] }));
    return { failed: put.FailedEntryCount, detail: JSON.parse((await q.receive())[0].Body).detail };
  },
  async scheduler() {
    const q = await queue(`js-sched-${unique}`);
    const scheduler = new schedulerSdk.SchedulerClient(config);
    await scheduler.send(new schedulerSdk.CreateScheduleGroupCommand({ Name: `js-${unique}` }));
    await scheduler.send(new schedulerSdk.CreateScheduleCommand({ Name: `js-${unique}`, GroupName: `js-${unique}`,
      ScheduleExpression: "rate(5 minutes)", FlexibleTimeWindow: { Mode: "OFF" },
      Target: { Arn: q.arn, RoleArn: ROLE, Input: "{}" } }));
    const got = await scheduler.send(new schedulerSdk.GetScheduleCommand({ Name: `js-${unique}`, GroupName: `js-${unique}` }));
    return { state: got.State, expression: got.ScheduleExpression, target: got.Target.Arn === q.arn };
  },
  async kinesis() {  // the Kinesis client's default handler speaks HTTP/2
    const kinesis = new kinesisSdk.KinesisClient(config);
    const StreamName = `js-${unique}`;
    await kinesis.send(new kinesisSdk.CreateStreamCommand({ StreamName, ShardCount: 1 }));
    await until(async () => (await kinesis.send(new kinesisSdk.DescribeStreamSummaryCommand({ StreamName })))
      .StreamDescriptionSummary.StreamStatus === "ACTIVE", "an ACTIVE stream");
    const put = await kinesis.send(new kinesisSdk.PutRecordCommand({ StreamName, PartitionKey: "k",
      Data: new TextEncoder().encode("record from js") }));
    const { ShardIterator } = await kinesis.send(new kinesisSdk.GetShardIteratorCommand({ StreamName,
      ShardId: put.ShardId, ShardIteratorType: "TRIM_HORIZON" }));
    const { Records } = await kinesis.send(new kinesisSdk.GetRecordsCommand({ ShardIterator }));
    return { data: Records.map((r) => new TextDecoder().decode(r.Data)) };
  },
  async lambda() {
    const lambda = new lambdaSdk.LambdaClient(config);
    await lambda.send(new lambdaSdk.CreateFunctionCommand({ FunctionName: `js-${unique}`, Runtime: "python3.12",
      Role: ROLE, Handler: "app.handler", Code: { ZipFile: Buffer.from(process.env.ZIP_BASE64, "base64") } }));
    const out = await lambda.send(new lambdaSdk.InvokeCommand({ FunctionName: `js-${unique}`,
      Payload: new TextEncoder().encode(JSON.stringify({ n: 21 })) }));
    return { status: out.StatusCode, payload: JSON.parse(new TextDecoder().decode(out.Payload)) };
  },
  async sfn() {
    const sfn = new sfnSdk.SFNClient({ ...config, disableHostPrefix: true });  // StartSyncExecution's "sync-" host
    const definition = JSON.stringify({ StartAt: "P", States: { P: { Type: "Pass", Result: "done", End: true } } });
    const standard = await sfn.send(new sfnSdk.CreateStateMachineCommand({ name: `js-${unique}`, definition, roleArn: ROLE }));
    const { executionArn } = await sfn.send(new sfnSdk.StartExecutionCommand({ stateMachineArn: standard.stateMachineArn }));
    const done = await until(async () => {
      const d = await sfn.send(new sfnSdk.DescribeExecutionCommand({ executionArn }));
      return d.status !== "RUNNING" && d;
    }, "the execution to end");
    const express = await sfn.send(new sfnSdk.CreateStateMachineCommand({ name: `js-x-${unique}`, definition,
      roleArn: ROLE, type: "EXPRESS" }));
    const sync = await sfn.send(new sfnSdk.StartSyncExecutionCommand({ stateMachineArn: express.stateMachineArn }));
    return { status: done.status, output: done.output, syncStatus: sync.status };
  },
  async logs() {
    const logs = new logsSdk.CloudWatchLogsClient(config);
    const logGroupName = `/js/${unique}`;
    await logs.send(new logsSdk.CreateLogGroupCommand({ logGroupName }));
    await logs.send(new logsSdk.CreateLogStreamCommand({ logGroupName, logStreamName: "s" }));
    const now = Date.now();
    await logs.send(new logsSdk.PutLogEventsCommand({ logGroupName, logStreamName: "s", logEvents: [
      { timestamp: now, message: "one" }, { timestamp: now + 1, message: "two" }] }));
    const found = await logs.send(new logsSdk.FilterLogEventsCommand({ logGroupName, startTime: now }));
    return { messages: found.events.map((e) => e.message) };
  },
  async cloudwatch() {
    const cw = new cwSdk.CloudWatchClient(config);
    const Namespace = `Js/${unique}`;
    await cw.send(new cwSdk.PutMetricDataCommand({ Namespace, MetricData: [{ MetricName: "Jobs", Value: 4 }] }));
    const now = new Date();
    const stats = await cw.send(new cwSdk.GetMetricStatisticsCommand({ Namespace, MetricName: "Jobs", Period: 60,
      StartTime: new Date(now.getTime() - 600000), EndTime: new Date(now.getTime() + 600000), Statistics: ["Sum"] }));
    return { sum: stats.Datapoints.reduce((total, p) => total + p.Sum, 0) };
  },
  async iam() {
    const iam = new iamSdk.IAMClient(config);
    const trust = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:AssumeRole",
      Principal: { AWS: "arn:aws:iam::000000000000:root" } }] };
    const { Role } = await iam.send(new iamSdk.CreateRoleCommand({ RoleName: `js-${unique}`,
      AssumeRolePolicyDocument: JSON.stringify(trust) }));
    const got = await iam.send(new iamSdk.GetRoleCommand({ RoleName: `js-${unique}` }));
    const sts = new stsSdk.STSClient(config);
    const assumed = await sts.send(new stsSdk.AssumeRoleCommand({ RoleArn: Role.Arn, RoleSessionName: "js" }));
    const asRole = new stsSdk.STSClient({ ...config, credentials: {
      accessKeyId: assumed.Credentials.AccessKeyId, secretAccessKey: assumed.Credentials.SecretAccessKey,
      sessionToken: assumed.Credentials.SessionToken } });
    const me = await asRole.send(new stsSdk.GetCallerIdentityCommand({}));
    return { trust: JSON.parse(decodeURIComponent(got.Role.AssumeRolePolicyDocument)), arn: me.Arn };
  },
  async pipes() {
    const source = await queue(`js-pipe-src-${unique}`);
    const target = await queue(`js-pipe-dst-${unique}`);
    const pipes = new pipesSdk.PipesClient(config);
    await pipes.send(new pipesSdk.CreatePipeCommand({ Name: `js-${unique}`, RoleArn: ROLE, Source: source.arn,
      Target: target.arn }));
    await until(async () => (await pipes.send(new pipesSdk.DescribePipeCommand({ Name: `js-${unique}` })))
      .CurrentState === "RUNNING", "a RUNNING pipe");
    await source.sqs.send(new sqsSdk.SendMessageCommand({ QueueUrl: source.url, MessageBody: "piped" }));
    return { body: JSON.parse((await target.receive())[0].Body).body };
  },
  async schemas() {
    const schemas = new schemasSdk.SchemasClient(config);
    await schemas.send(new schemasSdk.CreateRegistryCommand({ RegistryName: `js-${unique}` }));
    const content = JSON.stringify({ openapi: "3.0.0", info: { version: "1.0.0", title: "Order" }, paths: {},
      components: { schemas: { Order: { type: "object", properties: { id: { type: "string" } } } } } });
    await schemas.send(new schemasSdk.CreateSchemaCommand({ RegistryName: `js-${unique}`, SchemaName: "Order",
      Type: "OpenApi3", Content: content }));
    const got = await schemas.send(new schemasSdk.DescribeSchemaCommand({ RegistryName: `js-${unique}`, SchemaName: "Order" }));
    return { version: got.SchemaVersion, type: got.Type };
  },
};

console.log(JSON.stringify(await scenarios[scenario]()));
