//! The accounts registry: the profiles of the home folder, which one is the default and where
//! that came from, which one this process serves, and each one's session and Codex client, made
//! on first use and then shared. Every front end asks it instead of opening sessions itself, so
//! "the default", "the served account" and "the account named `x`" mean one thing everywhere.
//!
//! Nothing is opened when the registry is made: a process that never calls Codex never reads the
//! keychain or builds an HTTP client (the bridge answers `initialize` and `tools/list` without).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::accounts::{self, Account};
use crate::codex::{CodexClient, CodexOptions};
use crate::config::{Settings, validate_profile};
use crate::echo::elide;
use crate::error::{Error, Result};
use crate::model::Remaining;
use crate::session::{SETTLE_LIMIT, Session};
use crate::status::Status;

/// Where the default profile came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DefaultFrom {
    /// `CODEX_OAUTH_PROFILE`.
    Environment,
    /// `profile` in config.toml (written by `use`, or by the first sign-in of a fresh home).
    Config,
    /// Nothing chose one: the profile named `default`.
    Builtin,
}

/// The accounts of one home folder, for one process.
pub struct Accounts {
    /// The settings as loaded: `profile` is the default.
    base: Settings,
    /// The profile served when a call names none: the `--profile` flag's, else the default.
    served: String,
    options: CodexOptions,
    clients: Mutex<HashMap<String, Arc<CodexClient>>>,
}

impl Accounts {
    /// The registry of `settings`' home, serving the default profile.
    pub fn new(settings: Settings, options: CodexOptions) -> Self {
        let served = settings.profile.clone();
        Self {
            base: settings,
            served,
            options,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The registry of `session`'s home, serving `session`'s profile with `session` itself (an
    /// embedder, or a test, that opened it already).
    pub fn with_session(session: Arc<Session>, options: CodexOptions) -> Result<Self> {
        let me = Self::new(session.settings().clone(), options);
        let client = Arc::new(CodexClient::with_options(
            Arc::clone(&session),
            me.options.clone(),
        )?);
        me.clients
            .lock()
            .map_err(|_| Error::Internal("the accounts registry was poisoned".into()))?
            .insert(me.served.clone(), client);
        Ok(me)
    }

    /// The registry serving `profile` (a `--profile` flag) instead of the default; the name is
    /// checked, not required to exist (a sign-in makes it).
    pub fn serving(settings: Settings, profile: &str, options: CodexOptions) -> Result<Self> {
        validate_profile(profile).map_err(|reason| Error::Config {
            key: "profile".into(),
            origin: "--profile".into(),
            reason,
        })?;
        let mut me = Self::new(settings, options);
        me.served = profile.to_owned();
        Ok(me)
    }

    /// The settings as loaded (their `profile` is the default).
    pub fn settings(&self) -> &Settings {
        &self.base
    }

    /// The settings of `profile`.
    pub fn settings_of(&self, profile: &str) -> Settings {
        accounts::settings_of(&self.base, profile)
    }

    /// The default profile: the one a call naming none answers for in a process without a flag.
    pub fn default_profile(&self) -> &str {
        &self.base.profile
    }

    /// The default profile now, for a long-lived process: config.toml read again (see
    /// [`Settings::current_profile`]).
    pub fn default_now(&self) -> Result<String> {
        self.base.current_profile()
    }

    pub fn default_from(&self) -> DefaultFrom {
        if self.base.profile_from_env {
            DefaultFrom::Environment
        } else if self.base.profile_chosen {
            DefaultFrom::Config
        } else {
            DefaultFrom::Builtin
        }
    }

    /// The profile a call naming none is served by.
    pub fn served(&self) -> &str {
        &self.served
    }

    /// The profiles that exist (a folder holding one), and the default even before its first
    /// sign-in; sorted.
    pub fn names(&self) -> Vec<String> {
        accounts::profile_names(&self.base, &self.base.profile)
    }

    /// The Codex client of `account` (a profile that exists; `None` or empty: the served one).
    pub fn client(&self, account: Option<&str>) -> Result<Arc<CodexClient>> {
        let name = self.resolve(account);
        if let Some(c) = self.cached(name) {
            return Ok(c);
        }
        if name != self.served {
            let known = self.names();
            if !known.iter().any(|p| p == name) {
                return Err(Error::Input(format!(
                    "there is no account `{}`; the accounts (profiles) are: {}",
                    elide(name),
                    known.join(", ")
                )));
            }
        }
        self.open(name)
    }

    /// The session of `account` (see [`Accounts::client`]).
    pub fn session(&self, account: Option<&str>) -> Result<Arc<Session>> {
        self.client(account).map(|c| Arc::clone(c.session()))
    }

    /// The session of `account` for a sign-in: a valid name that is no profile yet makes one.
    pub fn for_sign_in(&self, account: Option<&str>) -> Result<Arc<Session>> {
        let name = self.resolve(account);
        if let Some(c) = self.cached(name) {
            return Ok(Arc::clone(c.session()));
        }
        validate_profile(name).map_err(|why| {
            Error::Input(format!(
                "`{}` cannot be an account name: {why}",
                elide(name)
            ))
        })?;
        self.open(name).map(|c| Arc::clone(c.session()))
    }

    /// Every account with its status, the default marked.
    pub async fn list(&self) -> Vec<Account> {
        accounts::list(&self.base, &self.base.profile).await
    }

    /// The served account's status, and every other account with its own.
    pub async fn overview(&self) -> (Status, Vec<Account>) {
        let served = match self.session(None) {
            Ok(s) => s.status().await,
            Err(e) => {
                let mut s = Status::signed_out(&self.served, self.base.store);
                s.last_error_kind = Some(e.kind());
                s.last_error = Some(e.to_string());
                s
            }
        };
        let mut others = self.list().await;
        others.retain(|a| a.profile != self.served);
        (served, others)
    }

    /// The signed-in accounts other than `except` whose effective remaining is not used up, each
    /// with how much is left in words.
    pub async fn with_room(&self, except: &str) -> Vec<(String, String)> {
        self.list()
            .await
            .into_iter()
            .filter(|a| a.profile != except && a.status.signed_in)
            .filter(|a| a.status.remaining().is_none_or(|r| !r.blocked))
            .map(|a| {
                let room = a
                    .status
                    .remaining()
                    .map(Remaining::describe)
                    .unwrap_or_else(|| "usage not seen yet".into());
                (a.profile, room)
            })
            .collect()
    }

    /// Before the process exits: let every refresh in flight finish its save. False when one
    /// could not be saved in time (logged with its profile).
    pub async fn settle(&self) -> bool {
        let open: Vec<_> = self
            .clients
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        let mut all_saved = true;
        for c in open {
            if !c.session().settle(SETTLE_LIMIT).await {
                tracing::error!(profile = %c.session().settings().profile, "a refreshed sign-in could not be saved before exit");
                all_saved = false;
            }
        }
        all_saved
    }

    /// The profile `account` names (`None` or empty: the served one).
    pub fn resolve<'a>(&'a self, account: Option<&'a str>) -> &'a str {
        account
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .unwrap_or(&self.served)
    }

    fn cached(&self, name: &str) -> Option<Arc<CodexClient>> {
        self.clients.lock().ok().and_then(|m| m.get(name).cloned())
    }

    fn open(&self, name: &str) -> Result<Arc<CodexClient>> {
        let mut clients = self
            .clients
            .lock()
            .map_err(|_| Error::Internal("the accounts registry was poisoned".into()))?;
        if let Some(c) = clients.get(name) {
            return Ok(Arc::clone(c));
        }
        let session = Session::open(self.settings_of(name))?;
        let client = Arc::new(CodexClient::with_options(session, self.options.clone())?);
        clients.insert(name.to_owned(), Arc::clone(&client));
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn home() -> (tempfile::TempDir, Settings) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Settings::for_home(dir.path()).unwrap();
        s.store = crate::StoreMode::File;
        (dir, s)
    }

    #[test]
    fn nothing_is_opened_until_asked_and_each_account_is_opened_once() {
        let (_dir, settings) = home();
        let accounts = Accounts::new(settings, CodexOptions::default());
        assert!(accounts.clients.lock().unwrap().is_empty());
        let a = accounts.client(None).unwrap();
        let b = accounts.client(Some("  ")).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.session().settings().profile, "default");
    }

    #[test]
    fn an_unknown_account_is_refused_with_the_list_and_a_sign_in_makes_a_valid_one() {
        let (_dir, settings) = home();
        let accounts = Accounts::new(settings, CodexOptions::default());
        let e = accounts.client(Some("work")).err().unwrap().to_string();
        assert!(
            e.contains("there is no account `work`") && e.contains("default"),
            "{e}"
        );
        let e = accounts
            .for_sign_in(Some("../x"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("cannot be an account name"), "{e}");
        let s = accounts.for_sign_in(Some("work")).unwrap();
        assert_eq!(s.settings().profile, "work");
    }

    #[test]
    fn the_default_now_follows_config_toml_unless_the_environment_chose_it() {
        let (_dir, settings) = home();
        let accounts = Accounts::new(settings.clone(), CodexOptions::default());
        assert_eq!(accounts.default_now().unwrap(), "default");
        // Another process runs `use work` after this one loaded its settings.
        accounts::set_default(&settings, "work").unwrap();
        assert_eq!(accounts.default_profile(), "default");
        assert_eq!(accounts.default_now().unwrap(), "work");
        // Chosen by CODEX_OAUTH_PROFILE: config.toml does not change it.
        let mut env = std::collections::HashMap::new();
        env.insert(
            "CODEX_OAUTH_HOME".to_owned(),
            settings.home.display().to_string(),
        );
        env.insert("CODEX_OAUTH_PROFILE".to_owned(), "ci".to_owned());
        let chosen = Accounts::new(Settings::from_env(&env).unwrap(), CodexOptions::default());
        assert_eq!(chosen.default_from(), DefaultFrom::Environment);
        assert_eq!(chosen.default_now().unwrap(), "ci");
        // A config.toml that no longer parses is an error, not a silent change of default.
        std::fs::write(&settings.config_file, "profile = [").unwrap();
        assert!(accounts.default_now().is_err());
    }

    #[test]
    fn a_flag_serves_its_profile_and_leaves_the_default_alone() {
        let (_dir, settings) = home();
        let accounts = Accounts::serving(settings, "work", CodexOptions::default()).unwrap();
        assert_eq!(accounts.served(), "work");
        assert_eq!(accounts.default_profile(), "default");
        assert_eq!(accounts.default_from(), DefaultFrom::Builtin);
        assert_eq!(accounts.session(None).unwrap().settings().profile, "work");
        let (_dir, settings) = home();
        assert!(Accounts::serving(settings, "a/b", CodexOptions::default()).is_err());
    }
}
