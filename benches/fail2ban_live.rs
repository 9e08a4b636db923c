//! `banned` (and `status JAIL`, `get JAIL banip --with-time`) over the socket of a live private
//! fail2ban-server holding 10,000 bans. Setting up the bans takes about 40 s: fail2ban's dummy
//! action forks a shell per banned address.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::net::IpAddr;

use bangui::domain::{BanIp, JailName};
use bangui::fail2ban::{ClientConfig, Fail2banClient};

#[allow(dead_code)]
#[path = "../tests/it/support/fail2ban.rs"]
mod fail2ban_support;

const BANS: u32 = 10_000;

fn live(c: &mut Criterion) {
    let server = fail2ban_support::Fail2banServer::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut config = ClientConfig::new(server.socket());
    config.command_timeout = std::time::Duration::from_secs(60);
    let client = Fail2banClient::new(config);
    let jail = JailName::parse("blocklist-import").expect("jail");
    let ips: Vec<BanIp> = (0..BANS)
        .map(|i| BanIp::from(IpAddr::from([10, 1, (i >> 8) as u8, i as u8])))
        .collect();
    rt.block_on(async {
        for chunk in ips.chunks(1000) {
            let texts: Vec<String> = chunk.iter().map(ToString::to_string).collect();
            let mut words = vec!["set", jail.as_str(), "banip"];
            words.extend(texts.iter().map(String::as_str));
            client.call(&words).await.expect("ban");
        }
        let all = client.banned_all().await.expect("banned");
        assert_eq!(
            all.iter().map(|(_, v)| v.len()).sum::<usize>(),
            BANS as usize
        );
    });

    let mut group = c.benchmark_group("live_10000_bans");
    group.sample_size(30);
    group.bench_function("banned", |b| {
        b.iter(|| rt.block_on(client.banned_all()).expect("banned"))
    });
    group.bench_function("status_jail", |b| {
        b.iter(|| rt.block_on(client.jail_status(&jail)).expect("status"))
    });
    group.bench_function("status_jail_short", |b| {
        b.iter(|| rt.block_on(client.jail_counters(&jail)).expect("counters"))
    });
    group.bench_function("banip_with_time", |b| {
        b.iter(|| rt.block_on(client.active_bans(&jail)).expect("active bans"))
    });
    group.bench_function("ping", |b| {
        b.iter(|| rt.block_on(client.ping()).expect("ping"))
    });
    group.finish();
    drop(server);
}

criterion_group!(benches, live);
criterion_main!(benches);
