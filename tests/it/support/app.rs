//! `TestApp`: the real application built with `Application::build` on port 0, a temp data
//! directory and the given environment, served in the background of the test's runtime.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use actix_web::dev::ServerHandle;
use bangui::config::{Settings, Sources};
use bangui::startup::Application;

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub http: reqwest::Client,
    pub handle: ServerHandle,
    pub data_dir: tempfile::TempDir,
    pub join: tokio::task::JoinHandle<std::io::Result<()>>,
    pub state: bangui::state::AppState,
}

/// Builder for a [`TestApp`]: environment variables as `BANGUI_*` names.
#[derive(Default)]
pub struct TestAppBuilder {
    env: BTreeMap<String, String>,
}

impl TestAppBuilder {
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.insert(key.to_string(), value.into());
        self
    }

    pub fn fail2ban_socket(self, socket: &Path) -> Self {
        self.env("BANGUI_FAIL2BAN_SOCKET", socket.display().to_string())
    }

    /// Points the app at a private fail2ban: its socket and configuration directory, and a
    /// history sync every second.
    pub fn fail2ban(self, server: &super::fail2ban::Fail2banServer) -> Self {
        self.fail2ban_socket(&server.socket())
            .env(
                "BANGUI_FAIL2BAN_CONFIG_DIR",
                server.dir().join("etc").display().to_string(),
            )
            .env("BANGUI_HISTORY_SYNC_INTERVAL_SECONDS", "1")
    }

    pub fn geoip(self, mmdb: &Path) -> Self {
        self.env("BANGUI_GEOIP_DB_PATH", mmdb.display().to_string())
    }

    pub async fn spawn(self) -> TestApp {
        let data_dir = tempfile::tempdir().expect("temp data dir");
        let mut env = self.env;
        env.entry("BANGUI_PORT".into())
            .or_insert_with(|| "0".into());
        env.entry("BANGUI_THREADS".into())
            .or_insert_with(|| "2".into());
        env.entry("BANGUI_DATABASE_PATH".into())
            .or_insert_with(|| data_dir.path().join("bangui.db").display().to_string());
        env.entry("BANGUI_FAIL2BAN_SOCKET".into())
            .or_insert_with(|| {
                data_dir
                    .path()
                    .join("no-fail2ban.sock")
                    .display()
                    .to_string()
            });
        env.entry("BANGUI_LOG_LEVEL".into())
            .or_insert_with(|| "warn".into());
        let settings =
            Settings::from_sources(&Sources { file: None, env }).expect("test settings are valid");
        bangui::telemetry::init(&settings.log);
        let app = Application::build(settings)
            .await
            .expect("application builds");
        let port = app.port();
        let handle = app.handle();
        let state = app.state().clone();
        let join = tokio::spawn(app.run_until_stopped());
        // Pooled connections are dropped well before the server's keep-alive closes them, so
        // a request never races the server closing an idle connection (a step that waits for
        // fail2ban to restart can idle for many seconds).
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .pool_idle_timeout(std::time::Duration::from_secs(20))
            .build()
            .expect("http client");
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            http,
            handle,
            data_dir,
            join,
            state,
        }
    }
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let res = self.get(path).await;
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// GETs `path` until it answers 200 with a body `ok` accepts (at most 30 s) and returns
    /// that body; fails the test naming the last answer otherwise.
    pub async fn wait_for_json<F: Fn(&serde_json::Value) -> bool>(
        &self,
        path: &str,
        ok: F,
    ) -> serde_json::Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let (status, body) = self.get_json(path).await;
            if status == 200 && ok(&body) {
                return body;
            }
            if std::time::Instant::now() >= deadline {
                let (_, health) = self.get_json("/api/v1/health").await;
                panic!("timed out waiting on {path}: {status} {body}\nhealth: {health}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.path().join("bangui.db")
    }

    /// Graceful stop, as on SIGTERM; returns when shutdown steps are done.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.join.await;
    }
}

/// Credentials of the admin that [`TestApp::setup_admin`] creates.
pub const ADMIN_USER: &str = "admin";
pub const ADMIN_PASSWORD: &str = "correct-Horse-42";

impl TestApp {
    /// A request with the CSRF header that the dashboard sends on writes.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .header("X-BanGUI-Request", "1")
    }

    /// Sends `body` as JSON with the CSRF header; returns status and JSON body.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let res = self
            .request(method, path)
            .json(&body)
            .send()
            .await
            .expect("request sent");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// Completes setup with [`ADMIN_USER`] without logging in.
    pub async fn create_admin(&self) {
        let (status, body) = self
            .send_json(
                reqwest::Method::POST,
                "/api/v1/setup",
                serde_json::json!({"username": ADMIN_USER, "password": ADMIN_PASSWORD}),
            )
            .await;
        assert_eq!(status, 201, "setup: {body}");
    }

    /// Completes setup with [`ADMIN_USER`] and logs this client in.
    pub async fn setup_admin(&self) {
        self.create_admin().await;
        self.login(ADMIN_USER, ADMIN_PASSWORD).await;
    }

    /// Logs this client in (the cookie store keeps the session).
    pub async fn login(&self, username: &str, password: &str) {
        let (status, body) = self
            .send_json(
                reqwest::Method::POST,
                "/api/v1/auth/login",
                serde_json::json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(status, 200, "login: {body}");
    }

    /// A second client of the same app without cookies.
    pub fn anonymous(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .pool_idle_timeout(std::time::Duration::from_secs(20))
            .build()
            .expect("http client")
    }
}
