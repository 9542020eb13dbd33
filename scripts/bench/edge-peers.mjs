#!/usr/bin/env node
// Peers for the edge benchmark (scripts/bench.sh edge), started together:
//   - a static origin: answers every GET with a fixed 1 KiB body, the
//     "bucket" both workers forward to;
//   - an empty worker served the same way as the bucketcors worker
//     (Miniflare/workerd, same compatibility date, loopback): it answers
//     OPTIONS with an empty 200 and passes every other request through to
//     the origin unchanged. It is the floor: what workerd costs with no
//     CORS logic at all.
// Prints `origin URL`, `empty URL`, `ready`; stops on SIGTERM/SIGINT.
import http from "node:http";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const harness = path.join(here, "..", "..", "edge-worker", "harness");
const require = createRequire(path.join(harness, "package.json"));
const { Miniflare, Log, LogLevel } = await import(pathToFileURL(require.resolve("miniflare")).href);

const body = Buffer.alloc(1024, "x");
const origin = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length, "cache-control": "max-age=60" });
  res.end(req.method === "HEAD" ? undefined : body);
});
origin.keepAliveTimeout = 60_000;
await new Promise((r) => origin.listen(0, "127.0.0.1", r));
const originUrl = `http://127.0.0.1:${origin.address().port}`;

const mf = new Miniflare({
  host: "127.0.0.1",
  port: 0,
  log: new Log(LogLevel.WARN),
  modules: true,
  compatibilityDate: "2025-09-01",
  bindings: { ORIGIN: originUrl },
  script: `export default {
    async fetch(req, env) {
      if (req.method === "OPTIONS") return new Response(null, { status: 200 });
      const u = new URL(req.url);
      return fetch(env.ORIGIN + u.pathname + u.search, { method: req.method, headers: req.headers });
    },
  };`,
});
const emptyUrl = (await mf.ready).toString().replace(/\/$/, "");
console.log(`origin ${originUrl}`);
console.log(`empty ${emptyUrl}`);
console.log("ready");
const stop = async () => { origin.close(); await mf.dispose(); process.exit(0); };
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
