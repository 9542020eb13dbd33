// Edited configurations not yet saved, per object, shared by the editor
// and the tester (which compares them with what is applied).

import type { BucketCors, Config } from "./types";

const drafts = new Map<string, Config>();
const key = (o: BucketCors) => `${o.namespace}/${o.name}`;

export function draft(o: BucketCors): Config {
  return drafts.get(key(o)) ?? structuredClone(o.config);
}

export function setDraft(o: BucketCors, c: Config): void {
  drafts.set(key(o), c);
}

export function dropDraft(o: BucketCors): void {
  drafts.delete(key(o));
}

export function hasDraft(o: BucketCors): boolean {
  return drafts.has(key(o));
}
