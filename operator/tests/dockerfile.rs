//! The operator image's Dockerfile cannot be built here (no Docker engine),
//! so this test reads it and holds it to what the workspace really builds:
//! the package and `[[bin]]` it compiles exist (asked of `cargo metadata`),
//! the file it copies is where that cargo command puts the binary, the
//! runtime image can run that binary (a glibc build on distroless `cc` of the
//! same Debian release, or a static musl build), the entrypoint is the copied
//! file, and the image user and port agree with the Helm chart's defaults.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("operator/ has a parent")
        .to_path_buf()
}

/// One Dockerfile instruction: keyword and its arguments, continuation lines joined.
#[derive(Debug)]
struct Instruction {
    keyword: String,
    args: String,
}

fn instructions(text: &str) -> Vec<Instruction> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if let Some(head) = trimmed.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
        } else {
            current.push_str(trimmed);
            joined.push(std::mem::take(&mut current));
        }
    }
    joined
        .into_iter()
        .map(|line| {
            let (keyword, args) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
            Instruction {
                keyword: keyword.to_ascii_uppercase(),
                args: args.trim().to_string(),
            }
        })
        .collect()
}

/// Replaces `$NAME` and `${NAME}` with the build args' defaults.
fn expand(s: &str, args: &HashMap<String, String>) -> String {
    let mut out = s.replace('"', "");
    for (name, value) in args {
        out = out
            .replace(&format!("${{{name}}}"), value)
            .replace(&format!("${name}"), value);
    }
    out
}

/// The value following `flag` (as `--flag value` or `--flag=value`) in a shell word list.
fn flag_value<'a>(words: &[&'a str], flag: &str) -> Option<&'a str> {
    words.iter().enumerate().find_map(|(i, w)| {
        if *w == flag {
            words.get(i + 1).copied()
        } else {
            w.strip_prefix(flag).and_then(|rest| rest.strip_prefix('='))
        }
    })
}

/// The Debian release an image reference names (`bookworm` and `debian12` are one).
fn debian_release(image: &str) -> Option<u32> {
    [
        ("bookworm", 12),
        ("debian12", 12),
        ("trixie", 13),
        ("debian13", 13),
    ]
    .iter()
    .find(|(name, _)| image.contains(name))
    .map(|(_, version)| *version)
}

/// What `cargo metadata` says the operator package builds.
fn operator_bins() -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let package = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == "bucketcors-operator")
        .expect("the workspace has the bucketcors-operator package");
    package["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .filter(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"))
        })
        .map(|t| t["name"].as_str().expect("target name").to_string())
        .collect()
}

#[test]
fn dockerfile_copies_the_binary_the_workspace_builds() {
    let text = std::fs::read_to_string(workspace_root().join("Dockerfile"))
        .expect("Dockerfile at the repository root");
    let all = instructions(&text);

    let from: Vec<&Instruction> = all.iter().filter(|i| i.keyword == "FROM").collect();
    assert!(
        from.len() >= 2,
        "the Dockerfile is multi-stage (build, runtime); found {} FROM",
        from.len()
    );
    let build_stage = from[0]
        .args
        .split_whitespace()
        .last()
        .expect("build stage name")
        .to_string();
    assert!(
        from[0].args.to_ascii_lowercase().contains(" as "),
        "the build stage is named, so the runtime stage can copy from it: `{}`",
        from[0].args
    );
    let build_image = from[0].args.as_str();
    let runtime_image = from.last().unwrap().args.as_str();
    assert!(
        runtime_image.contains("distroless/"),
        "the runtime image is distroless (no shell, no package manager): `{runtime_image}`"
    );

    // Build args with defaults, as the cargo command sees them.
    let args: HashMap<String, String> = all
        .iter()
        .filter(|i| i.keyword == "ARG")
        .filter_map(|i| {
            i.args
                .split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        })
        .collect();

    // The cargo build: package, bin, profile and target.
    let build = all
        .iter()
        .filter(|i| i.keyword == "RUN")
        .find(|i| i.args.contains("cargo build"))
        .expect("a RUN with `cargo build`");
    let command = expand(&build.args, &args);
    let words: Vec<&str> = command.split_whitespace().collect();
    let package = flag_value(&words, "-p")
        .or_else(|| flag_value(&words, "--package"))
        .expect("cargo build -p <package>");
    assert_eq!(
        package, "bucketcors-operator",
        "the image builds the operator package"
    );
    let bin = flag_value(&words, "--bin").expect("cargo build --bin <name>");
    let bins = operator_bins();
    assert!(
        bins.iter().any(|b| b == bin),
        "--bin {bin} is not a [[bin]] of bucketcors-operator (it has {bins:?})"
    );
    assert_eq!(
        Path::new(env!("CARGO_BIN_EXE_bucketcors"))
            .file_name()
            .unwrap()
            .to_str()
            .unwrap(),
        bin,
        "the binary cargo builds for the tests has the name the Dockerfile copies"
    );
    let profile_dir = match flag_value(&words, "--profile") {
        Some("dev") => "debug".to_string(),
        Some(p) => p.to_string(),
        None if words.contains(&"--release") => "release".to_string(),
        None => "debug".to_string(),
    };
    assert_eq!(profile_dir, "release", "the image ships an optimised build");
    assert!(
        words.contains(&"--locked"),
        "the image builds with Cargo.lock as committed (--locked)"
    );
    // Where cargo puts the binary, and whether the runtime image can run it:
    // a musl build is static (any distroless image); a host (glibc) build
    // needs distroless `cc` on the Debian release the build image used.
    let built = match flag_value(&words, "--target") {
        Some(triple) => {
            assert!(
                triple.ends_with("-linux-musl") || runtime_image.contains("distroless/cc"),
                "a {triple} binary needs glibc: use distroless/cc, or a -linux-musl target"
            );
            format!("target/{triple}/{profile_dir}/{bin}")
        }
        None => {
            assert!(
                runtime_image.contains("distroless/cc"),
                "a glibc (host target) build needs distroless/cc at run time: `{runtime_image}`"
            );
            assert!(
                debian_release(build_image).is_some(),
                "the build image names its Debian release: `{build_image}`"
            );
            assert_eq!(
                debian_release(build_image),
                debian_release(runtime_image),
                "build and runtime images are on the same Debian release (same glibc): `{build_image}` vs `{runtime_image}`"
            );
            format!("target/{profile_dir}/{bin}")
        }
    };

    // Where the build stage leaves the binary, then what the runtime copies.
    let staged = words
        .windows(3)
        .find(|w| w[0] == "cp" && w[1].trim_start_matches("/src/") == built)
        .map(|w| w[2])
        .unwrap_or_else(|| {
            panic!(
                "the build stage copies {built} out of the cache-mounted target dir: `{command}`"
            )
        });
    let copy = all
        .iter()
        .filter(|i| i.keyword == "COPY")
        .find(|i| i.args.contains(&format!("--from={build_stage}")))
        .expect("the runtime stage copies from the build stage");
    let copy_words: Vec<&str> = copy
        .args
        .split_whitespace()
        .filter(|w| !w.starts_with("--"))
        .collect();
    assert_eq!(
        copy_words.len(),
        2,
        "COPY --from=build <src> <dest>: `{}`",
        copy.args
    );
    assert_eq!(
        copy_words[0], staged,
        "the runtime copies the file the build stage produced"
    );
    let installed = copy_words[1];

    let entrypoint = all
        .iter()
        .rev()
        .find(|i| i.keyword == "ENTRYPOINT")
        .expect("an ENTRYPOINT");
    let entry: Vec<String> =
        serde_json::from_str(&entrypoint.args).expect("ENTRYPOINT in exec (JSON) form");
    assert_eq!(
        entry.first().map(String::as_str),
        Some(installed),
        "the entrypoint is the copied binary"
    );

    // The image and the chart agree on the user and the port.
    let values: serde_norway::Value = serde_norway::from_str(
        &std::fs::read_to_string(workspace_root().join("charts/bucketcors/values.yaml"))
            .expect("chart values.yaml"),
    )
    .expect("values.yaml parses");
    let user = all
        .iter()
        .rev()
        .find(|i| i.keyword == "USER")
        .expect("a USER: the image runs as non-root");
    let uid: u64 = user
        .args
        .split(':')
        .next()
        .unwrap()
        .parse()
        .expect("numeric USER, so runAsNonRoot can verify it");
    assert_ne!(uid, 0, "the image user is not root");
    assert_eq!(
        values["podSecurityContext"]["runAsUser"].as_u64(),
        Some(uid),
        "chart runAsUser matches the image USER"
    );
    let expose = all
        .iter()
        .find(|i| i.keyword == "EXPOSE")
        .expect("EXPOSE the metrics/health port");
    assert_eq!(
        values["metrics"]["port"].as_u64().map(|p| p.to_string()),
        Some(expose.args.clone()),
        "chart metrics.port matches the image EXPOSE"
    );
}

#[test]
fn dockerignore_keeps_the_build_context_small_but_complete() {
    let text = std::fs::read_to_string(workspace_root().join(".dockerignore"))
        .expect(".dockerignore at the repository root");
    let patterns: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    for heavy in ["target", ".git"] {
        assert!(
            patterns.contains(&heavy),
            ".dockerignore leaves out `{heavy}`"
        );
    }
    // The workspace needs every member's manifest and sources to resolve.
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "rust-toolchain.toml",
        "engine",
        "operator",
        "edge-worker",
        "tests",
    ] {
        assert!(
            !patterns.iter().any(|p| p.trim_start_matches('/') == needed),
            ".dockerignore must not exclude `{needed}`: the workspace build needs it"
        );
    }
}
