//! Drift test between the code's settings and the operator documentation.
//!
//! `bangui::config::SETTINGS` is the single source of truth. This test reads that table and the
//! two documents an operator configures from: `.env.example` (lines `# BANGUI_X=default` or
//! `BANGUI_X=value`) and the environment table of `MAINTENANCE.md` (rows
//! `| `BANGUI_X` | `key` | `default` | meaning |`). It reports differences in both directions:
//! a setting the code reads but the document lacks, a variable the document names but the code
//! does not read, and a default that differs. On a mismatch it prints the block generated from
//! the table, ready to paste. It reads files only; it must not start the application.

use std::collections::BTreeMap;
use std::path::Path;

use bangui::config::{META_ENV, SETTINGS};

/// The text MAINTENANCE.md uses for an empty default (a cell cannot show an empty code span).
const EMPTY_DEFAULT: &str = "(empty)";

fn read_repo_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Variables the application reads: every setting's flat name plus the meta variables.
fn code_variables() -> BTreeMap<String, Option<&'static str>> {
    let mut vars: BTreeMap<String, Option<&'static str>> = SETTINGS
        .iter()
        .map(|s| (s.env.to_string(), Some(s.default)))
        .collect();
    for meta in META_ENV {
        vars.insert((*meta).to_string(), None);
    }
    vars
}

fn is_documented_name(name: &str) -> bool {
    name.starts_with("BANGUI_") || META_ENV.contains(&name)
}

fn unquote(value: &str) -> &str {
    let v = value.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|rest| rest.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

/// `NAME=value` entries of an env file, commented out (`# NAME=value`) or not. Only names that
/// belong to the application (`BANGUI_*` and the meta variables) are returned.
fn parse_env_example(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        let line = line.strip_prefix('#').map(str::trim_start).unwrap_or(line);
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let name = name.trim();
        let well_formed = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if well_formed && is_documented_name(name) {
            out.insert(name.to_string(), unquote(value).to_string());
        }
    }
    out
}

/// One row of MAINTENANCE.md's environment table.
#[derive(Debug)]
struct TableRow {
    key: String,
    default: String,
}

fn cell(text: &str) -> String {
    let t = text.trim();
    let t = t
        .strip_prefix('`')
        .and_then(|r| r.strip_suffix('`'))
        .unwrap_or(t);
    if t == EMPTY_DEFAULT {
        String::new()
    } else {
        t.to_string()
    }
}

/// Rows of the table under the `## ... Environment variables ...` heading of MAINTENANCE.md.
fn parse_maintenance_table(text: &str) -> BTreeMap<String, TableRow> {
    let mut out = BTreeMap::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("## ") {
            inside = line.to_ascii_lowercase().contains("environment variables");
            continue;
        }
        if !inside || !line.trim_start().starts_with('|') {
            continue;
        }
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').collect();
        let [name, key, default, ..] = cells.as_slice() else {
            continue;
        };
        let name = cell(name);
        if is_documented_name(&name) {
            out.insert(
                name,
                TableRow {
                    key: cell(key),
                    default: cell(default),
                },
            );
        }
    }
    out
}

fn env_line(name: &str, default: &str) -> String {
    if default.is_empty()
        || default
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "./_-:,".contains(c))
    {
        format!("# {name}={default}")
    } else {
        format!("# {name}=\"{default}\"")
    }
}

/// The settings block of `.env.example` as the table says it should read.
fn generated_env_block() -> String {
    let mut out = String::new();
    for s in SETTINGS {
        out.push_str(&format!("# {}: {}\n", s.key, s.help));
        out.push_str(&env_line(s.env, s.default));
        out.push_str("\n\n");
    }
    for meta in META_ENV {
        out.push_str(&format!("# {meta}=\n"));
    }
    out
}

/// The environment table of MAINTENANCE.md as the table says it should read.
fn generated_maintenance_rows() -> String {
    let mut out = String::from("| Variable | Key | Default | Meaning |\n|---|---|---|---|\n");
    for s in SETTINGS {
        let default = if s.default.is_empty() {
            EMPTY_DEFAULT.to_string()
        } else {
            format!("`{}`", s.default)
        };
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} |\n",
            s.env, s.key, default, s.help
        ));
    }
    for meta in META_ENV {
        out.push_str(&format!(
            "| `{meta}` | - | {EMPTY_DEFAULT} | (describe it) |\n"
        ));
    }
    out
}

fn differences(
    documented: &BTreeMap<String, String>,
    documented_keys: Option<&BTreeMap<String, String>>,
) -> Vec<String> {
    let code = code_variables();
    let mut problems = Vec::new();
    for (name, default) in &code {
        match documented.get(name) {
            None => problems.push(format!("{name}: read by the code but not documented")),
            Some(doc) => {
                if let Some(default) = default
                    && doc != default
                {
                    problems.push(format!(
                        "{name}: documented default {doc:?} but the code's default is {default:?}"
                    ));
                }
            }
        }
    }
    for name in documented.keys() {
        if !code.contains_key(name) {
            problems.push(format!(
                "{name}: documented but the code has no such setting (removed or renamed?)"
            ));
        }
    }
    if let Some(keys) = documented_keys {
        for s in SETTINGS {
            if let Some(key) = keys.get(s.env)
                && key != s.key
            {
                problems.push(format!(
                    "{}: documented key `{key}` but the code's key is `{}`",
                    s.env, s.key
                ));
            }
        }
    }
    problems
}

#[test]
fn env_example_lists_every_setting_of_the_code_with_its_default_and_nothing_else() {
    let documented = parse_env_example(&read_repo_file(".env.example"));
    let problems = differences(&documented, None);
    assert!(
        problems.is_empty(),
        ".env.example has drifted from bangui::config::SETTINGS:\n  {}\n\n\
         The settings block generated from the table:\n\n{}",
        problems.join("\n  "),
        generated_env_block()
    );
}

#[test]
fn maintenance_environment_table_lists_every_setting_with_key_and_default_and_nothing_else() {
    let rows = parse_maintenance_table(&read_repo_file("MAINTENANCE.md"));
    assert!(
        !rows.is_empty(),
        "MAINTENANCE.md has no table under a `## ... Environment variables` heading"
    );
    let defaults: BTreeMap<String, String> = rows
        .iter()
        .map(|(name, row)| (name.clone(), row.default.clone()))
        .collect();
    let keys: BTreeMap<String, String> = rows
        .iter()
        .map(|(name, row)| (name.clone(), row.key.clone()))
        .collect();
    let problems = differences(&defaults, Some(&keys));
    assert!(
        problems.is_empty(),
        "MAINTENANCE.md's environment table has drifted from bangui::config::SETTINGS:\n  {}\n\n\
         The rows generated from the table:\n\n{}",
        problems.join("\n  "),
        generated_maintenance_rows()
    );
}

#[test]
fn the_parsers_see_commented_and_active_lines_and_report_both_directions() {
    let text = "# comment only\n# BANGUI_HOST=127.0.0.1\nBANGUI_PORT=9000\n\
                # BANGUI_GEOIP_CLEANUP_CRON=\"0 30 3 * * *\"\nGEOIPUPDATE_ACCOUNT_ID=1\n\
                # BANGUI_NOT_A_SETTING=1\n";
    let parsed = parse_env_example(text);
    assert_eq!(
        parsed.get("BANGUI_HOST").map(String::as_str),
        Some("127.0.0.1")
    );
    assert_eq!(parsed.get("BANGUI_PORT").map(String::as_str), Some("9000"));
    assert_eq!(
        parsed.get("BANGUI_GEOIP_CLEANUP_CRON").map(String::as_str),
        Some("0 30 3 * * *")
    );
    assert!(!parsed.contains_key("GEOIPUPDATE_ACCOUNT_ID"));

    let problems = differences(&parsed, None);
    let mentions = |needle: &str| problems.iter().any(|p| p.contains(needle));
    assert!(mentions(
        "BANGUI_NOT_A_SETTING: documented but the code has no such setting"
    ));
    assert!(mentions(
        "BANGUI_LOG_LEVEL: read by the code but not documented"
    ));
    assert!(mentions("BANGUI_PORT: documented default \"9000\""));
    assert!(!mentions("BANGUI_HOST"));

    let table = "## 9. Environment variables\n| Variable | Key | Default | Meaning |\n|---|---|---|---|\n\
                 | `BANGUI_HOST` | `http.hots` | `127.0.0.1` | bind |\n\
                 | `BANGUI_GEOIP_DB_PATH` | `geoip.db_path` | (empty) | mmdb |\n## 10. Next\n\
                 | `BANGUI_IGNORED` | `x` | `y` | outside the section |\n";
    let rows = parse_maintenance_table(table);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows.get("BANGUI_GEOIP_DB_PATH").map(|r| r.default.as_str()),
        Some("")
    );
    let keys = rows
        .iter()
        .map(|(n, r)| (n.clone(), r.key.clone()))
        .collect();
    let defaults = rows
        .iter()
        .map(|(n, r)| (n.clone(), r.default.clone()))
        .collect();
    let problems = differences(&defaults, Some(&keys));
    assert!(problems.iter().any(|p| p.contains("`http.hots`")));
}

#[test]
fn every_generated_line_parses_back_to_the_codes_default() {
    let parsed = parse_env_example(&generated_env_block());
    for s in SETTINGS {
        assert_eq!(
            parsed.get(s.env).map(String::as_str),
            Some(s.default),
            "{}",
            s.env
        );
    }
    let rows = parse_maintenance_table(&format!(
        "## Environment variables\n{}",
        generated_maintenance_rows()
    ));
    for s in SETTINGS {
        let row = rows
            .get(s.env)
            .unwrap_or_else(|| panic!("{} missing", s.env));
        assert_eq!((row.key.as_str(), row.default.as_str()), (s.key, s.default));
    }
}
