// Tester: a page's fetch (origin, method, headers, credentials) answered
// by the engine for the edited rules and for the applied ones, side by
// side: each request the browser sends, the exact response in the
// bucket's dialect, the per-rule explanation, and the browser's verdict.

import { session } from "./api";
import { h, render } from "./dom";
import { evaluate } from "./engine";
import { draft, hasDraft } from "./drafts";
import { tabs } from "./tabs";
import type { BucketCors, Config, Evaluation, Exchange, FetchRequest } from "./types";

const reasons: Record<number, string> = { 200: "OK", 400: "Bad Request", 403: "Forbidden" };
let last: Omit<FetchRequest, "url"> = { origin: "https://app.example.com", method: "GET", headers: [], credentials: false };
const urls = new Map<string, string>(); // object key -> the URL last tested

// The URL a page fetches by default: an object in the bucket, at the
// bucket's own URL (the server derives it as the operator does).
function defaultUrl(o: BucketCors): string {
  return `${o.url ?? "https://BUCKET"}/example.txt`;
}

function exchange(stage: string, e: Exchange, path: string): HTMLElement {
  const request = [`${e.method} ${path} HTTP/1.1`, ...e.requestHeaders.map(([n, v]) => `${n}: ${v}`)].join("\n");
  const response = [`HTTP/1.1 ${e.status} ${reasons[e.status] ?? ""}`.trimEnd(), ...e.headers.map(([n, v]) => `${n}: ${v}`)].join("\n")
    + (e.body ? `\n\n${e.body}` : "");
  return h("section", { class: "exchange", "data-stage": stage, "aria-label": stage },
    h("h4", {}, stage === "preflight" ? "Preflight" : "Actual request"),
    h("pre", { class: "request", tabindex: 0, "aria-label": `${stage} request` }, request),
    h("pre", { class: "response", tabindex: 0, "aria-label": `${stage} response` }, response),
    h("p", { class: "matched" }, e.matchedRule === null ? "No rule matched." : `Rule ${e.matchedRule} matched.`),
    h("ol", { class: "explanation", start: 0, "aria-label": `${stage} explanation` }, e.explanation.map((l) => h("li", {}, l))));
}

function column(title: string, id: string, ev: Evaluation): HTMLElement {
  const b = ev.browser;
  return h("section", { id, class: "result", "aria-labelledby": `${id}-title` },
    h("h3", { id: `${id}-title` }, title),
    ev.error ? h("p", { class: "bad error" }, ev.error) : [
      h("p", { class: `browser ${b?.allowed ? "ok" : "bad"}`, "data-allowed": String(b?.allowed), "data-reason": b?.reason ?? "" },
        b?.allowed ? "Chromium gives the page the response." : `Chromium blocks it: ${b?.message}`),
      b && b.unlistedHeaders.length > 1
        ? h("p", { class: "note unlisted" }, `Not allowed by the preflight's answer: ${b.unlistedHeaders.join(", ")}. Chromium names one at a time; allow them all.`)
        : null,
      b && b.droppedHeaders.length
        ? h("p", { class: "note dropped" }, `A page cannot set ${b.droppedHeaders.join(", ")}: the browser drops ${b.droppedHeaders.length > 1 ? "them" : "it"}, so the bucket never sees ${b.droppedHeaders.length > 1 ? "them" : "it"}.`)
        : null,
      b?.standard ? h("p", { class: "note standard" }, b.standard) : null,
      ev.preflight ? exchange("preflight", ev.preflight, ev.target) : h("p", { class: "muted" }, "No preflight: the method and headers are CORS-safelisted."),
      ev.actual ? exchange("actual", ev.actual, ev.target) : h("p", { class: "muted" }, "The actual request is never sent."),
    ]);
}

export function tester(main: HTMLElement, o: BucketCors): void {
  const results = h("div", { class: "cols", id: "results" });
  const key = `${o.namespace}/${o.name}`;
  const form = {
    url: h("input", { type: "text", id: "t-url", value: urls.get(key) ?? defaultUrl(o), spellcheck: "false", "aria-describedby": "t-url-hint" }) as HTMLInputElement,
    origin: h("input", { type: "text", id: "t-origin", value: last.origin, spellcheck: "false" }) as HTMLInputElement,
    method: h("input", { type: "text", id: "t-method", value: last.method, spellcheck: "false", "aria-describedby": "t-method-hint" }) as HTMLInputElement,
    headers: h("textarea", { id: "t-headers", spellcheck: "false", "aria-describedby": "t-headers-hint" }, last.headers.map(([n, v]) => `${n}: ${v}`).join("\n")) as HTMLTextAreaElement,
    credentials: h("input", { type: "checkbox", id: "t-credentials", checked: last.credentials }) as HTMLInputElement,
  };
  const run = () => {
    last = {
      origin: form.origin.value.trim(),
      method: form.method.value.trim(),
      headers: form.headers.value.split("\n").filter((l) => l.includes(":")).map((l) => {
        const at = l.indexOf(":");
        return [l.slice(0, at).trim(), l.slice(at + 1).trim()] as [string, string];
      }),
      credentials: form.credentials.checked,
    };
    const url = form.url.value.trim();
    urls.set(key, url);
    const request: FetchRequest = { url, ...last };
    const edited: Config = draft(o);
    render(results,
      column(hasDraft(o) ? "Edited rules" : "Edited rules (no changes)", "edited", evaluate(edited, o.provider, request)),
      column("Applied rules", "applied", evaluate(o.config, o.provider, request)));
  };
  for (const el of Object.values(form)) el.addEventListener("input", run);
  render(main,
    h("h1", {}, `Test ${o.namespace}/${o.name}`),
    tabs(o, "test", session.readOnly),
    h("form", { id: "tester", "aria-label": "Request", onsubmit: (e: Event) => { e.preventDefault(); run(); } },
      h("div", { class: "grid" },
        h("div", {}, h("label", { for: "t-url" }, "URL"), h("p", { id: "t-url-hint", class: "muted" },
          o.edgeHosts.length ? `The bucket's URL; through the edge: https://${o.edgeHosts[0]}/…` : "The bucket's URL and an object"), form.url),
        h("div", {}, h("label", { for: "t-origin" }, "Page origin"), form.origin),
        h("div", {}, h("label", { for: "t-method" }, "Method"), h("p", { id: "t-method-hint", class: "muted" }, "The fetch's method; the browser adds the preflight"), form.method),
        h("div", {}, h("label", { for: "t-headers" }, "Request headers"), h("p", { id: "t-headers-hint", class: "muted" }, "One per line, Name: value"), form.headers),
        h("div", {}, h("label", { class: "check" }, form.credentials, "Credentials (credentials: \"include\")"))),
      h("div", { class: "toolbar" }, h("button", { type: "submit", class: "primary", id: "t-run" }, "Test"))),
    h("h2", {}, "Answers"),
    results);
  run();
}
