//! Decoding cost of fail2ban's largest everyday replies, from recorded fixtures: the 3,000-ban
//! `get JAIL banip --with-time` reply (decode + parse into `ActiveBan`s), `banned` and
//! `status JAIL` with ~3,000 reduced IP strings.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use bangui::fail2ban::protocol::{Reply, decode_reply};
use bangui::fail2ban::types;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fail2ban-1.0.2-replies")
        .join(name);
    std::fs::read(path).expect("fixture")
}

fn value(bytes: &[u8]) -> bangui::fail2ban::protocol::PyValue {
    match decode_reply(bytes).expect("decodes") {
        Reply::Ok(v) => v,
        other => panic!("{other:?}"),
    }
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    let with_time = fixture("big_get_banguiapp_banip_withtime.pkl");
    group.throughput(Throughput::Bytes(with_time.len() as u64));
    group.bench_function("banip_with_time_3000_to_active_bans", |b| {
        b.iter(|| {
            let v = value(&with_time);
            let lines = types::strings(&v).expect("strings");
            let bans: Vec<_> = lines
                .iter()
                .filter_map(|l| types::parse_with_time("bangui-app", l))
                .collect();
            assert!(bans.len() >= 3000);
            bans
        })
    });
    let banned = fixture("big_banned.pkl");
    group.throughput(Throughput::Bytes(banned.len() as u64));
    group.bench_function("banned_all_jails", |b| {
        b.iter(|| types::parse_banned_all_entries(&value(&banned)).expect("banned"))
    });
    let status = fixture("big_status_banguiapp.pkl");
    group.throughput(Throughput::Bytes(status.len() as u64));
    group.bench_function("status_jail_3002_bans", |b| {
        b.iter(|| types::parse_jail_status(&value(&status)).expect("status"))
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
