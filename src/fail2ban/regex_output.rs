//! Readers for what `fail2ban-regex` prints, pure and total (every input gives a value, never a
//! panic): the summary of a normal run (`Lines: N lines, N ignored, N matched, N missed`, the
//! hits per failregex/ignoreregex, the date templates that hit, and the line lists that
//! `--print-all-matched/-missed/-ignored` add), and the rows of an `--out row` run
//! (`[id, time, {captures}]`, Python reprs). fail2ban decides what matches; this file only reads
//! its answer.

use serde_json::{Map, Value};

use super::pyliteral::{self, LiteralError};

/// The counts and lists of one summary run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegexSummary {
    pub lines: u64,
    pub matched: u64,
    pub missed: u64,
    pub ignored: u64,
    /// `(hits, regex)` for each failregex fail2ban listed.
    pub failregex_hits: Vec<(u64, String)>,
    pub ignoreregex_hits: Vec<(u64, String)>,
    /// `(hits, template name)` for each date template that hit.
    pub date_templates: Vec<(u64, String)>,
    /// The datepattern line fail2ban printed (`Use datepattern : … : …`), if any.
    pub datepattern: Option<String>,
    pub matched_lines: Vec<String>,
    pub missed_lines: Vec<String>,
    pub ignored_lines: Vec<String>,
}

/// Reads a summary run's output; `None` when it holds no `Lines:` total (the run failed).
pub fn parse_summary(stdout: &str) -> Option<RegexSummary> {
    let mut s = RegexSummary::default();
    let mut have_total = false;
    let mut section = Section::None;
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("Lines: ") {
            let n = numbers(rest);
            if let [tested, ignored, matched, missed, ..] = n[..] {
                (s.lines, s.ignored, s.matched, s.missed) = (tested, ignored, matched, missed);
                have_total = true;
            }
            section = Section::None;
            continue;
        }
        if let Some(rest) = line.strip_prefix("Use      datepattern : ") {
            s.datepattern = Some(rest.trim().to_string());
            continue;
        }
        let header = match line {
            l if l.starts_with("Failregex: ") => Some(Section::Fail),
            l if l.starts_with("Ignoreregex: ") => Some(Section::Ignore),
            l if l.starts_with("Prefregex: ") => Some(Section::None),
            "Date template hits:" => Some(Section::Dates),
            "|- Matched line(s):" => Some(Section::Matched),
            "|- Missed line(s):" => Some(Section::Missed),
            "|- Ignored line(s):" => Some(Section::Ignored),
            _ => None,
        };
        if let Some(h) = header {
            section = h;
            continue;
        }
        if line == "`-" {
            if matches!(
                section,
                Section::Matched | Section::Missed | Section::Ignored
            ) {
                section = Section::None;
            }
            continue;
        }
        match section {
            Section::None => {}
            Section::Fail | Section::Ignore => {
                if let Some(hit) = regex_hit(line) {
                    if section == Section::Fail {
                        s.failregex_hits.push(hit);
                    } else {
                        s.ignoreregex_hits.push(hit);
                    }
                }
            }
            Section::Dates => {
                if let Some(rest) = line.strip_prefix("|  [")
                    && let Some((n, name)) = rest.split_once("] ")
                    && let Ok(n) = n.parse()
                {
                    s.date_templates.push((n, name.to_string()));
                }
            }
            Section::Matched | Section::Missed | Section::Ignored => {
                let list = match section {
                    Section::Matched => &mut s.matched_lines,
                    Section::Missed => &mut s.missed_lines,
                    _ => &mut s.ignored_lines,
                };
                if let Some(entry) = line.strip_prefix("|  ") {
                    list.push(entry.to_string());
                } else if let Some(last) = list.last_mut() {
                    // A multi-line match: fail2ban joins its lines with a newline.
                    last.push('\n');
                    last.push_str(line);
                }
            }
        }
    }
    have_total.then_some(s)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Section {
    None,
    Fail,
    Ignore,
    Dates,
    Matched,
    Missed,
    Ignored,
}

fn numbers(text: &str) -> Vec<u64> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .filter_map(|w| w.parse().ok())
        .collect()
}

/// `|   1) [7] regex` → `(7, regex)`.
fn regex_hit(line: &str) -> Option<(u64, String)> {
    let rest = line.strip_prefix('|')?.trim_start();
    let (index, rest) = rest.split_once(") [")?;
    index.parse::<u32>().ok()?;
    let (hits, regex) = rest.split_once("] ")?;
    Some((hits.parse().ok()?, regex.to_string()))
}

/// The first `ERROR…` line of a failed run and everything after it (fail2ban's own words).
pub fn error_text(stdout: &str, stderr: &str) -> Option<String> {
    for text in [stdout, stderr] {
        if let Some(at) = text.find("ERROR") {
            return Some(text[at..].trim().to_string());
        }
        if let Some(at) = text.find("Wrong config file") {
            return Some(text[at..].trim().to_string());
        }
    }
    None
}

/// One match of an `--out row` run.
#[derive(Debug, Clone, PartialEq)]
pub struct RegexRow {
    /// The failure id fail2ban found (usually the host's address).
    pub id: String,
    /// Epoch seconds of the line's date as fail2ban read it.
    pub time: f64,
    /// The named groups the match captured (`None` values dropped).
    pub data: Map<String, Value>,
}

/// Reads the rows of an `--out row` run; lines that are not rows are skipped.
pub fn parse_rows(stdout: &str) -> Vec<RegexRow> {
    stdout.lines().filter_map(row).collect()
}

fn row(line: &str) -> Option<RegexRow> {
    let text = line.trim_end().strip_suffix(',')?;
    let Ok(Value::Array(items)) = py_literal(text) else {
        return None;
    };
    let [id, time, data] = <[Value; 3]>::try_from(items).ok()?;
    let id = match id {
        Value::String(s) => s,
        other => other.to_string(),
    };
    let data = match data {
        Value::Object(m) => m.into_iter().filter(|(_, v)| !v.is_null()).collect(),
        _ => Map::new(),
    };
    Some(RegexRow {
        id,
        time: time.as_f64().unwrap_or_default(),
        data,
    })
}

/// Reads one Python literal as `repr` writes it into JSON (tuples and sets become arrays, dict
/// keys strings), with the reader `fail2ban-client -d` uses.
pub fn py_literal(text: &str) -> Result<Value, LiteralError> {
    pyliteral::parse(text).map(|l| l.to_json())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SUMMARY: &str = "\nRunning tests\n=============\n\nUse   failregex filter file : nginx-http-auth, basedir: /etc/fail2ban\nUse      datepattern : {^LN-BEG} : Default Detectors\n\nResults\n=======\n\nFailregex: 2 total\n|-  #) [# of hits] regular expression\n|   1) [2] ^user .* client: <HOST>\n`-\n\nIgnoreregex: 1 total\n|-  #) [# of hits] regular expression\n|   1) [1] ignore me\n`-\n\nDate template hits:\n|- [# of hits] date format\n|  [4] {^LN-BEG}ExYear-Month-Day 24hour:Minute:Second\n`-\n\nLines: 4 lines, 1 ignored, 2 matched, 1 missed\n[processed in 0.00 sec]\n\n|- Matched line(s):\n|  2012/04/09 a client: 1.2.3.4\n|  2012/04/09 b client: 1.2.3.5\n`-\n|- Ignored line(s):\n|  ignore me\n`-\n|- Missed line(s):\n|  `-\n`-\n";

    #[test]
    fn a_summary_gives_counts_hits_templates_and_line_lists() {
        let s = parse_summary(SUMMARY).unwrap();
        assert_eq!((s.lines, s.ignored, s.matched, s.missed), (4, 1, 2, 1));
        assert_eq!(
            s.failregex_hits,
            vec![(2, "^user .* client: <HOST>".into())]
        );
        assert_eq!(s.ignoreregex_hits, vec![(1, "ignore me".into())]);
        assert_eq!(s.date_templates[0].0, 4);
        assert_eq!(
            s.datepattern.as_deref(),
            Some("{^LN-BEG} : Default Detectors")
        );
        assert_eq!(s.matched_lines.len(), 2);
        assert_eq!(s.ignored_lines, vec!["ignore me".to_string()]);
        assert_eq!(s.missed_lines, vec!["`-".to_string()]);
    }

    #[test]
    fn output_without_a_total_is_no_summary() {
        assert_eq!(parse_summary("ERROR: No failure-id group in 'x'"), None);
        assert_eq!(parse_summary(""), None);
    }

    #[test]
    fn the_error_text_starts_at_fail2bans_error_line() {
        let out = "\nRunning tests\n\nUse   failregex line : x(\nERROR: Unable to compile\nmissing ), at 3\n";
        assert_eq!(
            error_text(out, "").as_deref(),
            Some("ERROR: Unable to compile\nmissing ), at 3")
        );
    }

    #[test]
    fn rows_carry_id_time_and_captures_without_nones() {
        let out = "['192.0.2.1',\t1782060468.0,\t{'mlfid': ' host sshd[1]: ', 'user': 'it\\'s', 'ip4': '192.0.2.1', 'ip6': None, 'users': {'a', 'b'}}],\nnoise\n";
        let rows = parse_rows(out);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].id, "192.0.2.1");
        assert_eq!(rows[0].time, 1782060468.0);
        assert_eq!(rows[0].data.get("user"), Some(&json!("it's")));
        assert_eq!(rows[0].data.get("users"), Some(&json!(["a", "b"])));
        assert!(!rows[0].data.contains_key("ip6"));
    }

    #[test]
    fn python_literals_cover_reprs_and_refuse_garbage() {
        assert_eq!(
            py_literal("(1, -2.5, True, None, \"a\\x41\\u00e9\", set(), {})").unwrap(),
            json!([1, -2.5, true, null, "aAé", [], {}])
        );
        assert!(py_literal("[1, 2").is_err());
        assert!(py_literal("'abc").is_err());
        assert!(py_literal(&"[".repeat(100)).is_err());
        assert!(py_literal("nonsense").is_err());
    }
}
