//! The module graph of src/ keeps the shape docs/architecture.md describes, read from the
//! source itself:
//! - HTTP stays at the edge: only src/api (and the composition root that serves its router)
//!   names `crate::api`; the domain modules name no `axum`, `utoipa` or `http::`.
//! - No import cycle between top-level modules of src/.
//! - No file in src/ over 400 lines.
//!
//! Product code only: `#[cfg(test)]` modules (inline or in their own file) may reach across
//! layers to test them. Each failure names the file and line of every offending reference.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Files that may name `crate::api` outside src/api: the composition root, which builds the
/// API's state from the engines and serves its router.
const API_USERS: &[&str] = &["src/lib.rs", "src/main.rs", "src/server.rs"];

/// The domain: what jolt does, independent of how it is asked (paths under src/; a trailing
/// `/` is a directory, `config` also covers `config.rs` and `config_*.rs`).
const DOMAIN: &[&str] = &[
    "src/actions/",
    "src/scenarios/",
    "src/events.rs",
    "src/config",
    "src/prom/",
    "src/reports/",
    "src/metrics/",
    "src/units.rs",
    "src/clock.rs",
    "src/registry.rs",
    "src/telemetry.rs",
    "src/merge.rs",
    "src/token.rs",
    "src/footprint.rs",
];

/// Names that mean HTTP types in a domain module: a path starting with one of these.
const HTTP_CRATES: &[&str] = &["axum", "utoipa", "http"];

/// Longest file allowed in src/.
const MAX_LINES: usize = 400;

/// One source file, reduced to product code.
struct Source {
    /// Path relative to the repository, e.g. `src/actions/engine.rs`.
    rel: String,
    /// Module path inside the crate, e.g. `["actions", "engine"]` (`mod.rs` is its directory).
    module: Vec<String>,
    /// The text with comments, string literals and `#[cfg(test)]` modules blanked out
    /// (newlines kept, so offsets map to the same lines).
    code: String,
}

impl Source {
    /// The top-level module the file belongs to (`None` for lib.rs and main.rs).
    fn top(&self) -> Option<&str> {
        self.module.first().map(String::as_str)
    }

    fn line_of(&self, offset: usize) -> usize {
        self.code[..offset].matches('\n').count() + 1
    }
}

/// A reference from one file to a top-level module, with where it is.
struct Reference {
    /// The top-level module named.
    to: String,
    /// `src/...:line`.
    at: String,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Every file of src/, minus the files only `#[cfg(test)] mod x;` declares.
fn sources() -> Vec<Source> {
    let root = repo();
    let mut paths = Vec::new();
    rust_files(&root.join("src"), &mut paths);
    let mut raw: Vec<(String, String)> = paths
        .iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (rel, std::fs::read_to_string(p).unwrap())
        })
        .collect();
    let test_only: BTreeSet<String> = raw
        .iter()
        .flat_map(|(rel, text)| test_module_files(rel, text))
        .collect();
    raw.retain(|(rel, _)| !test_only.contains(rel));
    raw.into_iter()
        .map(|(rel, text)| Source {
            module: module_path(&rel),
            code: blank_tests(&blank_comments_and_strings(&text)),
            rel,
        })
        .collect()
}

/// `src/a/b.rs` → `[a, b]`; `src/a/mod.rs` → `[a]`; `src/lib.rs` → `[]`.
fn module_path(rel: &str) -> Vec<String> {
    let inner = rel.trim_start_matches("src/").trim_end_matches(".rs");
    let mut parts: Vec<String> = inner.split('/').map(str::to_owned).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") {
        parts.clear();
    }
    parts
}

/// The files of modules declared `#[cfg(test)] mod name;` in `rel`.
fn test_module_files(rel: &str, text: &str) -> Vec<String> {
    let dir = if rel.ends_with("/mod.rs") || rel == "src/lib.rs" || rel == "src/main.rs" {
        Path::new(rel).parent().unwrap().to_path_buf()
    } else {
        PathBuf::from(rel.trim_end_matches(".rs"))
    };
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut out = Vec::new();
    for pair in lines.windows(2) {
        if pair[0] != "#[cfg(test)]" {
            continue;
        }
        let decl = pair[1]
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub(super) ")
            .trim_start_matches("pub ");
        if let Some(name) = decl.strip_prefix("mod ").and_then(|d| d.strip_suffix(';')) {
            for file in [format!("{name}.rs"), format!("{name}/mod.rs")] {
                out.push(dir.join(file).to_string_lossy().into_owned());
            }
        }
    }
    out
}

/// Blanks `//` and `/* */` comments, string and char literals (keeps newlines).
fn blank_comments_and_strings(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, c: u8| out.push(if c == b'\n' { b'\n' } else { b' ' });
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                blank(&mut out, b[i]);
                i += 1;
            }
            out.extend_from_slice(b"  ");
            i += 2;
        } else if c == b'r'
            && matches!(b.get(i + 1), Some(b'"') | Some(b'#'))
            && (!ident(b, i) || (b[i - 1] == b'b' && !ident(b, i - 1)))
        {
            // raw string r"..." or r#"..."#
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            let mut k = j + 1;
            while k < b.len() && !b[k..].starts_with(&close) {
                k += 1;
            }
            let end = (k + close.len()).min(b.len());
            for &x in &b[i..end] {
                blank(&mut out, x);
            }
            i = end;
        } else if c == b'"' {
            out.push(b' ');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    blank(&mut out, b[i]);
                    i += 1;
                }
                if i < b.len() {
                    blank(&mut out, b[i]);
                    i += 1;
                }
            }
            out.push(b' ');
            i += 1;
        } else if c == b'\'' && char_literal_len(b, i) > 0 {
            let n = char_literal_len(b, i);
            out.extend(std::iter::repeat_n(b' ', n));
            i += n;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out.truncate(b.len());
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `b[i]` continues a name or a path (`ureq::http`) rather than starting one.
fn inside_path(b: &[u8], i: usize) -> bool {
    ident(b, i) || (i > 0 && b[i - 1] == b':')
}

/// The length of the char literal starting at `b[i]` (a `'`), or 0 for a lifetime.
fn char_literal_len(b: &[u8], i: usize) -> usize {
    match b.get(i + 1) {
        Some(b'\\') => {
            let mut j = i + 3;
            while j < b.len() && b[j] != b'\'' {
                j += 1;
            }
            j + 1 - i
        }
        Some(&lead) => {
            let n = match lead {
                0..0x80 => 1,
                0x80..0xE0 => 2,
                0xE0..0xF0 => 3,
                _ => 4,
            };
            if b.get(i + 1 + n) == Some(&b'\'') {
                n + 2
            } else {
                0
            }
        }
        None => 0,
    }
}

/// Whether the byte before `i` continues an identifier (so `b[i]` does not start a path).
fn ident(b: &[u8], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b'$')
}

/// Blanks every `#[cfg(test)]` item's block (`mod tests { ... }`, a test-only fn or impl).
fn blank_tests(code: &str) -> String {
    let mut out: Vec<u8> = code.as_bytes().to_vec();
    let mut from = 0;
    while let Some(pos) = code[from..].find("#[cfg(test)]") {
        let start = from + pos;
        let rest = &code[start..];
        // The item ends at `;` (a declaration) or at the brace closing its first `{`.
        let (Some(open), semi) = (rest.find('{'), rest.find(';')) else {
            break;
        };
        if semi.is_some_and(|s| s < open) {
            from = start + semi.unwrap();
            continue;
        }
        let mut depth = 0;
        let mut end = code.len();
        for (k, ch) in code[start + open..].char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = start + open + k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        for x in &mut out[start..end] {
            if *x != b'\n' {
                *x = b' ';
            }
        }
        from = end;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The leading identifier of `s` (after whitespace).
fn leading_ident(s: &str) -> &str {
    let s = s.trim_start();
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The top-level items named right after a path prefix: `x` of `x::...`, or each `x` of a
/// `{x::..., y}` group.
fn first_segments(after: &str) -> Vec<&str> {
    let after = after.trim_start();
    let Some(group) = after.strip_prefix('{') else {
        return vec![leading_ident(after)];
    };
    let mut out = Vec::new();
    let (mut depth, mut item_start) = (0usize, 0usize);
    for (k, ch) in group.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' if depth == 0 => {
                out.push(leading_ident(&group[item_start..k]));
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(leading_ident(&group[item_start..k]));
                item_start = k + 1;
            }
            _ => {}
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// Every reference of `src` to a top-level module in `tops`: `crate::x`, `crate::{x, y}`, and
/// `super::` chains that climb to the crate root.
fn references(src: &Source, tops: &BTreeSet<String>) -> Vec<Reference> {
    let code = &src.code;
    let b = code.as_bytes();
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        if inside_path(b, i) {
            continue;
        }
        for name in first_segments(&code[i + "crate::".len()..]) {
            if tops.contains(name) {
                out.push(Reference {
                    to: name.to_owned(),
                    at: format!("{}:{}", src.rel, src.line_of(i)),
                });
            }
        }
    }
    for (i, _) in code.match_indices("super::") {
        if inside_path(b, i) {
            continue;
        }
        let mut rest = &code[i..];
        let mut climbs = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            climbs += 1;
            rest = r;
        }
        // `super` from a module file: its parent module; the crate root when it climbs past
        // the top-level module.
        if climbs != src.module.len() {
            continue;
        }
        for name in first_segments(rest) {
            if tops.contains(name) {
                out.push(Reference {
                    to: name.to_owned(),
                    at: format!("{}:{}", src.rel, src.line_of(i)),
                });
            }
        }
    }
    out
}

/// Top-level modules: every `src/x.rs` and `src/x/` but lib and main.
fn top_modules(sources: &[Source]) -> BTreeSet<String> {
    sources
        .iter()
        .filter_map(|s| s.top().map(str::to_owned))
        .collect()
}

fn fail_with(title: &str, found: &[String]) {
    assert!(
        found.is_empty(),
        "{title}:\n  {}\n(docs/architecture.md says which layer owns what)",
        found.join("\n  ")
    );
}

#[test]
fn only_the_api_and_the_composition_root_name_crate_api() {
    let sources = sources();
    let tops = top_modules(&sources);
    let mut found = Vec::new();
    for src in &sources {
        if src.top() == Some("api") || API_USERS.contains(&src.rel.as_str()) {
            continue;
        }
        for r in references(src, &tops) {
            if r.to == "api" {
                found.push(format!("{}: names crate::api", r.at));
            }
        }
    }
    fail_with(
        &format!(
            "{} references to crate::api outside src/api: the domain returns its own errors and \
             types, the API layer maps them",
            found.len()
        ),
        &found,
    );
}

/// Where `word` starts a path (`axum::…`, `use utoipa::ToSchema`, `#[derive(utoipa::…)]`,
/// `http::StatusCode`) rather than continuing one (`ureq::http::…`) or a longer name.
fn path_roots(code: &str, word: &str) -> Vec<usize> {
    let b = code.as_bytes();
    code.match_indices(word)
        .map(|(i, _)| i)
        .filter(|&i| !inside_path(b, i))
        .filter(|&i| code[i + word.len()..].starts_with("::"))
        .collect()
}

#[test]
fn domain_modules_name_no_http_types() {
    let mut found = Vec::new();
    for src in sources() {
        if !DOMAIN.iter().any(|d| src.rel.starts_with(d)) {
            continue;
        }
        for word in HTTP_CRATES {
            for i in path_roots(&src.code, word) {
                found.push(format!("{}:{}: names {word}::", src.rel, src.line_of(i)));
            }
        }
    }
    fail_with(
        &format!(
            "{} references to HTTP types in the domain (src/actions, src/scenarios, \
             src/events.rs, src/config*, src/prom, src/reports, src/metrics, src/units.rs)",
            found.len()
        ),
        &found,
    );
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        t.on.insert(v);
        for w in t.graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                scc.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                t.out.push(scc);
            }
        }
    }
    let mut t = T {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

/// One cycle through `start` inside `scc` (breadth-first: the shortest).
fn cycle_through(
    graph: &BTreeMap<String, BTreeSet<String>>,
    scc: &[String],
    start: &str,
) -> Vec<String> {
    let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for w in graph.get(v).into_iter().flatten() {
            if !scc.contains(w) {
                continue;
            }
            if w == start {
                let mut path = vec![start.to_owned()];
                let mut at = v;
                while at != start {
                    path.push(at.to_owned());
                    at = prev[at];
                }
                path.push(start.to_owned());
                path.reverse();
                return path;
            }
            if !prev.contains_key(w.as_str()) {
                prev.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    vec![start.to_owned()]
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let sources = sources();
    let tops = top_modules(&sources);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut evidence: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for src in &sources {
        let Some(from) = src.top() else { continue };
        for r in references(src, &tops) {
            if r.to == from {
                continue;
            }
            graph
                .entry(from.to_owned())
                .or_default()
                .insert(r.to.clone());
            evidence
                .entry((from.to_owned(), r.to))
                .or_default()
                .push(r.at);
        }
    }
    let mut found = Vec::new();
    for scc in cycles(&graph) {
        found.push(format!(
            "cycle {} (modules {})",
            cycle_through(&graph, &scc, &scc[0]).join(" -> "),
            scc.join(", ")
        ));
        let pairs: Vec<String> = scc
            .iter()
            .flat_map(|a| scc.iter().map(move |b| (a, b)))
            .filter(|(a, b)| a < b && graph[*a].contains(*b) && graph[*b].contains(*a))
            .map(|(a, b)| format!("{a} <-> {b}"))
            .collect();
        if !pairs.is_empty() {
            found.push(format!("  mutual imports: {}", pairs.join(", ")));
        }
        for from in &scc {
            for to in graph[from].iter().filter(|t| scc.contains(t)) {
                let at = &evidence[&(from.clone(), to.clone())];
                let shown: Vec<&str> = at.iter().take(4).map(String::as_str).collect();
                let more = at.len().saturating_sub(shown.len());
                let more = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                found.push(format!("    {from} -> {to}: {}{more}", shown.join(", ")));
            }
        }
    }
    let n = cycles(&graph).len();
    fail_with(
        &format!("{n} import cycle(s) between top-level modules of src/"),
        &found,
    );
}

#[test]
fn src_files_stay_under_400_lines() {
    let root = repo();
    let mut paths = Vec::new();
    rust_files(&root.join("src"), &mut paths);
    let mut found = Vec::new();
    for p in paths {
        let n = std::fs::read_to_string(&p).unwrap().lines().count();
        if n > MAX_LINES {
            let rel = p.strip_prefix(&root).unwrap().display().to_string();
            found.push(format!("{rel}: {n} lines (max {MAX_LINES})"));
        }
    }
    fail_with(
        &format!("{} files in src/ over {MAX_LINES} lines", found.len()),
        &found,
    );
}

/// The parser the checks stand on: groups, `super` chains, comments, strings, test modules.
#[test]
fn the_reference_parser_reads_paths_groups_and_super_and_skips_tests_and_comments() {
    let tops: BTreeSet<String> = ["api", "events", "config", "units"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let text = "use crate::{\n    api::ApiError,\n    events::{Event, Events},\n};\n\
                // use crate::config::Config;\n\
                let s = \"crate::units\";\n\
                fn f() -> super::super::config::Config { todo!() }\n\
                #[cfg(test)]\nmod tests {\n    use crate::units::X;\n}\n";
    let src = Source {
        rel: "src/actions/engine.rs".into(),
        module: module_path("src/actions/engine.rs"),
        code: blank_tests(&blank_comments_and_strings(text)),
    };
    let refs: Vec<String> = references(&src, &tops)
        .iter()
        .map(|r| format!("{} {}", r.to, r.at))
        .collect();
    assert_eq!(
        refs,
        [
            "api src/actions/engine.rs:1",
            "events src/actions/engine.rs:1",
            "config src/actions/engine.rs:7",
        ]
    );
    assert_eq!(module_path("src/actions/mod.rs"), ["actions"]);
    assert!(module_path("src/lib.rs").is_empty());
    let axum = blank_comments_and_strings("use axum::Json; // axum::x\nlet u = ureq::http::Uri;");
    assert_eq!(path_roots(&axum, "axum").len(), 1);
    assert!(path_roots(&axum, "http").is_empty());
    let mut graph = BTreeMap::new();
    for (a, b) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        graph
            .entry(a.to_string())
            .or_insert_with(BTreeSet::new)
            .insert(b.to_string());
    }
    let sccs = cycles(&graph);
    assert_eq!(sccs, [vec!["a", "b", "c"]]);
    assert_eq!(cycle_through(&graph, &sccs[0], "a"), ["a", "b", "c", "a"]);
}
