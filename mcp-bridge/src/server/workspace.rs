//! The folders `codex_query` may read `files` from: the MCP roots the client gives (asked once,
//! asked again after `notifications/roots/list_changed`), else the bridge's working folder
//! (where Claude Code starts it: the project).

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use rmcp::RoleServer;
use rmcp::service::Peer;

/// How long the client has to answer `roots/list`.
const ROOTS_WAIT: Duration = Duration::from_secs(10);

#[derive(Default)]
pub struct Roots {
    /// The folders last given; `None`: ask (again).
    known: Mutex<Option<Vec<PathBuf>>>,
}

impl Roots {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Vec<PathBuf>>> {
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The client changed its roots: ask again next time.
    pub fn forget(&self) {
        *self.lock() = None;
    }

    /// The workspace folders now.
    // Roots are deprecated in the newest protocol (SEP-2577), but the clients of today (Claude
    // Code, the Python SDK on older versions) give them, and the workspace is theirs to say.
    #[allow(deprecated)]
    pub async fn folders(&self, peer: &Peer<RoleServer>) -> Vec<PathBuf> {
        if let Some(k) = self.lock().clone() {
            return k;
        }
        let has_roots = peer
            .peer_info()
            .is_some_and(|i| i.capabilities.roots.is_some());
        let folders = if has_roots {
            match tokio::time::timeout(ROOTS_WAIT, peer.list_roots()).await {
                Ok(Ok(r)) => {
                    let folders: Vec<PathBuf> =
                        r.roots.iter().filter_map(|r| folder_of(&r.uri)).collect();
                    tracing::info!(roots = ?folders, "the client's roots");
                    folders
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "roots/list failed; the working folder is the workspace");
                    working_folder()
                }
                Err(_) => {
                    tracing::warn!("roots/list got no answer; the working folder is the workspace");
                    working_folder()
                }
            }
        } else {
            working_folder()
        };
        *self.lock() = Some(folders.clone());
        folders
    }
}

/// The folder a root's `file://` URI names (other schemes are not folders of this machine).
fn folder_of(uri: &str) -> Option<PathBuf> {
    let url = url::Url::parse(uri).ok()?;
    if url.scheme() != "file" {
        tracing::warn!(uri, "a root that is not a file:// URI is left out");
        return None;
    }
    url.to_file_path().ok()
}

fn working_folder() -> Vec<PathBuf> {
    std::env::current_dir().into_iter().collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn file_uris_are_folders_and_other_schemes_are_not() {
        assert_eq!(
            folder_of("file:///home/ada/my%20project"),
            Some(PathBuf::from("/home/ada/my project"))
        );
        assert_eq!(folder_of("https://example.com/repo"), None);
        assert_eq!(folder_of("not a uri"), None);
    }
}
