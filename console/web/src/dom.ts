// Building DOM nodes without a framework: `h("p", {class: "x"}, "text")`.
// Attributes starting with "on" are event listeners; `null`/`false` skip.

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, unknown>;

export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value as EventListener);
    } else if (key === "value" && "value" in el) {
      (el as HTMLInputElement).value = String(value);
    } else if (key === "checked") {
      (el as HTMLInputElement).checked = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el: HTMLElement, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/// Replaces the contents of `el`.
export function render(el: HTMLElement, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/// Says `text` to screen readers (the live region in index.html).
export function announce(text: string): void {
  const live = document.getElementById("live");
  if (live) live.textContent = text;
}
