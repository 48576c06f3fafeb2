//! The house rules of issue 22, held over the sources of the four crates (`core/src`,
//! `mcp-bridge/src`, `src-tauri/src`, `tests/src`): no file over 650 lines, no function over
//! 100 lines (from the line of `fn` to the line of its closing brace; methods, nested fns and
//! fns in test modules included), and a `mod.rs` only declares modules and re-exports. Read with
//! syn: a file it cannot parse fails the test. Known offenders wait in `ALLOWED`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use syn::spanned::Spanned;
use syn::visit::{self, Visit};

const MAX_FILE_LINES: usize = 650;
const MAX_FN_LINES: usize = 100;
const FOLDERS: [&str; 4] = ["core/src", "mcp-bridge/src", "src-tauri/src", "tests/src"];

/// The name an `ALLOWED` entry gives a file over `MAX_FILE_LINES`.
const FILE: &str = "<file>";
/// The name an `ALLOWED` entry gives a `mod.rs` holding more than declarations.
const MOD_RS: &str = "<mod.rs>";

/// Offenders not split yet: (path from the workspace root, fn name, or `FILE` / `MOD_RS`). An
/// entry that no longer offends fails the test too: take it off.
const ALLOWED: &[(&str, &str)] = &[];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    FileLength,
    FnLength,
    ModRs,
    Parse,
}

/// One broken rule: where, what (the fn's name, `FILE` or `MOD_RS`), and how long.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Offence {
    path: String,
    line: usize,
    name: String,
    lines: usize,
    rule: Rule,
    detail: String,
}

impl fmt::Display for Offence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Offence {
            path, line, name, ..
        } = self;
        match self.rule {
            Rule::FileLength => write!(
                f,
                "{path}:{line}: the file is {} lines (over {MAX_FILE_LINES})",
                self.lines
            ),
            Rule::FnLength => write!(
                f,
                "{path}:{line}: fn {name} is {} lines (over {MAX_FN_LINES})",
                self.lines
            ),
            Rule::ModRs => write!(
                f,
                "{path}:{line}: a mod.rs only declares and re-exports; it holds {}",
                self.detail
            ),
            Rule::Parse => write!(f, "{path}:{line}: syn cannot parse it: {}", self.detail),
        }
    }
}

/// The offences of one file: `path` (from the workspace root) names it, `text` is its source.
fn check(path: &str, text: &str) -> Vec<Offence> {
    let mut found = Vec::new();
    let offence = |line, name: &str, lines, rule, detail: String| Offence {
        path: path.to_owned(),
        line,
        name: name.to_owned(),
        lines,
        rule,
        detail,
    };
    let lines = text.lines().count();
    if lines > MAX_FILE_LINES {
        found.push(offence(1, FILE, lines, Rule::FileLength, String::new()));
    }
    let file = match syn::parse_file(text) {
        Ok(f) => f,
        Err(e) => {
            let line = e.span().start().line;
            found.push(offence(line, FILE, lines, Rule::Parse, e.to_string()));
            return found;
        }
    };
    let mut fns = Fns {
        path,
        found: Vec::new(),
    };
    fns.visit_file(&file);
    found.append(&mut fns.found);
    if Path::new(path).file_name().is_some_and(|n| n == "mod.rs") {
        for item in &file.items {
            let what = match item {
                syn::Item::Use(_) => continue,
                syn::Item::Mod(m) if m.content.is_none() => continue,
                syn::Item::Mod(m) => format!("an inline `mod {} {{ … }}`", m.ident),
                syn::Item::Fn(f) => format!("fn {}", f.sig.ident),
                syn::Item::Struct(s) => format!("struct {}", s.ident),
                syn::Item::Enum(e) => format!("enum {}", e.ident),
                syn::Item::Impl(_) => "an impl block".to_owned(),
                syn::Item::Const(c) => format!("const {}", c.ident),
                syn::Item::Static(s) => format!("static {}", s.ident),
                syn::Item::Trait(t) => format!("trait {}", t.ident),
                syn::Item::Type(t) => format!("type {}", t.ident),
                syn::Item::Macro(_) => "a macro item".to_owned(),
                _ => "an item other than `mod` and `use`".to_owned(),
            };
            let line = item.span().start().line;
            found.push(offence(line, MOD_RS, 0, Rule::ModRs, what));
        }
    }
    found
}

/// Every fn item with a body, measured.
struct Fns<'a> {
    path: &'a str,
    found: Vec<Offence>,
}

impl Fns<'_> {
    fn measure(&mut self, sig: &syn::Signature, body: &syn::Block) {
        let first = sig.fn_token.span.start().line;
        let last = body.brace_token.span.close().end().line;
        let lines = last + 1 - first;
        if lines > MAX_FN_LINES {
            self.found.push(Offence {
                path: self.path.to_owned(),
                line: first,
                name: sig.ident.to_string(),
                lines,
                rule: Rule::FnLength,
                detail: String::new(),
            });
        }
    }
}

impl<'ast> Visit<'ast> for Fns<'_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.measure(&f.sig, &f.block);
        visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.measure(&f.sig, &f.block);
        visit::visit_impl_item_fn(self, f);
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(body) = &f.default {
            self.measure(&f.sig, body);
        }
        visit::visit_trait_item_fn(self, f);
    }
}

/// The `.rs` files under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn sources_keep_the_house_rules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = Vec::new();
    for folder in FOLDERS {
        rust_files(&root.join(folder), &mut files);
    }
    files.sort();
    assert!(files.len() > 100, "only {} files found", files.len());
    let mut offences = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(root).unwrap();
        let rel = rel.to_string_lossy().replace('\\', "/");
        let text = fs::read_to_string(file).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"));
        offences.extend(check(&rel, &text));
    }
    let allowed = |o: &Offence| {
        o.rule != Rule::Parse && ALLOWED.iter().any(|&(p, n)| p == o.path && n == o.name)
    };
    let mut problems: Vec<String> = offences
        .iter()
        .filter(|o| !allowed(o))
        .map(ToString::to_string)
        .collect();
    for (path, name) in ALLOWED {
        if !offences.iter().any(|o| o.path == *path && o.name == *name) {
            problems.push(format!(
                "{path}: {name} keeps the rules now: take it off ALLOWED"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "house rules broken (issue 22):\n{}",
        problems.join("\n")
    );
}

/// A fn `lines` lines long, from `fn` to its closing brace.
fn fn_of(name: &str, lines: usize) -> String {
    let mut s = format!("fn {name}() {{\n");
    for _ in 0..lines - 2 {
        s.push_str("    let _ = 1;\n");
    }
    s.push_str("}\n");
    s
}

#[test]
fn a_fn_over_100_lines_is_reported() {
    let text = format!("{}\n{}", fn_of("short", 100), fn_of("long", 101));
    let found = check("core/src/x.rs", &text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, Rule::FnLength);
    assert_eq!(found[0].name, "long");
    assert_eq!(found[0].line, 102);
    assert_eq!(found[0].lines, 101);
    assert_eq!(
        found[0].to_string(),
        "core/src/x.rs:102: fn long is 101 lines (over 100)"
    );
}

#[test]
fn methods_nested_fns_and_test_fns_are_measured() {
    let nested = fn_of("inner", 101).replace('\n', "\n    ");
    let text = format!(
        "struct S;\nimpl S {{\n{}}}\ntrait T {{\n{}}}\nfn outer() {{\n    {nested}\n}}\n\
         #[cfg(test)]\nmod tests {{\n#[tokio::test]\nasync {}}}\n",
        fn_of("method", 101),
        fn_of("provided", 101),
        fn_of("test_fn", 101),
    );
    let names: Vec<_> = check("core/src/x.rs", &text)
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(
        names,
        ["method", "provided", "outer", "inner", "test_fn"],
        "{text}"
    );
}

#[test]
fn a_file_over_650_lines_is_reported() {
    let text = "// a line\n".repeat(651);
    let found = check("tests/src/x.rs", &text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, Rule::FileLength);
    assert_eq!(found[0].lines, 651);
    assert!(check("tests/src/x.rs", &"// a line\n".repeat(650)).is_empty());
}

#[test]
fn a_mod_rs_only_declares_and_re_exports() {
    let fine = "//! What the module holds.\n\n#![allow(dead_code)]\nmod a;\npub mod b;\n\
                pub(crate) mod c;\n#[cfg(test)]\nmod tests;\n\n/// Doc.\nuse a::X;\npub use b::Y;\n";
    assert!(check("core/src/m/mod.rs", fine).is_empty());
    let with_fn = format!("{fine}\nfn helper() {{}}\n");
    let found = check("core/src/m/mod.rs", &with_fn);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, Rule::ModRs);
    assert_eq!(found[0].line, 14);
    assert!(found[0].to_string().contains("fn helper"), "{}", found[0]);
    let with_tests = format!("{fine}\n#[cfg(test)]\nmod tests {{\n    fn t() {{}}\n}}\n");
    let found = check("core/src/m/mod.rs", &with_tests);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].to_string().contains("inline `mod tests"),
        "{}",
        found[0]
    );
    // The same text in a file not named mod.rs is fine.
    assert!(check("core/src/m.rs", &with_fn).is_empty());
}

#[test]
fn a_file_syn_cannot_parse_is_reported() {
    let found = check("core/src/broken.rs", "fn main() {\n    let x = ;\n}\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, Rule::Parse);
    assert!(
        found[0]
            .to_string()
            .starts_with("core/src/broken.rs:2: syn cannot parse it"),
        "{}",
        found[0]
    );
}
