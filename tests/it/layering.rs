//! Architecture rules, checked by reading the source rather than trusting review:
//! the files of `server/src` import each other without circles (and so do those of
//! `client/src`), the HTTP layer names no store backend, the store names nothing of
//! HTTP, and the service layer names nothing of axum.
//!
//! The import graph is built from the text, with these rules:
//! - an edge is a path that starts with `crate::`, `super::` or `self::`, in a `use`
//!   (nested groups such as `use crate::{a, b::{c, d}}` expanded) or anywhere in code;
//! - a module path maps to its file (`a.rs` or `a/mod.rs`, the deepest that exists),
//!   and a name a module re-exports (`pub use x::Name;`, as `lib.rs` does) resolves to
//!   the file that defines it;
//! - declarations are not edges: neither `mod x;` (declaring a child is not importing
//!   it) nor `pub use` re-exports (a facade names its children; whoever uses the name
//!   is sent to the defining file instead);
//! - comments, string literals and test code (`#[cfg(test)]` items, files named
//!   `tests.rs`) are left out, and so is `main.rs`: a binary is another crate, which
//!   reaches the library by its name, never by `crate::`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

/// The workspace root.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file under `dir`, keyed by its path relative to `dir` (`/` separated).
fn read_tree(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
                .path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
                let rel = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, text);
            }
        }
    }
    assert!(
        dir.is_dir(),
        "{} does not exist: was it renamed? Update tests/it/layering.rs with it",
        dir.display()
    );
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Blanks out one range of `chars`, keeping the newlines so line numbers hold.
fn blank(chars: &mut [char], from: usize, to: usize) {
    for c in chars.iter_mut().take(to).skip(from) {
        if *c != '\n' {
            *c = ' ';
        }
    }
}

/// The text with comments and string and character literals blanked out.
fn code_only(text: &str) -> String {
    let mut c: Vec<char> = text.chars().collect();
    let n = c.len();
    let at = |c: &[char], i: usize, s: &str| {
        s.chars().enumerate().all(|(k, x)| c.get(i + k) == Some(&x))
    };
    let mut i = 0;
    while i < n {
        let prev_ident = i > 0 && is_ident(c[i - 1]);
        if at(&c, i, "//") {
            let end = (i..n).find(|&j| c[j] == '\n').unwrap_or(n);
            blank(&mut c, i, end);
            i = end;
        } else if at(&c, i, "/*") {
            let (mut depth, mut j) = (0usize, i);
            while j < n {
                if at(&c, j, "/*") {
                    depth += 1;
                    j += 2;
                } else if at(&c, j, "*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut c, i, j.min(n));
            i = j;
        } else if !prev_ident && (c[i] == 'r' || (c[i] == 'b' && c.get(i + 1) == Some(&'r'))) {
            // A raw string r"..", r#".."#, br"..", or just an identifier.
            let mut j = if c[i] == 'b' { i + 2 } else { i + 1 };
            let hashes = (j..n).take_while(|&k| c[k] == '#').count();
            j += hashes;
            if c.get(j) == Some(&'"') {
                let close: String = std::iter::once('"')
                    .chain(std::iter::repeat_n('#', hashes))
                    .collect();
                let end = (j + 1..n)
                    .find(|&k| at(&c, k, &close))
                    .map_or(n, |k| k + close.len());
                blank(&mut c, i, end);
                i = end;
            } else {
                i += 1;
            }
        } else if c[i] == '"' {
            let mut j = i + 1;
            while j < n && c[j] != '"' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            blank(&mut c, i, (j + 1).min(n));
            i = j + 1;
        } else if c[i] == '\'' {
            // '\n', '\u{..}', 'x' are characters; anything else is a lifetime.
            let end = if c.get(i + 1) == Some(&'\\') {
                (i + 2..n.min(i + 12)).find(|&k| c[k] == '\'')
            } else if c.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(e) => {
                    blank(&mut c, i, e + 1);
                    i = e + 1;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    c.into_iter().collect()
}

/// The index just past the bracket that closes the one at `open`.
fn matching(c: &[char], open: usize, (l, r): (char, char)) -> usize {
    let mut depth = 0usize;
    for (k, &x) in c.iter().enumerate().skip(open) {
        if x == l {
            depth += 1;
        } else if x == r {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return k + 1;
            }
        }
    }
    c.len()
}

/// Code-only text with every `#[cfg(test)]` item blanked out (a `mod tests { .. }`,
/// a `mod tests;`, a test-only `use` or function); empty if the file is `#![cfg(test)]`.
fn without_tests(code: &str) -> String {
    let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.contains("#![cfg(test)]") {
        return code.lines().map(|_| "\n").collect();
    }
    let mut c: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < c.len() {
        if c[i] != '#' {
            i += 1;
            continue;
        }
        let Some(open) = (i + 1..c.len()).find(|&k| !c[k].is_whitespace()) else {
            break;
        };
        if c[open] != '[' {
            i += 1;
            continue;
        }
        let close = matching(&c, open, ('[', ']'));
        let attr: String = c[open..close]
            .iter()
            .filter(|x| !x.is_whitespace())
            .collect();
        if attr != "[cfg(test)]" {
            i = close;
            continue;
        }
        // Past any further attributes, to the end of the item: `;` or its `{ .. }`.
        let mut j = close;
        loop {
            while j < c.len() && c[j].is_whitespace() {
                j += 1;
            }
            if j < c.len() && c[j] == '#' {
                let o = (j + 1..c.len()).find(|&k| c[k] == '[').unwrap_or(c.len());
                j = matching(&c, o, ('[', ']'));
            } else {
                break;
            }
        }
        let end = match (j..c.len()).find(|&k| c[k] == ';' || c[k] == '{') {
            Some(k) if c[k] == '{' => matching(&c, k, ('{', '}')),
            Some(k) => k + 1,
            None => c.len(),
        };
        blank(&mut c, i, end);
        i = end;
    }
    c.into_iter().collect()
}

/// A `use` statement: where it is, whether it re-exports, and its expanded paths
/// (each with the name it brings in).
struct UseStmt {
    start: usize,
    end: usize,
    public: bool,
    paths: Vec<(Vec<String>, String)>,
}

fn tokens(tree: &str) -> Vec<String> {
    let mut out = Vec::new();
    let c: Vec<char> = tree.chars().collect();
    let mut i = 0;
    while i < c.len() {
        if c[i].is_whitespace() {
            i += 1;
        } else if is_ident(c[i]) || c[i] == '$' {
            let j = (i + 1..c.len())
                .find(|&k| !is_ident(c[k]))
                .unwrap_or(c.len());
            out.push(c[i..j].iter().collect());
            i = j;
        } else if c[i] == ':' && c.get(i + 1) == Some(&':') {
            out.push("::".into());
            i += 2;
        } else {
            out.push(c[i].to_string());
            i += 1;
        }
    }
    out
}

/// Expands one use tree (`a::{b, c::{self, d as e}, f::*}`) into full paths.
fn expand(
    toks: &[String],
    i: &mut usize,
    prefix: Vec<String>,
    out: &mut Vec<(Vec<String>, String)>,
) {
    let mut path = prefix;
    loop {
        match toks.get(*i).map(String::as_str) {
            Some("::") => *i += 1,
            Some("{") => {
                *i += 1;
                while let Some(t) = toks.get(*i) {
                    match t.as_str() {
                        "}" => {
                            *i += 1;
                            return;
                        }
                        "," => *i += 1,
                        _ => expand(toks, i, path.clone(), out),
                    }
                }
                return;
            }
            Some("*") => {
                *i += 1;
                path.push("*".into());
                break;
            }
            Some(t) if t.chars().all(|c| is_ident(c) || c == '$') && t != "as" => {
                path.push(t.to_string());
                *i += 1;
                if toks.get(*i).map(String::as_str) != Some("::") {
                    break;
                }
            }
            _ => break,
        }
    }
    if path.len() > 1 && path.last().map(String::as_str) == Some("self") {
        path.pop();
    }
    let mut name = path.last().cloned().unwrap_or_default();
    if toks.get(*i).map(String::as_str) == Some("as") {
        if let Some(alias) = toks.get(*i + 1) {
            name = alias.clone();
        }
        *i += 2;
    }
    out.push((path, name));
}

fn use_statements(code: &str) -> Vec<UseStmt> {
    let c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 3 < c.len() {
        let starts = c[i..i + 3].iter().collect::<String>() == "use"
            && (i == 0 || !is_ident(c[i - 1]))
            && c[i + 3].is_whitespace();
        if !starts {
            i += 1;
            continue;
        }
        let end = (i..c.len()).find(|&k| c[k] == ';').unwrap_or(c.len());
        let before: String = c[..i].iter().collect();
        let before = before.trim_end();
        // `pub use`, `pub(crate) use`, `pub(super) use`: a re-export.
        let public = match before.rsplit_once("pub") {
            Some((head, vis)) => {
                !head.ends_with(is_ident)
                    && (vis.is_empty()
                        || (vis.trim_start().starts_with('(')
                            && vis.ends_with(')')
                            && !vis.contains([';', '}', '{'])))
            }
            None => false,
        };
        let toks = tokens(&c[i + 3..end].iter().collect::<String>());
        let mut paths = Vec::new();
        let mut k = 0;
        expand(&toks, &mut k, Vec::new(), &mut paths);
        out.push(UseStmt {
            start: i,
            end: (end + 1).min(c.len()),
            public,
            paths,
        });
        i = end;
    }
    out
}

/// `crate::a::B`, `super::super::c`, `self::d` paths in code (not in `use`), and
/// `child::e` paths whose first name is one of `children` (the modules the file
/// declares: a parent that names its child's items imports that child).
fn code_paths(code: &str, children: &BTreeSet<String>) -> Vec<(usize, Vec<String>)> {
    let c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if !is_ident(c[i]) || (i > 0 && (is_ident(c[i - 1]) || c[i - 1] == '$' || c[i - 1] == ':'))
        {
            i += 1;
            continue;
        }
        let j = (i..c.len()).find(|&k| !is_ident(c[k])).unwrap_or(c.len());
        let word: String = c[i..j].iter().collect();
        if !matches!(word.as_str(), "crate" | "super" | "self") && !children.contains(&word) {
            i = j;
            continue;
        }
        let mut path = vec![word];
        let mut k = j;
        loop {
            let mut m = k;
            while m < c.len() && c[m].is_whitespace() {
                m += 1;
            }
            if !(c.get(m) == Some(&':') && c.get(m + 1) == Some(&':')) {
                break;
            }
            m += 2;
            while m < c.len() && c[m].is_whitespace() {
                m += 1;
            }
            let e = (m..c.len()).find(|&q| !is_ident(c[q])).unwrap_or(c.len());
            if e == m {
                break;
            }
            path.push(c[m..e].iter().collect());
            k = e;
        }
        if path.len() > 1 {
            out.push((i, path));
        }
        i = k.max(j);
    }
    out
}

/// One file's part of the graph.
struct Parsed {
    module: Vec<String>,
    code: String,
    uses: Vec<UseStmt>,
    reexports: BTreeMap<String, Vec<String>>,
}

/// Where an edge comes from: the line and its text.
#[derive(Clone, Debug)]
struct Site {
    line: usize,
    text: String,
}

/// File → file it refers to → the first line that does.
type Graph = BTreeMap<String, BTreeMap<String, Site>>;

/// The module path of a file (`http/mod.rs` → `http`, `http/public.rs` → `http::public`).
fn module_of(file: &str) -> Vec<String> {
    let stem = file.trim_end_matches(".rs");
    let mut parts: Vec<String> = stem.split('/').map(String::from).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// Module paths to files, through re-exports.
struct Resolver<'a> {
    parsed: &'a BTreeMap<String, Parsed>,
}

impl Resolver<'_> {
    /// The file of a module: `a/b.rs` or `a/b/mod.rs`; `lib.rs` for the root.
    fn file_of(&self, module: &[String]) -> Option<String> {
        if module.is_empty() {
            return Some("lib.rs".to_string()).filter(|f| self.parsed.contains_key(f));
        }
        let base = module.join("/");
        [format!("{base}.rs"), format!("{base}/mod.rs")]
            .into_iter()
            .find(|f| self.parsed.contains_key(f))
    }

    /// A path from module `from` made absolute: `crate`, `super`, `self`, or (in a
    /// re-export, `child_ok`) a child module; `None` for another crate's path.
    fn absolute(&self, from: &[String], path: &[String], child_ok: bool) -> Option<Vec<String>> {
        let mut out = from.to_vec();
        let mut rest = path.get(1..).unwrap_or_default();
        match path.first().map(String::as_str) {
            Some("crate") => out.clear(),
            Some("self") => {}
            Some("super") => {
                rest = path;
                while rest.first().map(String::as_str) == Some("super") {
                    out.pop()?;
                    rest = &rest[1..];
                }
            }
            Some(first) if child_ok => {
                out.push(first.to_string());
                self.file_of(&out)?;
            }
            _ => return None,
        }
        out.extend(rest.iter().cloned());
        Some(out)
    }

    /// The file that defines what an absolute path names: the deepest module file on
    /// the path, or, where the next name is a re-export there, the file it leads to.
    fn resolve(&self, abs: &[String], depth: usize) -> Option<String> {
        let mut cur: Vec<String> = Vec::new();
        for (i, seg) in abs.iter().enumerate() {
            if seg == "*" {
                break;
            }
            let mut next = cur.clone();
            next.push(seg.clone());
            if self.file_of(&next).is_some() {
                cur = next;
                continue;
            }
            let file = self.file_of(&cur)?;
            if let Some(target) = self.parsed.get(&file).and_then(|p| p.reexports.get(seg)) {
                if depth > 16 {
                    return Some(file);
                }
                // A re-export of another crate's item leads out of this graph.
                let mut full = self.absolute(&cur, target, true)?;
                full.extend(abs[i + 1..].iter().cloned());
                return self.resolve(&full, depth + 1);
            }
            return Some(file);
        }
        self.file_of(&cur)
    }
}

/// Where `word` first stands as a whole word in `code`.
fn word_at(code: &str, word: &str) -> Option<usize> {
    let c: Vec<char> = code.chars().collect();
    let w: Vec<char> = word.chars().collect();
    (0..c.len().saturating_sub(w.len() - 1)).find(|&i| {
        c[i..].starts_with(&w)
            && (i == 0 || !(is_ident(c[i - 1]) || c[i - 1] == ':'))
            && c.get(i + w.len()).is_none_or(|&n| !is_ident(n))
    })
}

/// The modules a file declares (`mod x;`, `pub mod x;`, `pub(crate) mod x;`).
fn declared_children(code: &str) -> BTreeSet<String> {
    let words: Vec<&str> = code
        .split(|c: char| !(is_ident(c) || c == ';'))
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(2)
        .filter(|w| w[0] == "mod")
        .filter_map(|w| w[1].strip_suffix(';'))
        .map(String::from)
        .collect()
}

/// The import graph of one crate's source files (paths relative to its `src/`).
fn import_graph(files: &BTreeMap<String, String>) -> Graph {
    let mut parsed: BTreeMap<String, Parsed> = BTreeMap::new();
    for (name, text) in files {
        let last = name.rsplit('/').next().unwrap_or(name);
        if last == "tests.rs" || name == "main.rs" || name.starts_with("bin/") {
            continue;
        }
        let code = without_tests(&code_only(text));
        let uses = use_statements(&code);
        let mut reexports = BTreeMap::new();
        for u in uses.iter().filter(|u| u.public) {
            for (path, alias) in &u.paths {
                if path.last().map(String::as_str) != Some("*") {
                    reexports.insert(alias.clone(), path.clone());
                }
            }
        }
        parsed.insert(
            name.clone(),
            Parsed {
                module: module_of(name),
                code,
                uses,
                reexports,
            },
        );
    }
    let crate_ = Resolver { parsed: &parsed };
    let mut graph = Graph::new();
    for (name, p) in &parsed {
        let line_of = |offset: usize| {
            let line = p.code.chars().take(offset).filter(|&c| c == '\n').count() + 1;
            let text = files[name]
                .lines()
                .nth(line - 1)
                .unwrap_or_default()
                .trim()
                .to_string();
            Site { line, text }
        };
        let mut refs: Vec<(usize, Vec<String>)> = Vec::new();
        let mut code: Vec<char> = p.code.chars().collect();
        for u in &p.uses {
            if !u.public {
                refs.extend(u.paths.iter().map(|(path, _)| (u.start, path.clone())));
            }
            blank(&mut code, u.start, u.end);
        }
        let children = declared_children(&p.code);
        let rest: String = code.into_iter().collect();
        // A name the file re-exports and also uses itself is imported by it.
        for (alias, path) in &p.reexports {
            if let Some(at) = word_at(&rest, alias) {
                refs.push((at, path.clone()));
            }
        }
        refs.extend(code_paths(&rest, &children));
        let edges = graph.entry(name.clone()).or_default();
        for (offset, path) in refs {
            let Some(abs) = crate_.absolute(&p.module, &path, true) else {
                continue;
            };
            let Some(target) = crate_.resolve(&abs, 0) else {
                continue;
            };
            if &target != name {
                edges.entry(target).or_insert_with(|| line_of(offset));
            }
        }
    }
    graph
}

/// A circle of imports.
struct Circle {
    /// One shortest way around: each file with the line that leads to the next.
    way: Vec<(String, Site)>,
    /// Every file of the knot (the strongly connected set) the way goes through.
    files: BTreeSet<String>,
}

/// The circles of a graph: one per strongly connected set of two or more files.
fn circles(graph: &Graph) -> Vec<Circle> {
    // Tarjan's algorithm, iterative enough for a few hundred files.
    struct T<'g> {
        g: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on: BTreeSet<&'g str>,
        sets: Vec<BTreeSet<String>>,
    }
    impl<'g> T<'g> {
        fn visit(&mut self, v: &'g str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on.insert(v);
            for w in self.g.get(v).into_iter().flat_map(|e| e.keys()) {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if self.on.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut set = BTreeSet::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(w);
                    set.insert(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if set.len() > 1 {
                    self.sets.push(set);
                }
            }
        }
    }
    let mut t = T {
        g: graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        sets: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    let mut out = Vec::new();
    for set in t.sets {
        let Some(start) = set.iter().next().cloned() else {
            continue;
        };
        // The shortest way from `start` back to it, inside the set.
        let mut came: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = VecDeque::from([start.clone()]);
        let mut last = None;
        'search: while let Some(v) = queue.pop_front() {
            for w in graph.get(&v).into_iter().flat_map(|e| e.keys()) {
                if w == &start {
                    last = Some(v.clone());
                    break 'search;
                }
                if set.contains(w) && !came.contains_key(w) {
                    came.insert(w.clone(), v.clone());
                    queue.push_back(w.clone());
                }
            }
        }
        let mut way = vec![start.clone()];
        let mut v = last.unwrap_or_else(|| start.clone());
        while v != start {
            way.push(v.clone());
            v = came.get(&v).cloned().unwrap_or_else(|| start.clone());
        }
        way[1..].reverse();
        let way = way
            .iter()
            .enumerate()
            .map(|(k, f)| {
                let next = &way[(k + 1) % way.len()];
                (f.clone(), graph[f][next].clone())
            })
            .collect();
        out.push(Circle { way, files: set });
    }
    out
}

/// The circles, as a message: each way around with the line of every step, then
/// (if the knot is bigger than the way) every edge inside it, to know what to cut.
fn describe(prefix: &str, graph: &Graph, found: &[Circle]) -> String {
    let mut msg = String::new();
    for Circle {
        way: hops,
        files: set,
    } in found
    {
        msg.push_str(&format!("\ncircle through {} files:\n", set.len()));
        for (k, (file, site)) in hops.iter().enumerate() {
            let arrow = if k == 0 { "   " } else { " → " };
            msg.push_str(&format!(
                "  {arrow}{prefix}{file}:{} `{}`\n",
                site.line, site.text
            ));
        }
        if let Some((first, _)) = hops.first() {
            msg.push_str(&format!("   → {prefix}{first}\n"));
        }
        if set.len() > hops.len() {
            msg.push_str("  every import inside this knot:\n");
            for from in set {
                for (to, site) in graph.get(from).into_iter().flatten() {
                    if set.contains(to) {
                        msg.push_str(&format!(
                            "    {prefix}{from}:{} → {to}  `{}`\n",
                            site.line, site.text
                        ));
                    }
                }
            }
        }
    }
    msg
}

fn assert_no_circles(krate: &str) {
    let files = read_tree(&workspace().join(krate).join("src"));
    assert!(
        files.contains_key("lib.rs"),
        "{krate}/src/lib.rs is missing"
    );
    let graph = import_graph(&files);
    let found = circles(&graph);
    assert!(
        found.is_empty(),
        "{} import circle(s) between the files of {krate}/src:{}",
        found.len(),
        describe(&format!("{krate}/src/"), &graph, &found)
    );
}

#[test]
fn the_files_of_the_server_import_each_other_without_circles() {
    assert_no_circles("server");
}

#[test]
fn the_files_of_the_client_import_each_other_without_circles() {
    assert_no_circles("client");
}

/// Every line of the code (test code left out) under `dir` that names one of `words`.
fn naming(dir: &str, words: &[&str]) -> Vec<String> {
    names_in(dir, &read_tree(&workspace().join(dir)), words)
}

/// Every line of code (comments, strings and test code left out) that names one of
/// `words` as a whole word, as `dir/file:line names `word`: the line`.
fn names_in(dir: &str, files: &BTreeMap<String, String>, words: &[&str]) -> Vec<String> {
    let mut hits = Vec::new();
    for (name, text) in files {
        if name.rsplit('/').next() == Some("tests.rs") {
            continue;
        }
        let code = without_tests(&code_only(text));
        for (n, (line, original)) in code.lines().zip(text.lines()).enumerate() {
            for word in words {
                let found = line.match_indices(word).any(|(k, _)| {
                    let before = line[..k].chars().next_back();
                    let after = line[k + word.len()..].chars().next();
                    let starts = word.chars().next().is_some_and(is_ident);
                    let ends = word.chars().next_back().is_some_and(is_ident);
                    let glued = (starts && before.is_some_and(is_ident))
                        || (ends && after.is_some_and(is_ident));
                    !glued
                });
                if found {
                    hits.push(format!(
                        "  {dir}/{name}:{} names `{word}`: {}",
                        n + 1,
                        original.trim()
                    ));
                }
            }
        }
    }
    hits
}

#[test]
fn the_http_layer_names_no_store_backend() {
    let hits = naming("server/src/http", &["SqliteStore", "rusqlite", "sqlite::"]);
    assert!(
        hits.is_empty(),
        "server/src/http must reach the store through its trait only:\n{}",
        hits.join("\n")
    );
}

#[test]
fn the_store_names_nothing_of_http() {
    let hits = naming(
        "server/src/store",
        &["axum", "http::", "StatusCode", "crate::http"],
    );
    assert!(
        hits.is_empty(),
        "server/src/store must know nothing of HTTP:\n{}",
        hits.join("\n")
    );
}

#[test]
fn the_service_layer_names_nothing_of_axum() {
    // Until the service layer exists there is nothing in it to name axum.
    if !workspace().join("server/src/service").is_dir() {
        return;
    }
    let hits = naming(
        "server/src/service",
        &["axum", "StatusCode", "IntoResponse"],
    );
    assert!(
        hits.is_empty(),
        "server/src/service must know nothing of axum:\n{}",
        hits.join("\n")
    );
}

fn synthetic(files: &[(&str, &str)]) -> Graph {
    import_graph(
        &files
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect(),
    )
}

fn targets(graph: &Graph, file: &str) -> Vec<String> {
    graph
        .get(file)
        .map(|e| e.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn the_circle_finder_reports_a_planted_circle_with_its_files_and_lines() {
    let graph = synthetic(&[
        ("lib.rs", "mod a;\nmod b;\nmod c;\npub use c::Thing;\n"),
        ("a.rs", "use crate::b::helper;\n"),
        ("b/mod.rs", "mod inner;\npub fn helper() { crate::Thing::new(); }\n"),
        ("b/inner.rs", "fn x() { super::helper() }\n"),
        ("c.rs", "// use crate::a;\npub struct Thing;\nfn f() { let _ = \"crate::b\"; }\nuse crate::{\n    b::inner,\n    a::{self},\n};\n"),
    ]);
    assert_eq!(targets(&graph, "a.rs"), ["b/mod.rs"]);
    assert_eq!(
        targets(&graph, "b/mod.rs"),
        ["c.rs"],
        "crate::Thing is c.rs's"
    );
    assert_eq!(targets(&graph, "b/inner.rs"), ["b/mod.rs"]);
    assert_eq!(
        targets(&graph, "c.rs"),
        ["a.rs", "b/inner.rs"],
        "a nested group; comments and strings are not code"
    );
    let found = circles(&graph);
    assert_eq!(found.len(), 1, "{}", describe("", &graph, &found));
    let Circle {
        way: hops,
        files: set,
    } = &found[0];
    let files: Vec<&str> = hops.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(files, ["a.rs", "b/mod.rs", "c.rs"]);
    assert_eq!(set.len(), 4, "b/inner.rs is in the knot too: {set:?}");
    assert_eq!(
        hops[2].1.line, 4,
        "c.rs names a.rs in the group from line 4"
    );
    let message = describe("src/", &graph, &found);
    assert!(
        message.contains("src/a.rs:1 `use crate::b::helper;`"),
        "{message}"
    );
    assert!(message.contains("b/inner.rs"), "{message}");
}

#[test]
fn the_circle_finder_passes_an_acyclic_set_of_files() {
    let graph = synthetic(&[
        (
            "lib.rs",
            "pub mod a;\nmod b;\npub use b::Thing;\npub fn root() {}\n",
        ),
        // A parent declaring and re-exporting its child is not importing it.
        (
            "a/mod.rs",
            "mod child;\npub use child::Leaf;\nuse crate::Thing;\n",
        ),
        (
            "a/child.rs",
            "use super::super::b::Thing;\npub struct Leaf;\n",
        ),
        ("b.rs", "pub struct Thing;\nfn f() { crate::root() }\n"),
    ]);
    assert_eq!(targets(&graph, "a/child.rs"), ["b.rs"]);
    assert_eq!(
        targets(&graph, "a/mod.rs"),
        ["b.rs"],
        "resolved through lib.rs"
    );
    assert_eq!(
        targets(&graph, "b.rs"),
        ["lib.rs"],
        "defined in lib.rs itself"
    );
    assert!(
        targets(&graph, "lib.rs").is_empty(),
        "mod and pub use are no edges"
    );
    let found = circles(&graph);
    assert!(found.is_empty(), "{}", describe("", &graph, &found));
}

#[test]
fn a_parent_that_names_its_childs_items_while_the_child_uses_the_parent_is_a_circle() {
    let graph = synthetic(&[
        ("lib.rs", "mod http;\n"),
        (
            "http/mod.rs",
            "mod site;\npub fn download() {}\nfn router() { route(site::step1) }\n",
        ),
        ("http/site.rs", "pub fn step1() { super::download() }\n"),
    ]);
    assert_eq!(targets(&graph, "http/mod.rs"), ["http/site.rs"]);
    let found = circles(&graph);
    assert_eq!(found.len(), 1, "{}", describe("", &graph, &found));
    assert_eq!(
        found[0]
            .files
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["http/mod.rs", "http/site.rs"]
    );
}

#[test]
fn a_facade_that_uses_what_it_re_exports_imports_it() {
    let graph = synthetic(&[
        ("lib.rs", "mod store;\n"),
        (
            "store/mod.rs",
            "mod sqlite;\npub use sqlite::Sqlite;\npub trait Store {}\nfn open() { Sqlite::connect() }\n",
        ),
        ("store/sqlite.rs", "use super::Store;\npub struct Sqlite;\n"),
    ]);
    assert_eq!(targets(&graph, "store/mod.rs"), ["store/sqlite.rs"]);
    let found = circles(&graph);
    assert_eq!(found.len(), 1, "{}", describe("", &graph, &found));
}

#[test]
fn test_code_takes_no_part_in_the_graph() {
    let graph = synthetic(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "use crate::b::B;\npub struct A;\n#[cfg(test)]\nmod tests {\n    use crate::b::helper;\n}\n"),
        ("b.rs", "pub struct B;\n#[cfg(test)]\n#[allow(dead_code)]\nfn helper() { let _ = crate::a::A; }\n#[cfg(test)]\nmod tests;\n"),
        ("b/tests.rs", "use crate::a::A;\n"),
    ]);
    assert_eq!(targets(&graph, "a.rs"), ["b.rs"]);
    assert!(
        targets(&graph, "b.rs").is_empty(),
        "{:?}",
        graph.get("b.rs")
    );
    assert!(!graph.contains_key("b/tests.rs"));
    assert!(circles(&graph).is_empty());
}

#[test]
fn the_layer_checker_sees_whole_names_in_code_only() {
    let files = BTreeMap::from([
        (
            "routes.rs".to_string(),
            "//! Not SqliteStore: a comment.\nconst S: &str = \"rusqlite\";\nuse crate::store::sqlite::SqliteStore;\nstruct SqliteStoreish;\n#[cfg(test)]\nmod tests { use rusqlite::Connection; }\n".to_string(),
        ),
        ("tests.rs".to_string(), "use rusqlite::Connection;\n".to_string()),
    ]);
    let hits = names_in("http", &files, &["SqliteStore", "rusqlite", "sqlite::"]);
    assert_eq!(
        hits,
        [
            "  http/routes.rs:3 names `SqliteStore`: use crate::store::sqlite::SqliteStore;",
            "  http/routes.rs:3 names `sqlite::`: use crate::store::sqlite::SqliteStore;",
        ]
    );
}
