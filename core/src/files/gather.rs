//! Gathering the files a request names (paths, folders or globs): each checked against the
//! workspace, `.gitignore`, the secrets by name and the caps, and read into the bundle.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};

use super::bundle::{Bundle, SkippedFile, size};
use super::limits::Limits;
use super::project::Project;
use super::secrets::secret_by_name;
use super::walk::{Walk, literal_prefix, walk_entries};

/// Whether `pattern` is a glob rather than a path.
fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '[', '{'])
}

/// Files past a cap named one by one in `skipped`; the rest are counted in one entry.
const OVER_LIMIT_NAMED: usize = 20;

/// Collect, check and format the files `patterns` name. Never fails as a whole: every pattern
/// that yields nothing is in `skipped` with the reason.
pub fn gather(ws: &Project, patterns: &[String], limits: &Limits) -> Bundle {
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
    if ws.roots().is_empty() {
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
    ws: &'a Project,
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
        for root in self.ws.roots().to_vec() {
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

/// Whether a walk of its folder lists a path (see [`Gatherer::listed_in_its_folder`]).
enum Listing {
    Listed,
    Ignored,
    /// This folder holds more entries than a walk looks at.
    Unknown(PathBuf),
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
