//! A graceful stop lets requests in flight finish: while fail2ban is busy with a bulk ban (it
//! runs commands one at a time), a dashboard request waits on it; stopping the app meanwhile
//! still delivers that request's answer, and new connections are refused.

use std::time::Duration;

use crate::support::app::TestApp;
use crate::support::fail2ban::Fail2banServer;

#[tokio::test]
async fn a_request_in_flight_when_the_stop_begins_still_gets_its_answer() {
    let f2b = Fail2banServer::start();
    // The bulk ban's duration depends on the machine: the longest stop allowed and a long
    // fail2ban command timeout, so that only the behaviour is tested, not this machine's speed.
    let app = TestApp::builder()
        .fail2ban(&f2b)
        .env("BANGUI_SHUTDOWN_TIMEOUT_SECONDS", "9")
        .env("BANGUI_FAIL2BAN_COMMAND_TIMEOUT_SECONDS", "60")
        .spawn()
        .await;
    app.setup_admin().await;

    // Keep fail2ban's single command loop busy for a few seconds.
    let socket = f2b.socket();
    let bulk = std::thread::spawn(move || {
        let ips: Vec<String> = (0..300)
            .map(|i| format!("198.18.{}.{}", i / 250, i % 250 + 1))
            .collect();
        let mut cmd = std::process::Command::new("fail2ban-client");
        cmd.arg("-s")
            .arg(&socket)
            .args(["set", "sshd", "banip"])
            .args(&ips);
        cmd.output()
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let in_flight = tokio::spawn({
        let http = app.http.clone();
        let url = app.url("/api/v1/jails");
        async move { http.get(url).send().await.map(|r| r.status().as_u16()) }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !in_flight.is_finished(),
        "the request waits on the busy fail2ban"
    );

    let url = app.url("/api/v1/health/live");
    let stopping = tokio::spawn(app.handle.clone().stop(true));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        reqwest::get(&url).await.is_err(),
        "no new connections once the stop began"
    );

    let status = in_flight
        .await
        .expect("task")
        .expect("the in-flight request was answered");
    assert_eq!(status, 200);
    stopping.await.expect("stop completes");
    let _ = app.join.await;
    let _ = bulk.join();
}
