#!/usr/bin/env node
// A real browser on a line protocol, for tests that interleave browser
// fetches with their own steps (applying manifests, deleting resources):
// Debian Chromium driven by playwright-core serves one page per named origin
// (http://NAME.test:P, all from one local page server) and runs `fetch` in
// the page the caller names. Every *.test name resolves to 127.0.0.1 inside
// the browser (--host-resolver-rules), so the edge sees the route host in the
// URL; `localhost` resolves as usual.
//
// The driver only reports what a web page can observe: whether fetch
// resolved, the status, the body, the response headers the page asked to
// read (null when CORS hides them), and the console messages Chromium logged
// meanwhile (it explains CORS failures there). It never judges: the caller
// compares what it saw with the engine's decision.
//
// Usage: node browser-driver.mjs ORIGIN_NAME...      (e.g. app other)
//        BROWSER_DRIVER_PAGE_PORT=80 fixes the pages' port.
// Prints one line when ready:
//   {"ready":true,"pagePort":P,"origins":{"app":"http://app.test:P",...}}
// Then reads one JSON request per line on stdin and answers one JSON line:
//   {"id":1,"page":"app","url":"...","init":{...fetch init...},"readHeaders":["etag"]}
//   -> {"id":1,"ok":true,"status":200,"body":"...","headers":{"etag":"..."},"console":[...]}
//   -> {"id":1,"ok":false,"error":"TypeError: Failed to fetch","console":[...]}
// Closes the browser and exits when stdin closes. Exits 2 when Chromium is
// missing (CHROMIUM_BIN overrides /usr/bin/chromium).

import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { chromium } from "playwright-core";

const names = process.argv.slice(2);
if (names.length === 0 || names.some((n) => !/^[a-z][a-z0-9-]*$/.test(n))) {
  console.error("usage: node browser-driver.mjs ORIGIN_NAME... (lower-case DNS labels)");
  process.exit(64);
}
const executablePath = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
if (!fs.existsSync(executablePath)) {
  console.error(`browser-driver: ${executablePath} is missing; run scripts/install/chromium.sh`);
  process.exit(2);
}

const pages = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end("<!doctype html><title>bucketcors system test</title><p>page</p>");
});
// BROWSER_DRIVER_PAGE_PORT fixes the page port (80 shows what a default
// port does to the origin); by default any free port.
await new Promise((r) => pages.listen(Number(process.env.BROWSER_DRIVER_PAGE_PORT ?? 0), "127.0.0.1", r));
const pagePort = pages.address().port;
// The serialized origin, as the page itself has it (no default port).
const origins = Object.fromEntries(
  names.map((n) => [n, new URL(`http://${n}.test:${pagePort}`).origin]),
);

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

const open = {};
const consoleLog = {};
for (const [name, origin] of Object.entries(origins)) {
  const page = await context.newPage();
  consoleLog[name] = [];
  page.on("console", (m) => consoleLog[name].push(m.text()));
  await page.goto(origin + "/");
  open[name] = page;
}

async function run(request) {
  const page = open[request.page];
  if (!page) return { ok: false, error: `no page named ${request.page}` };
  consoleLog[request.page].length = 0;
  const seen = await page.evaluate(async ({ url, init, readHeaders }) => {
    try {
      const r = await fetch(url, init);
      const headers = {};
      for (const h of readHeaders) headers[h] = r.headers.get(h);
      return { ok: true, status: r.status, body: await r.text(), headers };
    } catch (e) {
      return { ok: false, error: String(e) };
    }
  }, {
    url: request.url,
    // The browser's HTTP cache is not under test: an entry stored before a
    // rule change would answer for the edge. `no-store` adds no header, so
    // it never turns a simple request into a preflighted one.
    init: { cache: "no-store", ...(request.init ?? {}) },
    readHeaders: request.readHeaders ?? [],
  });
  // Chromium reports a CORS failure on the console right after the promise
  // rejects; give the message a moment to arrive.
  if (!seen.ok) await new Promise((r) => setTimeout(r, 50));
  return { ...seen, console: [...consoleLog[request.page]] };
}

async function shutdown(code) {
  await context.close().catch(() => {});
  pages.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
  process.exit(code);
}

console.log(JSON.stringify({ ready: true, pagePort, origins }));

// One request at a time, in order: the caller waits for each answer.
const lines = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on("line", (line) => {
  if (!line.trim()) return;
  queue = queue.then(async () => {
    let request;
    try {
      request = JSON.parse(line);
    } catch (e) {
      console.log(JSON.stringify({ id: null, ok: false, error: `bad request line: ${e}` }));
      return;
    }
    let answer;
    try {
      answer = await run(request);
    } catch (e) {
      answer = { ok: false, error: `driver: ${e && e.stack || e}`, console: [] };
    }
    console.log(JSON.stringify({ id: request.id, ...answer }));
  });
});
lines.on("close", () => { queue.then(() => shutdown(0)); });
