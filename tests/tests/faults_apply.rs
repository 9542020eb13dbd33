//! Faults while `bucketcors apply` writes to the buckets: Garage killed in
//! the middle of a run (and restarted), and the apply process itself killed
//! in the middle of a run (and run again).
//!
//! A configuration is replaced whole (PutBucketCors), so whatever moment the
//! fault hits, every bucket must hold either its previous rules or the new
//! ones, never anything else; the fault must be reported; and running the
//! same apply again must converge, with a third run writing nothing.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use bucketcors_testkit::edge::EdgeOptions;
use support::cli;
use support::world::{World, s3_manifest};

const BUCKETS: usize = 24;

fn bucket(i: usize) -> String {
    format!("fault-apply-{i:02}")
}

fn write_manifests(world: &World, origin: &str) -> std::path::PathBuf {
    let dir = world.dir.join("manifests");
    std::fs::create_dir_all(&dir).expect("manifest dir");
    for i in 0..BUCKETS {
        let rules = format!(
            "    - allowedOrigins: [\"{origin}\"]\n      allowedMethods: [GET, PUT]\n      maxAgeSeconds: {}\n",
            100 + i
        );
        let m = s3_manifest(
            &bucket(i),
            &bucket(i),
            &world.garage.endpoint(),
            &rules,
            "",
            "Retain",
        );
        std::fs::write(dir.join(format!("{}.yaml", bucket(i))), m).expect("write manifest");
    }
    dir
}

fn start_world() -> World {
    let names: Vec<String> = (0..BUCKETS).map(bucket).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    World::start(&names, &EdgeOptions::default())
}

/// Every bucket holds exactly `v1` or `v2`; returns how many hold `v2`.
fn assert_whole(world: &World) -> usize {
    let mut v2 = 0;
    for i in 0..BUCKETS {
        let origins = world.bucket_origins(&bucket(i));
        match origins.as_deref() {
            Some([o]) if o == &vec!["https://v1.example".to_owned()] => {}
            Some([o]) if o == &vec!["https://v2.example".to_owned()] => v2 += 1,
            other => panic!(
                "bucket {} holds neither the old nor the new rules: {other:?}",
                bucket(i)
            ),
        }
    }
    v2
}

fn apply_env(world: &World) -> Vec<(&'static str, String)> {
    world.env()
}

/// Waits until the running apply has printed its first progress line for a
/// bucket (so it is really under way), then returns what it printed so far
/// and the rest of its stdout as a channel.
fn wait_for_progress(
    child: &mut std::process::Child,
) -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                seen.push_str(&line);
                seen.push('\n');
                if line.contains("fault-apply-") {
                    return (seen, rx);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(_) => break,
        }
    }
    panic!("apply printed no progress line for a bucket; it printed:\n{seen}");
}

/// Starts `bucketcors apply -f dir` in the background.
fn spawn_apply(world: &World, dir: &std::path::Path) -> std::process::Child {
    let env = apply_env(world);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let path = dir.display().to_string();
    cli::command(&["apply", "-f", &path], &env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("apply starts")
}

fn converge(world: &World, dir: &std::path::Path) {
    let path = dir.display().to_string();
    let env = apply_env(world);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = cli::run(&["apply", "-f", &path], &env);
    assert_eq!(run.code, Some(0), "the re-run converges:\n{}", run.all());
    assert_eq!(
        assert_whole(world),
        BUCKETS,
        "every bucket holds the new rules after the re-run"
    );
    let run = cli::run(&["apply", "-f", &path], &env);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let all = run.all().to_lowercase();
    assert!(
        all.matches("unchanged").count() >= BUCKETS,
        "a third run finds every bucket unchanged:\n{}",
        run.all()
    );
}

fn first_apply(world: &World) {
    let dir = write_manifests(world, "https://v1.example");
    let path = dir.display().to_string();
    let env = apply_env(world);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = cli::run(&["apply", "-f", &path], &env);
    assert_eq!(
        run.code,
        Some(0),
        "the first apply succeeds:\n{}",
        run.all()
    );
    assert_eq!(assert_whole(world), 0);
}

#[test]
fn garage_killed_during_apply_then_restarted() {
    let mut world = start_world();
    first_apply(&world);
    let dir = write_manifests(&world, "https://v2.example");
    let mut child = spawn_apply(&world, &dir);
    // Kill Garage as soon as the run is under way (one bucket done, the
    // others still to read, compare, write and read back).
    let (mut printed, rest) = wait_for_progress(&mut child);
    world.garage.kill();
    let start = Instant::now();
    let out = child.wait_with_output().expect("apply ends");
    let took = start.elapsed();
    printed.extend(rest.try_iter().map(|l| l + "\n"));
    let all = format!("{printed}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        took < Duration::from_secs(120),
        "apply against a dead Garage must end (took {took:?})"
    );
    assert_eq!(out.status.code(), Some(2), "backend errors exit 2:\n{all}");
    assert!(
        all.contains("fault-apply-"),
        "the error names the bucket(s):\n{all}"
    );
    assert!(
        !all.contains(&world.garage.key().secret_access_key),
        "secret in the output"
    );
    world
        .garage
        .restart()
        .expect("Garage restarts with its data");
    let updated = assert_whole(&world);
    eprintln!("Garage was killed with {updated} of {BUCKETS} buckets updated");
    assert!(updated < BUCKETS, "Garage died before the run could finish");
    converge(&world, &dir);
}

#[test]
fn apply_killed_mid_run_then_run_again() {
    let world = start_world();
    first_apply(&world);
    let dir = write_manifests(&world, "https://v2.example");
    let mut child = spawn_apply(&world, &dir);
    let _ = wait_for_progress(&mut child);
    let finished_early = child.try_wait().expect("try_wait").is_some();
    child.kill().ok(); // SIGKILL: no cleanup code runs
    let _ = child.wait();
    let updated = assert_whole(&world);
    eprintln!(
        "apply was killed with {updated} of {BUCKETS} buckets updated (finished before the kill: {finished_early})"
    );
    converge(&world, &dir);
}
