// Eventyard's small Node.js runtime client: loads `file.export` from LAMBDA_TASK_ROOT and loops on
// the Lambda Runtime API (next -> handler -> response|error), as AWS's nodejs runtime does.
// Modules: `file.mjs` (ES module), `file.cjs` (CommonJS) or `file.js` (either, as package.json's
// "type" says). Handlers: async (or returning a promise), or callback style `(event, context, callback)`.
"use strict";
const fs = require("fs");
const http = require("http");
const path = require("path");
const { Writable } = require("stream");
const { pathToFileURL } = require("url");
const util = require("util");
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
  if (!(err instanceof Error)) {  // AWS: a thrown non-Error keeps its own type name
    return JSON.stringify({ errorType: typeof err, errorMessage: String(err), trace: [] });
  }
  return JSON.stringify({ errorType: err.name || "Error", errorMessage: err.message || "",
    trace: err.stack ? String(err.stack).split("\n") : [] });
}

// As AWS's runtime does: console lines carry the time, the request id and the level, and a
// multi-line message stays one log event: a frame on the telemetry pipe when the platform gives one
// (type 0xa55a0003, length, timestamp in microseconds, message; big-endian), else one stdout line
// whose newlines become carriage returns.
let currentRequestId;
const telemetryFd = process.env._LAMBDA_TELEMETRY_LOG_FD ? Number(process.env._LAMBDA_TELEMETRY_LOG_FD) : null;
delete process.env._LAMBDA_TELEMETRY_LOG_FD;

function writeFrame(text) {
  const message = Buffer.from(text, "utf8");
  const header = Buffer.alloc(16);
  header.writeUInt32BE(0xa55a0003, 0);
  header.writeUInt32BE(message.length, 4);
  header.writeBigUInt64BE(BigInt(Date.now()) * 1000n, 8);
  fs.writeSync(telemetryFd, Buffer.concat([header, message]));
}

function patchConsole() {
  const levels = { log: "INFO", info: "INFO", warn: "WARN", error: "ERROR", debug: "DEBUG", trace: "TRACE" };
  for (const [method, level] of Object.entries(levels)) {
    console[method] = (...args) => {
      const message = util.format(...args);
      const prefix = `${new Date().toISOString()}\t${currentRequestId}\t${level}\t`;
      if (telemetryFd !== null) writeFrame(`${prefix}${message}\n`);
      else process.stdout.write(`${prefix}${message.replace(/\n/g, "\r")}\n`);
    };
  }
}

// Response streaming, as AWS's runtime offers it in the global `awslambda`: a handler wrapped by
// streamifyResponse gets (event, responseStream, context) and answers through the stream; an HTTP
// response stream (HttpResponseStream.from) starts with its metadata as JSON and eight NUL bytes.
// Eventyard sends the streamed body as one response once the stream ends.
const STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
const HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response";

class ResponseStream extends Writable {
  constructor() {
    super();
    this.chunks = [];
    this.contentType = "application/octet-stream";
  }
  _write(chunk, encoding, done) {
    this.chunks.push(Buffer.from(chunk, encoding));
    done();
  }
  setContentType(type) {
    this.contentType = type;
  }
}

globalThis.awslambda = {
  streamifyResponse(handler) {
    handler[STREAMING] = "response";
    return handler;
  },
  HttpResponseStream: {
    from(stream, metadata) {
      stream.setContentType(HTTP_INTEGRATION);
      stream.write(JSON.stringify(metadata || {}));
      stream.write(Buffer.alloc(8));
      return stream;
    },
  },
};

async function invokeStreaming(handler, event, context) {
  const stream = new ResponseStream();
  const finished = new Promise((resolve, reject) => {
    stream.on("finish", resolve);
    stream.on("error", reject);
  });
  await handler(event, stream, context);
  await finished;
  return { body: Buffer.concat(stream.chunks), contentType: stream.contentType };
}

function named(name, message) {
  return Object.assign(new Error(message), { name });
}

// The module file AWS's runtime would load for `file`: .js, then .mjs, then .cjs.
function moduleFile(root, file) {
  for (const ext of [".js", ".mjs", ".cjs"]) {
    const candidate = path.join(root, file + ext);
    if (fs.existsSync(candidate)) return candidate;
  }
  return null;
}

async function load(root, file) {
  const found = moduleFile(root, file);
  if (found === null) {
    throw named("Runtime.ImportModuleError", `Error: Cannot find module '${file}'\nRequire stack:\n- /var/runtime/index.mjs`);
  }
  try {
    if (found.endsWith(".mjs")) return await import(pathToFileURL(found).href);
    try {
      return require(found);
    } catch (err) {
      // a .js file in a "type": "module" package is an ES module
      if (err && err.code === "ERR_REQUIRE_ESM") return await import(pathToFileURL(found).href);
      throw err;
    }
  } catch (err) {
    if (err instanceof SyntaxError) throw named("Runtime.UserCodeSyntaxError", `${err.name}: ${err.message}`);
    throw err;
  }
}

// Run one invocation: an async handler's promise, or a callback handler's callback (whichever settles).
function invoke(handler, event, context) {
  return new Promise((resolve, reject) => {
    const callback = (err, result) => (err !== null && err !== undefined ? reject(err) : resolve(result));
    context.done = callback;
    context.succeed = (result) => resolve(result);
    context.fail = (err) => reject(err);
    try {
      const returned = handler(event, context, callback);
      if (returned && typeof returned.then === "function") {
        returned.then(resolve, reject);
      } else if (handler.length < 3) {
        resolve(returned);  // a synchronous handler without a callback answers what it returns
      }
    } catch (err) {
      reject(err);
    }
  });
}

// AWS's runtime ships the SDK in /var/runtime/node_modules, which ES modules (`import`) find too;
// Node's ESM resolution ignores NODE_PATH, so a resolve hook retries a bare specifier from the
// folders NODE_PATH lists after the task root (the server's stand-in for /var/runtime/node_modules).
function resolveRuntimeModulesFromEsm() {
  const { register } = require("module");
  const entries = (process.env.NODE_PATH || "").split(":");
  const roots = entries.slice(entries.indexOf(process.env.LAMBDA_TASK_ROOT) + 1).filter((p) => p.endsWith("node_modules"));
  if (typeof register !== "function" || roots.length === 0) return;
  const parents = roots.map((root) => pathToFileURL(path.join(path.dirname(root), "index.mjs")).href);
  const hooks = `const parents = ${JSON.stringify(parents)};
export async function resolve(specifier, context, next) {
  try { return await next(specifier, context); } catch (err) {
    if (err?.code !== "ERR_MODULE_NOT_FOUND" || /^([./]|[a-z][a-z0-9+.-]*:)/i.test(specifier)) throw err;
    for (const parentURL of parents) {
      try { return await next(specifier, { ...context, parentURL }); } catch {}
    }
    throw err;
  }
}`;
  register("data:text/javascript," + encodeURIComponent(hooks));
}

async function main() {
  patchConsole();
  resolveRuntimeModulesFromEsm();
  const [file, fn] = process.argv[2].split(/\.(?=[^.]+$)/);
  let handler;
  try {
    const mod = await load(process.env.LAMBDA_TASK_ROOT, file);
    handler = mod[fn] !== undefined ? mod[fn] : mod.default && mod.default[fn];
    if (typeof handler !== "function") throw named("Runtime.HandlerNotFound", `${file}.${fn} is undefined or not exported`);
  } catch (err) {
    await call("POST", "/init/error", errorDoc(err), { "Lambda-Runtime-Function-Error-Type": err.name || "Runtime.ImportModuleError" });
    process.exit(1);
  }
  for (;;) {
    const next = await call("GET", "/invocation/next");
    const id = next.headers["lambda-runtime-aws-request-id"];
    currentRequestId = id;
    process.env._X_AMZN_TRACE_ID = next.headers["lambda-runtime-trace-id"] || "";
    const deadline = Number(next.headers["lambda-runtime-deadline-ms"]);
    const context = { awsRequestId: id, functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION, invokedFunctionArn: next.headers["lambda-runtime-invoked-function-arn"],
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME, callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => deadline - Date.now() };
    try {
      if (handler[STREAMING] === "response") {
        const { body, contentType } = await invokeStreaming(handler, JSON.parse(next.body), context);
        await call("POST", `/invocation/${id}/response`, body, { "Content-Type": contentType,
          "Lambda-Runtime-Function-Response-Mode": "streaming" });
        continue;
      }
      const result = await invoke(handler, JSON.parse(next.body), context);
      await call("POST", `/invocation/${id}/response`, JSON.stringify(result === undefined ? null : result));
    } catch (err) {
      await call("POST", `/invocation/${id}/error`, errorDoc(err), { "Lambda-Runtime-Function-Error-Type": "Unhandled" });
    }
  }
}
main();
