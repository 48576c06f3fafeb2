//! Settings: defaults, config.toml, the environment, and the errors that name the key.

use super::*;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_apply_when_nothing_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let s =
        Settings::from_env(&env(&[("CODEX_OAUTH_HOME", dir.path().to_str().unwrap())])).unwrap();
    assert_eq!(s.store, StoreMode::Auto);
    assert_eq!(s.profile, "default");
    assert_eq!(s.client_id, DEFAULT_CLIENT_ID);
    assert_eq!(s.callback_port, 1455);
    assert!(!s.callback_port_explicit);
    assert!(s.open_browser);
    assert_eq!(
        s.token_url().as_str(),
        "https://auth.openai.com/oauth/token"
    );
    assert_eq!(
        s.responses_url().as_str(),
        "https://chatgpt.com/backend-api/codex/responses"
    );
    assert_eq!(
        s.device_redirect_uri().as_str(),
        "https://auth.openai.com/deviceauth/callback"
    );
    assert_eq!(s.config_file, dir.path().join("config.toml"));
    assert_eq!(s.profile_dir(), dir.path().join("default"));
    assert_eq!(s.codex_version, "0.171.0");
    assert_eq!(s.authorize_originator, "codex_cli_rs");
    assert_eq!(
        s.accounts_check_url().as_str(),
        "https://chatgpt.com/backend-api/wham/accounts/check"
    );
}

#[test]
fn the_codex_version_is_a_setting_and_must_be_x_y_z() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().to_str().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "codex_version = \"0.180.2\"\n",
    )
    .unwrap();
    let s = Settings::from_env(&env(&[("CODEX_OAUTH_HOME", home)])).unwrap();
    assert_eq!(s.codex_version, "0.180.2");
    let s = Settings::from_env(&env(&[
        ("CODEX_OAUTH_HOME", home),
        ("CODEX_OAUTH_CODEX_VERSION", "1.0.0"),
        ("CODEX_OAUTH_AUTHORIZE_ORIGINATOR", "codex_vscode"),
    ]))
    .unwrap();
    assert_eq!(s.codex_version, "1.0.0");
    assert_eq!(s.authorize_originator, "codex_vscode");
    for bad in ["0.171", "v0.171.0", "0.171.0.1", "a.b.c", ""] {
        let err = Settings::from_env(&env(&[
            ("CODEX_OAUTH_HOME", home),
            ("CODEX_OAUTH_CODEX_VERSION", bad),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("CODEX_OAUTH_CODEX_VERSION"), "{bad}: {err}");
    }
    assert_eq!(parse_version("0.171.0"), Some((0, 171, 0)));
    assert!(parse_version("0.99.0") < parse_version("0.171.0"));
}

#[test]
fn the_review_gate_is_off_unless_config_toml_or_the_environment_says_true() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().to_str().unwrap();
    let s = Settings::from_env(&env(&[("CODEX_OAUTH_HOME", home)])).unwrap();
    assert!(!s.review_gate);
    std::fs::write(dir.path().join("config.toml"), "review_gate = true\n").unwrap();
    let s = Settings::from_env(&env(&[("CODEX_OAUTH_HOME", home)])).unwrap();
    assert!(s.review_gate);
    let s = Settings::from_env(&env(&[
        ("CODEX_OAUTH_HOME", home),
        ("CODEX_OAUTH_REVIEW_GATE", "False"),
    ]))
    .unwrap();
    assert!(!s.review_gate, "the environment wins over the file");
    for bad in ["1", "yes", "on", ""] {
        let err = Settings::from_env(&env(&[
            ("CODEX_OAUTH_HOME", home),
            ("CODEX_OAUTH_REVIEW_GATE", bad),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("CODEX_OAUTH_REVIEW_GATE") && err.contains("review_gate"),
            "{bad}: {err}"
        );
    }
    std::fs::write(dir.path().join("config.toml"), "review_gate = \"maybe\"\n").unwrap();
    let err = Settings::from_env(&env(&[("CODEX_OAUTH_HOME", home)]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("review_gate") && err.contains("config.toml"),
        "{err}"
    );
}

#[test]
fn environment_overrides_the_config_file_which_overrides_defaults() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "store = \"file\"\nprofile = \"work\"\ncallback_port = 1999\nopen_browser = false\n",
    )
    .unwrap();
    let home = dir.path().to_str().unwrap();
    let s = Settings::from_env(&env(&[("CODEX_OAUTH_HOME", home)])).unwrap();
    assert_eq!(s.store, StoreMode::File);
    assert_eq!(s.profile, "work");
    assert_eq!(s.callback_port, 1999);
    assert!(s.callback_port_explicit);
    assert!(!s.open_browser);
    let s = Settings::from_env(&env(&[
        ("CODEX_OAUTH_HOME", home),
        ("CODEX_OAUTH_PROFILE", "play"),
        ("CODEX_OAUTH_STORE", "keyring"),
        ("CODEX_OAUTH_ISSUER", "http://127.0.0.1:9999/"),
    ]))
    .unwrap();
    assert_eq!(s.profile, "play");
    assert_eq!(s.store, StoreMode::Keyring);
    assert_eq!(s.token_url().as_str(), "http://127.0.0.1:9999/oauth/token");
}

#[test]
fn no_browser_variable_disables_the_browser_unless_it_says_false() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().to_str().unwrap();
    for (value, open) in [("1", false), ("yes", false), ("0", true), ("false", true)] {
        let s = Settings::from_env(&env(&[
            ("CODEX_OAUTH_HOME", home),
            ("CODEX_OAUTH_NO_BROWSER", value),
        ]))
        .unwrap();
        assert_eq!(s.open_browser, open, "CODEX_OAUTH_NO_BROWSER={value}");
    }
}

#[test]
fn a_bad_value_names_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, "callback_port = \"abc\"\n").unwrap();
    let err = Settings::from_env(&env(&[("CODEX_OAUTH_HOME", dir.path().to_str().unwrap())]))
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("callback_port"), "{msg}");
    assert!(msg.contains(&file.display().to_string()), "{msg}");

    std::fs::write(&file, "stoer = \"file\"\n").unwrap();
    let msg = Settings::from_env(&env(&[("CODEX_OAUTH_HOME", dir.path().to_str().unwrap())]))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("stoer") && msg.contains("unknown setting"),
        "{msg}"
    );

    std::fs::write(&file, "this is not toml [").unwrap();
    let msg = Settings::from_env(&env(&[("CODEX_OAUTH_HOME", dir.path().to_str().unwrap())]))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("not valid TOML"), "{msg}");
}

#[test]
fn the_default_model_and_effort_come_from_the_file_or_the_environment_and_empty_is_unset() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    let home = dir.path().to_str().unwrap();
    let s = Settings::from_env(&env(&[("CODEX_OAUTH_HOME", home)])).unwrap();
    assert_eq!((s.model, s.reasoning_effort), (None, None));
    std::fs::write(&file, "model = \"gpt-5.5\"\nreasoning_effort = \"high\"\n").unwrap();
    let s = Settings::from_env(&env(&[("CODEX_OAUTH_HOME", home)])).unwrap();
    assert_eq!(s.model.as_deref(), Some("gpt-5.5"));
    assert_eq!(s.reasoning_effort.as_deref(), Some("high"));
    let s = Settings::from_env(&env(&[
        ("CODEX_OAUTH_HOME", home),
        ("CODEX_OAUTH_MODEL", "gpt-6.2-sol"),
        // A plugin's userConfig left empty: no choice, the file's value stands.
        ("CODEX_OAUTH_REASONING_EFFORT", ""),
        ("CODEX_OAUTH_PROFILE", ""),
    ]))
    .unwrap();
    assert_eq!(s.model.as_deref(), Some("gpt-6.2-sol"));
    assert_eq!(s.reasoning_effort.as_deref(), Some("high"));
    assert_eq!(s.profile, "default");
    assert!(!s.profile_from_env);
    for (var, bad) in [
        ("CODEX_OAUTH_MODEL", "gpt 5"),
        ("CODEX_OAUTH_REASONING_EFFORT", "High!"),
    ] {
        let e = Settings::from_env(&env(&[("CODEX_OAUTH_HOME", home), (var, bad)]))
            .unwrap_err()
            .to_string();
        assert!(e.contains(var), "{e}");
    }
}

#[test]
fn usage_alerts_and_the_budget_are_config_file_settings_checked_as_percentages() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    let home = env(&[("CODEX_OAUTH_HOME", dir.path().to_str().unwrap())]);
    let s = Settings::from_env(&home).unwrap();
    assert_eq!(s.usage_alerts, [80, 95]);
    assert_eq!(s.claude_budget_percent, None);
    std::fs::write(
        &file,
        "usage_alerts = [95, 50, 95]\nclaude_budget_percent = 40\n",
    )
    .unwrap();
    let s = Settings::from_env(&home).unwrap();
    assert_eq!(s.usage_alerts, [50, 95]);
    assert_eq!(s.claude_budget_percent, Some(40));
    assert_eq!((s.files_max_file_kb, s.files_max_total_kb), (256, 600));
    std::fs::write(&file, "files_max_file_kb = 64\nfiles_max_total_kb = 2048\n").unwrap();
    let s = Settings::from_env(&home).unwrap();
    assert_eq!((s.files_max_file_kb, s.files_max_total_kb), (64, 2048));
    assert_eq!(s.job_timeout_minutes, 30);
    std::fs::write(&file, "job_timeout_minutes = 5\n").unwrap();
    assert_eq!(Settings::from_env(&home).unwrap().job_timeout_minutes, 5);
    for bad in [
        "usage_alerts = [0]",
        "usage_alerts = [120]",
        "usage_alerts = 80",
        "usage_alerts = [\"80\"]",
        "claude_budget_percent = 0",
        "claude_budget_percent = \"half\"",
        "files_max_file_kb = 0",
        "files_max_total_kb = \"lots\"",
        "job_timeout_minutes = 0",
        "job_timeout_minutes = 2000",
        "job_timeout_minutes = \"soon\"",
    ] {
        std::fs::write(&file, bad).unwrap();
        let msg = Settings::from_env(&home).unwrap_err().to_string();
        let key = bad.split(' ').next().unwrap();
        assert!(msg.contains(key), "{bad}: {msg}");
    }
}

#[test]
fn plain_http_is_refused_except_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().to_str().unwrap();
    for ok in [
        "http://localhost:8080",
        "http://127.0.0.1",
        "http://[::1]:1",
        "https://example.com/x",
    ] {
        Settings::from_env(&env(&[
            ("CODEX_OAUTH_HOME", home),
            ("CODEX_OAUTH_API_BASE", ok),
        ]))
        .unwrap();
    }
    let err = Settings::from_env(&env(&[
        ("CODEX_OAUTH_HOME", home),
        ("CODEX_OAUTH_ISSUER", "http://evil.example"),
    ]))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("CODEX_OAUTH_ISSUER") && err.contains("issuer"),
        "{err}"
    );
}

#[test]
fn profile_names_cannot_escape_the_home_folder() {
    for bad in ["", "../x", "a/b", ".hidden", "a b", &"x".repeat(65)] {
        assert!(validate_profile(bad).is_err(), "{bad:?}");
    }
    for good in ["default", "work-2", "ada.lovelace", "A_1"] {
        validate_profile(good).unwrap();
    }
}

#[test]
fn port_out_of_range_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().to_str().unwrap();
    for bad in ["0", "70000", "-1", "x"] {
        let r = Settings::from_env(&env(&[
            ("CODEX_OAUTH_HOME", home),
            ("CODEX_OAUTH_CALLBACK_PORT", bad),
        ]));
        assert!(r.is_err(), "{bad}");
    }
}
