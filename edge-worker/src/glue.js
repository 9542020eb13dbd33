// Bulk header and fetch operations for the worker (see src/glue.rs).
//
// Calling the Headers API from wasm costs a trip across the JavaScript
// boundary per call, and iterating header names costs several per name
// (the iterator step, its `done`, its `value`, the string copy). These
// helpers do each bulk job in one trip. They hold no policy: which headers
// are hop-by-hop, CORS or cacheable is decided in Rust, on the names
// `headerNames` returns.

// Every name in `headers` (lower-case, in iteration order), each followed by
// "\n". A header name cannot contain a newline, so the list splits cleanly.
export function headerNames(headers) {
  let names = "";
  for (const name of headers.keys()) names += name + "\n";
  return names;
}

// Sets each name/value pair of `pairs`, written "name\nvalue\n..." (header
// names and values cannot contain newlines).
export function setHeaders(headers, pairs) {
  const parts = pairs.split("\n");
  for (let i = 0; i + 1 < parts.length; i += 2) headers.set(parts[i], parts[i + 1]);
}

// fetch() with the given method, headers and body (a stream or null),
// passing redirects through to the client.
export function send(url, method, headers, body) {
  return fetch(url, { method, headers, body, redirect: "manual" });
}

// A response from parts; `body` is a stream, a string or null.
export function respond(body, status, headers) {
  return new Response(body, { status, headers });
}
