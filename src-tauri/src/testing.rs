//! What the tests of several modules share: a hub over a temp home, pointed at fake-openai.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use codex_oauth_core::Settings;
use codex_oauth_core::app::Accounts;
use codex_oauth_core::codex::CodexOptions;
use fake_openai::FakeOpenAi;

use crate::hub::Hub;

/// A hub over `home` (file store, no browser, any free callback port) that talks to `fake`; the
/// default is read again from the home's config.toml.
pub async fn hub_on(fake: &FakeOpenAi, home: &std::path::Path) -> Arc<Hub> {
    let vars: HashMap<String, String> = [
        ("CODEX_OAUTH_HOME", home.to_string_lossy().into_owned()),
        ("CODEX_OAUTH_STORE", "file".into()),
        ("CODEX_OAUTH_NO_BROWSER", "1".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .chain(fake.env())
    .collect();
    let mut settings = Settings::from_env(&vars).unwrap();
    // Any free port, so tests run in parallel.
    settings.callback_port = 0;
    settings.callback_port_explicit = true;
    Hub::new(Accounts::new(settings, CodexOptions::default()))
        .await
        .unwrap()
}
