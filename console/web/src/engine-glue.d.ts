// The wasm-bindgen glue of console/wasm, aliased to "engine-glue" by
// scripts/build-console.sh. Every function takes and returns JSON text.
declare module "engine-glue" {
  export default function init(options: { module_or_path: URL | string }): Promise<unknown>;
  export function validate(config: string, dialect: string, target: string): string;
  export function convert(config: string): string;
  export function importText(text: string): string;
  export function evaluate(config: string, dialect: string, request: string): string;
}
