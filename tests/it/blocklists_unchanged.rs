//! How an unchanged blocklist is checked, against the real private fail2ban: a scheduled run
//! whose last full check is recent trusts the jail's ban count (`status JAIL short`) and reads
//! no ban list; a count below what the jail's blocklists put there (a member unbanned behind
//! BanGUI's back) makes that run re-ban exactly the missing entries; a last full check older
//! than the bound, or an import started by hand, compares every member with fail2ban's live
//! list — which also repairs a loss the count cannot see. Which check ran is asserted through
//! the run's state and its log lines, never through timing.

use bangui::services::blocklists::{LogLineView, RunView};

use crate::blocklists::{DROP_V1, Fixture, JAIL, ListServer, banned, fixture, limits, set, source};

const ALL_OF_V1: [&str; 4] = [
    "203.0.113.0/24",
    "198.51.100.7",
    "198.51.100.8",
    "2001:db8:77::/48",
];

/// The log lines of one run, oldest first.
async fn log_of(fx: &Fixture, run: &RunView) -> Vec<String> {
    let mut lines: Vec<LogLineView> = fx.service.log(run.source_id, 200).await.unwrap();
    lines.retain(|l| l.run_id == run.id);
    lines.reverse();
    lines.into_iter().map(|l| l.message).collect()
}

fn says(log: &[String], text: &str) -> bool {
    log.iter().any(|l| l.contains(text))
}

async fn verified_at(fx: &Fixture, id: i64) -> Option<i64> {
    sqlx::query_scalar("SELECT verified_at FROM blocklist_sources WHERE id = ?")
        .bind(id)
        .fetch_one(&fx.db)
        .await
        .unwrap()
}

/// Moves the last full check of source `id` `secs` into the past.
async fn age_full_check(fx: &Fixture, id: i64, secs: i64) {
    sqlx::query("UPDATE blocklist_sources SET verified_at = verified_at - ? WHERE id = ?")
        .bind(secs)
        .bind(id)
        .execute(&fx.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_scheduled_run_of_an_unchanged_list_trusts_the_ban_count_and_reads_no_ban_list() {
    let fx = fixture(limits()).await;
    let lists = ListServer::start(DROP_V1).await;
    let with_etag = fx
        .service
        .create(&source(&lists.url("/list"), true))
        .await
        .unwrap();
    let first = fx
        .service
        .import_and_wait(with_etag.id, true)
        .await
        .unwrap();
    assert_eq!((first.state.as_str(), first.added), ("completed", 4));
    assert!(
        verified_at(&fx, with_etag.id).await.is_some(),
        "a completed reconciliation counts as a full check"
    );

    let again = fx
        .service
        .import_and_wait(with_etag.id, false)
        .await
        .unwrap();
    assert_eq!(again.state, "unchanged", "{again:?}");
    assert_eq!(again.http_status, Some(304));
    let log = log_of(&fx, &again).await;
    assert!(
        says(
            &log,
            "count check: fail2ban bans 4 entries in blocklist-import, at least the 4"
        ),
        "{log:?}"
    );
    assert!(
        !says(&log, "full check of every member"),
        "no ban list was read: {log:?}"
    );

    // Without validators the body is downloaded and hashed; the same count check follows.
    let mut plain = source(&lists.url("/plain"), true);
    plain.name = "same list without validators".into();
    let plain = fx.service.create(&plain).await.unwrap();
    fx.service.import_and_wait(plain.id, true).await.unwrap();
    let again = fx.service.import_and_wait(plain.id, false).await.unwrap();
    assert_eq!(
        (again.state.as_str(), again.http_status),
        ("unchanged", Some(200)),
        "{again:?}"
    );
    let log = log_of(&fx, &again).await;
    assert!(
        says(&log, "count check: fail2ban bans 4 entries")
            && !says(&log, "full check of every member"),
        "{log:?}"
    );
    assert_eq!(banned(&fx.f2b), set(&ALL_OF_V1));
    lists.stop().await;
}

#[tokio::test]
async fn a_member_unbanned_behind_bangui_s_back_is_seen_by_the_count_and_re_banned_by_the_next_scheduled_run()
 {
    let fx = fixture(limits()).await;
    let lists = ListServer::start(DROP_V1).await;
    let src = fx
        .service
        .create(&source(&lists.url("/list"), true))
        .await
        .unwrap();
    fx.service.import_and_wait(src.id, true).await.unwrap();
    fx.f2b.client(&["set", JAIL, "unbanip", "198.51.100.7"]);
    assert_eq!(banned(&fx.f2b).len(), 3);

    let run = fx.service.import_and_wait(src.id, false).await.unwrap();
    assert_eq!(run.state, "completed", "{run:?}");
    assert_eq!((run.added, run.removed), (1, 0), "exactly the lost one");
    assert_eq!(banned(&fx.f2b), set(&ALL_OF_V1));
    let log = log_of(&fx, &run).await;
    assert!(
        says(
            &log,
            "count check: fail2ban bans only 3 entries in blocklist-import but its blocklists put 4 there"
        ),
        "{log:?}"
    );
    assert!(
        !says(&log, "full check of every member"),
        "the short count alone decides: {log:?}"
    );

    let after = fx.service.import_and_wait(src.id, false).await.unwrap();
    assert_eq!(
        after.state, "unchanged",
        "repaired, so the count agrees again"
    );
    lists.stop().await;
}

#[tokio::test]
async fn a_full_check_older_than_the_bound_checks_every_member_and_repairs_what_the_count_cannot_see()
 {
    let fx = fixture(limits()).await;
    let lists = ListServer::start(DROP_V1).await;
    let src = fx
        .service
        .create(&source(&lists.url("/list"), true))
        .await
        .unwrap();
    fx.service.import_and_wait(src.id, true).await.unwrap();
    // A member lost while a ban by hand keeps the jail's count where it was.
    fx.f2b.client(&["set", JAIL, "unbanip", "198.51.100.7"]);
    fx.f2b.client(&["set", JAIL, "banip", "192.0.2.200"]);

    let masked = fx.service.import_and_wait(src.id, false).await.unwrap();
    assert_eq!(
        masked.state, "unchanged",
        "within the bound the count is trusted: {masked:?}"
    );
    assert!(!banned(&fx.f2b).contains("198.51.100.7"));

    age_full_check(&fx, src.id, 2 * 3600).await;
    let before = verified_at(&fx, src.id).await.unwrap();
    let run = fx.service.import_and_wait(src.id, false).await.unwrap();
    assert_eq!(run.state, "completed", "{run:?}");
    assert_eq!((run.added, run.removed), (1, 0));
    let log = log_of(&fx, &run).await;
    assert!(
        says(
            &log,
            "full check of every member against fail2ban's ban list: the last full check was"
        ),
        "{log:?}"
    );
    assert!(!says(&log, "count check"), "{log:?}");
    let mut expected = set(&ALL_OF_V1);
    expected.insert("192.0.2.200".into());
    assert_eq!(
        banned(&fx.f2b),
        expected,
        "the ban made by hand stays, the lost member is back"
    );
    let after = verified_at(&fx, src.id).await.unwrap();
    assert!(
        after >= before + 2 * 3600 - 60,
        "the repair is the new full check"
    );

    // Aged again with nothing lost: a full check, no change, and its time is recorded.
    age_full_check(&fx, src.id, 2 * 3600).await;
    let run = fx.service.import_and_wait(src.id, false).await.unwrap();
    assert_eq!(run.state, "unchanged", "{run:?}");
    assert!(says(&log_of(&fx, &run).await, "the last full check was"));
    assert!(verified_at(&fx, src.id).await.unwrap() >= after);
    lists.stop().await;
}

#[tokio::test]
async fn an_import_started_by_hand_checks_every_member_of_an_unchanged_list() {
    let fx = fixture(limits()).await;
    let lists = ListServer::start(DROP_V1).await;
    let src = fx
        .service
        .create(&source(&lists.url("/list"), true))
        .await
        .unwrap();
    fx.service.import_and_wait(src.id, true).await.unwrap();
    fx.f2b.client(&["set", JAIL, "unbanip", "198.51.100.8"]);
    fx.f2b.client(&["set", JAIL, "banip", "192.0.2.201"]);

    let run = fx.service.import_and_wait(src.id, true).await.unwrap();
    assert_eq!((run.state.as_str(), run.added), ("completed", 1), "{run:?}");
    let log = log_of(&fx, &run).await;
    assert!(
        says(
            &log,
            "full check of every member against fail2ban's ban list: an import started by hand"
        ),
        "{log:?}"
    );
    assert!(banned(&fx.f2b).contains("198.51.100.8"));

    let again = fx.service.import_and_wait(src.id, true).await.unwrap();
    assert_eq!(again.state, "unchanged");
    assert!(says(&log_of(&fx, &again).await, "started by hand"));
    lists.stop().await;
}
