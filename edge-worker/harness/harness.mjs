#!/usr/bin/env node
// Local edge harness: the bucketcors worker in workerd (through Miniflare)
// with a local Workers KV namespace, plus an HTTP endpoint that speaks the
// Cloudflare KV REST API shape and writes into that same namespace:
//
//   PUT|GET|DELETE /client/v4/accounts/{account_id}/storage/kv/namespaces/{namespace_id}/values/{key}
//   Authorization: Bearer {token}
//
// so the operator's real publisher can be pointed at it. Prints
//   edge http://127.0.0.1:PORT
//   api  http://127.0.0.1:PORT/client/v4
//   ready
// and runs until SIGINT/SIGTERM or until its standard input closes
// (--exit-on-stdin-close), then stops workerd, removes every temporary
// directory it made (its own /tmp/bucketcors-edge-* and Miniflare's
// miniflare-* working directory, which lives inside it) and exits 0.
// Miniflare's own signal handlers would end the process first (exit 143 on
// SIGTERM, 130 on SIGINT) and leave both behind, so they are replaced.
//
// Test hook (not part of Cloudflare's API): POST /__harness/faults with
// {"status":429,"count":2,"retryAfter":"1"} answers the next `count` API
// calls with that status, to exercise the publisher's retries.

import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { Miniflare, Log, LogLevel } from "miniflare";

process.env.WRANGLER_SEND_METRICS ??= "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  options: {
    "worker-build": { type: "string", default: path.join(here, "..", "build") },
    "worker-bundle": { type: "string" },
    "port": { type: "string", default: "0" },
    "api-port": { type: "string", default: "0" },
    "account-id": { type: "string", default: "local-account" },
    "namespace-id": { type: "string", default: "local-namespace" },
    "token": { type: "string", default: process.env.BUCKETCORS_HARNESS_TOKEN ?? "local-token" },
    "rules-ttl": { type: "string", default: "5" },
    "body-cache-ttl": { type: "string", default: "60" },
    "default-dialect": { type: "string", default: "s3" },
    "exit-on-stdin-close": { type: "boolean", default: false },
    "verbose": { type: "boolean", default: false },
  },
});

// --worker-bundle DIR: the worker exactly as `wrangler deploy --dry-run
// --outdir DIR` bundled it (DIR/shim.js and its wasm), the path a deploy
// uploads; what the tests run. --worker-build DIR: worker-build's output
// (DIR/worker/shim.mjs importing ../index.js), as the benchmarks compare.
const bundle = opts["worker-bundle"] !== undefined;
const build = path.resolve(bundle ? opts["worker-bundle"] : opts["worker-build"]);
const shim = bundle ? path.join(build, "shim.js") : path.join(build, "worker", "shim.mjs");
if (!fs.existsSync(shim)) {
  const how = bundle ? "scripts/bundle-worker.sh" : "scripts/build-worker.sh";
  console.error(`harness: ${shim} does not exist; build the worker first with ${how}`);
  process.exit(2);
}

const BINDING = "BUCKETCORS_RULES";
const persistDir = fs.mkdtempSync(path.join(os.tmpdir(), "bucketcors-edge-"));
// Miniflare makes its working directory under os.tmpdir() (read from
// TMPDIR when it is constructed): inside persistDir, one removal takes both.
process.env.TMPDIR = persistDir;

const mf = new Miniflare({
  host: "127.0.0.1",
  port: Number(opts.port),
  log: new Log(opts.verbose ? LogLevel.DEBUG : LogLevel.INFO),
  modules: true,
  modulesRoot: build,
  scriptPath: shim,
  modulesRules: [
    { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
    { type: "CompiledWasm", include: ["**/*.wasm"] },
  ],
  compatibilityDate: "2025-09-01",
  kvNamespaces: { [BINDING]: opts["namespace-id"] },
  kvPersist: path.join(persistDir, "kv"),
  cache: true,
  cachePersist: path.join(persistDir, "cache"),
  bindings: {
    RULES_TTL_SECONDS: opts["rules-ttl"],
    BODY_CACHE_TTL_SECONDS: opts["body-cache-ttl"],
    DEFAULT_DIALECT: opts["default-dialect"],
  },
});

// Miniflare registered its exit hook's SIGINT/SIGTERM listeners in its
// constructor; they call process.exit before anything here could clean up.
process.removeAllListeners("SIGINT");
process.removeAllListeners("SIGTERM");
let api = null;
let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  // A dispose that hangs must not keep the process (or its directory).
  const force = setTimeout(() => {
    fs.rmSync(persistDir, { recursive: true, force: true });
    process.exit(code);
  }, 10_000);
  force.unref();
  try {
    api?.close();
    await mf.dispose();
  } catch (err) {
    console.error("harness: stopping workerd failed", err);
  } finally {
    fs.rmSync(persistDir, { recursive: true, force: true });
    process.exit(code);
  }
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

const edgeUrl = await mf.ready;
const kv = await mf.getKVNamespace(BINDING);

// ---- Cloudflare KV REST API shape ----------------------------------------
const VALUE_PATH = /^\/client\/v4\/accounts\/([^/]+)\/storage\/kv\/namespaces\/([^/]+)\/values\/(.+)$/;
let faults = { status: 0, count: 0, retryAfter: undefined };

function reply(res, status, body, headers = {}) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(text);
}
const envelope = (result = null) => ({ success: true, errors: [], messages: [], result });
const failure = (code, message) => ({ success: false, errors: [{ code, message }], messages: [], result: null });

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

api = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, "http://localhost");
    if (req.method === "POST" && url.pathname === "/__harness/faults") {
      faults = { status: 0, count: 0, retryAfter: undefined, ...JSON.parse((await readBody(req)).toString()) };
      return reply(res, 200, envelope(faults));
    }
    const m = VALUE_PATH.exec(url.pathname);
    if (!m) return reply(res, 404, failure(7003, "Could not route to " + url.pathname));
    const auth = req.headers.authorization ?? "";
    if (auth !== `Bearer ${opts.token}`) return reply(res, 401, failure(10000, "Authentication error"));
    const [, account, namespace, rawKey] = m;
    if (account !== opts["account-id"]) return reply(res, 403, failure(10000, "Authentication error"));
    if (namespace !== opts["namespace-id"]) return reply(res, 404, failure(10013, "namespace not found"));
    if (faults.count > 0) {
      faults.count -= 1;
      const headers = faults.retryAfter !== undefined ? { "retry-after": String(faults.retryAfter) } : {};
      await readBody(req);
      return reply(res, faults.status, failure(10429, "injected fault"), headers);
    }
    const key = decodeURIComponent(rawKey);
    if (req.method === "PUT") {
      const body = await readBody(req);
      await kv.put(key, body.toString("utf8"));
      if (opts.verbose) console.error(`harness: PUT ${key} (${body.length} bytes)`);
      return reply(res, 200, envelope());
    }
    if (req.method === "GET") {
      const value = await kv.get(key);
      if (value === null) return reply(res, 404, failure(10009, "get: 'key not found'"));
      res.writeHead(200, { "content-type": "application/octet-stream" });
      return res.end(value);
    }
    if (req.method === "DELETE") {
      await kv.delete(key);
      return reply(res, 200, envelope());
    }
    return reply(res, 405, failure(10000, "method not allowed"));
  } catch (err) {
    console.error("harness: api error", err);
    return reply(res, 500, failure(10001, "internal error"));
  }
});
await new Promise((resolve) => api.listen(Number(opts["api-port"]), "127.0.0.1", resolve));
const apiUrl = `http://127.0.0.1:${api.address().port}/client/v4`;

if (opts["exit-on-stdin-close"]) {
  process.stdin.on("end", () => stop(0));
  process.stdin.on("close", () => stop(0));
  process.stdin.resume();
}

const edge = edgeUrl.toString().replace(/\/$/, "");
console.log(`edge ${edge}`);
console.log(`api ${apiUrl}`);
console.log(`account ${opts["account-id"]}`);
console.log(`namespace ${opts["namespace-id"]}`);
console.log("ready");
