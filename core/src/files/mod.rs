//! Files from the workspace for Codex: what Claude names (paths, folders or globs), read only
//! inside the workspace roots, with `.gitignore` respected, binaries skipped, secrets by name
//! kept home and secret-looking contents redacted, within per-file and total caps. The result
//! says what was sent, what was skipped and why, and every redaction, so the user can see what
//! left the machine. Nothing here writes or runs anything.

pub mod images;
pub mod secrets;
pub mod sections;

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use globset::{GlobBuilder, GlobMatcher};
use serde::Serialize;

pub use secrets::{Redaction, redact, redact_diff, redact_file, secret_by_name};
use sections::Section;
pub use sections::{Boundary, diff_path, quoted, quoted_list};

/// Files sent in one request at most.
pub const MAX_FILES: usize = 200;

/// How much is read and sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one file; a longer one is cut at a line end and marked as cut.
    pub max_file_bytes: usize,
    /// Bytes of all files together (about a quarter of this in tokens).
    pub max_total_bytes: usize,
    /// Files in one request.
    pub max_files: usize,
    /// Entries a walk of one folder visits at most (a glob over a huge tree stops there, and
    /// says so).
    pub max_walk_entries: usize,
}

impl Limits {
    /// The caps the settings give (`files_max_file_kb`, `files_max_total_kb`), and 200 files.
    pub fn from_settings(s: &crate::Settings) -> Self {
        let kb = |n: u32| {
            usize::try_from(n)
                .unwrap_or(usize::MAX)
                .saturating_mul(1024)
        };
        Self {
            max_file_bytes: kb(s.files_max_file_kb),
            max_total_bytes: kb(s.files_max_total_kb),
            max_files: MAX_FILES,
            max_walk_entries: WALK_MAX,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        use crate::config::{DEFAULT_FILES_MAX_FILE_KB, DEFAULT_FILES_MAX_TOTAL_KB};
        Self {
            max_file_bytes: DEFAULT_FILES_MAX_FILE_KB as usize * 1024,
            max_total_bytes: DEFAULT_FILES_MAX_TOTAL_KB as usize * 1024,
            max_files: MAX_FILES,
            max_walk_entries: WALK_MAX,
        }
    }
}

/// Where files may be read: the MCP roots the client gave, else the working folder.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Canonical (symlinks resolved), existing folders.
    roots: Vec<PathBuf>,
    /// Folders never read from, whatever the roots (this project's own store).
    private: Vec<PathBuf>,
    /// The files of the private folders that have another name too (a hard link), by device
    /// and inode; looked up the first time a file with several names is checked.
    linked: OnceLock<HashSet<(u64, u64)>>,
}

impl Workspace {
    /// A workspace of these folders; those that do not exist are left out (and logged).
    /// `private`: folders inside which nothing is ever read.
    pub fn new(roots: impl IntoIterator<Item = PathBuf>, private: &[PathBuf]) -> Self {
        let roots = roots
            .into_iter()
            .filter_map(|r| match r.canonicalize() {
                Ok(c) if c.is_dir() => Some(c),
                Ok(c) => {
                    tracing::warn!(root = %c.display(), "a workspace root is not a folder; left out");
                    None
                }
                Err(e) => {
                    tracing::warn!(root = %r.display(), error = %e, "a workspace root cannot be opened; left out");
                    None
                }
            })
            .collect();
        let private = private
            .iter()
            .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))
            .collect();
        Self {
            roots,
            private,
            linked: OnceLock::new(),
        }
    }

    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// A path the user gave (relative to a root, or absolute), resolved (symlinks followed)
    /// and checked: inside the workspace, outside its private folders; else why not.
    pub fn resolve(&self, given: &Path) -> Result<PathBuf, String> {
        if self.roots.is_empty() {
            return Err("no workspace: the client gave no folder this server may read".into());
        }
        let path = self.find(given).ok_or("not found in the workspace")?;
        if self.root_of(&path).is_none() {
            return Err(self.outside());
        }
        if self.is_private(&path) {
            return Err("this project's own store (sign-in data)".into());
        }
        Ok(path)
    }

    /// Where `given` (absolute, or relative to the first root that has it) is, symlinks
    /// followed; `None` when it does not exist. Not checked: see [`Workspace::resolve`].
    fn find(&self, given: &Path) -> Option<PathBuf> {
        if given.is_absolute() {
            given.canonicalize().ok()
        } else {
            self.roots
                .iter()
                .find_map(|r| r.join(given).canonicalize().ok())
        }
    }

    /// The roots, for a message: "/home/ada/app, /home/ada/lib".
    pub fn describe_roots(&self) -> String {
        self.roots
            .iter()
            .map(|r| r.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Why a path outside the roots is not read.
    fn outside(&self) -> String {
        format!(
            "outside the workspace ({}); only files inside it are read",
            self.describe_roots()
        )
    }

    /// Whether `path` is inside one of the folders never read from (this project's store), or
    /// is one of their files under another name (a hard link: the same device and inode).
    pub fn is_private(&self, path: &Path) -> bool {
        self.private.iter().any(|p| path.starts_with(p)) || self.links_to_private(path)
    }

    /// Whether `path` (followed if a symlink) is a file of a private folder under another name.
    /// Only a file with more than one name can be: the private folders are looked through
    /// once, the first time one is met.
    #[cfg(unix)]
    fn links_to_private(&self, path: &Path) -> bool {
        use std::os::unix::fs::MetadataExt;
        let Ok(meta) = std::fs::metadata(path) else {
            return false;
        };
        meta.is_file()
            && meta.nlink() > 1
            && self
                .linked
                .get_or_init(|| linked_files(&self.private))
                .contains(&(meta.dev(), meta.ino()))
    }

    #[cfg(not(unix))]
    fn links_to_private(&self, _path: &Path) -> bool {
        false
    }

    /// The root `path` (canonical) is inside, if any.
    fn root_of(&self, path: &Path) -> Option<&Path> {
        self.roots
            .iter()
            .filter(|r| path.starts_with(r))
            .max_by_key(|r| r.components().count())
            .map(PathBuf::as_path)
    }

    /// How a file is named in what is sent: relative to its root, behind the root's folder name
    /// when there are several roots.
    fn display(&self, root: &Path, path: &Path) -> String {
        let rel = path.strip_prefix(root).unwrap_or(path);
        let rel = rel.to_string_lossy().replace('\\', "/");
        if self.roots.len() > 1 {
            let name = root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            format!("{name}/{rel}")
        } else {
            rel
        }
    }
}

/// A file that was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentFile {
    pub path: String,
    /// Lines sent.
    pub lines: usize,
    /// Bytes sent (of the file as it is on disk, before redaction).
    pub bytes: usize,
    /// The file is longer: only its first `lines` lines went.
    pub truncated: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redactions: Vec<Redaction>,
}

/// A path that was named but not sent, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

/// What goes to Codex and the account of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Bundle {
    /// The files sent, each a section with line numbers (written out with a boundary by
    /// [`Bundle::prompt`] or [`Bundle::write_sections`]).
    #[serde(skip)]
    sections: Vec<Section>,
    pub sent: Vec<SentFile>,
    pub skipped: Vec<SkippedFile>,
}

impl Bundle {
    /// The user message of a request about these files: what they are and how they are
    /// delimited, the files, then `request`. One boundary, found in none of it.
    pub fn prompt(&self, request: &str) -> String {
        let boundary = Boundary::avoiding(
            self.boundary_texts()
                .iter()
                .map(String::as_str)
                .chain([request]),
        );
        let mut out = format!(
            "Files from the user's workspace for this request (as on disk, with line numbers; values that look like secrets are replaced by [REDACTED kind] markers). {}\n\n",
            boundary.explained()
        );
        self.write_sections(&boundary, &mut out);
        out.push_str(request);
        out
    }

    /// The files as sections between lines that carry `boundary`; nothing when none was sent.
    pub fn write_sections(&self, boundary: &Boundary, out: &mut String) {
        for s in &self.sections {
            s.write(boundary, out);
        }
    }

    /// Everything the sections hold as they are written (names quoted): what a boundary of a
    /// prompt that holds them must not occur in.
    pub fn boundary_texts(&self) -> Vec<String> {
        self.sections.iter().flat_map(Section::texts).collect()
    }

    /// The files as sections, with a boundary of their own (for a look at what is sent).
    pub fn text(&self) -> String {
        let texts = self.boundary_texts();
        let boundary = Boundary::avoiding(texts.iter().map(String::as_str));
        let mut out = String::new();
        self.write_sections(&boundary, &mut out);
        out
    }

    /// Redactions over all files.
    pub fn redaction_count(&self) -> usize {
        self.sent.iter().map(|f| f.redactions.len()).sum()
    }

    /// One paragraph for a person: what was sent, redacted and skipped.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        let cut = self.sent.iter().filter(|f| f.truncated).count();
        let mut sent = format!(
            "{} file{} sent",
            self.sent.len(),
            if self.sent.len() == 1 { "" } else { "s" }
        );
        if cut > 0 {
            sent.push_str(&format!(" ({cut} cut at the size limit)"));
        }
        parts.push(sent);
        let redactions: Vec<String> = self
            .sent
            .iter()
            .flat_map(|f| {
                f.redactions
                    .iter()
                    .map(move |r| format!("{}:{} {}", f.path, r.line, r.kind))
            })
            .collect();
        if !redactions.is_empty() {
            parts.push(format!("redacted: {}", redactions.join(", ")));
        }
        if !self.skipped.is_empty() {
            let skipped: Vec<String> = self
                .skipped
                .iter()
                .map(|s| format!("{} ({})", s.path, s.reason))
                .collect();
            parts.push(format!("not sent: {}", skipped.join("; ")));
        }
        parts.join("; ")
    }
}

/// Whether `pattern` is a glob rather than a path.
fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '[', '{'])
}

/// Entries a walk of one folder visits at most, unless the limits say otherwise.
pub const WALK_MAX: usize = 200_000;

/// Files past a cap named one by one in `skipped`; the rest are counted in one entry.
const OVER_LIMIT_NAMED: usize = 20;

/// The bytes a binary check looks at.
const SNIFF: usize = 8 * 1024;

/// Collect, check and format the files `patterns` name. Never fails as a whole: every pattern
/// that yields nothing is in `skipped` with the reason.
pub fn gather(ws: &Workspace, patterns: &[String], limits: &Limits) -> Bundle {
    let mut g = Gatherer {
        ws,
        limits,
        bundle: Bundle::default(),
        seen: HashSet::new(),
        listed: HashMap::new(),
        levels: HashMap::new(),
        total: 0,
        over: 0,
    };
    if ws.roots.is_empty() {
        for p in patterns {
            g.skip(
                p,
                "no workspace: the client gave no folder this server may read",
            );
        }
        return g.bundle;
    }
    for pattern in patterns {
        g.pattern(pattern.trim());
    }
    g.bundle
}

struct Gatherer<'a> {
    ws: &'a Workspace,
    limits: &'a Limits,
    bundle: Bundle,
    /// Canonical paths already sent or skipped.
    seen: HashSet<PathBuf>,
    /// Per folder walked: the files the walk yields (not ignored), canonical.
    listed: HashMap<PathBuf, Walk>,
    /// Per folder: what a one-level walk of it yields (files and folders not ignored), and
    /// whether that walk stopped at its cap.
    levels: HashMap<PathBuf, (HashSet<PathBuf>, bool)>,
    total: usize,
    /// Files past a cap so far.
    over: usize,
}

impl Gatherer<'_> {
    fn skip(&mut self, path: &str, reason: impl Into<String>) {
        self.bundle.skipped.push(SkippedFile {
            path: path.to_owned(),
            reason: reason.into(),
        });
    }

    fn pattern(&mut self, pattern: &str) {
        if pattern.is_empty() {
            return self.skip(pattern, "an empty path");
        }
        let given = Path::new(pattern);
        let found = self.ws.find(given);
        // A path that exists is that path, even with glob characters in it (`app/[id]/page.tsx`).
        if found.is_none() && is_glob(pattern) {
            if given
                .components()
                .any(|c| matches!(c, Component::ParentDir))
            {
                return self.skip(pattern, "a glob may not climb out with ..");
            }
            return self.glob(pattern);
        }
        let Some(path) = found else {
            return self.skip(pattern, "not found in the workspace");
        };
        let Some(root) = self.ws.root_of(&path).map(Path::to_path_buf) else {
            return self.skip(pattern, self.ws.outside());
        };
        if !path.is_dir() && !path.is_file() {
            // A FIFO or a device: never opened (a read could block for good).
            let shown = self.ws.display(&root, &path);
            return self.skip(&shown, "not a regular file");
        }
        let why_not = match self.listed_in_its_folder(&root, &path) {
            Listing::Listed => None,
            Listing::Ignored => Some("ignored by .gitignore".to_owned()),
            Listing::Unknown(folder) => Some(format!(
                "{} holds more than {} entries, past the walk's cap: whether .gitignore leaves it out cannot be told",
                self.ws.display(&root, &folder),
                self.limits.max_walk_entries
            )),
        };
        if let Some(why) = why_not {
            let shown = self.ws.display(&root, &path);
            if self.seen.insert(path) {
                self.skip(&shown, why);
            }
            return;
        }
        if path.is_dir() {
            let walk = self.walk(&path);
            if walk.files.is_empty() && !walk.capped {
                return self.skip(pattern, "a folder with no file to send (or all ignored)");
            }
            for f in walk.files {
                self.file(&root, &f);
            }
            if walk.capped {
                self.skip(
                    pattern,
                    format!(
                        "the walk of this folder stopped at its cap of {} entries, so files past it were not looked at: name a smaller folder inside it",
                        self.limits.max_walk_entries
                    ),
                );
            }
        } else {
            self.file(&root, &path);
        }
    }

    /// A file past a cap: named one by one up to [`OVER_LIMIT_NAMED`], then counted in one
    /// entry (a folder of 50,000 files gives one line, not 50,000).
    fn over_limit(&mut self, shown: String, why: String) {
        self.over += 1;
        if self.over <= OVER_LIMIT_NAMED {
            return self.skip(&shown, why);
        }
        let more = self.over - OVER_LIMIT_NAMED;
        let entry = SkippedFile {
            path: format!("{more} more file{}", if more == 1 { "" } else { "s" }),
            reason: "over the limits too".into(),
        };
        match self.bundle.skipped.last_mut() {
            Some(last) if more > 1 => *last = entry,
            _ => self.bundle.skipped.push(entry),
        }
    }

    fn glob(&mut self, pattern: &str) {
        let matcher: GlobMatcher = match GlobBuilder::new(pattern.trim_start_matches("./"))
            .literal_separator(true)
            .build()
        {
            Ok(g) => g.compile_matcher(),
            Err(e) => return self.skip(pattern, format!("not a valid glob: {e}")),
        };
        // A pattern that starts with folders (`src/**/*.rs`) walks only that folder.
        let prefix = literal_prefix(pattern);
        let mut any = false;
        let mut capped = false;
        for root in self.ws.roots.clone() {
            let Some(start) = self.glob_start(&root, &prefix) else {
                continue;
            };
            let walk = self.walk(&start);
            capped |= walk.capped;
            for f in walk.files {
                let rel = f.strip_prefix(&root).unwrap_or(&f);
                if matcher.is_match(rel) {
                    any = true;
                    self.file(&root, &f);
                }
            }
        }
        let cap = self.limits.max_walk_entries;
        let walked = if prefix.as_os_str().is_empty() {
            "the workspace".to_owned()
        } else {
            format!("`{}`", prefix.to_string_lossy())
        };
        let narrow = if prefix.as_os_str().is_empty() {
            "start the pattern with a folder (`src/**/*.rs` rather than `**/*.rs`) so only that folder is walked"
        } else {
            "start the pattern with a deeper folder so only that folder is walked"
        };
        match (any, capped) {
            (false, false) => self.skip(
                pattern,
                "no file in the workspace matches (ignored files are not)",
            ),
            (false, true) => self.skip(
                pattern,
                format!(
                    "no file matches among the first {cap} entries of {walked}: the walk stopped at that cap, so files past it were not looked at; {narrow}"
                ),
            ),
            (true, true) => self.skip(
                pattern,
                format!(
                    "the walk of {walked} stopped at its cap of {cap} entries, so files past it were not looked at; {narrow}"
                ),
            ),
            (true, false) => {}
        }
    }

    /// Where a glob's walk in `root` starts: `root`, or the folder `prefix` names in it when
    /// that is a folder of the root (no link on the way) that is not ignored; `None` when the
    /// pattern can match nothing in this root.
    fn glob_start(&mut self, root: &Path, prefix: &Path) -> Option<PathBuf> {
        if prefix.as_os_str().is_empty() {
            return Some(root.to_path_buf());
        }
        let start = root.join(prefix);
        // A walk of the root follows no link: a folder reached through one is not walked here
        // either.
        let real = start.canonicalize().ok()?;
        if real != start || !real.is_dir() {
            return None;
        }
        matches!(self.listed_in_its_folder(root, &real), Listing::Listed).then_some(real)
    }

    /// The files under `dir` a walk yields: `.gitignore` (and `.ignore`) respected, hidden files
    /// included but `.git`, symlinks not followed; sorted.
    fn walk(&mut self, dir: &Path) -> Walk {
        let cap = self.limits.max_walk_entries;
        self.listed
            .entry(dir.to_path_buf())
            .or_insert_with(|| walk_entries(dir, None, false, cap))
            .clone()
    }

    /// Whether `path` and every folder between it and `root` are listed by a walk of their
    /// folder: none of them is ignored (a file in an ignored folder is ignored too).
    fn listed_in_its_folder(&mut self, root: &Path, path: &Path) -> Listing {
        let mut at = path;
        while at != root {
            let Some(parent) = at.parent() else {
                return Listing::Ignored;
            };
            let cap = self.limits.max_walk_entries;
            let (listed, capped) = self.levels.entry(parent.to_path_buf()).or_insert_with(|| {
                let w = walk_entries(parent, Some(1), true, cap);
                (w.files.into_iter().collect(), w.capped)
            });
            if !listed.contains(at) {
                // Past the cap of a huge folder nothing is known.
                return if *capped {
                    Listing::Unknown(parent.to_path_buf())
                } else {
                    Listing::Ignored
                };
            }
            at = parent;
        }
        Listing::Listed
    }

    /// Check and add one file found under `root`.
    fn file(&mut self, root: &Path, found: &Path) {
        // Symlinks resolved before the check: a link out of the workspace is refused.
        let path = match found.canonicalize() {
            Ok(p) => p,
            Err(e) => {
                let shown = self.ws.display(root, found);
                return self.skip(&shown, format!("cannot be opened: {e}"));
            }
        };
        if !self.seen.insert(path.clone()) {
            return;
        }
        let shown = self.ws.display(root, found);
        if self.ws.root_of(&path).is_none() {
            return self.skip(
                &shown,
                "a link to a file outside the workspace; only files inside it are read",
            );
        }
        if self.ws.is_private(&path) {
            return self.skip(&shown, "this project's own store (sign-in data)");
        }
        if !path.is_file() {
            // A FIFO or a device would block the read (a link can lead to one).
            return self.skip(&shown, "not a regular file");
        }
        let rel = found.strip_prefix(root).unwrap_or(found);
        let real_rel = self
            .ws
            .root_of(&path)
            .and_then(|r| path.strip_prefix(r).ok())
            .unwrap_or(&path);
        if let Some(why) = secret_by_name(rel).or_else(|| secret_by_name(real_rel)) {
            return self.skip(&shown, format!("{why}: never sent"));
        }
        if self.bundle.sent.len() >= self.limits.max_files {
            return self.over_limit(
                shown,
                format!("over the limit of {} files", self.limits.max_files),
            );
        }
        let room = self.limits.max_total_bytes.saturating_sub(self.total);
        if room == 0 {
            let why = format!(
                "over the total limit of {}",
                size(self.limits.max_total_bytes)
            );
            return self.over_limit(shown, why);
        }
        let cap = self.limits.max_file_bytes.min(room);
        let (bytes, whole) = match read_start(&path, cap) {
            Ok(r) => r,
            Err(e) => return self.skip(&shown, format!("cannot be read: {e}")),
        };
        match self
            .bundle
            .add_text(&shown, &bytes, whole, cap, self.limits)
        {
            Ok(sent) => self.total += sent,
            Err(why) => self.skip(&shown, why),
        }
    }
}

impl Bundle {
    /// Add `bytes` (the start of a file, at most `cap`; `whole`: all of it) as a section named
    /// `shown`, checked and redacted; the bytes of the file sent, or why it is not sent.
    pub fn add_text(
        &mut self,
        shown: &str,
        bytes: &[u8],
        whole: bool,
        cap: usize,
        limits: &Limits,
    ) -> Result<usize, String> {
        let text = text_of(bytes, whole).ok_or("binary (not text)")?;
        let (kept, truncated) = if whole {
            (text, false)
        } else {
            // Cut at the last line end, so no line goes half.
            match text.rfind('\n') {
                Some(i) => (&text[..=i], true),
                None if cap < limits.max_file_bytes => {
                    return Err(format!(
                        "over the total limit of {}",
                        size(limits.max_total_bytes)
                    ));
                }
                None => return Err(format!("its first line is longer than {}", size(cap))),
            }
        };
        let (clean, redactions) = redact_file(kept, shown);
        let lines = clean.lines().count();
        let about = if truncated {
            format!("lines 1-{lines}, cut at the size limit")
        } else {
            format!("{lines} lines")
        };
        let width = lines.max(1).to_string().len();
        let mut body = String::with_capacity(clean.len() + lines * (width + 3));
        for (i, line) in clean.lines().enumerate() {
            body.push_str(&format!("{:>width$} | {line}\n", i + 1));
        }
        // The name is quoted and the section delimited when it is written (sections.rs).
        self.sections.push(Section {
            name: shown.to_owned(),
            about,
            body,
        });
        self.sent.push(SentFile {
            path: shown.to_owned(),
            lines,
            bytes: kept.len(),
            truncated,
            redactions,
        });
        Ok(kept.len())
    }
}

/// How deep and how far the private folders are looked through for files with several names
/// (the store: `<home>/<profile>/conversations/<file>`, `<home>/<profile>/jobs/<id>/<file>`).
const PRIVATE_DEPTH: usize = 4;
const PRIVATE_MAX: usize = 20_000;

/// The files under `folders` that have more than one name, by device and inode.
#[cfg(unix)]
fn linked_files(folders: &[PathBuf]) -> HashSet<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = HashSet::new();
    for dir in folders {
        let walker = ignore::WalkBuilder::new(dir)
            .standard_filters(false)
            .follow_links(false)
            .max_depth(Some(PRIVATE_DEPTH))
            .build();
        for entry in walker.take(PRIVATE_MAX).flatten() {
            if let Ok(meta) = entry.metadata()
                && meta.is_file()
                && meta.nlink() > 1
            {
                out.insert((meta.dev(), meta.ino()));
            }
        }
    }
    out
}

/// Whether a walk of its folder lists a path (see [`Gatherer::listed_in_its_folder`]).
enum Listing {
    Listed,
    Ignored,
    /// This folder holds more entries than a walk looks at.
    Unknown(PathBuf),
}

/// The folders a glob starts with, before its first component with a glob character
/// (`src/app` of `./src/app/**/*.rs`); empty when it starts with one.
fn literal_prefix(pattern: &str) -> PathBuf {
    let parts: Vec<&str> = pattern
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let mut prefix = PathBuf::new();
    // The last part names files, not a folder to start in.
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        if part.contains(['*', '?', '[', '{', '\\']) {
            break;
        }
        prefix.push(part);
    }
    prefix
}

/// What a walk of a folder found.
#[derive(Debug, Clone, Default)]
struct Walk {
    /// The files (and folders when asked), sorted.
    files: Vec<PathBuf>,
    /// The walk stopped at its cap: more entries are there, not looked at.
    capped: bool,
}

/// The files (and with `dirs` the folders) a walk of `dir` yields (see [`Gatherer::walk`]), at
/// most `depth` levels down, among the first `cap` entries.
fn walk_entries(dir: &Path, depth: Option<usize>, dirs: bool, cap: usize) -> Walk {
    let mut out = Vec::new();
    let mut capped = false;
    let walker = ignore::WalkBuilder::new(dir)
        .hidden(false)
        .require_git(false)
        .follow_links(false)
        .max_depth(depth)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for (seen, entry) in walker.enumerate() {
        if seen == cap {
            capped = true;
            break;
        }
        let Ok(entry) = entry else { continue };
        let wanted = entry.depth() > 0
            && entry
                .file_type()
                .is_some_and(|t| t.is_file() || t.is_symlink() || (dirs && t.is_dir()));
        if wanted {
            // Under a canonical folder and not through a link: canonical already (a link is
            // kept as found, and followed by the check).
            out.push(entry.path().to_path_buf());
        }
    }
    out.sort();
    Walk { files: out, capped }
}

/// "150 bytes", "600 KB".
pub(crate) fn size(bytes: usize) -> String {
    if bytes < 1024 {
        format!("{bytes} bytes")
    } else {
        format!("{} KB", bytes / 1024)
    }
}

/// The first `cap` bytes of the file (plus a few, to finish a UTF-8 character), and whether
/// that is the whole file.
fn read_start(path: &Path, cap: usize) -> std::io::Result<(Vec<u8>, bool)> {
    let file = std::fs::File::open(path)?;
    let mut buf = Vec::new();
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    file.take(limit).read_to_end(&mut buf)?;
    let whole = buf.len() <= cap;
    buf.truncate(cap);
    Ok((buf, whole))
}

/// The bytes as text, unless they look binary: a NUL in the first 8 KB, or not UTF-8 (a
/// character cut by the size cap at the end is allowed).
fn text_of(bytes: &[u8], whole: bool) -> Option<&str> {
    if bytes[..bytes.len().min(SNIFF)].contains(&0) {
        return None;
    }
    match std::str::from_utf8(bytes) {
        Ok(t) => Some(t),
        Err(e) if !whole && e.error_len().is_none() => {
            std::str::from_utf8(&bytes[..e.valid_up_to()]).ok()
        }
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests;
