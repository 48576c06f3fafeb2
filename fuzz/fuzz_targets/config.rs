//! Settings from a `config.toml` text and an environment map
//! (`Settings::from_env_and_config_text`, the loader `Settings::from_env` uses, without the disk).
//!
//! Beyond "no panic": settings that load are safe (a profile that stays one folder under home,
//! endpoints that are https or loopback http, every derived URL on its base's origin, a port
//! other than 0); written back as a config file they load the same; a variable wins over the file;
//! an error names the setting and where it came from.
#![no_main]

use std::collections::HashMap;

use codex_oauth_core::Settings;
use codex_oauth_core::config::validate_profile;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use url::Url;

const HOME: &str = "/nonexistent/codex-oauth-fuzz";
const VARS: &[(&str, &str)] = &[
    ("CODEX_OAUTH_STORE", "store"),
    ("CODEX_OAUTH_PROFILE", "profile"),
    ("CODEX_OAUTH_ISSUER", "issuer"),
    ("CODEX_OAUTH_CLIENT_ID", "client_id"),
    ("CODEX_OAUTH_API_BASE", "api_base"),
    ("CODEX_OAUTH_USAGE_URL", "usage_url"),
    ("CODEX_OAUTH_OPENAI_API_BASE", "openai_api_base"),
    ("CODEX_OAUTH_CALLBACK_PORT", "callback_port"),
    ("CODEX_OAUTH_NO_BROWSER", "open_browser"),
];

#[derive(Debug, Arbitrary)]
struct Input {
    file: Option<String>,
    vars: Vec<(u8, String)>,
}

fn loopback(u: &Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn check_endpoint(base: &Url, derived: &[Url]) {
    assert!(
        base.scheme() == "https" || (base.scheme() == "http" && loopback(base)),
        "unsafe endpoint {base}"
    );
    for d in derived {
        assert_eq!(d.origin(), base.origin(), "{d} left {base}");
        assert!(d.query().is_none() && d.fragment().is_none(), "{d}");
    }
}

/// The settings as a config file.
fn as_file(s: &Settings) -> String {
    let mut t = toml::Table::new();
    let store = format!("{:?}", s.store).to_ascii_lowercase();
    t.insert("store".into(), store.into());
    t.insert("profile".into(), s.profile.clone().into());
    t.insert("client_id".into(), s.client_id.clone().into());
    t.insert("issuer".into(), s.issuer.to_string().into());
    t.insert("api_base".into(), s.api_base.to_string().into());
    t.insert("usage_url".into(), s.usage_url.to_string().into());
    t.insert(
        "openai_api_base".into(),
        s.openai_api_base.to_string().into(),
    );
    t.insert("callback_port".into(), i64::from(s.callback_port).into());
    t.insert("open_browser".into(), s.open_browser.into());
    toml::to_string(&t).expect("a table writes out")
}

fn summary(s: &Settings) -> String {
    format!(
        "{:?} {} {} {} {} {} {} {} {}",
        s.store,
        s.profile,
        s.client_id,
        s.issuer,
        s.api_base,
        s.usage_url,
        s.openai_api_base,
        s.callback_port,
        s.open_browser
    )
}

fuzz_target!(|input: Input| {
    let mut env = HashMap::new();
    env.insert("CODEX_OAUTH_HOME".to_string(), HOME.to_string());
    for (i, value) in &input.vars {
        let (var, _) = VARS[usize::from(*i) % VARS.len()];
        env.insert(var.to_string(), value.clone());
    }
    match Settings::from_env_and_config_text(&env, input.file.as_deref()) {
        Ok(s) => {
            assert!(validate_profile(&s.profile).is_ok(), "{}", s.profile);
            let dir = s.profile_dir();
            assert_eq!(dir.parent(), Some(s.home.as_path()));
            assert_eq!(
                dir.file_name().and_then(|n| n.to_str()),
                Some(s.profile.as_str())
            );
            assert_ne!(s.callback_port, 0);
            assert!(!s.client_id.is_empty());
            check_endpoint(
                &s.issuer,
                &[
                    s.authorize_url(),
                    s.token_url(),
                    s.revoke_url(),
                    s.device_usercode_url(),
                    s.device_token_url(),
                    s.device_verification_url(),
                    s.device_redirect_uri(),
                ],
            );
            check_endpoint(&s.api_base, &[s.responses_url(), s.models_url()]);
            check_endpoint(&s.usage_url, &[]);
            check_endpoint(&s.openai_api_base, &[s.openai_responses_url()]);
            // A variable set to something wins; set to nothing it is no choice (what a plugin's
            // empty userConfig value gives).
            if let Some(p) = env
                .get("CODEX_OAUTH_PROFILE")
                .filter(|p| !p.trim().is_empty())
            {
                assert_eq!(&s.profile, p.trim(), "the variable did not win");
            }
            // Written back as a file, read with no variables: the same settings.
            let file = as_file(&s);
            let mut home_only = HashMap::new();
            home_only.insert("CODEX_OAUTH_HOME".to_string(), HOME.to_string());
            let again = Settings::from_env_and_config_text(&home_only, Some(&file))
                .unwrap_or_else(|e| panic!("our own file is refused: {e}\n{file}"));
            assert_eq!(summary(&again), summary(&s), "{file}");
        }
        Err(e) => {
            let msg = e.to_string();
            let named = msg.contains("config.toml") || msg.contains("environment");
            assert!(named, "the error does not say where: {msg}");
        }
    }
});
