// Overview: every BucketCors (or manifest), filterable and sortable; the
// table re-renders on every watch update, keeping filter and sort.

import { objects } from "./api";
import { h, render } from "./dom";
import { validate } from "./engine";
import type { BucketCors } from "./types";

type Key = "name" | "bucket" | "ready" | "rules" | "warnings";
let filter = "";
let sortKey: Key = "name";
let ascending = true;

export function ready(o: BucketCors): { status: string; reason: string } {
  const c = o.status?.conditions?.find((c) => c.type === "Ready");
  return c ? { status: c.status, reason: c.reason ?? "" } : { status: "—", reason: "no status" };
}

function row(o: BucketCors) {
  const v = validate(o.config, o.provider, o.target);
  const r = ready(o);
  return {
    o,
    name: `${o.namespace}/${o.name}`,
    bucket: `${o.provider}/${o.bucket}`,
    ready: `${r.status} ${r.reason}`,
    rules: o.status?.ruleCount ?? o.config.rules.length,
    warnings: v.errors.length + v.warnings.length + v.lints.length,
    v,
    r,
  };
}

export function overview(main: HTMLElement): void {
  const rows = objects.map(row).filter((r) =>
    `${r.name} ${r.bucket} ${r.ready}`.toLowerCase().includes(filter.toLowerCase()),
  );
  rows.sort((a, b) => {
    const x = a[sortKey];
    const y = b[sortKey];
    const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return ascending ? c : -c;
  });
  const header = (key: Key, label: string) =>
    h("th", { scope: "col", "aria-sort": sortKey === key ? (ascending ? "ascending" : "descending") : "none" },
      h("button", {
        type: "button",
        onclick: () => {
          ascending = sortKey === key ? !ascending : true;
          sortKey = key;
          overview(main);
        },
      }, label));
  const search = h("input", {
    type: "search", id: "filter", value: filter, "aria-describedby": "count",
    oninput: (e: Event) => {
      filter = (e.target as HTMLInputElement).value;
      overview(main);
      (document.getElementById("filter") as HTMLInputElement).focus();
    },
  }) as HTMLInputElement;
  render(main,
    h("h1", {}, "Overview"),
    h("div", { class: "toolbar" },
      h("div", {}, h("label", { for: "filter" }, "Filter"), search),
      h("p", { id: "count", class: "muted" }, `${rows.length} of ${objects.length} shown`)),
    h("div", { class: "scroll", tabindex: 0, role: "region", "aria-label": "Objects table" },
      h("table", { id: "objects" },
        h("caption", { class: "visually-hidden" }, "BucketCors objects"),
        h("thead", {}, h("tr", {},
          header("name", "Namespace/name"), header("bucket", "Provider/bucket"),
          header("ready", "Ready"), header("rules", "Rules"),
          h("th", { scope: "col" }, "Edge"), header("warnings", "Warnings"))),
        h("tbody", {}, rows.map((r) =>
          h("tr", { "data-name": r.name },
            h("td", {}, h("a", { href: `#/o/${r.o.namespace}/${r.o.name}` }, r.name)),
            h("td", {}, r.bucket),
            h("td", { class: r.r.status === "True" ? "ok" : r.r.status === "False" ? "bad" : "muted" },
              `${r.r.status} `, h("span", { class: "muted" }, r.r.reason)),
            h("td", {}, String(r.rules)),
            h("td", {}, r.o.edgeHosts.length
              ? `${r.o.edgeHosts.join(", ")} @ ${r.o.status?.edgeRevision?.slice(0, 12) ?? "unpublished"}`
              : "—"),
            h("td", { class: r.v.errors.length ? "bad" : r.warnings ? "warn" : "" },
              r.v.errors.length ? `${r.v.errors.length} errors` : "",
              r.v.errors.length && r.v.warnings.length + r.v.lints.length ? ", " : "",
              r.v.warnings.length + r.v.lints.length ? `${r.v.warnings.length + r.v.lints.length} warnings` : "",
              r.warnings === 0 ? "none" : ""),
          )))),
    ),
  );
  if (document.activeElement === document.body && filter) search.focus();
}
