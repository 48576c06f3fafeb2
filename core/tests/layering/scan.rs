//! Reading a Rust source file just far enough to find the paths into the crate it names: comments,
//! strings and character literals blanked out, then the `use` trees and the inline paths that start
//! with `crate`, `super`, `self`, a child module or a name a `use` bound, each made absolute
//! (`crate` dropped) with its line. Code under `#[cfg(test)]` (or `all(test, …)`) is not read: a
//! test may reach across the house to set up what it tests.

use std::collections::{BTreeMap, BTreeSet};

/// One path a file names, absolute: `["codex", "wire", "Item"]` for `crate::codex::wire::Item`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub path: Vec<String>,
    pub line: usize,
}

/// What one file says.
#[derive(Debug, Default)]
pub struct Scanned {
    /// Every path into the crate, from `use` items and inline paths, outside test code.
    pub imports: Vec<Import>,
    /// The names the file's own module binds with `use` (not those of its inline modules): the
    /// name → the absolute path it stands for.
    pub bindings: BTreeMap<String, Vec<String>>,
    /// The child modules declared `#[cfg(test)] mod name;`: their files are test code.
    pub test_children: BTreeSet<String>,
}

/// Scan the source of the file of `module`.
pub fn scan(src: &str, module: &[String]) -> Scanned {
    let toks = tokens(&blank(src));
    let mut s = Scanner {
        toks: &toks,
        file: module.to_vec(),
        children: child_modules(&toks),
        scopes: Vec::new(),
        depth: 0,
        scope_bindings: BTreeMap::new(),
        test: Test::No,
        out: Scanned::default(),
    };
    s.run();
    s.out
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
}

#[derive(Debug)]
struct Token {
    tok: Tok,
    line: usize,
}

/// The source with comments and string, byte-string and character literals replaced by spaces
/// (line breaks kept, so lines still count), except a string that is a path of the crate and
/// nothing else (`deserialize_with = "crate::lenient::option"`): only its quotes go. Lifetimes
/// are left alone.
pub fn blank(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let mut after_ident = false;
    while i < c.len() {
        if let Some(end) = literal_end(&c, i, after_ident) {
            let literal = &c[i..end];
            if let Some(path) = path_string(literal) {
                out.push(' ');
                out.extend(path);
                out.push(' ');
            } else {
                out.extend(
                    literal
                        .iter()
                        .map(|&ch| if ch == '\n' { '\n' } else { ' ' }),
                );
            }
            i = end;
            after_ident = false;
        } else {
            out.push(c[i]);
            after_ident = c[i].is_alphanumeric() || c[i] == '_';
            i += 1;
        }
    }
    out
}

/// The text of `"crate::a::b"`, `"super::f"`, `"self::g"`.
fn path_string(literal: &[char]) -> Option<&[char]> {
    let inner = literal.strip_prefix(&['"'])?.strip_suffix(&['"'])?;
    let text: String = inner.iter().collect();
    let is_path = ["crate::", "super::", "self::"]
        .iter()
        .any(|p| text.starts_with(p))
        && inner
            .iter()
            .all(|&ch| ch.is_alphanumeric() || ch == '_' || ch == ':');
    is_path.then_some(inner)
}

/// Where the comment or literal that starts at `i` ends (exclusive); `None`: none starts there.
fn literal_end(c: &[char], i: usize, after_ident: bool) -> Option<usize> {
    let at = |k: usize| c.get(k).copied();
    match c[i] {
        '/' if at(i + 1) == Some('/') => Some(
            c[i..]
                .iter()
                .position(|&ch| ch == '\n')
                .map_or(c.len(), |p| i + p),
        ),
        '/' if at(i + 1) == Some('*') => Some(block_comment_end(c, i)),
        '"' => Some(string_end(c, i + 1)),
        '\'' => char_end(c, i),
        'b' | 'c' | 'r' if !after_ident => prefixed_end(c, i),
        _ => None,
    }
}

fn block_comment_end(c: &[char], i: usize) -> usize {
    let mut depth = 0;
    let mut k = i;
    while k + 1 < c.len() {
        match (c[k], c[k + 1]) {
            ('/', '*') => {
                depth += 1;
                k += 2;
            }
            ('*', '/') => {
                depth -= 1;
                k += 2;
                if depth == 0 {
                    return k;
                }
            }
            _ => k += 1,
        }
    }
    c.len()
}

/// The end of a string whose text starts at `k` (after the opening quote).
fn string_end(c: &[char], mut k: usize) -> usize {
    while k < c.len() {
        match c[k] {
            '\\' => k += 2,
            '"' => return k + 1,
            _ => k += 1,
        }
    }
    c.len()
}

/// `'a'`, `'\n'`, `'\u{1F600}'`, `'\''`; `None` for a lifetime (`'a`, `'static`).
fn char_end(c: &[char], i: usize) -> Option<usize> {
    match (c.get(i + 1), c.get(i + 2)) {
        (Some('\\'), Some(_)) => {
            let close = c[i + 3..].iter().position(|&ch| ch == '\'')?;
            Some(i + 3 + close + 1)
        }
        (Some(_), Some('\'')) => Some(i + 3),
        _ => None,
    }
}

/// `b"…"`, `b'…'`, `c"…"`, and the raw `r"…"`, `r#"…"#`, `br#"…"#`, `cr"…"`.
fn prefixed_end(c: &[char], i: usize) -> Option<usize> {
    let (raw, j) = match (c[i], c.get(i + 1)) {
        ('r', _) => (true, i + 1),
        ('b' | 'c', Some('r')) => (true, i + 2),
        _ => (false, i + 1),
    };
    if !raw {
        return match c.get(j) {
            Some('"') => Some(string_end(c, j + 1)),
            Some('\'') if c[i] == 'b' => char_end(c, j),
            _ => None,
        };
    }
    let hashes = c[j..].iter().take_while(|&&ch| ch == '#').count();
    if c.get(j + hashes) != Some(&'"') {
        return None; // `r#ident`, or an identifier that starts with r
    }
    let closing: Vec<char> = std::iter::once('"')
        .chain(std::iter::repeat_n('#', hashes))
        .collect();
    let body = j + hashes + 1;
    let found = c[body..]
        .windows(closing.len())
        .position(|w| w == closing.as_slice());
    Some(found.map_or(c.len(), |p| body + p + closing.len()))
}

fn tokens(src: &str) -> Vec<Token> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let word = |ch: char| ch.is_alphanumeric() || ch == '_';
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push(Token {
                tok: Tok::PathSep,
                line,
            });
            i += 2;
        } else if word(ch) {
            let len = c[i..].iter().take_while(|&&ch| word(ch)).count();
            let text: String = c[i..i + len].iter().collect();
            let tok = if ch.is_ascii_digit() {
                Tok::Punct('0')
            } else {
                Tok::Ident(text)
            };
            out.push(Token { tok, line });
            i += len;
        } else {
            out.push(Token {
                tok: Tok::Punct(ch),
                line,
            });
            i += 1;
        }
    }
    // `r#type` is the identifier `type`.
    let mut merged: Vec<Token> = Vec::with_capacity(out.len());
    for t in out {
        let raw_ident = matches!(&t.tok, Tok::Ident(_))
            && matches!(merged.as_slice(), [.., Token { tok: Tok::Ident(r), .. }, Token { tok: Tok::Punct('#'), .. }] if r == "r");
        if raw_ident {
            merged.truncate(merged.len() - 2);
        }
        merged.push(t);
    }
    merged
}

/// The child modules the file declares (`mod name;`), outside inline modules too: a file's
/// `mod name;` is the only place one is declared.
fn child_modules(toks: &[Token]) -> BTreeSet<String> {
    toks.windows(3)
        .filter_map(|w| match (&w[0].tok, &w[1].tok, &w[2].tok) {
            (Tok::Ident(m), Tok::Ident(name), Tok::Punct(';')) if m == "mod" => Some(name.clone()),
            _ => None,
        })
        .collect()
}

struct Scanner<'a> {
    toks: &'a [Token],
    /// The file's module.
    file: Vec<String>,
    children: BTreeSet<String>,
    /// The inline modules (`mod tests { … }`) the scan is in, with the brace depth each opened at.
    scopes: Vec<(String, usize)>,
    depth: usize,
    /// The names the inline modules bind, by module.
    scope_bindings: BTreeMap<Vec<String>, BTreeMap<String, Vec<String>>>,
    test: Test,
    out: Scanned,
}

/// Where the scan is with respect to test code.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Test {
    No,
    /// After `#[cfg(test)]`: the next item is test code, to its `;` or its braces' end.
    Next,
    /// In the braces of a test item opened at this depth.
    Until(usize),
}

impl Scanner<'_> {
    fn ident(&self, i: usize) -> Option<&str> {
        match self.toks.get(i).map(|t| &t.tok) {
            Some(Tok::Ident(s)) => Some(s),
            _ => None,
        }
    }

    fn is(&self, i: usize, tok: &Tok) -> bool {
        self.toks.get(i).is_some_and(|t| &t.tok == tok)
    }

    /// The module the scan is in now: the file's, or an inline module in it.
    fn module(&self) -> Vec<String> {
        let mut m = self.file.clone();
        m.extend(self.scopes.iter().map(|(name, _)| name.clone()));
        m
    }

    /// `#[cfg(test)]` or `#[cfg(all(test, …))]` at `i`: the index after it.
    fn test_cfg(&self, i: usize) -> Option<usize> {
        let word = |k: usize, w: &str| self.ident(k) == Some(w);
        let open = self.is(i, &Tok::Punct('#'))
            && self.is(i + 1, &Tok::Punct('['))
            && word(i + 2, "cfg")
            && self.is(i + 3, &Tok::Punct('('));
        let test = word(i + 4, "test") && self.is(i + 5, &Tok::Punct(')'));
        let all_test = word(i + 4, "all") && self.is(i + 5, &Tok::Punct('(')) && {
            let args = self.toks[i + 6..]
                .iter()
                .take_while(|t| t.tok != Tok::Punct(')'));
            args.into_iter().any(|t| t.tok == Tok::Ident("test".into()))
        };
        if !(open && (test || all_test)) {
            return None;
        }
        let close = self.toks[i..]
            .iter()
            .position(|t| t.tok == Tok::Punct(']'))?;
        Some(i + close + 1)
    }

    fn run(&mut self) {
        let mut i = 0;
        while i < self.toks.len() {
            if let Some(next) = self.test_cfg(i) {
                if self.test == Test::No {
                    self.test = Test::Next;
                }
                i = next;
                continue;
            }
            let after_sep = i > 0 && self.is(i - 1, &Tok::PathSep);
            match &self.toks[i].tok {
                Tok::Punct('{') => {
                    if self.test == Test::Next {
                        self.test = Test::Until(self.depth);
                    }
                    self.depth += 1;
                }
                Tok::Punct('}') => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.scopes.last().is_some_and(|(_, d)| *d == self.depth) {
                        self.scopes.pop();
                    }
                    if self.test == Test::Until(self.depth) {
                        self.test = Test::No;
                    }
                }
                Tok::Punct(';') if self.test == Test::Next => self.test = Test::No,
                Tok::Ident(kw) if kw == "mod" && self.is(i + 2, &Tok::Punct(';')) => {
                    if let (Some(name), Test::Next) = (self.ident(i + 1), self.test) {
                        self.out.test_children.insert(name.to_owned());
                    }
                }
                Tok::Ident(kw) if kw == "mod" && self.is(i + 2, &Tok::Punct('{')) => {
                    if let Some(name) = self.ident(i + 1) {
                        self.scopes.push((name.to_owned(), self.depth));
                    }
                }
                Tok::Ident(kw) if kw == "use" && !after_sep => {
                    i = self.use_item(i + 1);
                    continue;
                }
                Tok::Ident(_) if !after_sep && self.is(i + 1, &Tok::PathSep) => {
                    i = self.inline_path(i);
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// A `use` item from its tree at `i` to its `;`; the index after it.
    fn use_item(&mut self, mut i: usize) -> usize {
        let mut leaves = Vec::new();
        use_tree(self.toks, &mut i, Vec::new(), &mut leaves);
        while i < self.toks.len() && !self.is(i, &Tok::Punct(';')) {
            i += 1;
        }
        if self.test != Test::No {
            if self.test == Test::Next {
                self.test = Test::No;
            }
            return i + 1;
        }
        for leaf in leaves {
            let Some(path) = self.absolute(&leaf.path) else {
                continue;
            };
            if let Some(name) = leaf.binds.filter(|n| n != "_") {
                if self.scopes.is_empty() {
                    self.out.bindings.insert(name, path.clone());
                } else {
                    let scope = self.module();
                    self.scope_bindings
                        .entry(scope)
                        .or_default()
                        .insert(name, path.clone());
                }
            }
            self.out.imports.push(Import {
                path,
                line: leaf.line,
            });
        }
        i + 1
    }

    /// A path in code (`crate::status::local_time(…)`, `super::WHAT`, `failure::classify(…)`):
    /// its identifiers joined by `::`, up to a generic or a group. The index after it.
    fn inline_path(&mut self, start: usize) -> usize {
        let mut segs = Vec::new();
        let mut i = start;
        while let Some(seg) = self.ident(i) {
            segs.push(seg.to_owned());
            if self.is(i + 1, &Tok::PathSep) && self.ident(i + 2).is_some() {
                i += 2;
            } else {
                break;
            }
        }
        if self.test != Test::No {
            return i + 1;
        }
        if let Some(path) = self.absolute(&segs) {
            self.out.imports.push(Import {
                path,
                line: self.toks[start].line,
            });
        }
        i + 1
    }

    /// A path as written, made absolute; `None` for one outside the crate (another crate, a local
    /// item, `Self::…`).
    fn absolute(&self, path: &[String]) -> Option<Vec<String>> {
        let (first, rest) = path.split_first()?;
        let mut module = self.module();
        let mut out = match first.as_str() {
            "crate" => Vec::new(),
            "self" => module,
            "super" => {
                module.pop()?;
                module
            }
            name => {
                let bound = self
                    .scope_bindings
                    .get(&module)
                    .and_then(|b| b.get(name))
                    .or_else(|| self.out.bindings.get(name));
                if let Some(target) = bound {
                    target.clone()
                } else if self.scopes.is_empty() && self.children.contains(name) {
                    module.push(name.to_owned());
                    module
                } else {
                    return None;
                }
            }
        };
        let mut rest = rest.iter().peekable();
        while rest.peek().is_some_and(|s| *s == "super") {
            out.pop()?;
            rest.next();
        }
        out.extend(rest.cloned());
        Some(out)
    }
}

/// One leaf of a use tree: the path as written, the name it binds, its line.
struct Leaf {
    path: Vec<String>,
    binds: Option<String>,
    line: usize,
}

/// `a::b::{c, d::{self, e as f}, g::*}` from `i`, under `prefix`.
fn use_tree(toks: &[Token], i: &mut usize, mut path: Vec<String>, out: &mut Vec<Leaf>) {
    let tok = |k: usize| toks.get(k).map(|t| &t.tok);
    while let Some(t) = tok(*i) {
        match t {
            Tok::PathSep => *i += 1,
            Tok::Punct('*') => {
                *i += 1;
                // A glob: the module, which binds no name this scan can know.
                out.push(Leaf {
                    path,
                    binds: None,
                    line: toks[*i - 1].line,
                });
                return;
            }
            Tok::Punct('{') => {
                *i += 1;
                while tok(*i).is_some_and(|t| *t != Tok::Punct('}')) {
                    use_tree(toks, i, path.clone(), out);
                    if tok(*i) == Some(&Tok::Punct(',')) {
                        *i += 1;
                    }
                }
                *i += 1;
                return;
            }
            Tok::Ident(seg) => {
                let line = toks[*i].line;
                *i += 1;
                if tok(*i) == Some(&Tok::PathSep) {
                    path.push(seg.clone());
                    continue;
                }
                let mut binds = if seg == "self" {
                    path.last().cloned()
                } else {
                    path.push(seg.clone());
                    Some(seg.clone())
                };
                if matches!(tok(*i), Some(Tok::Ident(kw)) if kw == "as") {
                    if let Some(Tok::Ident(alias)) = tok(*i + 1) {
                        binds = Some(alias.clone());
                    }
                    *i += 2;
                }
                out.push(Leaf { path, binds, line });
                return;
            }
            _ => return,
        }
    }
}
