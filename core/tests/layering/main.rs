//! The house keeps its shape: every `crate::…` path of every file under `core/src` points down the
//! floors of DESIGN.md ("The house") or along one, never up, and no files (nor modules) import
//! each other in a circle. The crate root (`lib.rs`) is exempt: it declares the modules and
//! curates the public API; so is test code (`#[cfg(test)]`), which may reach across the house to
//! set up what it tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod graph;
mod scan;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use graph::{Crate, Floors, Source, circles, file_graph, module_graph, top, upward};

/// core's top-level modules, floor by floor, lowest first. A module may import one on its own
/// floor or below.
const FLOORS: Floors = Floors(&[
    // The types every layer shares, and the leaf utilities: settings, the one error type,
    // secret strings, JWT claims, lenient fields. (The crate root's own items count as here.)
    (
        "ground",
        &[
            "model", "config", "error", "secret", "claims", "lenient", "http", "echo",
        ],
    ),
    // Where the credentials live and how they are got.
    ("store and oauth", &["store", "oauth"]),
    // A valid access token on demand, and the snapshot of a profile (`Session::status`).
    ("session", &["session", "status"]),
    // What a request is made of: the Codex client, the user's files and change, the
    // conversations.
    (
        "workspace",
        &[
            "codex",
            "files",
            "review",
            "conversations",
            "jobs",
            "sandbox",
            "task",
            "agent",
        ],
    ),
    // The use cases the front ends call.
    ("app", &["app", "import", "mcp_config"]),
]);

/// Imports that run up a floor today and are let be for now: (the importing file under
/// `core/src`, the top-level module it imports, why, with a TODO naming the issue that ends it).
/// Empty: none runs up.
const UPWARD_TODAY: &[(&str, &str, &str)] = &[];

fn core_sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut sources = Vec::new();
    read_tree(&root, &root, &mut sources);
    assert!(
        sources.len() > 20,
        "core/src has {} .rs files",
        sources.len()
    );
    sources
}

fn core_src() -> Crate {
    Crate::new(core_sources())
}

fn read_tree(root: &Path, dir: &Path, out: &mut Vec<Source>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            read_tree(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).unwrap().to_string_lossy();
            out.push(Source {
                rel: rel.replace('\\', "/"),
                text: fs::read_to_string(&path).unwrap(),
            });
        }
    }
}

/// What runs up, one line each, less the allowed ones; and the allowances nothing needs.
fn upward_report(krate: &Crate, allowed: &[(&str, &str, &str)]) -> (Vec<String>, Vec<String>) {
    let ups = upward(&krate.edges(), &FLOORS);
    let is_allowed = |rel: &str, to: &str| {
        allowed
            .iter()
            .any(|(file, module, _)| *file == rel && top(to).as_deref() == Some(*module))
    };
    let report = ups
        .iter()
        .filter(|u| !is_allowed(&u.edge.from, &u.edge.to))
        .map(|u| {
            format!(
                "core/src/{}:{}: {} ({}) imports {} from core/src/{} ({})",
                u.edge.from,
                u.edge.line,
                top(&u.edge.from).unwrap_or_default(),
                u.from_floor,
                u.edge.path,
                u.edge.to,
                u.to_floor,
            )
        })
        .collect();
    let unused = allowed
        .iter()
        .filter(|(file, module, _)| {
            !ups.iter()
                .any(|u| u.edge.from == *file && top(&u.edge.to).as_deref() == Some(*module))
        })
        .map(|(file, module, _)| format!("{file} → {module}"))
        .collect();
    (report, unused)
}

fn circle_report(g: &graph::Graph) -> Vec<String> {
    circles(g)
        .into_iter()
        .map(|arcs| {
            let hops: Vec<String> = arcs
                .iter()
                .map(|(node, why)| format!("  {node}  (by {why})"))
                .collect();
            format!("{}\n  back to {}", hops.join("\n"), arcs[0].0)
        })
        .collect()
}

#[test]
fn every_module_of_core_is_on_a_floor() {
    let unplaced: BTreeSet<String> = core_sources()
        .iter()
        .filter(|s| FLOORS.of(&s.rel).is_none())
        .filter_map(|s| top(&s.rel))
        .collect();
    assert!(
        unplaced.is_empty(),
        "put these modules on a floor in core/tests/layering/main.rs (FLOORS): {unplaced:?}"
    );
}

#[test]
fn no_module_of_core_imports_one_on_a_higher_floor() {
    let (report, unused) = upward_report(&core_src(), UPWARD_TODAY);
    assert!(
        report.is_empty(),
        "imports that run up the floors (DESIGN.md, \"The house\"): move the type down, or \
         the code up\n{}",
        report.join("\n")
    );
    assert!(
        unused.is_empty(),
        "UPWARD_TODAY allows imports nothing makes any more; remove them: {unused:?}"
    );
}

#[test]
fn no_files_of_core_import_each_other_in_a_circle() {
    let krate = core_src();
    let report = circle_report(&file_graph(&krate.edges()));
    assert!(
        report.is_empty(),
        "files that import each other in a circle:\n{}",
        report.join("\n\n")
    );
}

#[test]
fn no_modules_of_core_import_each_other_in_a_circle() {
    let krate = core_src();
    let report = circle_report(&module_graph(&krate.edges()));
    assert!(
        report.is_empty(),
        "modules that import each other in a circle:\n{}",
        report.join("\n\n")
    );
}

fn made_up(files: &[(&str, &str)]) -> Crate {
    Crate::new(
        files
            .iter()
            .map(|(rel, text)| Source {
                rel: (*rel).to_owned(),
                text: (*text).to_owned(),
            })
            .collect(),
    )
}

#[test]
fn an_import_up_a_floor_is_reported_with_its_file_and_line_and_an_allowance_quiets_it() {
    let krate = made_up(&[
        (
            "lib.rs",
            "pub mod codex;\npub mod store;\npub use codex::Turn;",
        ),
        ("codex/mod.rs", "mod request;\npub use request::Turn;"),
        ("codex/request.rs", "pub struct Turn;"),
        (
            "store/mod.rs",
            "mod state;\npub use state::State;\nuse crate::error::Error;",
        ),
        (
            "store/state.rs",
            "//! crate::codex::Turn in a comment is no import\n\
             const S: &str = \"see crate::codex::Turn\";\n\
             pub struct State { last: Option<crate::Turn> }",
        ),
    ]);
    let (report, unused) = upward_report(&krate, &[]);
    assert_eq!(
        report,
        [
            "core/src/store/state.rs:3: store (floor 1, store and oauth) imports crate::Turn from \
          core/src/codex/request.rs (floor 3, workspace)"
        ]
    );
    assert!(unused.is_empty());
    let allowed = [("store/state.rs", "codex", "a test")];
    let (report, unused) = upward_report(&krate, &allowed);
    assert!(report.is_empty(), "{report:?}");
    assert!(unused.is_empty());
    let stale = [("store/mod.rs", "codex", "a test")];
    assert_eq!(upward_report(&krate, &stale).1, ["store/mod.rs → codex"]);
}

#[test]
fn a_circle_of_files_is_reported_through_use_trees_super_and_child_modules() {
    let krate = made_up(&[
        ("lib.rs", "pub mod codex;"),
        (
            "codex/mod.rs",
            "mod client;\nmod wire;\npub use client::Client;",
        ),
        (
            "codex/client.rs",
            "mod failure;\npub struct Client;\nfn f() { failure::classify(); }",
        ),
        (
            "codex/client/failure.rs",
            "use super::Client;\nuse super::super::wire::{self as w, Event};\npub fn classify() {}",
        ),
        (
            "codex/wire.rs",
            "pub struct Event;\nuse crate::codex::{Client};",
        ),
    ]);
    let files = circle_report(&file_graph(&krate.edges()));
    assert_eq!(
        files,
        [
            "  codex/client.rs  (by codex/client.rs:3 crate::codex::client::failure::classify)\n  \
          codex/client/failure.rs  (by codex/client/failure.rs:2 crate::codex::wire::Event)\n  \
          codex/wire.rs  (by codex/wire.rs:2 crate::codex::Client)\n  \
          back to codex/client.rs"
        ]
    );
    let modules = circle_report(&module_graph(&krate.edges()));
    assert_eq!(
        modules,
        [
            "  codex::client  (by codex/client/failure.rs:2 crate::codex::wire)\n  \
          codex::wire  (by codex/wire.rs:2 crate::codex::Client)\n  \
          back to codex::client"
        ]
    );
}

#[test]
fn a_child_file_that_uses_its_parent_closes_no_circle_but_two_sibling_modules_do() {
    let krate = made_up(&[
        ("lib.rs", "mod config;\nmod store;\nmod oauth;"),
        (
            "config.rs",
            "mod raw;\nuse raw::Origin;\npub const DEFAULT: u8 = 1;",
        ),
        ("config/raw.rs", "use super::DEFAULT;\npub struct Origin;"),
        ("store/mod.rs", "mod lock;\nmod state;\npub use lock::Lock;"),
        ("store/lock.rs", "pub struct Lock;"),
        (
            "store/state.rs",
            "use crate::oauth::Token;\npub struct State;",
        ),
        (
            "oauth.rs",
            "pub struct Token;\nfn f() -> crate::store::Lock { todo!() }",
        ),
    ]);
    assert!(circle_report(&file_graph(&krate.edges())).is_empty());
    let modules = circle_report(&module_graph(&krate.edges()));
    assert_eq!(modules.len(), 1, "{modules:?}");
    assert!(modules[0].contains("  oauth  (by oauth.rs:2 crate::store::Lock)"));
    assert!(modules[0].contains("  store  (by store/state.rs:1 crate::oauth::Token)"));
}

#[test]
fn the_scanner_reads_use_trees_inline_paths_and_test_modules_but_no_literals() {
    let src = r####"
use crate::store::{self, State, fsutil::{write as put}};
use super::Parent;
use std::fmt;
use other_crate::thing;
mod child;
const RAW: &str = r#"crate::fake::one "quoted" "#;
const C: char = '"'; #[serde(with = "crate::lenient::option")]
fn f<'a>(x: &'a str) -> char { let _ = b'\''; store::lock::Lock::take(); crate::config::ORIGINATOR; 'x' }
/* a /* nested */ crate::fake::two */
#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Up;
}
#[cfg(all(test, unix))]
use crate::app::Up;
#[cfg(test)] mod test_files;
fn h() { child::go(); Self::new(); fmt::Debug; super::super::Sibling; }
"####;
    let module = vec!["codex".to_owned(), "client".to_owned()];
    let s = scan::scan(src, &module);
    let got: Vec<(usize, String)> = s
        .imports
        .iter()
        .map(|i| (i.line, i.path.join("::")))
        .collect();
    let want = [
        (2, "store"),
        (2, "store::State"),
        (2, "store::fsutil::write"),
        (3, "codex::Parent"),
        (8, "lenient::option"),
        (9, "store::lock::Lock::take"),
        (9, "config::ORIGINATOR"),
        (19, "codex::client::child::go"),
        (19, "Sibling"),
    ];
    let want: Vec<(usize, String)> = want.iter().map(|(l, p)| (*l, (*p).to_owned())).collect();
    assert_eq!(got, want);
    assert_eq!(s.bindings["put"], ["store", "fsutil", "write"]);
    assert_eq!(s.bindings["store"], ["store"]);
    assert!(!s.bindings.contains_key("fmt"));
    assert_eq!(s.test_children, ["test_files".to_owned()].into());
}
