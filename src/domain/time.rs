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

#[cfg(test)]
mod tests {
    #[test]
    fn epoch_seconds_render_as_rfc3339_utc() {
        assert_eq!(super::rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn a_day_is_named_by_its_utc_date() {
        assert_eq!(super::utc_day(1_700_000_000), "2023-11-14");
        assert_eq!(super::utc_day(1_699_920_000), "2023-11-14");
        assert_eq!(super::utc_day(1_699_919_999), "2023-11-13");
    }
}
