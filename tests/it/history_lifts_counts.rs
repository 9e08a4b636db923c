//! The lift detector against a real fail2ban, with a big ban list in mind: after its first full
//! read (`banned`) it reads a jail's banned list only when that jail's ban count dropped below
//! the archive's active addresses, and it still finds an unban made outside BanGUI. Reads are
//! counted by the detector (`HistoryLifts::list_reads`); the `history_lifts` job runs alongside
//! every 4 s, so each assertion holds whichever of the two runs first.

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
