//! Specifications of the configuration: sources and their order, refused keys and values,
//! secrets kept out of `Debug`.

use super::*;

fn env(pairs: &[(&str, &str)]) -> Sources {
    Sources {
        file: None,
        env: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

#[test]
fn defaults_match_the_documented_table() {
    let s = Settings::from_sources(&Sources::default()).expect("defaults are valid");
    assert_eq!(s.http.host, "127.0.0.1");
    assert_eq!(s.http.port, 8000);
    assert_eq!(s.database.path, PathBuf::from("./data/bangui.db"));
    assert_eq!(
        s.fail2ban.socket,
        PathBuf::from("/var/run/fail2ban/fail2ban.sock")
    );
    assert!(!s.geoip.allow_http_fallback);
    assert!(s.geoip.db_path.is_none());
    assert_eq!(s.geoip.retention_days, 90);
}

#[test]
fn flat_python_names_and_nested_names_both_work() {
    let s = Settings::from_sources(&env(&[
        ("BANGUI_PORT", "9001"),
        ("BANGUI_GEOIP__RETENTION_DAYS", "30"),
        ("BANGUI_GEOIP_ALLOW_HTTP_FALLBACK", "true"),
        ("BANGUI_TRUSTED_PROXIES", "10.0.0.0/8, ::1"),
    ]))
    .expect("valid");
    assert_eq!(s.http.port, 9001);
    assert_eq!(s.geoip.retention_days, 30);
    assert!(s.geoip.allow_http_fallback);
    assert_eq!(s.security.trusted_proxies.len(), 2);
}

#[test]
fn a_bad_value_names_key_value_and_what_is_allowed() {
    let err = Settings::from_sources(&env(&[("BANGUI_PORT", "eighty")]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("http.port") && err.contains("BANGUI_PORT"),
        "{err}"
    );
    assert!(
        err.contains("eighty") && err.contains("0 to 65535"),
        "{err}"
    );
}

#[test]
fn more_than_one_worker_is_refused_with_an_explanation() {
    for (k, v) in [("BANGUI_WORKERS", "4"), ("WEB_CONCURRENCY", "2")] {
        let err = Settings::from_sources(&env(&[(k, v)]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("threads"), "{err}");
    }
    assert!(Settings::from_sources(&env(&[("WEB_CONCURRENCY", "1")])).is_ok());
}

#[test]
fn toml_file_layers_under_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bangui.toml");
    std::fs::write(
        &file,
        "[http]\nport = 7000\nhost = \"0.0.0.0\"\n[log]\nlevel = \"debug\"\n",
    )
    .expect("write");
    let mut sources = env(&[("BANGUI_PORT", "7100")]);
    sources.file = Some(file);
    let s = Settings::from_sources(&sources).expect("valid");
    assert_eq!(s.http.port, 7100);
    assert_eq!(s.http.host, "0.0.0.0");
    assert_eq!(s.log.level, "debug");
}

#[test]
fn unknown_keys_in_the_file_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bangui.toml");
    std::fs::write(&file, "[http]\nprot = 7000\n").expect("write");
    let sources = Sources {
        file: Some(file),
        env: BTreeMap::new(),
    };
    let err = Settings::from_sources(&sources).unwrap_err().to_string();
    assert!(err.contains("http.prot"), "{err}");
}

#[test]
fn a_short_secret_is_rejected_without_echoing_it() {
    let err = Settings::from_sources(&env(&[("BANGUI_SESSION_SECRET", "hunter2")]))
        .unwrap_err()
        .to_string();
    assert!(!err.contains("hunter2"), "{err}");
    assert!(err.contains("32"), "{err}");
}

#[test]
fn a_missing_secret_is_generated_once_and_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("bangui.db");
    let mut s = Settings::from_sources(&env(&[(
        "BANGUI_DATABASE_PATH",
        db.to_str().unwrap_or_default(),
    )]))
    .expect("valid");
    s.ensure_session_secret().expect("generated");
    let first = s.session.secret.clone();
    let mut again = Settings::from_sources(&env(&[(
        "BANGUI_DATABASE_PATH",
        db.to_str().unwrap_or_default(),
    )]))
    .expect("valid");
    again.ensure_session_secret().expect("read back");
    let exposed = |s: &Option<SecretString>| s.as_ref().map(|s| s.expose_secret().to_string());
    assert_eq!(exposed(&first), exposed(&again.session.secret));
    assert!(exposed(&first).is_some_and(|s| s.len() == 64));
}

#[test]
fn the_session_secret_never_appears_in_debug_output() {
    let secret = "s3cret-value-that-is-long-enough-0123456789";
    let s = Settings::from_sources(&env(&[("BANGUI_SESSION_SECRET", secret)])).expect("valid");
    let shown = format!("{s:?} {:?}", s.session);
    assert!(!shown.contains(secret), "{shown}");
    assert!(shown.contains("REDACTED"), "{shown}");
    assert_eq!(
        s.session
            .secret
            .as_ref()
            .map(|v| v.expose_secret().to_string()),
        Some(secret.to_string())
    );
}

#[test]
fn an_unknown_key_is_named_and_never_blamed_on_another_setting() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (text, key) in [
        ("[http]\nprot = 7000\n", "http.prot"),
        ("[htp]\nport = 7000\n", "htp"),
        ("port = 7000\n", "port"),
    ] {
        let file = dir.path().join("bangui.toml");
        std::fs::write(&file, text).expect("write");
        let sources = Sources {
            file: Some(file),
            env: BTreeMap::new(),
        };
        let err = Settings::from_sources(&sources).expect_err("refused");
        assert!(
            matches!(&err, ConfigError::Unknown { key: k, .. } if k == key),
            "{text:?}: {err}"
        );
        assert!(!err.to_string().contains("BANGUI_HOST"), "{err}");
    }
}

#[test]
fn a_bad_value_in_the_file_names_the_key_its_variable_and_what_is_allowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bangui.toml");
    std::fs::write(&file, "[geoip]\nretention_days = 0\n").expect("write");
    let sources = Sources {
        file: Some(file),
        env: BTreeMap::new(),
    };
    let err = Settings::from_sources(&sources)
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("geoip.retention_days")
            && err.contains("BANGUI_GEOIP_RETENTION_DAYS")
            && err.contains("\"0\"")
            && err.contains("1 to 36500"),
        "{err}"
    );
}

#[test]
fn the_flat_name_wins_over_the_nested_form() {
    let s = Settings::from_sources(&env(&[
        ("BANGUI_HTTP__PORT", "7001"),
        ("BANGUI_PORT", "7002"),
        ("BANGUI_LOG__FORMAT", "json"),
    ]))
    .expect("valid");
    assert_eq!(s.http.port, 7002);
    assert_eq!(s.log.format, LogFormat::Json);
}

#[test]
fn toml_lists_are_read_as_lists() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bangui.toml");
    std::fs::write(
        &file,
        "[security]\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n",
    )
    .expect("write");
    let sources = Sources {
        file: Some(file),
        env: BTreeMap::new(),
    };
    let s = Settings::from_sources(&sources).expect("valid");
    assert_eq!(s.security.trusted_proxies.len(), 2);
}
