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
let last: FetchRequest = { origin: "https://app.example.com", method: "GET", headers: [], credentials: false };

function exchange(stage: string, e: Exchange): HTMLElement {
  const request = [`${e.method} /OBJECT HTTP/1.1`, ...e.requestHeaders.map(([n, v]) => `${n}: ${v}`)].join("\n");
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
  return h("section", { id, class: "result", "aria-labelledby": `${id}-title` },
    h("h3", { id: `${id}-title` }, title),
    ev.error ? h("p", { class: "bad error" }, ev.error) : [
      h("p", { class: `browser ${ev.browser?.allowed ? "ok" : "bad"}`, "data-allowed": String(ev.browser?.allowed) },
        ev.browser?.allowed ? "The browser gives the page the response." : `The browser blocks it: ${ev.browser?.message}`),
      ev.preflight ? exchange("preflight", ev.preflight) : h("p", { class: "muted" }, "No preflight: the method and headers are CORS-safelisted."),
      ev.actual ? exchange("actual", ev.actual) : h("p", { class: "muted" }, "The actual request is never sent."),
    ]);
}

export function tester(main: HTMLElement, o: BucketCors): void {
  const results = h("div", { class: "cols", id: "results" });
  const form = {
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
    const edited: Config = draft(o);
    render(results,
      column(hasDraft(o) ? "Edited rules" : "Edited rules (no changes)", "edited", evaluate(edited, o.provider, last)),
      column("Applied rules", "applied", evaluate(o.config, o.provider, last)));
  };
  for (const el of Object.values(form)) el.addEventListener("input", run);
  render(main,
    h("h1", {}, `Test ${o.namespace}/${o.name}`),
    tabs(o, "test", session.readOnly),
    h("form", { id: "tester", "aria-label": "Request", onsubmit: (e: Event) => { e.preventDefault(); run(); } },
      h("div", { class: "grid" },
        h("div", {}, h("label", { for: "t-origin" }, "Page origin"), form.origin),
        h("div", {}, h("label", { for: "t-method" }, "Method"), h("p", { id: "t-method-hint", class: "muted" }, "The fetch's method; the browser adds the preflight"), form.method),
        h("div", {}, h("label", { for: "t-headers" }, "Request headers"), h("p", { id: "t-headers-hint", class: "muted" }, "One per line, Name: value"), form.headers),
        h("div", {}, h("label", { class: "check" }, form.credentials, "Credentials (credentials: \"include\")"))),
      h("div", { class: "toolbar" }, h("button", { type: "submit", class: "primary", id: "t-run" }, "Test"))),
    h("h2", {}, "Answers"),
    results);
  run();
}
