#!/usr/bin/env node
// The console's page in a real browser, on a line protocol, for the Rust
// tests in tests/tests/console_*.rs: Debian Chromium through playwright-core
// (never a downloaded browser), axe-core for WCAG A/AA. It lives next to
// console/web's package.json so that both resolve from its node_modules.
//
// The driver observes and acts like a user (labels, buttons, text on the
// page); it never judges: the Rust test compares what it reports with the
// CLI, the cluster or the directory.
//
// Usage: node driver.mjs CONSOLE_URL   (the URL `bucketcors console` printed)
// Prints {"ready":true,"firstRenderMs":N} once the page has rendered, then
// answers one JSON command per stdin line with one JSON line:
//   {"cmd":"goto","hash":"#/o/ns/name/edit"}       -> {"ok":true,"renderMs":N}
//   {"cmd":"fill","selector":"#r0-allowedOrigins","value":"..."}
//   {"cmd":"check","selector":"...","checked":true}
//   {"cmd":"click","selector":"..."}
//   {"cmd":"press","key":"Tab"}                     -> {"ok":true,"focused":"<id or tag>"}
//   {"cmd":"type","text":"..."}                     (keyboard input into the focused control)
//   {"cmd":"text","selector":"..."}                 -> {"ok":true,"text":"..."} ("" when absent)
//   {"cmd":"texts","selector":"..."}                -> {"ok":true,"texts":[...]}
//   {"cmd":"count","selector":"..."}                -> {"ok":true,"count":N}
//   {"cmd":"waitText","selector":"...","contains":"...","timeoutMs":N}
//   {"cmd":"viewport","width":W,"height":H}
//   {"cmd":"screenshot","path":"...","fullPage":true}
//   {"cmd":"axe"}                                   -> {"ok":true,"violations":[{id,impact,help,nodes}]}
//   {"cmd":"tester","requests":[{url?,origin,method,headers,credentials}]}
//        -> {"ok":true,"results":[{edited:{...},applied:{...}}]} (read back from the page's text)
//   {"cmd":"forgeWrite","path":"api/objects/ns/name","body":"...","csrf":true}
//        -> {"ok":true,"status":N,"text":"..."} (a fetch from the page itself)
// Failures answer {"ok":false,"error":"..."}. Exits when stdin closes; 2 when
// Chromium is missing (CHROMIUM_BIN overrides /usr/bin/chromium).

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const url = process.argv[2];
if (!url) {
  console.error("usage: node driver.mjs CONSOLE_URL");
  process.exit(64);
}
const executablePath = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
if (!fs.existsSync(executablePath)) {
  console.error(`console driver: ${executablePath} is missing; run scripts/install/chromium.sh`);
  process.exit(2);
}
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bucketcors-console-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = context.pages()[0] ?? (await context.newPage());
const consoleErrors = [];
page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
page.on("pageerror", (e) => consoleErrors.push(String(e)));

const t0 = Date.now();
await page.goto(url);
await page.waitForSelector("body[data-ready=true]", { timeout: 30000 });
// The page's own clock: navigation start (the redirect that sets the
// cookie included) to the first full render, as the page recorded it.
const firstRenderMs = await page.evaluate(() => Number(document.body.dataset.renderMs));
console.log(JSON.stringify({ ready: true, firstRenderMs, wallMs: Date.now() - t0 }));

// Reads one tester column back from what the page shows.
const readColumn = (id) => page.evaluate((id) => {
  const col = document.getElementById(id);
  if (!col) return null;
  const err = col.querySelector(".error");
  if (err) return { error: err.textContent };
  const ex = (stage) => {
    const s = col.querySelector(`[data-stage=${stage}]`);
    if (!s) return null;
    const req = s.querySelector("pre.request").textContent.split("\n");
    const [head, ...rest] = s.querySelector("pre.response").textContent.split("\n\n");
    const [statusLine, ...headerLines] = head.split("\n");
    const split = (l) => { const at = l.indexOf(": "); return [l.slice(0, at), l.slice(at + 2)]; };
    const matched = s.querySelector(".matched").textContent.match(/^Rule (\d+) matched/);
    return {
      method: req[0].split(" ")[0],
      requestHeaders: req.slice(1).map(split),
      status: Number(statusLine.split(" ")[1]),
      headers: headerLines.map(split),
      body: rest.length ? rest.join("\n\n") : null,
      matchedRule: matched ? Number(matched[1]) : null,
      explanation: [...s.querySelectorAll(".explanation li")].map((li) => li.textContent),
    };
  };
  const b = col.querySelector(".browser");
  return { preflight: ex("preflight"), actual: ex("actual"), allowed: b?.dataset.allowed === "true", reason: b?.dataset.reason ?? "", browser: b?.textContent ?? "",
    notes: [...col.querySelectorAll(".note")].map((n) => n.textContent) };
}, id);

async function handle(c) {
  switch (c.cmd) {
    case "goto": {
      const start = Date.now();
      await page.evaluate((h) => { location.hash = h; }, c.hash);
      await page.waitForFunction((h) => location.hash === h, c.hash);
      return { renderMs: Date.now() - start };
    }
    case "reload":
      await page.goto(url);
      await page.waitForSelector("body[data-ready=true]");
      return {};
    case "fill": await page.fill(c.selector, c.value); return {};
    case "check": await page.setChecked(c.selector, c.checked); return {};
    case "click": await page.click(c.selector, { timeout: c.timeoutMs ?? 30000 }); return {};
    case "press": {
      await page.keyboard.press(c.key);
      const focused = await page.evaluate(() => { const a = document.activeElement; return a ? (a.id || a.tagName.toLowerCase() + ":" + (a.textContent ?? "").trim().slice(0, 40)) : ""; });
      return { focused };
    }
    case "type": await page.keyboard.type(c.text); return {};
    case "text": {
      const el = await page.$(c.selector);
      return { text: el ? await el.innerText() : "" };
    }
    case "texts": return { texts: await page.$$eval(c.selector, (els) => els.map((e) => e.innerText)) };
    case "count": return { count: await page.$$eval(c.selector, (els) => els.length) };
    case "waitText":
      await page.waitForFunction(([s, t]) => document.querySelector(s)?.textContent?.includes(t), [c.selector, c.contains], { timeout: c.timeoutMs ?? 10000 });
      return {};
    case "viewport": await page.setViewportSize({ width: c.width, height: c.height }); return {};
    case "screenshot": await page.screenshot({ path: c.path, fullPage: c.fullPage ?? false }); return {};
    case "axe": {
      await page.evaluate(axeSource);
      const r = await page.evaluate(() => window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }));
      return { violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) })) };
    }
    case "tester": {
      const results = [];
      for (const r of c.requests) {
        if (r.url) await page.fill("#t-url", r.url);
        await page.fill("#t-origin", r.origin);
        await page.fill("#t-method", r.method);
        await page.fill("#t-headers", r.headers.map(([n, v]) => `${n}: ${v}`).join("\n"));
        await page.setChecked("#t-credentials", r.credentials);
        await page.click("#t-run");
        results.push({ edited: await readColumn("edited"), applied: await readColumn("applied") });
      }
      return { results };
    }
    case "forgeWrite": return await page.evaluate(async ([p, body, withCsrf]) => {
      const s = await (await fetch("api/session")).json();
      const headers = { "Content-Type": "application/json" };
      if (withCsrf) headers["X-Bucketcors-Csrf"] = s.csrf;
      const r = await fetch(p, { method: "PUT", headers, body });
      return { status: r.status, text: await r.text() };
    }, [c.path, c.body, c.csrf]);
    case "errors": return { errors: consoleErrors.splice(0) };
    default: throw new Error(`unknown command ${c.cmd}`);
  }
}

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  let reply;
  try {
    reply = { ok: true, ...(await handle(JSON.parse(line))) };
  } catch (e) {
    reply = { ok: false, error: String(e?.message ?? e) };
  }
  console.log(JSON.stringify(reply));
}
await context.close();
fs.rmSync(userDataDir, { recursive: true, force: true });
