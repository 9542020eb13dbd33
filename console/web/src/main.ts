// The console's page: loads the engine and the session, then routes
// `#/` (overview), `#/o/NS/NAME` (detail), `.../edit` and `.../test`.
// Watch updates re-render the overview and the detail in place; the editor
// and the tester keep what the user typed and show the live status above.

import { find, onChange, session, start } from "./api";
import { detail } from "./detail";
import { h, render } from "./dom";
import { loadEngine } from "./engine";
import { editor } from "./editor";
import { overview, ready } from "./overview";
import { tester } from "./tester";

const main = document.getElementById("main") as HTMLElement;

function route(fromWatch: boolean): void {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (parts[0] !== "o") {
    overview(main);
    if (!fromWatch) document.title = "Overview · bucketcors console";
    return;
  }
  const o = find(parts[1], parts[2]);
  if (!o) {
    render(main, h("h1", {}, "Not found"), h("p", {}, `${parts[1]}/${parts[2]} is not (or no longer) listed.`), h("a", { href: "#/" }, "Back to the overview"));
    return;
  }
  const view = parts[3] ?? "detail";
  if (fromWatch && view !== "detail") {
    const live = document.getElementById("object-status");
    if (live) live.textContent = statusLine(o);
    return;
  }
  if (view === "edit") editor(main, o);
  else if (view === "test") tester(main, o);
  else detail(main, o);
  main.prepend(h("p", { id: "object-status", role: "status" }, statusLine(o)));
  if (!fromWatch) document.title = `${o.namespace}/${o.name} · bucketcors console`;
}

function statusLine(o: Parameters<typeof ready>[0]): string {
  const r = ready(o);
  const rev = o.status?.appliedRevision ? `, revision ${o.status.appliedRevision.slice(0, 12)}` : "";
  return `Ready: ${r.status}${r.reason ? ` (${r.reason})` : ""}${rev}, ${o.config.rules.length} rules`;
}

async function boot(): Promise<void> {
  try {
    await Promise.all([loadEngine(), start()]);
  } catch (e) {
    render(main, h("h1", {}, "The console cannot start"), h("p", {}, String(e)));
    return;
  }
  const s = document.getElementById("session");
  if (s) s.textContent = `${session.where}${session.readOnly ? " · read-only" : ""}`;
  window.addEventListener("hashchange", () => { route(false); main.focus(); });
  onChange(() => route(true));
  route(false);
  // Navigation start to this first full render, for the tests' figure.
  document.body.dataset.renderMs = performance.now().toFixed(1);
  document.body.dataset.ready = "true";
}

boot();
