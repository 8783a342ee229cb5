// Eventyard's small Node.js runtime client: loads `file.export` from LAMBDA_TASK_ROOT and loops on
// the Lambda Runtime API (next -> handler -> response|error), as AWS's nodejs runtime does.
"use strict";
const http = require("http");
const path = require("path");
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const base = "/2018-06-01/runtime";

function call(method, p, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path: base + p, headers: headers || {} }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function errorDoc(err) {
  return JSON.stringify({ errorType: (err && err.name) || "Error", errorMessage: (err && err.message) || String(err),
    trace: err && err.stack ? String(err.stack).split("\n") : [] });
}

async function main() {
  const [file, fn] = process.argv[2].split(/\.(?=[^.]+$)/);
  let handler;
  try {
    const mod = require(path.join(process.env.LAMBDA_TASK_ROOT, file));
    handler = mod[fn];
    if (typeof handler !== "function") throw Object.assign(new Error(`${file}.${fn} is undefined or not exported`), { name: "Runtime.HandlerNotFound" });
  } catch (err) {
    await call("POST", "/init/error", errorDoc(err), { "Lambda-Runtime-Function-Error-Type": err.name || "Runtime.ImportModuleError" });
    process.exit(1);
  }
  for (;;) {
    const next = await call("GET", "/invocation/next");
    const id = next.headers["lambda-runtime-aws-request-id"];
    process.env._X_AMZN_TRACE_ID = next.headers["lambda-runtime-trace-id"] || "";
    const deadline = Number(next.headers["lambda-runtime-deadline-ms"]);
    const context = { awsRequestId: id, functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION, invokedFunctionArn: next.headers["lambda-runtime-invoked-function-arn"],
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME, getRemainingTimeInMillis: () => deadline - Date.now() };
    try {
      const result = await handler(JSON.parse(next.body), context);
      await call("POST", `/invocation/${id}/response`, JSON.stringify(result === undefined ? null : result));
    } catch (err) {
      await call("POST", `/invocation/${id}/error`, errorDoc(err), { "Lambda-Runtime-Function-Error-Type": "Unhandled" });
    }
  }
}
main();
