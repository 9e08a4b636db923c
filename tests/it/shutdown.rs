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
    // Under load, fail2ban-client may take a while to start: send dashboard requests until
    // one of them is still waiting 300 ms later, i.e. fail2ban is busy with the bulk ban.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let in_flight = loop {
        let request = tokio::spawn({
            let http = app.http.clone();
            let url = app.url("/api/v1/jails");
            async move { http.get(url).send().await.map(|r| r.status().as_u16()) }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        if !request.is_finished() {
            break request;
        }
        assert!(
            !bulk.is_finished() && std::time::Instant::now() < deadline,
            "no request ever waited on the busy fail2ban (the bulk ban ended first)"
        );
    };

    let url = app.url("/api/v1/health/live");
    let stopping = tokio::spawn(app.handle.clone().stop(true));
    // The listener closes soon after the stop begins; wait for it rather than for a fixed time.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while reqwest::get(&url).await.is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "new connections are still accepted 10 s after the stop began"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !in_flight.is_finished(),
        "the in-flight request is still waiting when new connections are refused"
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
