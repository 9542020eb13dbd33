//! Issue item 4: deciding on a compiled configuration, and writing the
//! decision's headers and body into a caller's preallocated buffer, does not
//! allocate. A counting global allocator counts allocations made by the
//! current thread while counting is switched on.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Write;

use bucketcors_engine::{Compiled, CorsConfig, Dialect, Request, ResourceType};
use common::rule;

struct Counting;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn note() {
    // try_with: the thread-locals may be gone while a thread shuts down.
    let _ = ON.try_with(|on| {
        if on.get() {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        }
    });
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns how many allocations it made on this thread.
fn allocations(f: impl FnOnce()) -> usize {
    COUNT.with(|c| c.set(0));
    ON.with(|on| on.set(true));
    f();
    ON.with(|on| on.set(false));
    COUNT.with(|c| c.get())
}

/// A fixed buffer implementing `fmt::Write`, as a server might use.
struct FixedBuf {
    bytes: [u8; 4096],
    len: usize,
}

impl Write for FixedBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.bytes.len() {
            return Err(std::fmt::Error);
        }
        self.bytes[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

fn requests() -> Vec<Request<'static>> {
    vec![
        Request::preflight("https://app.example.com", "PUT")
            .with_request_headers("X-Amz-Date, Content-Type, x-amz-meta-a"),
        Request::preflight("https://x.example.com", "GET"),
        Request::preflight("https://evil.example.com", "PUT").with_resource(ResourceType::Bucket),
        Request::preflight("https://app.example.com", "PATCH"),
        Request::new("OPTIONS"),
        Request::new("OPTIONS").with_origin("https://app.example.com"),
        Request::new("GET").with_origin("https://app.example.com"),
        Request::new("GET")
            .with_origin("https://app.example.com")
            .with_request_method("PUT")
            .with_request_headers("x-amz-date"),
        Request::new("DELETE").with_origin("https://other.test"),
        Request::new("GET"),
    ]
}

fn compiled_configs() -> Vec<Compiled> {
    let mut exact = rule(
        &["https://app.example.com"],
        &["GET", "PUT", "HEAD"],
        &["x-amz-*", "content-type"],
    );
    exact.expose_headers = vec!["ETag".into()];
    exact.max_age_seconds = Some(600);
    let wildcard = rule(&["https://*.example.com"], &["GET"], &[]);
    let any = rule(&["*"], &["GET", "HEAD"], &["*"]);
    let rules = vec![exact, wildcard, any];
    let mut out = Vec::new();
    for dialect in [Dialect::S3, Dialect::Oss] {
        let config = CorsConfig {
            rules: rules.clone(),
            response_vary: dialect == Dialect::Oss,
        };
        out.push(Compiled::new(&config, dialect).unwrap());
        out.push(Compiled::none(dialect));
    }
    out
}

#[test]
fn section4_item_decide_and_writing_into_a_caller_buffer_do_not_allocate() {
    let configs = compiled_configs();
    let requests = requests();
    let mut fixed = FixedBuf {
        bytes: [0; 4096],
        len: 0,
    };
    let mut string = String::with_capacity(4096);
    let mut checked = 0usize;
    for compiled in &configs {
        for request in &requests {
            let n = allocations(|| {
                let d = compiled.decide(request);
                std::hint::black_box(d.status());
                std::hint::black_box(d.is_preflight());
                std::hint::black_box(d.matched_rule());
                fixed.len = 0;
                string.clear();
                for (name, value) in d.headers() {
                    fixed.write_str(name).unwrap();
                    fixed.write_str(": ").unwrap();
                    value.write_to(&mut fixed).unwrap();
                    fixed.write_str("\r\n").unwrap();
                    write!(string, "{name}: {value}\r\n").unwrap();
                    std::hint::black_box(value.len());
                }
                if let Some(body) = d.body_with_request_id("4442587FB7D0A2F9") {
                    body.write_to(&mut fixed).unwrap();
                    write!(string, "{body}").unwrap();
                }
            });
            assert_eq!(
                n,
                0,
                "{n} allocations deciding {request:?} ({:?})",
                compiled.dialect()
            );
            assert_eq!(&fixed.bytes[..fixed.len], string.as_bytes());
            checked += 1;
        }
    }
    // The counter works: an allocation is seen.
    assert_eq!(allocations(|| drop(std::hint::black_box(vec![1u8; 16]))), 1);
    assert_eq!(checked, configs.len() * requests.len());
}
