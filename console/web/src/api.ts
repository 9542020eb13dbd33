// Talking to the console's server: the session, the objects (kept current
// by server-sent events), Events, and saving. Writes carry the CSRF token
// the session hands out; the server checks it and the Origin.

import type { BucketCors, Config, KubeEvent, Session } from "./types";

export let session: Session;
export let objects: BucketCors[] = [];
const listeners: (() => void)[] = [];

export async function start(): Promise<void> {
  const [r, list] = await Promise.all([fetch("api/session"), fetch("api/objects")]);
  if (!r.ok || !list.ok) throw new Error(`the console refused the session (${r.status}): open the URL it printed at start`);
  session = await r.json();
  objects = await list.json();
  const events = new EventSource("api/watch");
  events.addEventListener("objects", (e) => {
    objects = JSON.parse((e as MessageEvent).data);
    for (const l of listeners) l();
  });
}

/// Called after every update from the watch.
export function onChange(l: () => void): void {
  listeners.push(l);
}

export function find(namespace: string, name: string): BucketCors | undefined {
  return objects.find((o) => o.namespace === namespace && o.name === name);
}

export async function events(o: BucketCors): Promise<KubeEvent[]> {
  const r = await fetch(`api/objects/${encodeURIComponent(o.namespace)}/${encodeURIComponent(o.name)}/events`);
  return r.ok ? r.json() : [];
}

/// Saves the rules; resolves to the server's message.
export async function save(o: BucketCors, config: Config): Promise<{ ok: boolean; message: string }> {
  const r = await fetch(`api/objects/${encodeURIComponent(o.namespace)}/${encodeURIComponent(o.name)}`, {
    method: "PUT",
    headers: { "Content-Type": "application/json", "X-Bucketcors-Csrf": session.csrf },
    body: JSON.stringify(config),
  });
  const text = await r.text();
  return { ok: r.ok, message: text };
}
