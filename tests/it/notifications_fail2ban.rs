//! Notifications end to end with a real fail2ban: bans made from real log lines travel through
//! the archive sync and the event bus to a signed webhook on a local receiver, which answers
//! the first request with 500 and verifies every signature. The channel takes only the `sshd`
//! jail and sends at most one message per 25 s: the first ban goes out at once (and again
//! after the 500), the next three bans as one digest, the ban in another jail not at all.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;

use crate::notifications::{assert_signed, create, webhook_channel};
use crate::support::app::TestApp;
use crate::support::fail2ban::Fail2banServer;
use crate::support::receivers::HttpReceiver;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bans_from_real_log_lines_reach_a_signed_webhook_as_one_message_then_one_digest() {
    let f2b = Fail2banServer::start();
    let app = TestApp::builder()
        .fail2ban(&f2b)
        .env("BANGUI_NOTIFICATIONS_RETRY_BASE_MILLISECONDS", "200")
        .spawn()
        .await;
    app.setup_admin().await;
    let hook = HttpReceiver::start(1).await;
    let mut channel = webhook_channel(&hook.url, 25);
    channel["rules"]["jails"] = json!(["sshd"]);
    create(&app, channel).await;

    f2b.fail_ssh("192.0.2.10", 3);
    let first = hook.wait_for(2, Duration::from_secs(40)).await;
    assert_eq!(first[0].status, 500);
    assert_eq!(first[1].status, 200);
    assert_eq!(
        first[0].header("x-bangui-delivery"),
        first[1].header("x-bangui-delivery"),
        "a retry is the same delivery"
    );
    let event = first[1].json();
    assert_eq!(event["type"], "event", "{event}");
    assert_eq!(event["kind"], "ban");
    assert_eq!(event["ip"], "192.0.2.10");
    assert_eq!(event["jail"], "sshd");

    // Another jail: filtered out by the channel's rules.
    f2b.fail_app("192.0.2.99", 2);
    let burst = ["192.0.2.11", "192.0.2.12", "192.0.2.13"];
    for ip in burst {
        f2b.fail_ssh(ip, 3);
    }
    f2b.wait_banned("bangui-app", "192.0.2.99");
    for ip in burst {
        f2b.wait_banned("sshd", ip);
    }
    let all = hook.wait_for(3, Duration::from_secs(60)).await;
    let digest = all[2].json();
    assert_eq!(digest["type"], "digest", "{digest}");
    assert_eq!(digest["total"], 3);
    assert_eq!(digest["jails"], json!([{"key": "sshd", "count": 3}]));
    let ips: BTreeSet<&str> = digest["top_ips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert_eq!(ips, BTreeSet::from(burst));
    for r in &all {
        assert_signed(r);
    }
    // Nothing else comes: the app-jail ban never reaches this channel.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(hook.received().len(), 3, "{:#?}", hook.received());
    app.stop().await;
}
