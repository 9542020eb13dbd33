// Editor: a form per rule in the style of Alibaba's OSS console. Every
// keystroke rebuilds the configuration and asks the wasm engine; each
// error and warning is shown under the field it names. Import by paste,
// a diff against what is applied, and save (absent when read-only).

import { save, session } from "./api";
import { announce, h, render } from "./dom";
import { convert, importText, validate } from "./engine";
import { diffLines } from "./diff";
import { draft, dropDraft, setDraft } from "./drafts";
import { tabs } from "./tabs";
import type { BucketCors, Config, Issue, Rule } from "./types";

const METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD"];
const lines = (text: string) => text.split("\n").map((l) => l.trim()).filter((l) => l !== "");

/// The form's fields for one rule, as typed.
interface RuleForm {
  id: string;
  origins: string;
  methods: string[];
  allowedHeaders: string;
  exposeHeaders: string;
  maxAge: string;
}

function toForm(r: Rule): RuleForm {
  return {
    id: r.id ?? "",
    origins: r.allowedOrigins.join("\n"),
    methods: [...r.allowedMethods],
    allowedHeaders: (r.allowedHeaders ?? []).join("\n"),
    exposeHeaders: (r.exposeHeaders ?? []).join("\n"),
    maxAge: r.maxAgeSeconds === undefined ? "" : String(r.maxAgeSeconds),
  };
}

/// The configuration the form says; a max age that is not digits goes to
/// the engine as text, so its error comes back with its path like any other.
function toRule(f: RuleForm, s3: boolean): Rule {
  const r: Rule = { allowedOrigins: lines(f.origins), allowedMethods: f.methods };
  if (s3 && f.id.trim() !== "") r.id = f.id.trim();
  const ah = lines(f.allowedHeaders);
  if (ah.length) r.allowedHeaders = ah;
  const eh = lines(f.exposeHeaders);
  if (eh.length) r.exposeHeaders = eh;
  const age = f.maxAge.trim();
  if (age !== "") r.maxAgeSeconds = /^\d+$/.test(age) ? Number(age) : age;
  return r;
}

/// `allowedOrigins[1]` -> `allowedOrigins`.
const fieldOf = (path: string | null) => (path ?? "").replace(/\[\d+\]$/, "").split(".")[0];

export function editor(main: HTMLElement, o: BucketCors): void {
  const s3 = o.provider === "s3";
  const readOnly = session.readOnly;
  const start = draft(o);
  const forms: RuleForm[] = start.rules.map(toForm);
  let responseVary = Boolean(start.responseVary);
  const config = (): Config => {
    const c: Config = { rules: forms.map((f) => toRule(f, s3)) };
    if (!s3 && responseVary) c.responseVary = true;
    return c;
  };

  const messages = new Map<string, HTMLElement>(); // "r0-allowedOrigins" -> <div>
  const inputs = new Map<string, HTMLElement>();
  const general = h("div", { id: "general-issues" });
  const diffBox = h("div", { class: "diff" });
  const saveStatus = h("p", { id: "save-status", role: "status" });
  const saveButton = h("button", { type: "button", class: "primary", id: "save", onclick: () => doSave() }, "Save") as HTMLButtonElement;

  function check(): void {
    const c = config();
    setDraft(o, c);
    const v = validate(c, o.provider, o.target);
    for (const [id, box] of messages) {
      box.replaceChildren();
      inputs.get(id)?.removeAttribute("aria-invalid");
    }
    general.replaceChildren();
    const put = (issue: Issue, kind: "error" | "warning") => {
      const id = issue.rule === null ? "" : `r${issue.rule}-${fieldOf(issue.field)}`;
      const box = messages.get(id) ?? messages.get(`r${issue.rule}-rule`) ?? general;
      const where = issue.field && box !== general ? `${issue.field}: ` : issue.field ? `${issue.rule === null ? "" : `rule ${issue.rule}, `}${issue.field}: ` : "";
      box.append(h("p", { class: `field-${kind}` }, `${kind === "error" ? "Error" : "Warning"}: ${where}${issue.message}`));
      if (kind === "error") inputs.get(id)?.setAttribute("aria-invalid", "true");
    };
    v.errors.forEach((i) => put(i, "error"));
    [...v.warnings, ...v.lints].forEach((i) => put(i, "warning"));
    saveButton.disabled = v.errors.length > 0;
    const before = convert(o.config).formats.find((f) => f.format === "yaml")?.text ?? "";
    const after = v.errors.length && convert(c).error ? before : convert(c).formats.find((f) => f.format === "yaml")?.text ?? "";
    const d = diffLines(before, after);
    const changed = d.some((l) => l.kind !== "same");
    render(diffBox, changed
      ? h("pre", { id: "diff", tabindex: 0, "aria-label": "Changes against what is applied" }, d.map((l) =>
        h("span", { class: l.kind === "same" ? "" : l.kind }, `${l.kind === "add" ? "+ " : l.kind === "del" ? "- " : "  "}${l.text}\n`)))
      : h("p", { id: "diff", class: "muted" }, "No changes against what is applied."));
  }

  function field(i: number, name: string, label: string, control: HTMLElement, hint?: string): HTMLElement {
    const id = `r${i}-${name}`;
    const box = h("div", { id: `${id}-issues` });
    messages.set(id, box);
    inputs.set(id, control);
    control.setAttribute("id", id);
    control.setAttribute("aria-describedby", `${id}-issues${hint ? ` ${id}-hint` : ""}`);
    if (readOnly) control.setAttribute("readonly", "");
    return h("div", {}, h("label", { for: id }, label), hint ? h("p", { id: `${id}-hint`, class: "muted" }, hint) : null, control, box);
  }

  function text(i: number, key: keyof RuleForm, multi: boolean): HTMLElement {
    const f = forms[i];
    return h(multi ? "textarea" : "input", {
      type: multi ? null : "text", value: f[key] as string, spellcheck: "false",
      oninput: (e: Event) => { (f as unknown as Record<string, string>)[key] = (e.target as HTMLInputElement).value; check(); },
    });
  }

  function ruleBox(i: number): HTMLElement {
    const f = forms[i];
    const methodBox = h("div", { id: `r${i}-allowedMethods`, class: "methods", role: "group", "aria-labelledby": `r${i}-methods-label`, "aria-describedby": `r${i}-allowedMethods-issues` },
      METHODS.map((m) => h("label", {}, h("input", {
        type: "checkbox", checked: f.methods.includes(m), disabled: readOnly,
        onchange: (e: Event) => {
          const on = (e.target as HTMLInputElement).checked;
          // Appended or removed in place: the order written stays the order saved.
          f.methods = on ? [...f.methods.filter((x) => x !== m), m] : f.methods.filter((x) => x !== m);
          check();
        },
      }), m)));
    const methodIssues = h("div", { id: `r${i}-allowedMethods-issues` });
    messages.set(`r${i}-allowedMethods`, methodIssues);
    const ruleIssues = h("div", { id: `r${i}-rule-issues` });
    messages.set(`r${i}-rule`, ruleIssues);
    const move = (to: number, label: string, name: string) => h("button", {
      type: "button", disabled: to < 0 || to >= forms.length, "aria-label": `${label} rule ${i}`, "data-action": name,
      onclick: () => {
        const [r] = forms.splice(i, 1);
        forms.splice(to, 0, r);
        draw();
        (document.querySelector(`#rule-${to} [data-action="${name}"]`) as HTMLElement | null)?.focus();
        announce(`Rule moved to position ${to}`);
      },
    }, label);
    return h("fieldset", { id: `rule-${i}` },
      h("legend", {}, `Rule ${i}${f.id ? ` (${f.id})` : ""}`),
      ruleIssues,
      h("div", { class: "grid" },
        field(i, "allowedOrigins", "Sources (allowed origins)", text(i, "origins", true), "One origin per line, at most one *, e.g. https://*.example.com"),
        h("div", {}, h("p", { id: `r${i}-methods-label`, class: "label" }, h("strong", {}, "Allowed methods")), methodBox, methodIssues),
        field(i, "allowedHeaders", "Allowed headers", text(i, "allowedHeaders", true), "One per line; * allows any"),
        field(i, "exposeHeaders", "Exposed headers", text(i, "exposeHeaders", true), "One per line"),
        field(i, "maxAgeSeconds", "Cache timeout (max age, seconds)", text(i, "maxAge", false)),
        s3 ? field(i, "id", "Rule ID", text(i, "id", false)) : null),
      readOnly ? null : h("div", { class: "toolbar" },
        move(i - 1, "Move up", "up"), move(i + 1, "Move down", "down"),
        h("button", { type: "button", "aria-label": `Remove rule ${i}`, onclick: () => { forms.splice(i, 1); draw(); announce(`Rule ${i} removed`); } }, "Remove")));
  }

  const importBox = h("textarea", { id: "import-text", spellcheck: "false" }) as HTMLTextAreaElement;
  const importStatus = h("p", { id: "import-status", role: "status" });

  function draw(): void {
    messages.clear();
    inputs.clear();
    render(main,
      h("h1", {}, `${readOnly ? "Rules of" : "Edit"} ${o.namespace}/${o.name}`),
      tabs(o, "edit", readOnly),
      readOnly ? h("p", { class: "notice" }, "This console is read-only: nothing can be changed from here.") : null,
      general,
      h("form", { id: "rules-form", onsubmit: (e: Event) => e.preventDefault(), "aria-label": "Rules" },
        forms.map((_, i) => ruleBox(i)),
        !s3 ? h("label", { class: "check" }, h("input", {
          type: "checkbox", id: "responseVary", checked: responseVary, disabled: readOnly,
          onchange: (e: Event) => { responseVary = (e.target as HTMLInputElement).checked; check(); },
        }), "Vary: Origin on every response (ResponseVary)") : null),
      readOnly ? null : h("div", { class: "toolbar" },
        h("button", { type: "button", id: "add-rule", onclick: () => {
          forms.push({ id: "", origins: "", methods: ["GET"], allowedHeaders: "", exposeHeaders: "", maxAge: "" });
          draw();
          (document.getElementById(`r${forms.length - 1}-allowedOrigins`) as HTMLElement | null)?.focus();
        } }, "Add rule")),
      readOnly ? null : h("section", { "aria-labelledby": "import-title" },
        h("h2", { id: "import-title" }, "Import"),
        h("label", { for: "import-text" }, "Paste OSS XML, S3 XML or AWS CLI JSON"),
        importBox,
        h("div", { class: "toolbar" }, h("button", { type: "button", id: "import", onclick: () => {
          const r = importText(importBox.value);
          if (r.error || !r.config) { importStatus.textContent = `Cannot import: ${r.error}`; importStatus.className = "bad"; return; }
          forms.splice(0, forms.length, ...r.config.rules.map(toForm));
          if (r.config.responseVary !== undefined) responseVary = r.config.responseVary;
          draw();
          importStatus.textContent = `Imported ${r.config.rules.length} rules from ${r.format}.`;
          importStatus.className = "ok";
        } }, "Replace the rules with the pasted ones")),
        importStatus),
      h("h2", {}, "Changes"),
      diffBox,
      readOnly ? null : h("div", { class: "toolbar" }, saveButton,
        h("button", { type: "button", id: "discard", onclick: () => { dropDraft(o); editor(main, o); announce("Changes discarded"); } }, "Discard changes")),
      saveStatus);
    check();
  }

  async function doSave(): Promise<void> {
    saveButton.disabled = true;
    saveStatus.textContent = "Saving…";
    const r = await save(o, config());
    saveStatus.textContent = r.ok ? `Saved: ${r.message}` : `Not saved: ${r.message}`;
    saveStatus.className = r.ok ? "ok" : "bad";
    if (r.ok) dropDraft(o);
    saveButton.disabled = false;
  }

  draw();
}
