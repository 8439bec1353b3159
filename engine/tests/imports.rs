//! The engine's modules form no import circle: reading every file's `crate::` and
//! `super::` paths, no module reaches itself through modules that are neither its parent
//! nor its children (a parent re-exporting its children's items is how Rust modules are
//! built, not a circle).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Module path (`job::decide`) → the source of its file.
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, prefix: &[String], out: &mut BTreeMap<String, String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                let mut inner = prefix.to_vec();
                inner.push(name);
                walk(&path, &inner, out);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let mut module = prefix.to_vec();
            if name != "mod" && name != "lib" {
                module.push(name);
            }
            let source = fs::read_to_string(&path).unwrap();
            out.insert(module.join("::"), source);
        }
    }
    let mut out = BTreeMap::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &[],
        &mut out,
    );
    out
}

/// `source` without its comments (doc links name modules without importing them).
fn code(source: &str) -> String {
    source
        .lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path that starts with `crate::` or `super::`, brace groups expanded one level
/// per group (`crate::{a, b::{c, d}}` gives `crate::a`, `crate::b::c`, `crate::b::d`).
fn paths(code: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let rest: String = chars[i..chars.len().min(i + 7)].iter().collect();
        let starts = (rest.starts_with("crate::") || rest.starts_with("super::"))
            && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_'));
        if starts {
            let (found, end) = parse_path(&chars, i, Vec::new());
            out.extend(found);
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// Parses a path at `i` after `prefix`; returns the paths and where parsing stopped.
fn parse_path(chars: &[char], mut i: usize, prefix: Vec<String>) -> (Vec<Vec<String>>, usize) {
    let mut segments = prefix;
    loop {
        let start = i;
        while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        if i > start {
            segments.push(chars[start..i].iter().collect());
        }
        if chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':') {
            i += 2;
            if chars.get(i) == Some(&'{') {
                i += 1;
                let mut all = Vec::new();
                loop {
                    while chars.get(i).is_some_and(|c| c.is_whitespace() || *c == ',') {
                        i += 1;
                    }
                    if chars.get(i) == Some(&'}') || i >= chars.len() {
                        return (all, i + 1);
                    }
                    let (found, end) = parse_path(chars, i, segments.clone());
                    all.extend(found);
                    i = end;
                }
            }
            continue;
        }
        return (vec![segments], i);
    }
}

/// The items the crate root re-exports (`pub use ids::JobId`), by name, with their module.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in lib.lines().filter_map(|l| l.strip_prefix("pub use ")) {
        let chars: Vec<char> = format!("crate::{line}").chars().collect();
        for path in parse_path(&chars, 0, Vec::new()).0 {
            if let [_, module, .., item] = path.as_slice() {
                out.insert(item.clone(), module.clone());
            }
        }
    }
    out
}

/// The module a path from `from` names: the longest prefix that is a module.
fn resolve(
    from: &str,
    path: &[String],
    known: &BTreeSet<String>,
    reexported: &BTreeMap<String, String>,
) -> Option<String> {
    if let [first, item, ..] = path {
        if first == "crate" {
            if let Some(module) = reexported.get(item) {
                return Some(module.clone());
            }
        }
    }
    let mut base: Vec<String> = if from.is_empty() {
        Vec::new()
    } else {
        from.split("::").map(str::to_string).collect()
    };
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("super") => {
            while rest.first().map(String::as_str) == Some("super") {
                base.pop();
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    let mut best = None;
    let mut current = base.clone();
    for segment in rest {
        current.push(segment.clone());
        let name = current.join("::");
        if known.contains(&name) {
            best = Some(name);
        }
    }
    best.or_else(|| {
        let name = base.join("::");
        (!name.is_empty()).then_some(name)
    })
}

fn related(a: &str, b: &str) -> bool {
    let within = |inner: &str, outer: &str| inner.starts_with(&format!("{outer}::"));
    a == b || within(a, b) || within(b, a)
}

#[test]
fn no_module_of_the_engine_imports_itself_in_a_circle() {
    let modules = modules();
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    let reexported = reexports(&modules[""]);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, source) in &modules {
        for path in paths(&code(source)) {
            if let Some(target) = resolve(module, &path, &known, &reexported) {
                if !related(module, &target) {
                    edges.entry(module.clone()).or_default().insert(target);
                }
            }
        }
    }
    // A circle is a path back to where it started; report the first one found from each
    // module, in full.
    let mut circles = Vec::new();
    for start in known.iter() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((at, trail)) = stack.pop() {
            for next in edges.get(&at).into_iter().flatten() {
                if next == start {
                    let mut circle = trail.clone();
                    circle.push(next.clone());
                    circles.push(circle.join(" -> "));
                    stack.clear();
                    break;
                }
                if seen.insert(next.clone()) {
                    let mut longer = trail.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
    // The reader found the edges it should: this test cannot pass by reading nothing.
    assert!(edges["job::transition"].contains("job::decide"));
    assert!(edges["timer::fire"].contains("job::stream"));
}
