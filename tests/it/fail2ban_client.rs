//! The typed fail2ban client against a REAL private `fail2ban-server` (tests/support/fail2ban.rs):
//! bans and unbans, log-triggered bans, settings, restarts, unknown jails, large ban lists and the
//! integrity of fail2ban's own database while the dashboard reads it.

use std::net::IpAddr;
use std::time::Duration;

use crate::support::fail2ban::Fail2banServer;
use bangui::domain::{BanIp, IgnoreTarget, JailName, Origin, Page};
use bangui::fail2ban::{
    ClientConfig, Fail2banClient, Fail2banDb, Fail2banError, ServerSettingUpdate,
};

fn client_for(server: &Fail2banServer) -> Fail2banClient {
    let mut config = ClientConfig::new(server.socket());
    config.config_dir = server.dir().join("etc");
    // A 500-address `banip` runs the dummy action 500 times: on a loaded machine that takes
    // longer than the default timeout. Tests of the timeout itself set their own.
    config.command_timeout = Duration::from_secs(120);
    Fail2banClient::new(config)
}

fn jail(name: &str) -> JailName {
    JailName::parse(name).unwrap()
}

fn ip(text: &str) -> BanIp {
    BanIp::parse(text).unwrap()
}

/// Distinct documentation-free test addresses 10.x.y.z.
fn many_ips(start: u32, n: u32) -> Vec<BanIp> {
    (start..start + n)
        .map(|i| BanIp::from(IpAddr::from([10, (i >> 16) as u8, (i >> 8) as u8, i as u8])))
        .collect()
}

/// Seeds many bans with fail2ban's multi-address `banip` (the dashboard itself bans one at a
/// time); returns how many were newly banned.
async fn ban_in_chunks(client: &Fail2banClient, jail: &JailName, ips: &[BanIp]) -> u64 {
    let mut total = 0;
    for chunk in ips.chunks(500) {
        let texts: Vec<String> = chunk.iter().map(ToString::to_string).collect();
        let mut words = vec!["set", jail.as_str(), "banip"];
        words.extend(texts.iter().map(String::as_str));
        let n = client.call(&words).await.unwrap().as_i64().unwrap();
        total += u64::try_from(n).unwrap();
    }
    total
}

#[tokio::test]
async fn ping_version_and_the_jail_list_come_from_the_running_server() {
    let server = Fail2banServer::start();
    let client = client_for(&server);
    client.ping().await.unwrap();
    assert!(client.version().await.unwrap().starts_with("1."));
    let mut jails = client.jails().await.unwrap();
    jails.sort();
    assert_eq!(jails, vec!["bangui-app", "blocklist-import", "sshd"]);
    client.ensure_jail(&jail("sshd")).await.unwrap();
    assert!(matches!(
        client.ensure_jail(&jail("nope")).await,
        Err(Fail2banError::UnknownJail(j)) if j == "nope"
    ));
}

#[tokio::test]
async fn a_ban_and_an_unban_round_trip_for_ipv4_and_ipv6() {
    let server = Fail2banServer::start();
    let client = client_for(&server);
    let sshd = jail("sshd");
    for text in ["192.0.2.10", "2001:db8::10"] {
        let addr = ip(text);
        assert!(
            client.ban(&sshd, addr).await.unwrap(),
            "{text} newly banned"
        );
        assert!(
            !client.ban(&sshd, addr).await.unwrap(),
            "{text} already banned"
        );
        assert!(server.banned("sshd").contains(&text.to_string()));
        assert_eq!(client.jails_banning(addr).await.unwrap(), vec!["sshd"]);
        let status = client.jail_status(&sshd).await.unwrap();
        assert!(status.banned.contains(&addr.ip()));
        let bans = client.active_bans(&sshd).await.unwrap();
        let ban = bans.iter().find(|b| b.ip == addr.ip()).expect("listed");
        assert_eq!(ban.bantime, 600);
        assert_eq!(ban.ends_at, Some(ban.banned_at + 600));
        let now = chrono::Utc::now().timestamp();
        assert!(
            (ban.banned_at - now).abs() < 120,
            "local time converted to epoch"
        );
        assert!(client.unban(&sshd, addr).await.unwrap());
        assert!(!client.unban(&sshd, addr).await.unwrap());
        assert!(!server.banned("sshd").contains(&text.to_string()));
    }
}

#[tokio::test]
async fn an_ipv4_mapped_address_is_banned_as_plain_ipv4() {
    let server = Fail2banServer::start();
    let client = client_for(&server);
    client
        .ban(&jail("sshd"), ip("::ffff:198.51.100.99"))
        .await
        .unwrap();
    assert_eq!(server.banned("sshd"), vec!["198.51.100.99"]);
}

#[tokio::test]
async fn unbanning_everywhere_lifts_the_ip_from_every_jail_that_bans_it() {
    let server = Fail2banServer::start();
    let client = client_for(&server);
    let addr = ip("203.0.113.50");
    client.ban(&jail("sshd"), addr).await.unwrap();
    client.ban(&jail("blocklist-import"), addr).await.unwrap();
    client.ban(&jail("sshd"), ip("203.0.113.51")).await.unwrap();
    let mut banning = client.jails_banning(addr).await.unwrap();
    banning.sort();
    assert_eq!(banning, vec!["blocklist-import", "sshd"]);
    let all = client.banned_all().await.unwrap();
    assert_eq!(all.iter().map(|(_, ips)| ips.len()).sum::<usize>(), 3);
    let mut removed = client.unban_everywhere(addr).await.unwrap();
    removed.sort();
    assert_eq!(removed, vec!["blocklist-import", "sshd"]);
    assert!(client.jails_banning(addr).await.unwrap().is_empty());
    assert_eq!(client.unban_all().await.unwrap(), 1);
    assert!(server.banned("sshd").is_empty());
}

#[tokio::test]
async fn failed_logins_appended_to_the_log_cause_a_real_ban() {
    let server = Fail2banServer::start();
    let client = client_for(&server);
    server.fail_app("2001:db8:abcd::42", 2);
    server.wait_banned("bangui-app", "2001:db8:abcd::42");
    let status = client.jail_status(&jail("bangui-app")).await.unwrap();
    assert_eq!(status.counters.currently_banned, 1);
    assert!(status.counters.total_failed >= 2);
    assert_eq!(
        status.banned,
        vec!["2001:db8:abcd::42".parse::<IpAddr>().unwrap()]
    );
    let counters = client.jail_counters(&jail("bangui-app")).await.unwrap();
    assert_eq!(counters, status.counters);
    assert_eq!(
        client.jails_banning(ip("2001:db8:abcd::42")).await.unwrap(),
        vec!["bangui-app"]
    );
}

#[tokio::test]
async fn an_unknown_jail_is_reported_as_such_for_reads_and_writes() {
    let server = Fail2banServer::start();
    let client = client_for(&server);
    let ghost = jail("ghost-jail");
    assert!(
        matches!(client.jail_status(&ghost).await, Err(Fail2banError::UnknownJail(j)) if j == "ghost-jail")
    );
    assert!(matches!(
        client.ban(&ghost, ip("192.0.2.1")).await,
        Err(Fail2banError::UnknownJail(_))
    ));
    assert!(matches!(
        client.jail_settings(&ghost).await,
        Err(Fail2banError::UnknownJail(_))
    ));
}

#[tokio::test]
async fn a_stopped_fail2ban_gives_a_typed_offline_error_and_the_same_client_recovers_after_a_restart()
 {
    let mut server = Fail2banServer::start();
    let client = client_for(&server);
    client.ban(&jail("sshd"), ip("192.0.2.77")).await.unwrap();
    server.stop();
    match client.jails().await {
        Err(Fail2banError::Offline { socket, .. }) => {
            assert_eq!(socket, server.socket().display().to_string())
        }
        other => panic!("expected offline, got {other:?}"),
    }
    server.restart();
    client.ping().await.unwrap();
    // fail2ban answers `ping` before its jails have re-applied the bans kept in its database;
    // wait (bounded) for the restore instead of racing it.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let jails = client.jails_banning(ip("192.0.2.77")).await.unwrap();
        if jails == vec!["sshd"] {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the ban was not restored from fail2ban's database after the restart: {jails:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_fail2ban_paused_under_concurrent_load_is_waited_for_not_reported_offline() {
    let server = Fail2banServer::start();
    let client = client_for(&server);
    for round in 0..4 {
        if round == 1 {
            server.pause();
        }
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move { client.jails().await })
            })
            .collect();
        if round == 1 {
            // Longer than the connect retry for a missing socket: a busy socket is not offline.
            tokio::time::sleep(Duration::from_millis(700)).await;
            server.resume();
        }
        for task in tasks {
            let jails = task.await.unwrap();
            assert!(
                matches!(&jails, Ok(j) if j.len() == 3),
                "round {round}: {jails:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_frozen_fail2ban_is_a_timeout_and_the_client_recovers_when_it_thaws() {
    let server = Fail2banServer::start();
    let mut config = ClientConfig::new(server.socket());
    config.command_timeout = Duration::from_secs(1);
    let client = Fail2banClient::new(config);
    client.ping().await.unwrap();
    server.pause();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.jails().await })
        })
        .collect();
    for task in tasks {
        match task.await.unwrap() {
            Err(Fail2banError::Timeout { seconds, .. }) => assert_eq!(seconds, 1),
            other => {
                server.resume();
                panic!("expected a timeout from a frozen fail2ban, got {other:?}")
            }
        }
    }
    server.resume();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while client.ping().await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "no recovery after SIGCONT"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn jail_settings_are_read_and_the_ignore_list_idle_and_ignoreself_can_be_changed() {
    let server = Fail2banServer::start();
    let client = client_for(&server);
    let app = jail("bangui-app");
    let s = client.jail_settings(&app).await.unwrap();
    assert_eq!((s.bantime, s.findtime, s.maxretry), (3600, 3600, 2));
    assert!(s.logpath[0].ends_with("log/app.log"));
    assert_eq!(s.failregex.len(), 1);
    assert!(s.datepattern.is_some());
    assert!(!s.ignoreself);
    assert_eq!(s.actions, vec!["dummy"]);

    let net = IgnoreTarget::parse("10.20.30.40/16").unwrap();
    client.add_ignore(&app, &net).await.unwrap();
    client
        .add_ignore(&app, &IgnoreTarget::parse("192.0.2.5").unwrap())
        .await
        .unwrap();
    let list = client.ignore_list(&app).await.unwrap();
    assert!(list.contains(&"10.20.0.0/16".to_string()), "{list:?}");
    assert!(list.contains(&"192.0.2.5".to_string()), "{list:?}");
    client.remove_ignore(&app, &net.to_string()).await.unwrap();
    assert!(
        !client
            .ignore_list(&app)
            .await
            .unwrap()
            .contains(&"10.20.0.0/16".to_string())
    );

    client.set_ignoreself(&app, true).await.unwrap();
    assert!(client.jail_settings(&app).await.unwrap().ignoreself);
    client.set_idle(&app, true).await.unwrap();
    client.set_idle(&app, false).await.unwrap();
}

#[tokio::test]
async fn a_jail_can_be_stopped_started_and_reloaded_through_fail2ban_client() {
    let server = Fail2banServer::start();
    let client = client_for(&server);
    let app = jail("bangui-app");
    client.stop_jail(&app).await.unwrap();
    assert!(
        !client
            .jails()
            .await
            .unwrap()
            .contains(&"bangui-app".to_string())
    );
    client.start_jail(&app).await.unwrap();
    assert!(
        client
            .jails()
            .await
            .unwrap()
            .contains(&"bangui-app".to_string())
    );
    client.reload(Some(&app)).await.unwrap();
    client.reload(None).await.unwrap();
    client.ensure_jail(&app).await.unwrap();
}

#[tokio::test]
async fn server_settings_are_read_validated_and_changed() {
    let server = Fail2banServer::start();
    let client = client_for(&server);
    let s = client.server_settings().await.unwrap();
    assert_eq!(s.loglevel, "INFO");
    assert_eq!(s.dbpurgeage, 604_800);
    assert_eq!(s.dbmaxmatches, 10);
    assert_eq!(client.dbfile().await.unwrap(), Some(server.database()),);
    client
        .set_server_setting(ServerSettingUpdate::LogLevel("debug".into()))
        .await
        .unwrap();
    client
        .set_server_setting(ServerSettingUpdate::DbMaxMatches(5))
        .await
        .unwrap();
    let s = client.server_settings().await.unwrap();
    assert_eq!((s.loglevel.as_str(), s.dbmaxmatches), ("DEBUG", 5));
    assert!(matches!(
        client
            .set_server_setting(ServerSettingUpdate::LogLevel("LOUD".into()))
            .await,
        Err(Fail2banError::Invalid(e)) if e.field == "loglevel"
    ));
    assert!(!client.flush_logs().await.unwrap().is_empty());
}

#[tokio::test]
async fn three_thousand_banned_ips_are_listed_with_their_times() {
    let server = Fail2banServer::start();
    let client = client_for(&server);
    let blocklist = jail("blocklist-import");
    let ips = many_ips(1, 3000);
    assert_eq!(ban_in_chunks(&client, &blocklist, &ips).await, 3000);
    let bans = client.active_bans(&blocklist).await.unwrap();
    assert_eq!(bans.len(), 3000);
    assert!(
        bans.iter()
            .all(|b| b.bantime == 86_400 && b.jail == "blocklist-import")
    );
    let status = client.jail_status(&blocklist).await.unwrap();
    assert_eq!(status.banned.len(), 3000);
    assert_eq!(status.counters.currently_banned, 3000);
    let all = client.banned_all().await.unwrap();
    assert_eq!(all.iter().map(|(_, v)| v.len()).sum::<usize>(), 3000);
}

#[tokio::test]
async fn n_bans_issued_while_the_dashboard_reads_the_database_give_exactly_n_new_rows() {
    let server = Fail2banServer::start();
    let client = client_for(&server);
    let db = Fail2banDb::open(&client.dbfile().await.unwrap().unwrap())
        .await
        .unwrap();
    let before = db.count_all().await.unwrap();

    let reader = db.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop_reader = stop.clone();
    let reads = tokio::spawn(async move {
        let mut n = 0u32;
        while !stop_reader.load(std::sync::atomic::Ordering::Relaxed) {
            let (_, _) = reader
                .bans_page(0, Origin::All, Page::default())
                .await
                .unwrap();
            reader.count_by_ip(0, Origin::All).await.unwrap();
            reader.count_by_jail(0, Origin::Selfblock).await.unwrap();
            reader.trend(0, 3600, Origin::All).await.unwrap();
            reader.newest().await.unwrap();
            n += 1;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        n
    });

    const N: u32 = 60;
    let sshd = jail("sshd");
    for addr in many_ips(5000, N) {
        assert!(client.ban(&sshd, addr).await.unwrap());
    }
    // fail2ban writes the rows a few ms after each ban.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while db.count_all().await.unwrap() < before + u64::from(N)
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reads.await.unwrap() > 0);
    assert_eq!(db.count_all().await.unwrap(), before + u64::from(N));
    assert!(!server.log().contains("database is locked"));
    let db_path = server.database().display().to_string();
    for suffix in ["-wal", "-shm"] {
        assert!(
            !std::path::Path::new(&format!("{db_path}{suffix}")).exists(),
            "the reader never switches fail2ban's database to WAL"
        );
    }
}

#[tokio::test]
async fn the_database_reader_pages_counts_and_follows_a_timeline() {
    let server = Fail2banServer::start();
    let client = client_for(&server);
    server.fail_app("203.0.113.9", 2);
    server.wait_banned("bangui-app", "203.0.113.9");
    for addr in many_ips(100, 5) {
        client.ban(&jail("blocklist-import"), addr).await.unwrap();
    }
    let db = Fail2banDb::open(&server.database()).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while db.count_all().await.unwrap() < 6 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (page, total) = db
        .bans_page(0, Origin::All, Page::new(Some(1), Some(4)).unwrap())
        .await
        .unwrap();
    assert_eq!((page.len(), total), (4, 6));
    let (_, blocklist_total) = db
        .bans_page(0, Origin::Blocklist, Page::default())
        .await
        .unwrap();
    assert_eq!(blocklist_total, 5);
    assert_eq!(
        db.count_by_jail(0, Origin::Selfblock).await.unwrap(),
        vec![("bangui-app".to_string(), 1)]
    );
    let timeline = db.ip_timeline(&ip("203.0.113.9")).await.unwrap();
    assert_eq!(timeline.len(), 1);
    assert_eq!(timeline[0].failures, Some(2));
    assert_eq!(timeline[0].matches.len(), 2);
    assert!(timeline[0].matches[0].contains("LOGIN FAILED"));
    let (_, newest_time) = db.newest().await.unwrap().unwrap();
    let rows = db.rows_after(newest_time, 100).await.unwrap();
    assert!(!rows.is_empty() && rows.iter().all(|r| r.timeofban >= newest_time));
    let trend = db.trend(0, 86_400, Origin::All).await.unwrap();
    assert_eq!(trend.iter().map(|(_, n)| n).sum::<u64>(), 6);
}

#[tokio::test]
async fn the_database_of_fail2ban_is_never_created_by_the_reader() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("f2b.sqlite3");
    assert!(Fail2banDb::open(&missing).await.is_err());
    assert!(!missing.exists());
}

#[tokio::test]
async fn a_missing_socket_is_offline_after_a_short_retry_and_names_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    let client = Fail2banClient::new(ClientConfig::new(dir.path().join("none.sock")));
    match client.ping().await {
        Err(e @ Fail2banError::Offline { .. }) => {
            assert!(e.to_string().contains("none.sock"), "{e}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn reloading_a_jail_that_is_not_running_is_an_unknown_jail() {
    let server = Fail2banServer::start();
    let client = client_for(&server);
    let app = jail("bangui-app");
    client.stop_jail(&app).await.unwrap();
    assert!(matches!(
        client.reload(Some(&app)).await,
        Err(Fail2banError::UnknownJail(j)) if j == "bangui-app"
    ));
    assert!(matches!(
        client.start_jail(&jail("not-configured")).await,
        Err(Fail2banError::UnknownJail(_))
    ));
}

#[tokio::test]
async fn a_reply_larger_than_the_cap_is_a_protocol_error_not_a_memory_spike() {
    let server = Fail2banServer::start();
    let mut config = ClientConfig::new(server.socket());
    config.max_reply_bytes = 1024;
    let client = Fail2banClient::new(config);
    client.ping().await.unwrap();
    match client.call(&["get", "sshd", "failregex"]).await {
        Err(Fail2banError::Protocol(m)) => assert!(m.contains("cap"), "{m}"),
        other => panic!("{other:?}"),
    }
    client.ping().await.unwrap();
}
