// The engine in the page: typed wrappers over the wasm functions
// (console/wasm). Nothing here judges a rule; it only moves JSON.

import init, * as glue from "engine-glue";
import type { Config, Converted, Evaluation, FetchRequest, Validation } from "./types";

export async function loadEngine(): Promise<void> {
  await init({ module_or_path: new URL("engine.wasm", location.href) });
}

// `target`: the store's flavor the lints check against ("" for the
// dialect's own provider).
export function validate(config: Config, dialect: string, target: string): Validation {
  return JSON.parse(glue.validate(JSON.stringify(config), dialect, target));
}

export function convert(config: Config): { error: unknown; formats: Converted[] } {
  return JSON.parse(glue.convert(JSON.stringify(config)));
}

export function importText(text: string): {
  error: string | null;
  config: Config | null;
  format: string | null;
  dialect: string | null;
} {
  return JSON.parse(glue.importText(text));
}

export function evaluate(config: Config, dialect: string, request: FetchRequest): Evaluation {
  return JSON.parse(glue.evaluate(JSON.stringify(config), dialect, JSON.stringify(request)));
}
