//! Watch the profile folder for changes to `state.json` made by any process (a bridge's sign-in,
//! the CLI, a refresh). The folder, not the file, is watched: state.json is replaced by rename.

use std::path::Path;

use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};

pub const STATE_FILE: &str = "state.json";

/// Whether the event may have changed state.json (created, written, renamed into place, removed).
pub fn touches_state(event: &Event) -> bool {
    !matches!(event.kind, EventKind::Access(_))
        && event
            .paths
            .iter()
            .any(|p| p.file_name().is_some_and(|n| n == STATE_FILE))
}

/// Start watching `dir`; `on_change` runs (on the watcher's thread) for each event that touches
/// state.json. Keep the returned watcher alive for as long as changes matter.
pub fn watch_state(
    dir: &Path,
    on_change: impl Fn() + Send + 'static,
) -> notify::Result<RecommendedWatcher> {
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<Event>| match res {
        Ok(event) if touches_state(&event) => on_change(),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "watching state.json failed"),
    })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    Ok(watcher)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use notify::event::{AccessKind, CreateKind, ModifyKind, RenameMode};
    use std::path::PathBuf;
    use std::sync::mpsc;
    use std::time::Duration;

    fn event(kind: EventKind, paths: &[&str]) -> Event {
        Event {
            kind,
            paths: paths.iter().map(PathBuf::from).collect(),
            attrs: Default::default(),
        }
    }

    #[test]
    fn only_changes_to_state_json_count() {
        let rename = EventKind::Modify(ModifyKind::Name(RenameMode::Both));
        assert!(touches_state(&event(
            rename,
            &["/p/.tmp123", "/p/state.json"]
        )));
        assert!(touches_state(&event(
            EventKind::Create(CreateKind::File),
            &["/p/state.json"]
        )));
        assert!(touches_state(&event(
            EventKind::Remove(notify::event::RemoveKind::File),
            &["/p/state.json"]
        )));
        assert!(!touches_state(&event(
            EventKind::Access(AccessKind::Any),
            &["/p/state.json"]
        )));
        assert!(!touches_state(&event(
            EventKind::Modify(ModifyKind::Any),
            &["/p/lock"]
        )));
        assert!(!touches_state(&event(
            EventKind::Create(CreateKind::File),
            &["/p/auth.json"]
        )));
    }

    #[test]
    fn an_atomic_replace_of_state_json_by_another_writer_is_seen_within_a_second() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = mpsc::channel();
        let _w = watch_state(dir.path(), move || {
            let _ = tx.send(());
        })
        .unwrap();
        codex_oauth_core::store::write_atomic(&dir.path().join(STATE_FILE), b"{\"generation\":7}")
            .unwrap();
        rx.recv_timeout(Duration::from_secs(1))
            .expect("no event for state.json within 1 s");
    }
}
