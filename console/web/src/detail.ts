// Detail: conditions with their history, Events, the rules as a table, and
// the configuration in every format the engine prints, with copy buttons.

import { events, session } from "./api";
import { announce, h, render } from "./dom";
import { convert } from "./engine";
import { tabs } from "./tabs";
import type { BucketCors } from "./types";

const formatNames: Record<string, string> = {
  "oss-xml": "OSS XML", "s3-xml": "S3 XML", "s3-json": "S3 JSON", yaml: "YAML (spec.rules)",
};

export function detail(main: HTMLElement, o: BucketCors): void {
  const conditions = o.status?.conditions ?? [];
  const conv = convert(o.config);
  const eventsBody = h("tbody", {}, h("tr", {}, h("td", { colspan: 4 }, "Loading…")));
  render(main,
    h("h1", {}, `${o.namespace}/${o.name}`),
    tabs(o, "detail", session.readOnly),
    h("p", {}, `Provider ${o.provider}, bucket ${o.bucket}`,
      o.source ? `, from ${o.source}` : "",
      o.status?.appliedRevision ? `, applied revision ${o.status.appliedRevision.slice(0, 12)}` : ""),
    h("h2", {}, "Conditions"),
    conditions.length === 0
      ? h("p", { class: "muted" }, session.source === "dir" ? "No status: the manifest is read from a directory." : "No status yet.")
      : h("div", { class: "scroll", tabindex: 0, role: "region", "aria-label": "Conditions table" }, h("table", { id: "conditions" },
        h("thead", {}, h("tr", {}, ["Type", "Status", "Reason", "Message", "Last transition"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, conditions.map((c) => h("tr", {},
          h("td", {}, c.type), h("td", {}, c.status), h("td", {}, c.reason ?? ""),
          h("td", {}, c.message ?? ""), h("td", {}, c.lastTransitionTime ?? "")))))),
    h("h2", {}, "Events"),
    h("div", { class: "scroll", tabindex: 0, role: "region", "aria-label": "Events table" }, h("table", { id: "events" },
      h("thead", {}, h("tr", {}, ["Type", "Reason", "Message", "Last seen"].map((t) => h("th", { scope: "col" }, t)))),
      eventsBody)),
    h("h2", {}, "Rules"),
    h("div", { class: "scroll", tabindex: 0, role: "region", "aria-label": "Rules table" }, h("table", { id: "rules" },
      h("thead", {}, h("tr", {}, ["#", "ID", "Origins", "Methods", "Allowed headers", "Expose headers", "Max age"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, o.config.rules.map((r, i) => h("tr", {},
        h("td", {}, String(i)), h("td", {}, r.id ?? ""), h("td", {}, r.allowedOrigins.join(" ")),
        h("td", {}, r.allowedMethods.join(" ")), h("td", {}, (r.allowedHeaders ?? []).join(" ")),
        h("td", {}, (r.exposeHeaders ?? []).join(" ")), h("td", {}, r.maxAgeSeconds === undefined ? "" : String(r.maxAgeSeconds))))))),
    o.provider === "oss" ? h("p", {}, `ResponseVary: ${o.config.responseVary ? "on" : "off"}`) : null,
    h("h2", {}, "Configuration"),
    h("div", { class: "formats" }, [...conv.formats, { format: "manifest", text: o.manifest, losses: [] }].map((f) => {
      const id = `fmt-${f.format}`;
      return h("div", { class: "fmt" },
        h("h3", { id: `${id}-title` }, formatNames[f.format] ?? "Manifest"),
        f.losses.length ? h("p", { class: "warn" }, `Not carried by this format: ${f.losses.join("; ")}`) : null,
        h("button", {
          type: "button", "aria-describedby": `${id}-title`,
          onclick: async () => {
            await navigator.clipboard.writeText(f.text).catch(() => undefined);
            announce(`${formatNames[f.format] ?? "Manifest"} copied`);
          },
        }, "Copy"),
        h("pre", { id, tabindex: 0, "aria-labelledby": `${id}-title` }, f.text));
    })),
  );
  events(o).then((list) => render(eventsBody, list.length === 0
    ? h("tr", {}, h("td", { colspan: 4, class: "muted" }, session.source === "dir" ? "No Events without a cluster." : "No Events."))
    : list.map((e) => h("tr", {}, h("td", {}, e.type), h("td", {}, e.reason), h("td", {}, e.message), h("td", {}, e.lastTimestamp ?? "")))));
}
