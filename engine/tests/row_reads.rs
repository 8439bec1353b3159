//! Rows are read by column name and queue statuses come from `queue::Status`: a column
//! added to a `SELECT` cannot shift what another field reads, and a status word is spelled
//! in one place. This reads the engine's sources for the two patterns that break that.

use std::fs;
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `(file:line, text)` of every line of the engine's sources that `bad` flags.
fn offending(bad: impl Fn(&str) -> bool, skip: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut found = Vec::new();
    for file in files {
        let relative = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .to_string();
        if skip.iter().any(|s| relative.starts_with(s)) {
            continue;
        }
        for (n, line) in fs::read_to_string(&file).unwrap().lines().enumerate() {
            let code = line.trim_start();
            if !code.starts_with("//") && bad(code) {
                found.push(format!("{relative}:{}: {}", n + 1, code));
            }
        }
    }
    found
}

/// Whether `text` has `call` followed by an integer literal argument, as in `try_get(3)`
/// or `try_get::<_, i64>(3)`.
fn positional(text: &str, call: &str) -> bool {
    text.match_indices(call).any(|(at, _)| {
        let rest = &text[at + call.len()..];
        let rest = match rest.strip_prefix("::<") {
            Some(generic) => match generic.find(">(") {
                Some(end) => &generic[end + 1..],
                None => return false,
            },
            None => rest,
        };
        rest.strip_prefix('(')
            .is_some_and(|arg| arg.starts_with(|c: char| c.is_ascii_digit()))
    })
}

#[test]
fn no_row_is_read_by_position() {
    // `guard::arrays` indexes JSON arrays (`Value::get(0)`), not rows.
    let found = offending(
        |line| positional(line, "try_get") || positional(line, ".get"),
        &["guard/arrays.rs"],
    );
    assert!(
        found.is_empty(),
        "rows read by position:\n{}",
        found.join("\n")
    );
}

#[test]
fn queue_statuses_are_spelled_only_by_status() {
    const WORDS: [&str; 7] = [
        "'waiting'",
        "'pending'",
        "'running'",
        "'succeeded'",
        "'failed'",
        "'skipped'",
        "'cancelled'",
    ];
    let found = offending(
        |line| WORDS.iter().any(|w| line.contains(w)),
        &["queue/status.rs"],
    );
    assert!(
        found.is_empty(),
        "status literals outside queue::Status:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_checks_see_what_they_look_for() {
    assert!(positional("row.try_get(3)?", "try_get"));
    assert!(positional("row.try_get::<_, Xid8>(0)?", "try_get"));
    assert!(positional("r.get(0)", ".get"));
    assert!(!positional("row.try_get(\"id\")?", "try_get"));
    assert!(!positional("row.try_get::<_, i64>(\"n\")?", "try_get"));
    assert!(!positional("map.get(&key)", ".get"));
}
