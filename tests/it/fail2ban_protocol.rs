//! The protocol decoder and reply readers, specified against every reply recorded from a real
//! fail2ban 1.0.2 (`/work/shared/fixtures/fail2ban-1.0.2-replies`, copied to tests/fixtures).

use std::net::IpAddr;
use std::path::PathBuf;

use bangui::fail2ban::Fail2banError;
use bangui::fail2ban::protocol::{PyValue, Reply, decode, decode_reply};
use bangui::fail2ban::types;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fail2ban-1.0.2-replies")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_dir().join(name)).expect("fixture")
}

fn ok(name: &str) -> PyValue {
    match decode_reply(&fixture(name)).expect("decodes") {
        Reply::Ok(v) => v,
        other => panic!("{name}: expected an OK reply, got {other:?}"),
    }
}

#[test]
fn every_recorded_reply_decodes_into_a_reply() {
    let mut n = 0;
    for entry in std::fs::read_dir(fixture_dir()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let reply = decode_reply(&bytes);
        assert!(reply.is_ok(), "{}: {reply:?}", path.display());
        n += 1;
    }
    assert_eq!(n, 47);
}

#[test]
fn ping_version_and_server_status_are_plain_strings() {
    assert_eq!(ok("00_ping.pkl"), PyValue::Str("pong".into()));
    assert_eq!(ok("01_version.pkl").as_str(), Some("1.0.2"));
    assert_eq!(ok("43_server-status.pkl").as_str(), Some("Server ready"));
}

#[test]
fn the_jail_list_is_split_from_one_comma_separated_string() {
    assert_eq!(
        types::parse_jail_list(&ok("02_status.pkl")).unwrap(),
        vec!["bangui-app", "sshd"]
    );
}

#[test]
fn a_jail_status_has_counters_files_and_banned_ips_that_arrive_as_reduced_strings() {
    let (status, bad) = types::parse_jail_status(&ok("03_status_sshd.pkl")).unwrap();
    assert!(bad.is_empty());
    assert_eq!(status.counters.total_failed, 3);
    assert_eq!(status.counters.currently_banned, 1);
    assert_eq!(status.file_list, vec!["/tmp/f2b.t2/log/auth.log"]);
    assert_eq!(
        status.banned,
        vec!["198.51.100.7".parse::<IpAddr>().unwrap()]
    );
    let (cymru, _) = types::parse_jail_status(&ok("04_status_sshd_cymru.pkl")).unwrap();
    assert_eq!(cymru.banned, status.banned);
}

#[test]
fn the_big_status_reply_lists_three_thousand_and_two_bans() {
    let (status, _) = types::parse_jail_status(&ok("big_status_banguiapp.pkl")).unwrap();
    assert_eq!(status.counters.currently_banned, 3002);
    assert_eq!(status.banned.len(), 3002);
}

#[test]
fn ban_and_unban_replies_count_the_addresses_that_changed() {
    assert_eq!(ok("05_set_sshd_banip_1.2.3.4.pkl").as_i64(), Some(1));
    assert_eq!(ok("06_set_sshd_banip_1.2.3.4.pkl").as_i64(), Some(0));
    assert_eq!(ok("35_set_sshd_unbanip_1.2.3.4.pkl").as_i64(), Some(1));
    assert_eq!(ok("36_set_sshd_unbanip_1.2.3.4.pkl").as_i64(), Some(0));
}

#[test]
fn banned_ip_lists_decode_as_strings() {
    let (ips, _) = types::ips(&ok("07_get_sshd_banip.pkl")).unwrap();
    assert_eq!(ips.len(), 2);
    assert_eq!(
        types::strings(&ok("11_get_sshd_banned.pkl")).unwrap(),
        vec!["198.51.100.7", "1.2.3.4"]
    );
    assert_eq!(ok("12_get_sshd_banned_1.2.3.4.pkl").as_i64(), Some(1));
}

#[test]
fn with_time_lines_give_start_bantime_and_end_in_epoch_seconds() {
    let lines = types::strings(&ok("08_get_sshd_banip_--with-time.pkl")).unwrap();
    let ban = types::parse_with_time("sshd", &lines[0]).unwrap();
    assert_eq!(ban.ip.to_string(), "198.51.100.7");
    assert_eq!(ban.bantime, 600);
    assert_eq!(ban.ends_at, Some(ban.banned_at + 600));
    let big = types::strings(&ok("big_get_banguiapp_banip_withtime.pkl")).unwrap();
    let parsed: Vec<_> = big
        .iter()
        .filter_map(|l| types::parse_with_time("bangui-app", l))
        .collect();
    assert_eq!(parsed.len(), big.len());
    assert!(parsed.len() >= 3000);
}

#[test]
fn a_permanent_ban_has_no_end() {
    let ban = types::parse_with_time(
        "sshd",
        "10.9.9.9 \t2026-11-20 23:07:07 + -1 = 9999-12-31 23:59:59",
    )
    .unwrap();
    assert_eq!((ban.bantime, ban.ends_at), (-1, None));
}

#[test]
fn banned_for_all_jails_is_a_list_of_one_key_dicts() {
    let all = types::parse_banned_all_entries(&ok("09_banned.pkl")).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].0, "sshd");
    assert_eq!(all[1].1[0], "2001:db8:abcd::42");
    let big = types::parse_banned_all_entries(&ok("big_banned.pkl")).unwrap();
    assert!(big.iter().map(|(_, ips)| ips.len()).sum::<usize>() > 1000);
    let per_ip = ok("10_banned_1.2.3.4_9.9.9.9.pkl");
    let lists = per_ip.as_list().unwrap();
    assert_eq!(types::strings(&lists[0]).unwrap(), vec!["sshd"]);
    assert!(types::strings(&lists[1]).unwrap().is_empty());
}

#[test]
fn jail_settings_replies_have_the_expected_shapes() {
    assert_eq!(ok("13_get_sshd_bantime.pkl").as_i64(), Some(600));
    assert_eq!(ok("14_get_sshd_findtime.pkl").as_i64(), Some(600));
    assert_eq!(ok("15_get_sshd_maxretry.pkl").as_i64(), Some(3));
    assert_eq!(ok("16_get_sshd_maxmatches.pkl").as_i64(), Some(3));
    assert!(ok("17_get_sshd_bantime.increment.pkl").is_none());
    assert_eq!(
        types::strings(&ok("20_get_sshd_logpath.pkl"))
            .unwrap()
            .len(),
        1
    );
    assert!(
        types::strings(&ok("21_get_sshd_ignoreip.pkl"))
            .unwrap()
            .is_empty()
    );
    assert_eq!(ok("22_get_sshd_ignoreself.pkl").as_bool(), Some(false));
    assert!(
        types::strings(&ok("23_get_sshd_failregex.pkl"))
            .unwrap()
            .len()
            > 5
    );
    assert_eq!(
        types::parse_datepattern(&ok("24_get_sshd_datepattern.pkl")),
        None
    );
    assert_eq!(
        types::strings(&ok("26_get_sshd_actions.pkl")).unwrap(),
        vec!["dummy"]
    );
    assert_eq!(ok("40_set_sshd_bantime_1200.pkl").as_i64(), Some(1200));
}

#[test]
fn server_settings_replies_are_strings_and_integers() {
    assert_eq!(
        ok("29_get_dbfile.pkl").as_str(),
        Some("/tmp/f2b.t2/f2b.sqlite3")
    );
    assert_eq!(ok("30_get_dbpurgeage.pkl").as_i64(), Some(604_800));
    assert_eq!(ok("31_get_dbmaxmatches.pkl").as_i64(), Some(10));
    assert_eq!(ok("32_get_loglevel.pkl").as_str(), Some("INFO"));
    assert_eq!(ok("34_get_syslogsocket.pkl").as_str(), Some("auto"));
    assert_eq!(
        types::strings(&ok("42_echo_a_b.pkl")).unwrap(),
        vec!["a", "b"]
    );
}

fn error_of(name: &str) -> Fail2banError {
    match decode_reply(&fixture(name)).unwrap() {
        Reply::Error { class, message } => Fail2banError::from_exception(&class, message),
        other => panic!("{name}: expected an error reply, got {other:?}"),
    }
}

#[test]
fn an_unknown_jail_exception_becomes_unknown_jail_with_its_name() {
    match error_of("38_get_nosuchjail_bantime.pkl") {
        Fail2banError::UnknownJail(jail) => assert_eq!(jail, "nosuchjail"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_value_error_becomes_rejected_with_its_message() {
    match error_of("37_set_sshd_unbanip_--report-absent_1.2.3.4.pkl") {
        Fail2banError::Rejected(message) => assert!(message.contains("not banned")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_plain_exception_is_a_server_error_recognised_as_an_invalid_command() {
    let e = error_of("39_get_sshd_nosuchoption.pkl");
    assert!(matches!(&e, Fail2banError::Server { class, .. } if class == "builtins.Exception"));
    assert!(e.is_invalid_command());
}

#[test]
fn a_bare_error_string_reply_is_recognised() {
    // pickle.dumps("ERROR: bad request", 5)
    let mut p = vec![0x80, 5, 0x8c, 18];
    p.extend_from_slice(b"ERROR: bad request");
    p.extend_from_slice(&[0x94, b'.']);
    assert_eq!(
        decode_reply(&p).unwrap(),
        Reply::Bare("ERROR: bad request".into())
    );
}

#[test]
fn every_prefix_of_every_recorded_reply_is_a_value_or_an_error() {
    for entry in std::fs::read_dir(fixture_dir()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        if bytes.len() > 4096 {
            continue;
        }
        for cut in 0..bytes.len() {
            let _ = decode(&bytes[..cut]);
        }
    }
}

#[test]
fn fail2ban_versions_are_ordered_numerically() {
    assert!(types::version_tuple("1.0.2") > types::version_tuple("0.11.2"));
    assert!(types::version_tuple("0.11.1") >= (0, 11, 1));
    assert!(types::version_tuple("0.10.6") < (0, 11, 1));
    assert_eq!(types::version_tuple("1.1.0.dev1"), (1, 1, 0));
    assert_eq!(types::version_tuple("v1.0.2"), (1, 0, 2));
    assert_eq!(types::version_tuple("garbage"), (0, 0, 0));
}

#[test]
fn server_setting_updates_are_validated_before_they_are_sent() {
    use bangui::fail2ban::ServerSettingUpdate as U;
    assert_eq!(
        U::LogLevel("debug".into()).validate().unwrap(),
        ("loglevel", "DEBUG".into())
    );
    assert!(U::LogLevel("LOUD".into()).validate().is_err());
    assert!(
        U::LogTarget("/var/log/fail2ban.log".into())
            .validate()
            .is_ok()
    );
    assert!(U::LogTarget("SYSLOG".into()).validate().is_ok());
    assert!(U::LogTarget("relative.log".into()).validate().is_err());
    assert!(U::DbPurgeAge(-1).validate().is_err());
    assert_eq!(
        U::DbMaxMatches(5).validate().unwrap(),
        ("dbmaxmatches", "5".into())
    );
}
