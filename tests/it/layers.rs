//! Dependencies point one way: `routes → services → {fail2ban, geo, db} → domain`, with the
//! composition root (`startup`, `state`, `tasks`) above them and no circle anywhere. This test
//! reads every file under `src/`, collects which top-level modules it names through `crate::`,
//! and fails naming the file and the forbidden edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What each top-level module may use (besides itself).
fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        ("domain", &[][..]),
        ("config", &["domain"][..]),
        ("metrics", &[][..]),
        ("instance_lock", &[][..]),
        ("telemetry", &["config"][..]),
        ("db", &["domain"][..]),
        ("fail2ban", &["domain"][..]),
        // Outbound notification delivery (webhook, ntfy, chat, Matrix, Telegram, SMTP).
        ("delivery", &["domain"][..]),
        ("geo", &["domain", "db", "config", "metrics"][..]),
        (
            "services",
            &[
                "domain", "db", "fail2ban", "geo", "config", "metrics", "delivery",
            ][..],
        ),
        // The HTTP edge: routes, their guards and the error contract.
        (
            "error",
            &["domain", "services", "fail2ban", "db", "geo"][..],
        ),
        ("cors", &["config", "state", "error"][..]),
        ("middleware", &["config", "state", "error", "metrics"][..]),
        (
            "routes",
            &[
                "domain", "services", "error", "state", "config", "metrics", "geo",
            ][..],
        ),
        // The composition root.
        (
            "state",
            &[
                "config", "services", "fail2ban", "geo", "metrics", "db", "delivery",
            ][..],
        ),
        (
            "tasks",
            &["state", "services", "domain", "config", "metrics"][..],
        ),
    ])
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Top-level modules named as `crate::NAME` or inside `use crate::{NAME, ...}`.
fn named_modules(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut word = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ':' => {}
                    c if depth == 0 && (c.is_alphanumeric() || c == '_') => word.push(c),
                    _ => {
                        if depth == 0 && !word.is_empty() {
                            out.insert(std::mem::take(&mut word));
                        }
                        if c.is_alphanumeric() || c == '_' {
                            continue;
                        }
                    }
                }
                if depth > 0 {
                    continue;
                }
            }
            if !word.is_empty() {
                out.insert(word);
            }
        } else {
            let word: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !word.is_empty() {
                out.insert(word);
            }
        }
    }
    out
}

#[test]
fn every_module_depends_only_on_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let rules = allowed();
    let mut violations = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).expect("under src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default()
            .trim_end_matches(".rs")
            .to_string();
        let Some(may) = rules.get(top.as_str()) else {
            continue; // lib.rs, main.rs, startup.rs: the root may use everything
        };
        let text = std::fs::read_to_string(&file).expect("read");
        for used in named_modules(&text) {
            if used != top && rules.contains_key(used.as_str()) && !may.contains(&used.as_str())
                || (used == "startup" || used == "tasks") && top != "tasks"
            {
                violations.push(format!("{}: {top} → {used}", rel.display()));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "forbidden dependencies:\n{}",
        violations.join("\n")
    );
}
