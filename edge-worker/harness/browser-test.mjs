#!/usr/bin/env node
// Real-browser checks of the edge: Debian Chromium driven by playwright-core
// loads pages from two origins (http://app.test:P and http://other.test:P,
// both served here) and fetches through the edge worker. Every *.test name
// resolves to 127.0.0.1 inside the browser (--host-resolver-rules), so the
// edge sees the route host in the URL.
//
// Usage: node browser-test.mjs CONFIG.json
// CONFIG (written by tests/tests/edge_browser.rs):
//   { "edgePort": 8787, "api": {"url","accountId","namespaceId","token"},
//     "hosts": {"s3","oss","public"},
//     "changes": {"key": "route:...", "open": "<record JSON>", "closed": "<record JSON>",
//                 "openRevision": "...", "closedRevision": "..."} }
// Records are produced by the engine (Rust); this script never interprets
// rules, it only publishes the given JSON through the KV REST API.
// Prints one JSON line per scenario and a final "N passed, N failed" line;
// exits 1 when any scenario failed.

import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const executablePath = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
if (!fs.existsSync(executablePath)) {
  console.error(`browser-test: ${executablePath} is missing; run scripts/install/chromium.sh`);
  process.exit(2);
}

// One page server, two origins (the Host decides which one the page is).
const pages = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end("<!doctype html><title>bucketcors edge test</title><p>page</p>");
});
await new Promise((r) => pages.listen(0, "127.0.0.1", r));
const pagePort = pages.address().port;
const APP = `http://app.test:${pagePort}`;
const OTHER = `http://other.test:${pagePort}`;
const edge = (host) => `http://${host}:${config.edgePort}`;

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bucketcors-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP *.test 127.0.0.1",
  ],
});

async function openPage(origin) {
  const page = await context.newPage();
  await page.goto(origin + "/");
  return page;
}

// Runs fetch in the page; returns what a web page can observe.
async function pageFetch(page, url, init = {}, readHeaders = []) {
  return page.evaluate(async ({ url, init, readHeaders }) => {
    try {
      const r = await fetch(url, init);
      const headers = {};
      for (const h of readHeaders) headers[h] = r.headers.get(h);
      return { ok: true, status: r.status, body: await r.text(), headers };
    } catch (e) {
      return { ok: false, error: String(e) };
    }
  }, { url, init, readHeaders });
}

async function kvPut(key, value) {
  const url = `${config.api.url}/accounts/${config.api.accountId}/storage/kv/namespaces/${config.api.namespaceId}/values/${encodeURIComponent(key)}`;
  const r = await fetch(url, { method: "PUT", headers: { authorization: `Bearer ${config.api.token}` }, body: value });
  if (!r.ok) throw new Error(`KV PUT ${key}: ${r.status} ${await r.text()}`);
}

// Waits until the edge serves `revision` for `host` (seen from Node, not the page).
async function waitForRevision(host, revision) {
  const start = Date.now();
  for (;;) {
    // Node cannot resolve *.test; go to loopback with the route's Host.
    const served = await new Promise((resolve, reject) => {
      const req = http.request(
        { host: "127.0.0.1", port: config.edgePort, method: "OPTIONS", path: "/probe",
          headers: { host: host, origin: "https://probe.example" } },
        (res) => { res.resume(); resolve(res.headers["x-bucketcors-revision"]); });
      req.on("error", reject);
      req.end();
    });
    if (served === revision) return Date.now() - start;
    if (Date.now() - start > 15000) throw new Error(`edge never served ${revision}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const results = [];
async function scenario(name, fn) {
  const started = Date.now();
  try {
    const detail = await fn();
    results.push({ name, ok: true, ms: Date.now() - started, detail });
  } catch (e) {
    results.push({ name, ok: false, ms: Date.now() - started, error: String(e && e.stack || e) });
  }
  console.log(JSON.stringify(results[results.length - 1]));
}
function expect(cond, message, observed) {
  if (!cond) throw new Error(`${message}; observed ${JSON.stringify(observed)}`);
}

const app = await openPage(APP);
const other = await openPage(OTHER);
const { s3, oss, pub } = config.hosts;

await scenario("s3: allowed simple GET", async () => {
  const r = await pageFetch(app, `${edge(s3)}/b/simple-get.txt`);
  expect(r.ok && r.status === 200 && r.body === "object /b/simple-get.txt", "GET should succeed", r);
  return r.status;
});

await scenario("s3: allowed PUT with a custom header goes through a real preflight", async () => {
  const r = await pageFetch(app, `${edge(s3)}/b/put-allowed.bin`, {
    method: "PUT", headers: { "x-amz-meta-owner": "browser", "content-type": "application/octet-stream" }, body: "payload-allowed",
  });
  expect(r.ok && r.status === 200 && r.body === "payload-allowed", "PUT should succeed with echoed body", r);
  return r.status;
});

await scenario("s3: PUT with a header the rules do not allow is stopped by the preflight", async () => {
  const r = await pageFetch(app, `${edge(s3)}/b/put-denied.bin`, {
    method: "PUT", headers: { "x-forbidden": "1" }, body: "payload-denied",
  });
  expect(!r.ok, "PUT must fail (the origin must never see it)", r);
  return r.error;
});

await scenario("s3: denied origin cannot read the response", async () => {
  const r = await pageFetch(other, `${edge(s3)}/b/denied-origin.txt`);
  expect(!r.ok && /TypeError/.test(r.error), "fetch from other.test must fail", r);
  return r.error;
});

await scenario("s3: exposed response header is readable", async () => {
  const r = await pageFetch(app, `${edge(s3)}/b/exposed.txt`, {}, ["x-amz-meta-color"]);
  expect(r.ok && r.headers["x-amz-meta-color"] === "blue", "x-amz-meta-color is exposed", r);
  return r.headers;
});

await scenario("s3: unexposed response header is not readable", async () => {
  const r = await pageFetch(app, `${edge(s3)}/b/unexposed.txt`, {}, ["x-hidden", "x-origin-hits"]);
  expect(r.ok && r.headers["x-hidden"] === null && r.headers["x-origin-hits"] === null, "unexposed headers read as null", r);
  return r.headers;
});

await scenario("s3: credentialed request succeeds (echoed origin + Allow-Credentials)", async () => {
  const r = await pageFetch(app, `${edge(s3)}/b/credentialed.txt`, { credentials: "include" });
  expect(r.ok && r.status === 200, "credentialed GET should succeed", r);
  return r.status;
});

await scenario("s3 '*' rule: any origin may read, without credentials", async () => {
  const r = await pageFetch(other, `${edge(pub)}/b/public.txt`);
  expect(r.ok && r.status === 200, "GET from other.test through * rule", r);
  return r.status;
});

await scenario("s3 '*' rule: a credentialed request is refused by the browser (ACAO *)", async () => {
  const r = await pageFetch(other, `${edge(pub)}/b/public-cred.txt`, { credentials: "include" });
  expect(!r.ok, "credentials with Access-Control-Allow-Origin: * must fail", r);
  return r.error;
});

await scenario("oss: allowed simple GET", async () => {
  const r = await pageFetch(app, `${edge(oss)}/b/oss-get.txt`, {}, ["x-amz-meta-color"]);
  expect(r.ok && r.body === "object /b/oss-get.txt" && r.headers["x-amz-meta-color"] === "blue", "OSS GET with exposed header", r);
  return r.headers;
});

await scenario("oss: PUT with x-oss-* header through a real preflight", async () => {
  const r = await pageFetch(app, `${edge(oss)}/b/oss-put.bin`, {
    method: "PUT", headers: { "x-oss-meta-owner": "browser" }, body: "oss-payload",
  });
  expect(r.ok && r.body === "oss-payload", "OSS PUT should succeed", r);
  return r.status;
});

await scenario("oss: denied origin fails", async () => {
  const r = await pageFetch(other, `${edge(oss)}/b/oss-denied.txt`);
  expect(!r.ok, "fetch from other.test must fail", r);
  return r.error;
});

await scenario("oss: credentialed request fails (OSS sends no Allow-Credentials)", async () => {
  const r = await pageFetch(app, `${edge(oss)}/b/oss-cred.txt`, { credentials: "include" });
  expect(!r.ok, "credentialed fetch must fail without Access-Control-Allow-Credentials", r);
  return r.error;
});

let propagationMs = null;
await scenario("rules changed mid-test: other.test becomes allowed, then not again", async () => {
  const before = await pageFetch(other, `${edge(s3)}/b/change-1.txt`);
  expect(!before.ok, "other.test denied before the change", before);
  await kvPut(config.changes.key, config.changes.open);
  propagationMs = await waitForRevision(s3, config.changes.openRevision);
  const during = await pageFetch(other, `${edge(s3)}/b/change-2.txt`);
  expect(during.ok && during.status === 200, "other.test allowed after the change", during);
  const put = await pageFetch(other, `${edge(s3)}/b/change-put.bin`, { method: "PUT", headers: { "x-amz-meta-a": "1" }, body: "p" });
  expect(put.ok, "preflighted PUT from other.test allowed after the change", put);
  await kvPut(config.changes.key, config.changes.closed);
  await waitForRevision(s3, config.changes.closedRevision);
  const after = await pageFetch(other, `${edge(s3)}/b/change-3.txt`);
  expect(!after.ok, "other.test denied again after reverting", after);
  return { propagationMs };
});

await scenario("cached object: two origins alternately each get their own Allow-Origin", async () => {
  // The shared host allows both origins; the same URL is cached at the edge
  // after the first fetch. A pinned Access-Control-Allow-Origin would make
  // every fetch from the other origin fail.
  const url = `${edge(config.hosts.shared)}/b/cached-object.txt`;
  const outcomes = [];
  for (let i = 0; i < 6; i++) {
    const page = i % 2 === 0 ? app : other;
    const r = await pageFetch(page, url);
    outcomes.push(r.ok ? r.status : r.error);
    expect(r.ok && r.body === "object /b/cached-object.txt", `fetch ${i} from ${i % 2 === 0 ? "app" : "other"}`, r);
  }
  return outcomes;
});

await context.close();
pages.close();
fs.rmSync(userDataDir, { recursive: true, force: true });

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(JSON.stringify({ summary: true, passed, failed, propagationMs }));
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
