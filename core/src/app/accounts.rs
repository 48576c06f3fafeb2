//! Every profile of the home folder as an account: the list with each one's status, the default
//! (`profile` in config.toml), and which profile already holds a given account. An account is
//! identified by account id + user id, so one email with two workspaces is two accounts.

use std::sync::Arc;

use crate::codex::CodexClient;
use crate::config::{Settings, validate_profile};
use crate::error::{Error, Result};
use crate::model::Workspace;
use crate::session::Session;
use crate::status::Status;
use crate::store::{Store, layout, write_atomic};

/// One profile and what it holds.
#[derive(Debug, Clone)]
pub struct Account {
    pub profile: String,
    /// The profile used when none is named (`profile` in config.toml, or `CODEX_OAUTH_PROFILE`).
    pub default: bool,
    pub status: Status,
}

/// The profiles under the home folder: every folder that holds one (`store::layout::profiles`),
/// and `also` (the default, listed even before its first sign-in). Sorted by name.
pub fn profile_names(settings: &Settings, also: &str) -> Vec<String> {
    let mut names = layout::profiles(&settings.home);
    if !names.iter().any(|n| n == also) {
        names.push(also.to_owned());
    }
    names.sort();
    names
}

/// The settings of another profile: the same everything, another folder and keychain user.
pub fn settings_of(settings: &Settings, profile: &str) -> Settings {
    let mut s = settings.clone();
    s.profile = profile.to_owned();
    s
}

/// Every account with its status; `default` names the default profile.
pub async fn list(settings: &Settings, default: &str) -> Vec<Account> {
    let mut out = Vec::new();
    for profile in profile_names(settings, default) {
        let status = match Session::open(settings_of(settings, &profile)) {
            Ok(session) => session.status().await,
            Err(e) => {
                let mut s = Status::signed_out(&profile, settings.store);
                s.last_error_kind = Some(e.kind());
                s.last_error = Some(e.to_string());
                s
            }
        };
        out.push(Account {
            default: profile == default,
            profile,
            status,
        });
    }
    out
}

/// The profile other than `except` whose state.json names this account (account id + user id).
pub fn holder_of(
    settings: &Settings,
    account_id: &str,
    user_id: Option<&str>,
    except: &str,
) -> Option<String> {
    profile_names(settings, except)
        .into_iter()
        .filter(|p| p != except)
        .find(|p| {
            let Ok(store) = Store::open(&settings_of(settings, p)) else {
                return false;
            };
            let st = store.state();
            st.signed_in
                && st.account_id.as_deref() == Some(account_id)
                && st.user_id.as_deref() == user_id
        })
}

/// After a sign-in in `profile`: when another profile already holds the same account (its
/// account id and user id), the new sign-in goes to that one instead (its record replaced by the
/// fresh one) and `profile` is removed again, so one account is never two profiles. Returns the
/// profile the sign-in now lives in, when it moved.
pub async fn merge_duplicate(settings: &Settings, profile: &str) -> Result<Option<String>> {
    let here = Session::open(settings_of(settings, profile))?;
    let st = here.store().state();
    let Some(account) = st.account_id.clone() else {
        return Ok(None);
    };
    let Some(holder) = holder_of(settings, &account, st.user_id.as_deref(), profile) else {
        return Ok(None);
    };
    let store = Arc::clone(here.store());
    let rec = tokio::task::spawn_blocking(move || store.load())
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
    let Some(rec) = rec else {
        return Ok(None);
    };
    let there = Session::open(settings_of(settings, &holder))?;
    there.save_record(rec).await?;
    let store = Arc::clone(here.store());
    tokio::task::spawn_blocking(move || {
        let g = store.lock()?;
        store.delete(&g, None)
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))??;
    if let Err(e) = here.store().remove_folder() {
        tracing::warn!(error = %e, "cannot remove the folder of a merged profile");
    }
    Ok(Some(holder))
}

/// Where a finished sign-in ended up (see [`place_sign_in`]).
#[derive(Debug, Clone)]
pub struct Placed {
    /// The profile that holds it: another one when that profile already held the account.
    pub profile: String,
    /// It went to `profile` because that one already held the same account.
    pub merged: bool,
    /// The workspace the profile uses now, when known.
    pub workspace: Option<Workspace>,
    /// Every workspace the sign-in can use (empty when `accounts/check` could not be read, or
    /// for an API key).
    pub workspaces: Vec<Workspace>,
}

/// The workspaces the profile's sign-in can use, asked of `accounts/check` now; empty for an
/// API key.
pub async fn workspaces(session: &Arc<Session>) -> Result<Vec<Workspace>> {
    CodexClient::new(Arc::clone(session))?.workspaces().await
}

/// The workspace `wanted` names (its id, or its name in any case) among `list`.
pub fn pick<'a>(list: &'a [Workspace], wanted: &str) -> Result<&'a Workspace> {
    let wanted = wanted.trim();
    list.iter()
        .find(|w| w.account_id == wanted)
        .or_else(|| {
            list.iter().find(|w| {
                w.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(wanted))
            })
        })
        .ok_or_else(|| {
            Error::Input(if list.is_empty() {
                format!("cannot use workspace {wanted}: the sign-in lists no workspaces")
            } else {
                format!(
                    "this sign-in cannot use workspace {wanted}; it can use: {}",
                    describe_workspaces(list)
                )
            })
        })
}

/// `Personal (acc-1), Acme (acc-2)`.
pub fn describe_workspaces(list: &[Workspace]) -> String {
    list.iter()
        .map(workspace_label)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `Acme (acc-2)`, or the id alone when the workspace has no name.
pub fn workspace_label(w: &Workspace) -> String {
    let name = workspace_name(w);
    if name == w.account_id {
        name
    } else {
        format!("{name} ({})", w.account_id)
    }
}

/// A workspace's name for a person: its own, "Personal" for the user's own, else its id.
pub fn workspace_name(w: &Workspace) -> String {
    match (&w.name, &w.structure) {
        (Some(n), _) => n.clone(),
        (None, Some(s)) if s == "personal" => "Personal".into(),
        _ => w.account_id.clone(),
    }
}

/// After a sign-in of `session`'s profile: switch it to the workspace `wanted` names (checked
/// against what the sign-in can use: `listed` when the caller already asked, else asked now),
/// then, when another profile already holds that account (account id + user id), move the
/// sign-in there ([`merge_duplicate`]). Without `wanted`, the sign-in keeps the workspace its
/// token names and a failure to list the workspaces is only logged.
pub async fn place_sign_in(
    session: &Arc<Session>,
    wanted: Option<&str>,
    listed: Option<Vec<Workspace>>,
) -> Result<Placed> {
    let list = match listed {
        Some(l) => l,
        None => match workspaces(session).await {
            Ok(l) => l,
            Err(e) if wanted.is_some() => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "cannot list the workspaces of the new sign-in");
                Vec::new()
            }
        },
    };
    // The account id the save recorded (state.json: no keychain read).
    let store = Arc::clone(session.store());
    let current = tokio::task::spawn_blocking(move || store.state().account_id)
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    let chosen = match wanted {
        Some(w) => Some(pick(&list, w)?.clone()),
        None => list
            .iter()
            .find(|w| Some(&w.account_id) == current.as_ref())
            .cloned(),
    };
    if let Some(w) = &chosen {
        session.use_workspace(w.clone()).await?;
    }
    let profile = session.settings().profile.clone();
    let holder = merge_duplicate(session.settings(), &profile).await?;
    let placed = holder.clone().unwrap_or(profile);
    adopt_as_default(session.settings(), &placed)?;
    Ok(Placed {
        merged: holder.is_some(),
        profile: placed,
        workspace: chosen,
        workspaces: list,
    })
}

/// After a sign-in in `profile`: when no default was ever chosen and the `default` profile holds
/// nothing, the first account signed in becomes the default (written to config.toml, as `use`
/// does), so `accounts` and `status` answer for it and not for a profile that does not exist.
/// Returns whether it did.
pub fn adopt_as_default(settings: &Settings, profile: &str) -> Result<bool> {
    // The file as it is now: another process (or this one, earlier) may have set it since.
    let in_file = std::fs::read_to_string(&settings.config_file)
        .ok()
        .and_then(|t| t.parse::<toml_edit::DocumentMut>().ok())
        .is_some_and(|d| d.contains_key("profile"));
    if settings.profile_chosen
        || in_file
        || profile == crate::config::DEFAULT_PROFILE
        || layout::holds_a_profile(
            &settings_of(settings, crate::config::DEFAULT_PROFILE).profile_dir(),
        )
    {
        return Ok(false);
    }
    set_default(settings, profile)?;
    Ok(true)
}

/// Make `profile` the default: `profile = "<name>"` in config.toml, the rest of the file (its
/// comments and layout) kept as it was.
pub fn set_default(settings: &Settings, profile: &str) -> Result<()> {
    validate_profile(profile).map_err(Error::Input)?;
    let path = &settings.config_file;
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io("read the config file", path, e)),
    };
    let mut doc: toml_edit::DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| Error::Config {
                key: "(file)".into(),
                origin: path.display().to_string(),
                reason: format!("not valid TOML: {}", e.message()),
            })?;
    doc["profile"] = toml_edit::value(profile);
    if let Some(dir) = path.parent() {
        crate::store::ensure_private_dir(dir)?;
    }
    write_atomic(path, doc.to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_default_is_written_into_config_toml_keeping_the_rest() {
        let home = tempfile::tempdir().unwrap();
        let settings = Settings::for_home(home.path()).unwrap();
        let original = "# my settings\nstore = \"file\" # keep\n";
        std::fs::write(&settings.config_file, original).unwrap();
        set_default(&settings, "work").unwrap();
        let text = std::fs::read_to_string(&settings.config_file).unwrap();
        assert!(text.starts_with(original), "{text}");
        assert!(text.contains("profile = \"work\""), "{text}");
        assert_eq!(Settings::for_home(home.path()).unwrap().profile, "work");
        set_default(&settings, "default").unwrap();
        assert_eq!(Settings::for_home(home.path()).unwrap().profile, "default");
        assert!(set_default(&settings, "../etc").is_err());
    }

    #[test]
    fn the_first_account_signed_in_becomes_the_default_when_none_was_chosen() {
        let home = tempfile::tempdir().unwrap();
        let settings = Settings::for_home(home.path()).unwrap();
        assert!(!settings.profile_chosen);
        assert!(adopt_as_default(&settings, "personal").unwrap());
        assert_eq!(Settings::for_home(home.path()).unwrap().profile, "personal");
        // Chosen now (in the file): a second sign-in does not take it, even from settings
        // loaded before.
        assert!(!adopt_as_default(&settings, "work").unwrap());
        assert_eq!(Settings::for_home(home.path()).unwrap().profile, "personal");
        // The `default` profile holding a sign-in stays the default.
        let other = tempfile::tempdir().unwrap();
        let s2 = Settings::for_home(other.path()).unwrap();
        std::fs::create_dir_all(s2.profile_dir()).unwrap();
        std::fs::write(layout::state_file(&s2.profile_dir()), "{}").unwrap();
        assert!(!adopt_as_default(&s2, "work").unwrap());
        assert_eq!(Settings::for_home(other.path()).unwrap().profile, "default");
    }

    #[test]
    fn profiles_are_the_folders_that_hold_one_and_the_default() {
        let home = tempfile::tempdir().unwrap();
        let settings = Settings::for_home(home.path()).unwrap();
        let dir = |name: &str| home.path().join(name);
        for file in [
            layout::state_file(&dir("work")),
            layout::auth_file(&dir("personal")),
            dir("logs").join("x.log"),
        ] {
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, "{}").unwrap();
        }
        assert_eq!(
            profile_names(&settings, "default"),
            ["default", "personal", "work"]
        );
    }
}
