//! The lift detector against a real fail2ban, with a big ban list in mind: after its first full
//! read (`banned`) it reads a jail's banned list only when that jail's ban count dropped below
//! the archive's active addresses, and it still finds an unban made outside BanGUI. Reads are
//! counted by the detector (`HistoryLifts::list_reads`); the `history_lifts` job runs alongside
//! every 4 s, so each assertion holds whichever of the two runs first. Networks are compared as
//! networks.

use crate::support::app::TestApp;
use crate::support::fail2ban::Fail2banServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lift_detector_reads_a_jail_s_list_only_when_its_ban_count_dropped() {
    let f2b = Fail2banServer::start();
    let app = TestApp::builder().fail2ban(&f2b).spawn().await;
    app.setup_admin().await;
    f2b.client(&["set", "sshd", "banip", "192.0.2.30", "192.0.2.31"]);
    app.wait_for_json("/api/v1/history?jail=sshd&state=active", |v| {
        v["total"].as_i64() == Some(2)
    })
    .await;

    let lifts = &app.state.history_lifts;
    lifts.detect().await.expect("detect");
    let before = lifts.list_reads();
    assert!(
        before.full >= 1,
        "the first run reads every list: {before:?}"
    );
    for _ in 0..3 {
        assert_eq!(lifts.detect().await.expect("detect"), 0);
    }
    assert_eq!(
        lifts.list_reads(),
        before,
        "nothing changed: the counts agree and no list is read"
    );

    f2b.client(&["set", "sshd", "unbanip", "192.0.2.30"]);
    lifts.detect().await.expect("detect");
    let story = app
        .wait_for_json("/api/v1/history/192.0.2.30", |v| {
            v["timeline"][0]["state"] == "lifted"
        })
        .await;
    assert_eq!(story["timeline"][0]["lifted_by"], "fail2ban");
    let after = lifts.list_reads();
    assert_eq!(after.full, before.full, "no full read within five minutes");
    assert!(
        after.jails > before.jails,
        "sshd's list was read once its count dropped: {after:?}"
    );
    let (_, other) = app.get_json("/api/v1/history/192.0.2.31").await;
    assert_eq!(other["timeline"][0]["state"], "active", "{other}");
    app.stop().await;
}

/// A banned network (as a blocklist bans `203.0.113.0/24`) stays `active` while fail2ban bans
/// it, whichever way the detector reads the lists, and turns `lifted` once it is unbanned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_banned_network_stays_active_until_it_is_unbanned() {
    let f2b = Fail2banServer::start();
    let app = TestApp::builder().fail2ban(&f2b).spawn().await;
    app.setup_admin().await;
    f2b.client(&["set", "sshd", "banip", "203.0.113.0/24", "192.0.2.40"]);
    app.wait_for_json("/api/v1/history?jail=sshd&state=active", |v| {
        v["total"].as_i64() == Some(2)
    })
    .await;

    let lifts = &app.state.history_lifts;
    for _ in 0..3 {
        assert_eq!(lifts.detect().await.expect("detect"), 0);
    }
    let (_, page) = app.get_json("/api/v1/history?jail=sshd&state=active").await;
    assert_eq!(page["total"], 2, "nothing lifted: {page}");

    // The address goes: the count drops and the jail's list is read; the network stays.
    // (The `history_lifts` job may notice an unban before this test's own run does.)
    f2b.client(&["set", "sshd", "unbanip", "192.0.2.40"]);
    lifts.detect().await.expect("detect");
    let page = app
        .wait_for_json("/api/v1/history?state=active", |v| {
            v["total"].as_i64() == Some(1)
        })
        .await;
    let active: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|r| r["ip"].as_str())
        .collect();
    assert_eq!(active, ["203.0.113.0/24"], "{page}");

    f2b.client(&["set", "sshd", "unbanip", "203.0.113.0/24"]);
    lifts.detect().await.expect("detect");
    app.wait_for_json("/api/v1/history?state=lifted", |v| {
        v["total"].as_i64() == Some(2)
    })
    .await;
    app.stop().await;
}
