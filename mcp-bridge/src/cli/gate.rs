//! `gate`: the plugin's Stop hook. Claude Code runs it when Claude is about to stop, with the
//! hook's JSON on stdin (`session_id`, `cwd`, `stop_hook_active`, …). When the review gate is on
//! (`review_gate = true` in config.toml, `CODEX_OAUTH_REVIEW_GATE=true`, or the plugin's
//! userConfig, which Claude Code passes as `CLAUDE_PLUGIN_OPTION_REVIEW_GATE`), Codex reviews
//! the working tree's change as `codex_review` does; a `high` or `critical` finding blocks the
//! stop (`{"decision": "block", "reason": …}`) so Claude goes on to fix it. It never blocks
//! twice in a row (`stop_hook_active`) nor more than [`MAX_BLOCKS`] times in a session, and it
//! fails open: whatever goes wrong, the stop goes through, with a one-line `systemMessage` that
//! says why. It always exits 0.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use codex_oauth_core::Error;
use codex_oauth_core::app::{self, Accounts, Call, ReviewAsk, Reviewed, Step};
use codex_oauth_core::files::Limits;
use codex_oauth_core::review::Finding;
use codex_oauth_core::store::{ensure_private_dir, write_atomic};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::output::result_line;

/// Blocks in one session after which the gate lets every stop through.
pub const MAX_BLOCKS: u32 = 3;
/// The review's time limit when `--timeout-seconds` is not given: 5 minutes.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 300;
/// The plugin's userConfig value `review_gate`, as Claude Code passes it to the plugin's hooks.
const PLUGIN_OPTION: &str = "CLAUDE_PLUGIN_OPTION_REVIEW_GATE";
/// The most of the hook's input read (it is a few hundred bytes).
const MAX_INPUT_BYTES: u64 = 1024 * 1024;
/// A session's block count is forgotten after this long without a change.
const KEEP_SESSIONS: Duration = Duration::from_secs(7 * 24 * 3600);
/// The most findings a block lists, and of each text field.
const MAX_LISTED: usize = 20;
const MAX_FIELD_CHARS: usize = 600;

/// What the gate tells Claude Code.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// Nothing at all: the stop proceeds.
    Pass,
    /// The stop proceeds; Claude Code shows the user this line.
    Note(String),
    /// The stop is blocked: Claude reads the reason (the findings; `block`: this block's number
    /// in the session) and goes on.
    Block { reason: String, block: u32 },
}

impl Verdict {
    fn print(&self) {
        match self {
            Verdict::Pass => {}
            Verdict::Note(m) => result_line(&json!({ "systemMessage": m }).to_string()),
            Verdict::Block { reason, block } => {
                let r = counted(reason, *block);
                result_line(&json!({ "decision": "block", "reason": r }).to_string());
            }
        }
    }
}

/// The part of the Stop hook's input the gate reads.
#[derive(Debug, Deserialize)]
struct HookInput {
    session_id: String,
    cwd: PathBuf,
    #[serde(default)]
    stop_hook_active: bool,
}

/// Run the gate (see the module's documentation): always exit 0.
pub async fn run(accounts: &Accounts, timeout_seconds: Option<u64>) -> ExitCode {
    let option = std::env::var(PLUGIN_OPTION).ok();
    if !is_on(accounts.settings().review_gate, option.as_deref()) {
        return ExitCode::SUCCESS;
    }
    let seconds = timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS);
    let verdict = match read_input(std::io::stdin().lock()) {
        Ok(input) => decide(accounts, &input, seconds).await,
        Err(why) => let_through(&why),
    };
    verdict.print();
    ExitCode::SUCCESS
}

/// The settings could not be read (config.toml or a variable is bad): the stop goes through.
/// Said only when the gate may be on (a variable turns it on, or its own setting is the bad
/// one): a broken config.toml must not speak up at every stop of a user without the gate.
pub fn unreadable_settings(e: &Error) -> ExitCode {
    let env_on = ["CODEX_OAUTH_REVIEW_GATE", PLUGIN_OPTION]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|s| truthy(&s)));
    let own = matches!(e, Error::Config { key, .. } if key == "review_gate");
    if env_on || own {
        let_through(&format!("the settings cannot be read: {e}")).print();
    }
    ExitCode::SUCCESS
}

/// On when the setting says so, or the plugin's userConfig does.
fn is_on(setting: bool, plugin_option: Option<&str>) -> bool {
    setting || plugin_option.is_some_and(truthy)
}

fn truthy(value: &str) -> bool {
    matches!(value.trim().to_ascii_lowercase().as_str(), "true" | "1")
}

/// The hook's input, or why it is not usable.
fn read_input(stdin: impl Read) -> Result<HookInput, String> {
    let mut bytes = Vec::new();
    stdin
        .take(MAX_INPUT_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("the hook's input cannot be read ({e})"))?;
    let input: HookInput = serde_json::from_slice(&bytes).map_err(|e| {
        format!("the hook's input is not the JSON of a Claude Code Stop hook ({e})")
    })?;
    if !is_session_name(&input.session_id) {
        return Err(format!(
            "the hook's session_id `{}` is not a plain name (letters, digits, '-' and '_')",
            input.session_id.chars().take(80).collect::<String>()
        ));
    }
    Ok(input)
}

/// A session id the gate may use as a file name: a UUID, or any 1-128 letters, digits, `-`, `_`.
fn is_session_name(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The verdict on a stop, the gate being on.
async fn decide(accounts: &Accounts, input: &HookInput, seconds: u64) -> Verdict {
    if input.stop_hook_active {
        return Verdict::Pass;
    }
    let sessions = Sessions::new(&accounts.settings().home);
    sessions.prune();
    let mut record = match sessions.read(&input.session_id) {
        Ok(r) => r,
        Err(e) => return let_through(&format!("its record of the session cannot be read: {e}")),
    };
    if record.blocks >= MAX_BLOCKS {
        return Verdict::Pass;
    }
    let folder = match input.cwd.canonicalize() {
        Ok(f) => f,
        Err(e) => {
            return let_through(&format!(
                "the session's folder {} cannot be opened ({e})",
                input.cwd.display()
            ));
        }
    };
    if !in_git_repository(&folder) {
        return Verdict::Pass;
    }
    let block = record.blocks + 1;
    let last = record.last.clone();
    let before = (record.blocks, last.clone());
    let verdict = match review(accounts, folder, seconds, last.as_ref()).await {
        // The change Codex saw at an earlier stop of this session: its verdict stands, and no
        // usage is spent on the same review again.
        Outcome::Unchanged => match last.and_then(|l| l.block) {
            Some(reason) => Verdict::Block { reason, block },
            None => Verdict::Pass,
        },
        Outcome::Reviewed {
            result,
            fingerprint,
        } => {
            let complete = matches!(&result, Ok(Reviewed::Done(d)) if d.review.is_some());
            let verdict = judge(result, block, seconds);
            if let (true, Some(fingerprint)) = (complete, fingerprint) {
                let block = match &verdict {
                    Verdict::Block { reason, .. } => Some(reason.clone()),
                    _ => None,
                };
                record.last = Some(LastReview { fingerprint, block });
            }
            verdict
        }
    };
    if matches!(verdict, Verdict::Block { .. }) {
        record.blocks = block;
    }
    // Only what changed is written: a stop let through on a failure leaves no record.
    let changed = record.blocks != before.0 || record.last != before.1;
    if changed && let Err(e) = sessions.write(&input.session_id, &mut record) {
        // A block the gate cannot count could come back at every stop: let this one through.
        if matches!(verdict, Verdict::Block { .. }) {
            return let_through(&format!("its record of the session cannot be saved: {e}"));
        }
        tracing::warn!(error = %e, "the gate's record of the session cannot be saved");
    }
    verdict
}

/// Whether `folder` is inside a git working tree (a `.git` folder or file in it or above).
fn in_git_repository(folder: &Path) -> bool {
    folder.ancestors().any(|d| d.join(".git").exists())
}

/// What came of asking for a review.
enum Outcome {
    /// The change is the one the session's last review saw: Codex was not asked again.
    Unchanged,
    /// Codex's review now (or why there is none), with the change's fingerprint when it was read.
    Reviewed {
        result: codex_oauth_core::Result<Reviewed>,
        fingerprint: Option<String>,
    },
}

/// Codex's review of the working tree's change in `folder` (what `codex_review` does with no
/// arguments) unless it is the change `last` saw; stopped after `seconds`.
async fn review(
    accounts: &Accounts,
    folder: PathBuf,
    seconds: u64,
    last: Option<&LastReview>,
) -> Outcome {
    let on_step = |_: Step<'_>| {};
    let call = Call {
        folders: vec![folder],
        files: Limits::from_settings(accounts.settings()),
        conversations: Default::default(),
        on_step: &on_step,
    };
    let mut fingerprint = None;
    let work = async {
        let ask = ReviewAsk::default();
        let change = app::change_of(accounts, &ask, &call).await?;
        if change.is_empty() {
            return Ok(Some(Reviewed::Nothing {
                compared: change.compared,
            }));
        }
        let seen = change.fingerprint();
        if last.is_some_and(|l| l.fingerprint == seen) {
            return Ok(None);
        }
        fingerprint = Some(seen);
        app::review_change(accounts, ask, change, &call)
            .await
            .map(Some)
    };
    let result = match tokio::time::timeout(Duration::from_secs(seconds), work).await {
        Ok(Ok(Some(reviewed))) => Ok(reviewed),
        Ok(Ok(None)) => return Outcome::Unchanged,
        Ok(Err(e)) => Err(e),
        Err(_) => Err(Error::TimedOut { seconds }),
    };
    Outcome::Reviewed {
        result,
        fingerprint,
    }
}

/// The verdict on a review; `block` is the number this block would be in the session.
fn judge(reviewed: codex_oauth_core::Result<Reviewed>, block: u32, seconds: u64) -> Verdict {
    let done = match reviewed {
        Ok(Reviewed::Nothing { .. }) => return Verdict::Pass,
        Ok(Reviewed::Done(done)) => done,
        Err(Error::TimedOut { .. }) => {
            return let_through(&format!(
                "Codex's review took longer than {seconds} s; review the change with /codex-review, or keep changes smaller between stops"
            ));
        }
        Err(e) => return let_through(&e.to_string()),
    };
    let Some(review) = done.review else {
        return let_through(
            "Codex did not answer in the review format; review the change with /codex-review",
        );
    };
    let (serious, other): (Vec<&Finding>, Vec<&Finding>) = review
        .findings
        .iter()
        .partition(|f| matches!(f.severity.as_str(), "critical" | "high"));
    if !serious.is_empty() {
        let reason = block_reason(&done.change.compared, &serious);
        return Verdict::Block { reason, block };
    }
    if other.is_empty() {
        return Verdict::Note(format!(
            "Codex review gate: no findings in the change — {}.",
            done.change.compared
        ));
    }
    let listed: Vec<String> = other.iter().take(MAX_LISTED).map(|f| one_line(f)).collect();
    Verdict::Note(format!(
        "Codex review gate: nothing high or critical; {} other finding{}: {} (/codex-review for details)",
        other.len(),
        if other.len() == 1 { "" } else { "s" },
        listed.join("; ")
    ))
}

/// Why the stop is blocked: the serious findings and what to do.
fn block_reason(compared: &str, serious: &[&Finding]) -> String {
    let mut t = format!(
        "Codex reviewed the change — {compared} — and found {} problem{} of high or critical severity. Fix {} before you finish (if a finding is wrong, say why instead):",
        serious.len(),
        if serious.len() == 1 { "" } else { "s" },
        if serious.len() == 1 { "it" } else { "them" },
    );
    for (i, f) in serious.iter().take(MAX_LISTED).enumerate() {
        t.push_str(&format!("\n\n{}. {}", i + 1, one_line(f)));
        if !f.detail.is_empty() {
            t.push_str(&format!("\n   {}", clip(&f.detail)));
        }
        if let Some(s) = &f.suggestion {
            t.push_str(&format!("\n   Suggestion: {}", clip(s)));
        }
    }
    if serious.len() > MAX_LISTED {
        t.push_str(&format!(
            "\n\n…and {} more (/codex-review lists them all).",
            serious.len() - MAX_LISTED
        ));
    }
    t
}

/// A block's reason with where the cap is.
fn counted(reason: &str, block: u32) -> String {
    format!(
        "{reason}\n\n(codex-oauth review gate: block {block} of at most {MAX_BLOCKS} in this session.)"
    )
}

/// `[high] src/a.rs:12: the title`.
fn one_line(f: &Finding) -> String {
    let at = match f.line {
        Some(l) => format!("{}:{l}", f.file),
        None => f.file.clone(),
    };
    format!("[{}] {at}: {}", f.severity, clip(&f.title))
}

/// Text of Codex's on one line, at most [`MAX_FIELD_CHARS`] characters.
fn clip(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= MAX_FIELD_CHARS {
        return flat;
    }
    let mut cut: String = flat.chars().take(MAX_FIELD_CHARS).collect();
    cut.push('…');
    cut
}

/// The stop goes through, and the user reads why on one line.
fn let_through(why: &str) -> Verdict {
    let why = why.split_whitespace().collect::<Vec<_>>().join(" ");
    Verdict::Note(format!(
        "Codex review gate let the stop through without a review: {why}"
    ))
}

/// What the gate keeps of each session, `<home>/gate/<session_id>.json` (folder 0700, files
/// 0600): its blocks, and the last change Codex reviewed in it.
struct Sessions {
    dir: PathBuf,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct SessionRecord {
    blocks: u32,
    updated_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    last: Option<LastReview>,
}

/// The last change Codex reviewed in a session and what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct LastReview {
    /// The change's [`Change::fingerprint`](codex_oauth_core::review::Change::fingerprint).
    fingerprint: String,
    /// The block's reason when the review blocked the stop; `None`: it let the stop through.
    block: Option<String>,
}

impl Sessions {
    fn new(home: &Path) -> Self {
        Self {
            dir: home.join("gate"),
        }
    }

    fn path(&self, session: &str) -> PathBuf {
        self.dir.join(format!("{session}.json"))
    }

    /// The record of `session` (empty when there is none; a record that does not parse counts
    /// as the cap, so a broken file never lets the gate loop).
    fn read(&self, session: &str) -> Result<SessionRecord, String> {
        let path = self.path(session);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(serde_json::from_slice::<SessionRecord>(&bytes).unwrap_or(
                SessionRecord {
                    blocks: MAX_BLOCKS,
                    ..SessionRecord::default()
                },
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SessionRecord::default()),
            Err(e) => Err(format!("{} ({e})", path.display())),
        }
    }

    fn write(&self, session: &str, record: &mut SessionRecord) -> Result<(), String> {
        ensure_private_dir(&self.dir).map_err(|e| e.to_string())?;
        record.updated_at = Some(chrono::Utc::now());
        let bytes = serde_json::to_vec(record).map_err(|e| e.to_string())?;
        write_atomic(&self.path(session), &bytes).map_err(|e| e.to_string())
    }

    /// Forget the sessions not changed for [`KEEP_SESSIONS`] (best effort).
    fn prune(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::now();
        for entry in entries.flatten() {
            let path = entry.path();
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age > KEEP_SESSIONS);
            if stale && path.extension().is_some_and(|e| e == "json") {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(severity: &str, line: Option<u64>) -> Finding {
        Finding {
            file: "src/a.rs".into(),
            line,
            severity: severity.into(),
            title: format!("a {severity} problem"),
            detail: "why\nit matters".into(),
            suggestion: Some("do this".into()),
        }
    }

    #[test]
    fn the_gate_is_on_by_the_setting_or_by_the_plugin_option() {
        assert!(!is_on(false, None));
        assert!(!is_on(false, Some("false")));
        assert!(!is_on(false, Some("")));
        assert!(is_on(false, Some("true")));
        assert!(is_on(false, Some("True")));
        assert!(is_on(true, Some("false")));
    }

    #[test]
    fn session_ids_are_plain_file_names() {
        for good in ["0b7c5f8e-6a3e-4c1f-9b1a-2f2f0e1d9c3a", "abc_DEF-1"] {
            assert!(is_session_name(good), "{good}");
        }
        for bad in [
            "",
            "../x",
            "a/b",
            ".hidden",
            "a b",
            "a.json",
            &"x".repeat(129),
        ] {
            assert!(!is_session_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_input_must_be_a_stop_hooks_json_with_a_plain_session_id() {
        let ok = br#"{"session_id":"s-1","transcript_path":"/t.jsonl","cwd":"/w","hook_event_name":"Stop","stop_hook_active":true}"#;
        let input = read_input(&ok[..]).unwrap();
        assert!(input.stop_hook_active);
        assert_eq!(input.cwd, PathBuf::from("/w"));
        let err = read_input(&b"not json"[..]).unwrap_err();
        assert!(
            err.contains("not the JSON of a Claude Code Stop hook"),
            "{err}"
        );
        let err = read_input(&br#"{"session_id":"../../etc/x","cwd":"/w"}"#[..]).unwrap_err();
        assert!(err.contains("not a plain name"), "{err}");
    }

    #[test]
    fn a_block_lists_the_serious_findings_with_place_title_detail_and_suggestion() {
        let (high, critical) = (finding("high", Some(12)), finding("critical", None));
        let t = counted(
            &block_reason("HEAD → the working tree", &[&critical, &high]),
            2,
        );
        assert!(
            t.contains("found 2 problems of high or critical severity"),
            "{t}"
        );
        assert!(
            t.contains("1. [critical] src/a.rs: a critical problem"),
            "{t}"
        );
        assert!(
            t.contains(
                "2. [high] src/a.rs:12: a high problem\n   why it matters\n   Suggestion: do this"
            ),
            "{t}"
        );
        assert!(t.ends_with("block 2 of at most 3 in this session.)"), "{t}");
    }

    #[test]
    fn failures_and_timeouts_let_the_stop_through_on_one_line() {
        let v = judge(Err(Error::TimedOut { seconds: 300 }), 1, 300);
        let Verdict::Note(m) = v else { panic!("{v:?}") };
        assert!(
            m.contains("took longer than 300 s") && !m.contains('\n'),
            "{m}"
        );
        let v = judge(
            Err(Error::NotSignedIn {
                profile: "default".into(),
            }),
            1,
            300,
        );
        let Verdict::Note(m) = v else { panic!("{v:?}") };
        assert!(m.contains("not signed in") && m.contains("login"), "{m}");
        assert_eq!(
            judge(
                Ok(Reviewed::Nothing {
                    compared: "x".into()
                }),
                1,
                300
            ),
            Verdict::Pass
        );
    }

    #[test]
    fn clip_flattens_and_bounds_codexs_text() {
        assert_eq!(clip("a\n  b\tc"), "a b c");
        let long = "x".repeat(MAX_FIELD_CHARS + 10);
        assert_eq!(clip(&long).chars().count(), MAX_FIELD_CHARS + 1);
    }

    #[test]
    fn a_session_counts_its_blocks_and_a_broken_record_counts_as_the_cap() {
        let home = tempfile::tempdir().unwrap();
        let s = Sessions::new(home.path());
        assert_eq!(s.read("s1").unwrap().blocks, 0);
        let last = LastReview {
            fingerprint: "f".into(),
            block: Some("fix it".into()),
        };
        let mut record = SessionRecord {
            blocks: 1,
            updated_at: None,
            last: Some(last.clone()),
        };
        s.write("s1", &mut record).unwrap();
        let read = s.read("s1").unwrap();
        assert_eq!((read.blocks, read.last), (1, Some(last)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(s.path("s1"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(s.path("s2"), "garbage").unwrap();
        assert_eq!(s.read("s2").unwrap().blocks, MAX_BLOCKS);
        // A record from before the last review was kept still reads.
        std::fs::write(s.path("s3"), r#"{"blocks":2,"updated_at":null}"#).unwrap();
        assert_eq!(s.read("s3").unwrap().blocks, 2);
        s.prune();
        assert!(s.path("s1").exists(), "a fresh record is kept");
    }
}
