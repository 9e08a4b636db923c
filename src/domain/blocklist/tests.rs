use super::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn texts(list: &ParsedList) -> Vec<String> {
    list.entries.iter().map(ToString::to_string).collect()
}

#[test]
fn plain_addresses_and_networks_one_per_line_are_read_in_order_without_duplicates() {
    let list = parse_list(
        "9.9.9.9\n1.2.3.4\n1.2.3.0/24\n1.2.3.4\n2001:db8::/48\n",
        &[],
    );
    assert_eq!(
        texts(&list),
        ["1.2.3.0/24", "1.2.3.4", "9.9.9.9", "2001:db8::/48"]
    );
    assert_eq!(list.valid_lines, 5);
    assert_eq!(list.duplicates, 1);
    assert_eq!(list.invalid, 0);
    assert_eq!(list.networks(), 2);
}

#[test]
fn spamhaus_drop_lines_with_trailing_annotations_are_read() {
    let text = "; Spamhaus DROP List 2026/11/29 - (c) 2026 The Spamhaus Project\n\
                ; Last-Modified: Sat, 28 Nov 2026 12:00:00 GMT\n\
                1.10.16.0/20 ; SBL256894\n\
                2.56.192.0/22 ; SBL459831\n";
    let list = parse_list(text, &[]);
    assert_eq!(texts(&list), ["1.10.16.0/20", "2.56.192.0/22"]);
    assert_eq!(list.invalid, 0);
}

#[test]
fn firehol_netsets_with_hash_comments_are_read() {
    let text = "#\n# firehol_level1\n#\n# ipv4 hash:net ipset\n\n0.0.0.0/8\n1.19.0.0/16\n\
                5.188.10.0/23\n185.220.101.7\n";
    let list = parse_list(text, &[]);
    assert_eq!(
        texts(&list),
        ["1.19.0.0/16", "5.188.10.0/23", "185.220.101.7"]
    );
    assert_eq!(list.refused, 1, "0.0.0.0/8 holds the unspecified address");
}

#[test]
fn the_first_column_of_csv_and_the_first_word_of_a_line_count() {
    let text = "ip,first_seen,reason\n\"198.51.100.1\",2026-11-01,scanner\n\
                203.0.113.9\t2026-11-02\tssh\n192.0.2.5 # brute force\n";
    let list = parse_list(text, &[]);
    assert_eq!(texts(&list), ["192.0.2.5", "198.51.100.1", "203.0.113.9"]);
    assert_eq!(list.invalid, 1, "the CSV header");
    assert_eq!(list.invalid_examples[0].line, 1);
    assert_eq!(list.invalid_examples[0].text, "ip,first_seen,reason");
}

#[test]
fn entries_are_canonical() {
    let list = parse_list(
        "::ffff:198.51.100.7\n198.51.100.9/32\n10.1.2.3/8\n2001:DB8:0:0::1/128\n::ffff:203.0.113.0/120\n",
        &[],
    );
    assert_eq!(
        texts(&list),
        [
            "10.0.0.0/8",
            "198.51.100.7",
            "198.51.100.9",
            "203.0.113.0/24",
            "2001:db8::1"
        ]
    );
}

#[test]
fn unreadable_lines_are_counted_with_at_most_ten_examples_naming_the_line() {
    let mut text = String::new();
    for i in 0..25 {
        text.push_str(&format!("host{i}.example.com\n"));
    }
    text.push_str("1.2.3.4/33\n1.2.3.4-1.2.3.9\n8.8.8.8\n");
    let list = parse_list(&text, &[]);
    assert_eq!(list.invalid, 27);
    assert_eq!(list.invalid_examples.len(), EXAMPLES);
    assert_eq!(list.invalid_examples[0].line, 1);
    assert_eq!(list.invalid_examples[0].text, "host0.example.com");
    assert_eq!(texts(&list), ["8.8.8.8"]);
}

#[test]
fn entries_covering_loopback_the_host_or_everything_are_refused() {
    let host: Vec<IpAddr> = vec![
        "192.0.2.10".parse().unwrap(),
        "2001:db8:1::10".parse().unwrap(),
    ];
    let text = "127.0.0.1\n127.5.0.0/16\n64.0.0.0/2\n0.0.0.0/0\n::/0\n::1\n\
                192.0.2.0/24\n192.0.2.10\n2001:db8::/32\n::ffff:127.0.0.1\n198.51.100.1\n";
    let list = parse_list(text, &host);
    assert_eq!(texts(&list), ["198.51.100.1"]);
    assert_eq!(list.refused, 10);
    let reasons: Vec<&str> = list
        .refused_examples
        .iter()
        .map(|r| r.reason.as_str())
        .collect();
    assert!(reasons[0].contains("loopback"), "{reasons:?}");
    assert!(reasons[3].contains("whole address space"), "{reasons:?}");
    assert!(reasons[6].contains("this host"), "{reasons:?}");
}

#[test]
fn only_http_and_https_urls_without_credentials_are_sources() {
    assert!(SourceUrl::parse("https://www.spamhaus.org/drop/drop.txt").is_ok());
    assert!(SourceUrl::parse("http://127.0.0.1:8080/list").is_ok());
    for bad in [
        "ftp://x/list",
        "file:///etc/passwd",
        "https://user:pw@x/l",
        "http://",
        "x",
    ] {
        assert_eq!(SourceUrl::parse(bad).unwrap_err().field, "url", "{bad}");
    }
}

#[test]
fn schedules_are_keywords_or_six_field_cron_expressions() {
    assert_eq!(
        ImportSchedule::parse("Daily").unwrap(),
        ImportSchedule::Daily
    );
    assert_eq!(ImportSchedule::parse("manual").unwrap().cron(), None);
    assert_eq!(
        ImportSchedule::parse(" 0  */30 * * * * ").unwrap(),
        ImportSchedule::Cron("0 */30 * * * *".into())
    );
    for bad in ["* * * * *", "every day", "0 0 0 * * *; rm", ""] {
        assert_eq!(
            ImportSchedule::parse(bad).unwrap_err().field,
            "schedule",
            "{bad}"
        );
    }
}

fn random_entry(rng: &mut StdRng) -> String {
    if rng.random_bool(0.7) {
        let a: u8 = rng.random_range(1..=223);
        let a = if a == 127 { 128 } else { a };
        let ip = format!(
            "{a}.{}.{}.{}",
            rng.random::<u8>(),
            rng.random::<u8>(),
            rng.random::<u8>()
        );
        if rng.random_bool(0.3) {
            format!("{ip}/{}", rng.random_range(8..=32))
        } else {
            ip
        }
    } else {
        let ip = format!(
            "2001:db8:{:x}::{:x}",
            rng.random::<u16>(),
            rng.random::<u16>()
        );
        if rng.random_bool(0.3) {
            format!("{ip}/{}", rng.random_range(32..=128))
        } else {
            ip
        }
    }
}

/// Random lists in random formats: every written entry is found exactly once, each garbage
/// line is counted as invalid, and reading the canonical output again gives the same set.
#[test]
fn property_random_lists_round_trip_through_their_canonical_text() {
    let mut rng = StdRng::seed_from_u64(0x0b10_c4ed);
    for _case in 0..200 {
        let mut text = String::new();
        let mut expected = BTreeSet::new();
        let mut garbage = 0;
        for _ in 0..rng.random_range(0..80) {
            let entry = random_entry(&mut rng);
            expected.insert(BlocklistEntry::parse(&entry).unwrap());
            match rng.random_range(0..6) {
                0 => text.push_str(&format!("{entry}\n")),
                1 => text.push_str(&format!("{entry} ; SBL{}\n", rng.random::<u16>())),
                2 => text.push_str(&format!("{entry},x,y\n")),
                3 => text.push_str(&format!("  {entry}\t# note\n")),
                4 => text.push_str(&format!("# {entry}\n{entry}\n")),
                _ => {
                    text.push_str(&format!("zz{}\n", rng.random::<u32>()));
                    text.push_str(&format!("{entry}\r\n"));
                    garbage += 1;
                }
            }
        }
        let list = parse_list(&text, &[]);
        assert_eq!(list.entries, expected, "{text}");
        assert_eq!(list.invalid, garbage, "{text}");
        let again = parse_list(&texts(&list).join("\n"), &[]);
        assert_eq!(again.entries, list.entries);
        assert_eq!(again.duplicates, 0);
    }
}

/// Arbitrary bytes never panic the reader and every entry it returns is canonical.
#[test]
fn property_arbitrary_text_never_panics_and_yields_canonical_entries() {
    let mut rng = StdRng::seed_from_u64(7);
    let alphabet: Vec<char> = "0123456789abcdef.:/;#, \t\n\"x-".chars().collect();
    for _ in 0..2000 {
        let len = rng.random_range(0..200);
        let text: String = (0..len)
            .map(|_| alphabet[rng.random_range(0..alphabet.len())])
            .collect();
        let list = parse_list(&text, &[]);
        for e in &list.entries {
            assert_eq!(BlocklistEntry::parse(&e.to_string()).unwrap(), *e);
            assert!(e.refusal(&[]).is_none());
        }
    }
}

#[test]
fn the_next_run_follows_the_schedule() {
    // 2026-11-29 12:00:00 UTC
    let noon = 1_795_953_600;
    assert_eq!(ImportSchedule::Manual.next_after(noon), None);
    assert_eq!(ImportSchedule::Hourly.next_after(noon), Some(noon + 7 * 60));
    assert_eq!(
        ImportSchedule::Daily.next_after(noon),
        Some(noon + 15 * 3600 + 7 * 60)
    );
    let every_ten = ImportSchedule::parse("0 */10 * * * *").unwrap();
    assert_eq!(every_ten.next_after(noon), Some(noon + 600));
}
