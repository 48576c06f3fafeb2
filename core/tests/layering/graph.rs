//! The crate as modules and the imports between their files: each path resolved to the file that
//! defines what it names (through the `use` and `pub use` items on the way), each module on its
//! floor; what runs up a floor and what closes a circle.

use std::collections::{BTreeMap, BTreeSet};

use crate::scan::{Scanned, scan};

/// A source file: its path under `src/` (`codex/wire.rs`) and its text.
pub struct Source {
    pub rel: String,
    pub text: String,
}

struct File {
    rel: String,
    scanned: Scanned,
}

/// The files of a crate by module (`[]` is `lib.rs`).
pub struct Crate {
    files: BTreeMap<Vec<String>, File>,
}

/// One import, resolved.
#[derive(Debug, Clone)]
pub struct Edge {
    /// The importing file's path under `src/`.
    pub from: String,
    /// The file that defines what the path names.
    pub to: String,
    pub line: usize,
    /// The path, absolute: `crate::model::RateLimits`.
    pub path: String,
    /// It names a module, not an item in one (`use crate::store::{self}`, a glob): a dependency
    /// on the module, not on one of its files.
    pub module_only: bool,
}

/// The module of a file: `lib.rs` → `[]`, `codex/mod.rs` and `codex.rs` → `[codex]`,
/// `codex/client/limits.rs` → `[codex, client, limits]`.
pub fn module_of(rel: &str) -> Vec<String> {
    let rel = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut m: Vec<String> = rel.split('/').map(str::to_owned).collect();
    if matches!(m.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        m.pop();
    }
    m
}

/// The top-level module a file belongs to; `None` for the crate root.
pub fn top(rel: &str) -> Option<String> {
    module_of(rel).into_iter().next()
}

impl Crate {
    pub fn new(sources: Vec<Source>) -> Self {
        let files = sources
            .into_iter()
            .map(|s| {
                let module = module_of(&s.rel);
                let scanned = scan(&s.text, &module);
                (
                    module,
                    File {
                        rel: s.rel,
                        scanned,
                    },
                )
            })
            .collect();
        Self { files }
    }

    /// Every import of every file but the crate root (whose `pub use` items are the public API,
    /// not a dependency) and the test files (`#[cfg(test)] mod tests;`), resolved; a file naming
    /// its own items is left out.
    pub fn edges(&self) -> Vec<Edge> {
        let tests: Vec<Vec<String>> = self
            .files
            .iter()
            .flat_map(|(module, f)| {
                f.scanned.test_children.iter().map(move |child| {
                    let mut m = module.clone();
                    m.push(child.clone());
                    m
                })
            })
            .collect();
        let mut out = Vec::new();
        for (module, file) in &self.files {
            if module.is_empty() || tests.iter().any(|t| module.starts_with(t)) {
                continue;
            }
            for import in &file.scanned.imports {
                let (to, module_only) = self.resolve(&import.path, 0);
                let Some(to) = self.files.get(&to) else {
                    continue;
                };
                if to.rel == file.rel {
                    continue;
                }
                out.push(Edge {
                    from: file.rel.clone(),
                    to: to.rel.clone(),
                    line: import.line,
                    path: format!("crate::{}", import.path.join("::")),
                    module_only,
                });
            }
        }
        out
    }

    /// The module whose file defines what `path` names: down the modules while a segment is a
    /// module with a file, through a name a `use` bound there, else the module reached. And
    /// whether the whole path was modules.
    fn resolve(&self, path: &[String], hops: usize) -> (Vec<String>, bool) {
        let mut module = Vec::new();
        for (k, seg) in path.iter().enumerate() {
            let mut next = module.clone();
            next.push(seg.clone());
            if self.files.contains_key(&next) {
                module = next;
                continue;
            }
            let bound = self
                .files
                .get(&module)
                .and_then(|f| f.scanned.bindings.get(seg));
            if let Some(target) = bound.filter(|_| hops < 8) {
                let mut full = target.clone();
                full.extend_from_slice(&path[k + 1..]);
                return self.resolve(&full, hops + 1);
            }
            return (module, false);
        }
        (module, true)
    }
}

/// Where each top-level module lives: floors lowest first, each a name and its modules.
pub struct Floors<'a>(pub &'a [(&'a str, &'a [&'a str])]);

impl Floors<'_> {
    /// The floor of a file (by its top-level module): its number and name. The crate root's own
    /// items are on the ground floor.
    pub fn of(&self, rel: &str) -> Option<(usize, &str)> {
        let Some(top) = top(rel) else {
            return self.0.first().map(|(name, _)| (0, *name));
        };
        self.0
            .iter()
            .enumerate()
            .find(|(_, (_, modules))| modules.contains(&top.as_str()))
            .map(|(n, (name, _))| (n, *name))
    }
}

/// An import from a module to one on a higher floor.
#[derive(Debug)]
pub struct Upward {
    pub edge: Edge,
    pub from_floor: String,
    pub to_floor: String,
}

/// The imports that run up the floors (the crate root imports nothing: it is exempt).
pub fn upward(edges: &[Edge], floors: &Floors) -> Vec<Upward> {
    edges
        .iter()
        .filter_map(|e| {
            let (from, from_name) = floors.of(&e.from)?;
            let (to, to_name) = floors.of(&e.to)?;
            (to > from).then(|| Upward {
                edge: e.clone(),
                from_floor: format!("floor {from}, {from_name}"),
                to_floor: format!("floor {to}, {to_name}"),
            })
        })
        .collect()
}

/// A graph of named nodes; each arc keeps the first import that makes it (`file:line path`).
pub type Graph = BTreeMap<String, BTreeMap<String, String>>;

/// The graph of files. Left out: module-only imports (they name a module, not a file of it), and a
/// file's imports of its own ancestors (`session/refresh.rs` naming the `Session` of
/// `session.rs` it adds methods to): a child module is a part of its parent, which Rust lets it
/// see into for just this.
pub fn file_graph(edges: &[Edge]) -> Graph {
    let mut g = Graph::new();
    for e in edges {
        if e.module_only || module_of(&e.from).starts_with(&module_of(&e.to)) {
            continue;
        }
        let why = format!("{}:{} {}", e.from, e.line, e.path);
        g.entry(e.from.clone())
            .or_default()
            .entry(e.to.clone())
            .or_insert(why);
    }
    g
}

/// The graph of sibling modules at every level of the tree: an import from a file in one module
/// (or under it) into a sibling module (or under it) is an arc between the two siblings
/// (`codex::client` → `codex::wire`, `store` → `model`). An import between a module and its
/// own parts is not an arc.
pub fn module_graph(edges: &[Edge]) -> Graph {
    let mut g = Graph::new();
    for e in edges {
        let (from, to) = (module_of(&e.from), module_of(&e.to));
        let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
        if common == from.len() || common == to.len() {
            continue;
        }
        let why = format!("{}:{} {}", e.from, e.line, e.path);
        g.entry(from[..=common].join("::"))
            .or_default()
            .entry(to[..=common].join("::"))
            .or_insert(why);
    }
    g
}

/// One circle in each strongly connected part of the graph: the nodes in order, back to the
/// first, each arc with the import that makes it.
pub fn circles(g: &Graph) -> Vec<Vec<(String, String)>> {
    strongly_connected(g)
        .into_iter()
        .filter(|part| part.len() > 1)
        .filter_map(|part| circle_through(g, &part))
        .collect()
}

/// A shortest way from the part's first node back to it, inside the part.
fn circle_through(g: &Graph, part: &BTreeSet<String>) -> Option<Vec<(String, String)>> {
    let start = part.first()?;
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start.as_str()]);
    while let Some(n) = queue.pop_front() {
        for next in g.get(n).into_iter().flat_map(BTreeMap::keys) {
            if !part.contains(next) || came_from.contains_key(next.as_str()) {
                continue;
            }
            came_from.insert(next, n);
            if next == start {
                let mut path = vec![start.as_str()];
                let mut at = came_from[start.as_str()];
                while at != start {
                    path.push(at);
                    at = came_from[at];
                }
                path.push(start);
                path.reverse();
                return Some(
                    path.windows(2)
                        .map(|w| (w[0].to_owned(), g[w[0]][w[1]].clone()))
                        .collect(),
                );
            }
            queue.push_back(next);
        }
    }
    None
}

/// Tarjan's strongly connected components.
fn strongly_connected(g: &Graph) -> Vec<BTreeSet<String>> {
    struct State<'g> {
        g: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        parts: Vec<BTreeSet<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.g.get(v).into_iter().flat_map(BTreeMap::keys) {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut part = BTreeSet::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                part.insert(w.to_owned());
                if w == v {
                    break;
                }
            }
            s.parts.push(part);
        }
    }
    let mut s = State {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        parts: Vec::new(),
    };
    for v in g.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.parts
}
