//! Geolocation happens once, when a ban is archived, and the archive follows the GeoIP
//! database: against a real private fail2ban, bans are archived with the country, ASN and MMDB
//! build that resolved them; an address the MMDB does not know stays unresolved until a newer
//! build knows it; and when the MMDB is replaced by a build that places a network elsewhere,
//! the re-geolocation job moves the archived bans and the dashboard's counts with them.

use crate::support::app::TestApp;
use crate::support::fail2ban::Fail2banServer;
use crate::support::mmdb::{self, CountryNet};
use serde_json::json;

/// The demo world without 198.51.100.0/24 (so one address stays unresolved).
fn first_build() -> Vec<CountryNet> {
    mmdb::demo_countries()
        .into_iter()
        .filter(|c| c.network != "198.51.100.0/24")
        .collect()
}

/// A later build: 203.0.113.0/24 moved from Germany to Austria, 198.51.100.0/24 now known.
fn second_build() -> Vec<CountryNet> {
    let mut nets: Vec<CountryNet> = mmdb::demo_countries()
        .into_iter()
        .filter(|c| c.network != "203.0.113.0/24")
        .collect();
    nets.push(CountryNet::new(
        "203.0.113.0/24",
        "AT",
        "Austria",
        "EU",
        2_782_113,
    ));
    nets
}

async fn archived_geo(app: &TestApp, ip: &str) -> (Option<String>, Option<i64>) {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", app.database_path().display()))
        .await
        .expect("open the archive");
    let row: (Option<String>, Option<i64>) =
        sqlx::query_as("SELECT country_code, geo_build FROM history WHERE ip = ?")
            .bind(ip)
            .fetch_one(&pool)
            .await
            .expect("archived row");
    pool.close().await;
    row
}

#[tokio::test]
async fn archived_bans_carry_their_geolocation_and_follow_a_new_mmdb_build() {
    let f2b = Fail2banServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let country = dir.path().join("country.mmdb");
    mmdb::write_atomically(
        &country,
        &mmdb::country_bytes(&first_build(), 1_700_000_000),
    );
    let app = TestApp::builder()
        .fail2ban(&f2b)
        .geoip(&country)
        .spawn()
        .await;
    app.setup_admin().await;

    f2b.client(&[
        "set",
        "sshd",
        "banip",
        "203.0.113.5",
        "203.0.113.6",
        "198.51.100.7",
    ]);
    app.wait_for_json("/api/v1/dashboard/bans/by-country", |b| b["total"] == 3)
        .await;
    let (_, countries) = app.get_json("/api/v1/dashboard/bans/by-country").await;
    assert_eq!(countries["countries"], json!({"DE": 2}));
    assert_eq!(countries["unresolved"], 1);
    assert_eq!(
        archived_geo(&app, "203.0.113.5").await,
        (Some("DE".into()), Some(1_700_000_000))
    );
    assert_eq!(archived_geo(&app, "198.51.100.7").await, (None, None));

    // A job run with the same database changes nothing.
    let unchanged = app.state.regeo.run_once().await.expect("regeo");
    assert_eq!(unchanged.changed, 0);

    // The GeoIP updater drops in a newer build.
    mmdb::write_atomically(
        &country,
        &mmdb::country_bytes(&second_build(), 1_800_000_000),
    );
    app.state.geo.reload().expect("the new build loads");
    let moved = app.state.regeo.run_once().await.expect("regeo");
    assert_eq!(moved.changed, 3, "two moved to AT, one resolved to US");

    let (_, countries) = app.get_json("/api/v1/dashboard/bans/by-country").await;
    assert_eq!(countries["countries"], json!({"AT": 2, "US": 1}));
    assert_eq!(countries["country_names"]["AT"], "Austria");
    assert_eq!(
        (
            countries["unresolved"].as_u64(),
            countries["total"].as_u64()
        ),
        (Some(0), Some(3))
    );
    assert_eq!(
        archived_geo(&app, "203.0.113.6").await,
        (Some("AT".into()), Some(1_800_000_000))
    );
    let (_, page) = app.get_json("/api/v1/dashboard/bans?country=AT").await;
    assert_eq!(page["total"], 2);
    assert_eq!(page["items"][0]["geo"]["country_code"], "AT");
    let (_, by_jail) = app
        .get_json("/api/v1/dashboard/bans/by-jail?country=US")
        .await;
    assert_eq!(by_jail["jails"], json!([{"jail": "sshd", "count": 1}]));

    // The counts survive a restart of the in-memory copy: they come from the table.
    let reloaded = bangui::services::rollups::RollupStore::load(&app.state.db)
        .await
        .expect("reload");
    assert_eq!(reloaded.total(), 3);
    app.stop().await;
}
