//! A real, private fail2ban for tests: `scripts/private-fail2ban` writes its configuration into
//! a short temp directory (socket paths must stay under 108 bytes) and execs
//! `fail2ban-server -f`, which this harness owns as a child process and stops on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Fail2banServer {
    dir: tempfile::TempDir,
    child: Option<Child>,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/private-fail2ban")
}

impl Fail2banServer {
    /// Starts a server and waits until it answers `ping`.
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("f2b")
            .tempdir_in("/tmp")
            .expect("temp dir for fail2ban");
        let mut server = Self { dir, child: None };
        server.spawn(false);
        server
    }

    fn spawn(&mut self, keep_jail_d: bool) {
        let log = std::fs::File::create(self.dir.path().join("server.out")).expect("server log");
        let child = Command::new(script())
            .arg(self.dir.path())
            .env("F2B_FOREGROUND", "1")
            .env("F2B_KEEP_JAIL_D", if keep_jail_d { "1" } else { "0" })
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start fail2ban-server (is the fail2ban package installed?)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if self.try_client(&["ping"]).is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("fail2ban did not answer ping; log: {}", self.log());
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("f2b.sock")
    }

    pub fn database(&self) -> PathBuf {
        self.dir.path().join("f2b.sqlite3")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("fail2ban.log")).unwrap_or_default()
            + &std::fs::read_to_string(self.dir.path().join("server.out")).unwrap_or_default()
    }

    fn try_client(&self, args: &[&str]) -> Option<String> {
        let out = Command::new("fail2ban-client")
            .arg("-s")
            .arg(self.socket())
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Runs `fail2ban-client -s SOCKET args…` and returns its stdout; panics on failure.
    pub fn client(&self, args: &[&str]) -> String {
        self.try_client(args)
            .unwrap_or_else(|| panic!("fail2ban-client {args:?} failed; log: {}", self.log()))
    }

    /// The banned IPs of `jail` as `fail2ban-client` reports them.
    pub fn banned(&self, jail: &str) -> Vec<String> {
        let out = self.client(&["get", jail, "banip"]);
        out.split_whitespace().map(str::to_string).collect()
    }

    /// Appends `count` failed sshd logins from `ip` with the current time.
    pub fn fail_ssh(&self, ip: &str, count: usize) {
        let now = chrono::Local::now().format("%b %e %H:%M:%S");
        let lines: String = (0..count)
            .map(|i| format!("{now} testhost sshd[{}]: Failed password for invalid user admin from {ip} port {} ssh2\n", 1000 + i, 40000 + i))
            .collect();
        append(&self.dir.path().join("log/auth.log"), &lines);
    }

    /// Appends `count` failed application logins from `ip` (jail `bangui-app`, maxretry 2).
    pub fn fail_app(&self, ip: &str, count: usize) {
        let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S");
        let lines: String = (0..count)
            .map(|_| format!("{now} LOGIN FAILED user=bob ip={ip}\n"))
            .collect();
        append(&self.dir.path().join("log/app.log"), &lines);
    }

    /// Waits until `jail` bans `ip` (log-triggered bans take about a second with polling).
    pub fn wait_banned(&self, jail: &str, ip: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.banned(jail).iter().any(|b| b == ip) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{ip} was not banned in {jail}; log: {}", self.log());
    }

    fn signal(&self, signal: i32) {
        if let Some(child) = &self.child {
            // SAFETY: kill(2) with a PID we own; failure is harmless.
            unsafe { libc::kill(child.id() as i32, signal) };
        }
    }

    /// Freezes the server (SIGSTOP): its socket still accepts into the backlog but nothing
    /// answers, as with a hung fail2ban.
    pub fn pause(&self) {
        self.signal(libc::SIGSTOP);
    }

    /// Lets a paused server go on (SIGCONT).
    pub fn resume(&self) {
        self.signal(libc::SIGCONT);
    }

    /// Stops the server (SIGTERM, as an init system would) and waits for it to exit.
    pub fn stop(&mut self) {
        self.resume();
        if let Some(mut child) = self.child.take() {
            // SAFETY: kill(2) with a PID we own; failure is harmless.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again in the same directory (same database), as after a restart.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn(false);
    }

    /// Starts the server again keeping what was written into its `jail.d` (files BanGUI
    /// persisted), as a restart of an installed fail2ban would.
    pub fn restart_keeping_jail_d(&mut self) {
        self.stop();
        self.spawn(true);
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .expect("open log");
    f.write_all(text.as_bytes()).expect("append log");
}

impl Drop for Fail2banServer {
    fn drop(&mut self) {
        self.stop();
    }
}
