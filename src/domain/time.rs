//! Time as the API shows it: epoch seconds in the databases, RFC 3339 UTC in JSON.

/// `1700000000` → `"2023-11-14T22:13:20Z"`; out-of-range values render as the epoch.
pub fn rfc3339(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The UTC day holding `epoch`: `1700000000` → `"2023-11-14"`.
pub fn utc_day(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// Seconds in a UTC day.
pub const DAY: i64 = 86_400;

/// How many of `times` (epoch seconds) fall on each UTC day: `(start of the day, count)`,
/// oldest day first; days without any are left out.
pub fn per_utc_day(times: impl IntoIterator<Item = i64>) -> Vec<(i64, i64)> {
    let mut days = std::collections::BTreeMap::new();
    for t in times {
        *days.entry(t.div_euclid(DAY) * DAY).or_insert(0) += 1;
    }
    days.into_iter().collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn epoch_seconds_render_as_rfc3339_utc() {
        assert_eq!(super::rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn times_are_counted_per_utc_day_oldest_first() {
        let day = super::DAY;
        let times = [
            5 * day + 10,
            2 * day,
            5 * day,
            2 * day + day - 1,
            5 * day + 3,
        ];
        assert_eq!(super::per_utc_day(times), [(2 * day, 2), (5 * day, 3)]);
        assert!(super::per_utc_day([]).is_empty());
    }

    #[test]
    fn a_day_is_named_by_its_utc_date() {
        assert_eq!(super::utc_day(1_700_000_000), "2023-11-14");
        assert_eq!(super::utc_day(1_699_920_000), "2023-11-14");
        assert_eq!(super::utc_day(1_699_919_999), "2023-11-13");
    }
}
