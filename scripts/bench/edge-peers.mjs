#!/usr/bin/env node
// Peers for the edge benchmark (scripts/bench.sh edge), started together:
//   - a static origin, the "bucket" both workers forward to. Every answer
//     is a 200 with a fixed 1 KiB body; paths under /nostore/ are sent with
//     `Cache-Control: no-store` (the bucketcors body cache never keeps them,
//     so both workers fetch the origin on every request), other paths with
//     `Cache-Control: public, max-age=60` (cached by the bucketcors worker);
//   - the empty peer worker, edge-worker/empty-peer (workers-rs, built with
//     `scripts/build-worker.sh edge-worker/empty-peer`), served exactly as
//     edge-worker/harness/harness.mjs serves the bucketcors worker: the same
//     Miniflare (hence workerd) from the harness's lockfile, the same
//     worker-build output layout, compatibility date and log level.
//     It answers OPTIONS with an empty 200 and passes every other request
//     through to the origin: the floor, workers-rs with no CORS logic.
// Prints `origin URL`, `empty URL`, `ready`; stops on SIGTERM/SIGINT.
//
//   node scripts/bench/edge-peers.mjs [--empty-build DIR]
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

process.env.WRANGLER_SEND_METRICS ??= "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, "..", "..");
const harness = path.join(root, "edge-worker", "harness");
const require = createRequire(path.join(harness, "package.json"));
const { Miniflare, Log, LogLevel } = await import(pathToFileURL(require.resolve("miniflare")).href);

const { values: opts } = parseArgs({
  options: {
    "empty-build": { type: "string", default: path.join(root, "edge-worker", "empty-peer", "build") },
  },
});
const build = path.resolve(opts["empty-build"]);
const shim = path.join(build, "worker", "shim.mjs");
if (!fs.existsSync(shim)) {
  console.error(`edge-peers: ${shim} does not exist; build it with scripts/build-worker.sh edge-worker/empty-peer`);
  process.exit(2);
}

const body = Buffer.alloc(1024, "x");
const origin = http.createServer((req, res) => {
  const noStore = req.url.startsWith("/nostore/");
  res.writeHead(200, {
    "content-type": "application/octet-stream",
    "content-length": body.length,
    "cache-control": noStore ? "no-store" : "public, max-age=60",
  });
  res.end(req.method === "HEAD" ? undefined : body);
});
origin.keepAliveTimeout = 60_000;
await new Promise((r) => origin.listen(0, "127.0.0.1", r));
const originUrl = `http://127.0.0.1:${origin.address().port}`;

// The options harness.mjs gives the bucketcors worker, minus the KV
// namespace and its vars (the empty worker reads neither); its cache is
// in memory (the empty worker never uses it).
const mf = new Miniflare({
  host: "127.0.0.1",
  port: 0,
  log: new Log(LogLevel.INFO),
  modules: true,
  modulesRoot: build,
  scriptPath: shim,
  modulesRules: [
    { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
    { type: "CompiledWasm", include: ["**/*.wasm"] },
  ],
  compatibilityDate: "2025-09-01",
  cache: true,
  bindings: { ORIGIN_URL: originUrl },
});
const emptyUrl = (await mf.ready).toString().replace(/\/$/, "");
console.log(`origin ${originUrl}`);
console.log(`empty ${emptyUrl}`);
console.log("ready");
const stop = async () => { origin.close(); await mf.dispose(); process.exit(0); };
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
