// The tabs of one object's pages: detail, editor, tester.

import { h } from "./dom";
import type { BucketCors } from "./types";

export function tabs(o: BucketCors, current: "detail" | "edit" | "test", readOnly: boolean): HTMLElement {
  const base = `#/o/${o.namespace}/${o.name}`;
  const tab = (href: string, label: string, id: string) =>
    h("a", { href, "aria-current": current === id ? "page" : null }, label);
  return h("nav", { class: "tabs", "aria-label": "Object" },
    tab(base, "Detail", "detail"),
    tab(`${base}/edit`, readOnly ? "Rules (read-only)" : "Edit", "edit"),
    tab(`${base}/test`, "Test", "test"));
}
