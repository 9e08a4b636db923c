//! The `bangui` binary as an operator runs it: configuration errors, the single-instance rule,
//! the single-process rule and graceful shutdown on signals.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn bangui(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bangui"));
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BANGUI_DATABASE_PATH", dir.join("data/bangui.db"))
        .env("BANGUI_FAIL2BAN_SOCKET", dir.join("absent.sock"))
        .env("BANGUI_PORT", "0")
        .env("BANGUI_LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn stderr_of(child: &mut Child) -> String {
    let mut s = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut s);
    }
    s
}

/// Starts the binary and waits until its log says it listens.
fn start_serving(dir: &std::path::Path) -> Child {
    let mut child = bangui(dir).spawn().expect("spawn bangui");
    let mut out = child.stdout.take().expect("stdout");
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline && !seen.contains("BanGUI listening") {
        match out.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(_) => break,
        }
    }
    assert!(
        seen.contains("BanGUI listening"),
        "did not start: {seen}{}",
        stderr_of(&mut child)
    );
    // Keep draining stdout so the process never blocks on a full pipe.
    std::thread::spawn(move || while out.read(&mut buf).is_ok_and(|n| n > 0) {});
    child
}

#[test]
fn an_invalid_setting_stops_the_start_with_exit_code_2_and_names_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = bangui(dir.path())
        .env("BANGUI_PORT", "99999")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("http.port") && err.contains("BANGUI_PORT") && err.contains("99999"),
        "{err}"
    );
    assert!(err.contains("0 to 65535"), "{err}");
}

#[test]
fn more_than_one_worker_process_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (key, value) in [("BANGUI_WORKERS", "4"), ("WEB_CONCURRENCY", "3")] {
        let out = bangui(dir.path()).env(key, value).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{key}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("threads"), "{key}: {err}");
    }
}

#[test]
fn a_second_process_on_the_same_database_exits_within_a_second_naming_the_pid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut first = start_serving(dir.path());
    let started = Instant::now();
    let second = bangui(dir.path()).output().expect("run second");
    let took = started.elapsed();
    assert_eq!(second.status.code(), Some(3));
    assert!(took < Duration::from_secs(1), "took {took:?}");
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains(&format!("PID {}", first.id())), "{err}");
    let _ = first.kill();
    let _ = first.wait();
}

#[test]
fn sigterm_and_sigint_stop_gracefully_with_exit_0_and_release_the_lock() {
    let dir = tempfile::tempdir().expect("tempdir");
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let mut child = start_serving(dir.path());
        let started = Instant::now();
        // SAFETY: kill(2) on the child we spawned.
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = wait_exit(&mut child, Duration::from_secs(10)).expect("exits within 10 s");
        assert_eq!(
            status.code(),
            Some(0),
            "signal {signal}: {}",
            stderr_of(&mut child)
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    // The lock is free again: a new process starts.
    let mut again = start_serving(dir.path());
    let _ = again.kill();
    let _ = again.wait();
}

#[test]
fn a_toml_file_given_with_config_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bangui.toml");
    std::fs::write(&file, "[geoip]\nretention_days = 0\n").expect("write");
    let out = bangui(dir.path())
        .arg("--config")
        .arg(&file)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("geoip.retention_days"));
}
