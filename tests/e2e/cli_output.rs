//! What the CLI prints when a script runs it: stderr piped, as `cmd 2>&1 | cat -v` would. One
//! human line per outcome, no escape codes off a terminal, log lines only when asked (`-v`,
//! `RUST_LOG`) and always in the log file, `--json` as one object on stdout (the completions and man pages: `cli_generate`).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use fake_openai::Faults;
use serde_json::Value;

use crate::support::*;

const LEVELS: [&str; 5] = ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"];

/// The CLI as a script runs it: pipes everywhere, no `RUST_LOG`, no colour variables.
pub(crate) fn piped(home: &Home) -> Command {
    let mut c = home.cmd(&bin("codex-mcp-bridge"));
    for k in ["RUST_LOG", "NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"] {
        c.env_remove(k);
    }
    c.stdin(Stdio::null());
    c
}

pub(crate) fn run(mut c: Command, args: &[&str]) -> Output {
    c.args(args).output().unwrap()
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The log lines (`<time> LEVEL message`) in `text`, with any escape codes taken out first.
fn log_lines(text: &str) -> Vec<String> {
    let mut plain = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ parameters final-byte.
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|w| LEVELS.contains(&w))
        })
        .map(str::to_owned)
        .collect()
}

fn assert_no_escapes(what: &str, out: &Output) {
    for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(
            !bytes.contains(&0x1b),
            "{what}: {name} has escape codes: {:?}",
            text(bytes)
        );
    }
}

/// A credential file that is not JSON: loading it logs an error and moves it aside.
fn corrupt_credentials(home: &Home) {
    use std::os::unix::fs::PermissionsExt;
    let dir = home.profile_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(dir.join("auth.json"), b"{ not json").unwrap();
    std::fs::set_permissions(
        dir.join("auth.json"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
}

/// Everything in `<home>/logs`.
fn log_file_text(home: &Path) -> String {
    let mut all = String::new();
    if let Ok(entries) = std::fs::read_dir(home.join("logs")) {
        for e in entries {
            all.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap());
        }
    }
    all
}

fn codex_login_dir(fake: &fake_openai::FakeOpenAi) -> tempfile::TempDir {
    let t = fake.mint_tokens(3600);
    let dir = tempfile::tempdir().unwrap();
    let file = serde_json::json!({
        "OPENAI_API_KEY": null,
        "tokens": {"id_token": t.id_token, "access_token": t.access_token, "refresh_token": t.refresh_token, "account_id": "acc-1234"},
        "last_refresh": "2026-05-01T12:34:56.789Z"
    });
    std::fs::write(
        dir.path().join("auth.json"),
        serde_json::to_vec(&file).unwrap(),
    )
    .unwrap();
    dir
}

/// stdout must be exactly one JSON object.
fn one_object(what: &str, out: &Output) -> Value {
    let stdout = text(&out.stdout);
    let lines: Vec<_> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{what}: stdout is not one line: {stdout:?}");
    let v: Value = serde_json::from_str(lines[0])
        .unwrap_or_else(|e| panic!("{what}: stdout is not JSON ({e}): {stdout}"));
    assert!(v.is_object(), "{what}: {v}");
    v
}

fn assert_keys(what: &str, v: &Value, keys: &[&str]) {
    let mut got: Vec<_> = v.as_object().unwrap().keys().map(String::as_str).collect();
    got.sort_unstable();
    let mut want = keys.to_vec();
    want.sort_unstable();
    assert_eq!(got, want, "{what}: {v}");
}

fn assert_error_object(what: &str, out: &Output, code: i32, kind: &str) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: {}",
        text(&out.stderr)
    );
    let v = one_object(what, out);
    assert_keys(what, &v, &["error"]);
    assert_keys(what, &v["error"], &["kind", "code", "message"]);
    assert_eq!(v["error"]["kind"], kind, "{what}: {v}");
    let message = v["error"]["message"].as_str().unwrap().to_owned();
    assert!(!message.is_empty(), "{what}");
    assert!(
        !text(&out.stderr).contains("error:"),
        "{what}: the error is printed twice: {}",
        text(&out.stderr)
    );
    message
}

#[tokio::test]
async fn status_with_a_corrupt_credential_file_prints_its_report_and_no_log_line_on_a_pipe() {
    let fake = fake().await;
    let home = Home::new(&fake);
    corrupt_credentials(&home);
    let out = run(piped(&home), &["status"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_no_escapes("status", &out);
    let stderr = text(&out.stderr);
    assert!(log_lines(&stderr).is_empty(), "log lines: {stderr:?}");
    assert!(
        stderr.trim().is_empty(),
        "status says it all on stdout: {stderr:?}"
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("sign in again"), "{stdout}");
    assert!(
        stdout.contains("auth.json"),
        "the report names the file: {stdout}"
    );
    // The log file has what stderr did not.
    let logged = log_file_text(home.path());
    assert!(
        logged.contains("ERROR") && logged.contains("corrupt credential file moved aside"),
        "log file: {logged:?}"
    );
    assert!(!logged.contains('\x1b'), "the log file has escape codes");
}

#[tokio::test]
async fn token_with_a_corrupt_credential_file_prints_one_error_line_and_nothing_else() {
    let fake = fake().await;
    let home = Home::new(&fake);
    corrupt_credentials(&home);
    let out = run(piped(&home), &["token"]);
    assert_eq!(out.status.code(), Some(1));
    assert_no_escapes("token", &out);
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    let lines: Vec<_> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr:?}");
    assert!(lines[0].starts_with("error: "), "{stderr:?}");
    assert!(lines[0].contains("auth.json"), "{stderr:?}");
}

#[tokio::test]
async fn every_command_on_a_pipe_prints_no_escape_codes_and_no_log_lines() {
    let fake = fake().await;
    let signed_in = Home::new(&fake);
    signed_in.seed(&fake, 3600).await;
    let signed_out = Home::new(&fake);
    let corrupt = Home::new(&fake);
    corrupt_credentials(&corrupt);
    let empty = tempfile::tempdir().unwrap();
    let empty = empty.path().to_str().unwrap();
    let cases: Vec<(&str, &Home, Vec<&str>)> = vec![
        ("status signed in", &signed_in, vec!["status"]),
        (
            "status --json signed in",
            &signed_in,
            vec!["status", "--json"],
        ),
        ("token signed in", &signed_in, vec!["token"]),
        ("status signed out", &signed_out, vec!["status"]),
        ("token signed out", &signed_out, vec!["token"]),
        ("logout signed out", &signed_out, vec!["logout"]),
        ("status corrupt", &corrupt, vec!["status"]),
        ("token corrupt", &corrupt, vec!["token"]),
        (
            "import-codex, none",
            &signed_out,
            vec!["import-codex", "--codex-home", empty],
        ),
        ("plugin-config", &signed_out, vec!["plugin-config"]),
        (
            "bad profile",
            &signed_out,
            vec!["--profile", "../x", "status"],
        ),
        ("logout signed in", &signed_in, vec!["logout"]),
    ];
    for (what, home, args) in cases {
        let mut c = piped(home);
        c.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
        let out = run(c, &args);
        assert_no_escapes(what, &out);
        let stderr = text(&out.stderr);
        assert!(log_lines(&stderr).is_empty(), "{what}: {stderr:?}");
        let errors = stderr.lines().filter(|l| l.starts_with("error: ")).count();
        assert!(errors <= 1, "{what}: more than one error line: {stderr:?}");
    }
}

#[tokio::test]
async fn verbose_and_rust_log_put_log_lines_on_stderr_without_escape_codes_off_a_terminal() {
    let fake = fake().await;
    for (what, env, args) in [
        ("-v", None, vec!["-v", "status"]),
        (
            "--verbose after the command",
            None,
            vec!["status", "--verbose"],
        ),
        ("-vvv", None, vec!["-vvv", "token"]),
        ("RUST_LOG", Some(("RUST_LOG", "warn")), vec!["status"]),
        (
            "NO_COLOR and -v",
            Some(("NO_COLOR", "1")),
            vec!["-v", "status"],
        ),
    ] {
        let home = Home::new(&fake);
        corrupt_credentials(&home);
        let mut c = piped(&home);
        if let Some((k, v)) = env {
            c.env(k, v);
        }
        let out = run(c, &args);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", text(&out.stderr));
        assert_no_escapes(what, &out);
        let stderr = text(&out.stderr);
        let logs = log_lines(&stderr);
        assert!(
            logs.iter()
                .any(|l| l.contains("ERROR") && l.contains("corrupt credential file moved aside")),
            "{what}: no log line on stderr: {stderr:?}"
        );
    }
}

#[tokio::test]
async fn with_no_color_nothing_has_escape_codes() {
    let fake = fake().await;
    let home = Home::new(&fake);
    corrupt_credentials(&home);
    for args in [
        vec!["-vv", "status"],
        vec!["-v", "token"],
        vec!["-v", "logout"],
        vec!["--profile", "../x", "status"],
        vec!["no-such-command"],
        vec!["--help"],
    ] {
        let mut c = piped(&home);
        c.env("NO_COLOR", "1");
        let out = run(c, &args);
        assert_no_escapes(&args.join(" "), &out);
    }
    // And the log lines did appear (the colour was what went).
    let mut c = piped(&home);
    c.env("NO_COLOR", "1");
    corrupt_credentials(&home);
    let out = run(c, &["-v", "status"]);
    assert!(
        !log_lines(&text(&out.stderr)).is_empty(),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn json_reports_are_one_object_on_stdout_with_the_documented_fields() {
    let fake = fake().await;
    let home = Home::new(&fake);

    // status --json: the documented fields, unchanged.
    let out = run(piped(&home), &["status", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let st = one_object("status signed out", &out);
    for k in [
        "signed_in",
        "email",
        "plan",
        "account_id",
        "expires_at",
        "store",
        "last_error",
        "last_error_kind",
        "profile",
        "auth_mode",
        "user_id",
        "last_refresh",
        "pending_login",
        "usage",
    ] {
        assert!(st.get(k).is_some(), "status --json lacks {k}: {st}");
    }
    assert_keys(
        "status store",
        &st["store"],
        &["backend", "location", "reason", "mode", "open_to_others"],
    );

    // login --device --json: the URL and code on stderr, the outcome on stdout.
    let out = run(piped(&home), &["login", "--device", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_no_escapes("login --device --json", &out);
    let v = one_object("login --device --json", &out);
    assert_keys(
        "login",
        &v,
        &[
            "signed_in",
            "profile",
            "method",
            "email",
            "plan",
            "account_id",
            "store",
        ],
    );
    assert_eq!(v["signed_in"], true);
    assert_eq!(v["profile"], "default");
    assert_eq!(v["method"], "device");
    assert_eq!(v["email"], "ada@example.com");
    assert_eq!(v["plan"], "plus");
    assert_eq!(v["account_id"], "acc-1234");
    assert_keys(
        "login store",
        &v["store"],
        &["backend", "location", "reason"],
    );
    assert_eq!(v["store"]["backend"], "file");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("{}/codex/device", fake.issuer())),
        "the device page is on stderr: {stderr}"
    );
    assert!(!stderr.contains("Signed in as"), "{stderr}");
    assert!(
        !text(&out.stdout).contains(&fake.issued_secrets()[0]),
        "a secret on stdout"
    );

    // logout --json, signed in then signed out.
    let out = run(piped(&home), &["logout", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = one_object("logout", &out);
    assert_keys("logout", &v, &["profile", "was_signed_in", "revoked"]);
    assert_eq!(v["was_signed_in"], true);
    assert_eq!(v["revoked"], true);
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let out = run(piped(&home), &["logout", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = one_object("logout again", &out);
    assert_eq!(v["was_signed_in"], false);
    assert_eq!(v["revoked"], false);

    // import-codex --json.
    let codex = codex_login_dir(&fake);
    let out = run(
        piped(&home),
        &[
            "import-codex",
            "--json",
            "--codex-home",
            codex.path().to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = one_object("import-codex", &out);
    assert_keys(
        "import-codex",
        &v,
        &[
            "profile",
            "imported_from",
            "auth_mode",
            "email",
            "plan",
            "account_id",
            "store",
            "taken_over",
        ],
    );
    assert_eq!(v["imported_from"], codex.path().to_str().unwrap());
    assert_eq!(v["taken_over"], true);
    assert_eq!(v["auth_mode"], "chatgpt");
    assert_eq!(v["email"], "ada@example.com");
    assert_eq!(v["store"]["backend"], "file");
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));

    // login --with-api-key --json.
    let mut c = piped(&home);
    c.args(["login", "--with-api-key", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"sk-test-not-a-real-key\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = one_object("login --with-api-key", &out);
    assert_eq!(v["method"], "api_key");
    assert_eq!(v["signed_in"], true);
    assert!(v["email"].is_null());
    assert!(
        !text(&out.stdout).contains("sk-test"),
        "the key was printed"
    );
    assert!(
        !text(&out.stderr).contains("sk-test"),
        "the key was printed"
    );
}

#[tokio::test]
async fn json_errors_are_an_error_object_on_stdout_with_the_old_exit_codes() {
    let fake = fake().await;
    fake.set_faults(Faults {
        device_disabled: true,
        ..Faults::default()
    });
    let home = Home::new(&fake);
    let empty = tempfile::tempdir().unwrap();

    let out = run(piped(&home), &["login", "--device", "--json"]);
    let message = assert_error_object("login --device", &out, 1, "input");
    assert!(
        message.contains("Device code authorization for Codex"),
        "{message}"
    );

    let mut c = piped(&home);
    c.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
    let out = run(
        c,
        &[
            "import-codex",
            "--json",
            "--codex-home",
            empty.path().to_str().unwrap(),
        ],
    );
    let message = assert_error_object("import-codex", &out, 1, "input");
    assert!(message.contains("no Codex CLI login found"), "{message}");

    // Empty standard input: a usage error, exit 2 as before.
    let out = run(piped(&home), &["login", "--with-api-key", "--json"]);
    assert_error_object("login --with-api-key", &out, 2, "input");

    // A bad profile name: a configuration error, exit 2.
    let out = run(piped(&home), &["--profile", "../x", "logout", "--json"]);
    let message = assert_error_object("bad profile", &out, 2, "input");
    assert!(message.contains("profile"), "{message}");

    // And without --json, the same failures are one line on stderr and nothing on stdout.
    let out = run(piped(&home), &["login", "--device"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );
}

/// `args` run by the bridge with a terminal for stdin, stdout and stderr (util-linux `script`),
/// stdin then closed; `None` when `script` is missing. The terminal merges stdout and stderr.
fn in_terminal(home: &Home, env: &[(&str, &str)], args: &str) -> Option<String> {
    let has_script = Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_script {
        eprintln!("skipped: util-linux `script` is missing, no terminal to test with");
        return None;
    }
    let mut c = home.cmd(Path::new("script"));
    for k in ["RUST_LOG", "NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"] {
        c.env_remove(k);
    }
    c.envs(env.iter().copied());
    let line = format!(
        "'{}' {args} </dev/null",
        bin("codex-mcp-bridge").to_str().unwrap()
    );
    let out = c
        .args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Some(text(&out.stdout))
}

#[tokio::test]
async fn on_a_terminal_logs_have_colour_unless_no_color_is_set_in_the_server_too() {
    let fake = fake().await;
    let home = Home::new(&fake);
    corrupt_credentials(&home);
    let Some(coloured) = in_terminal(&home, &[], "-v token") else {
        return;
    };
    assert!(
        coloured.contains('\x1b'),
        "no colour on a terminal: {coloured:?}"
    );
    assert!(
        coloured.contains("corrupt credential file moved aside"),
        "{coloured:?}"
    );

    for (what, args) in [("cli", "-v token"), ("server", "")] {
        corrupt_credentials(&home);
        let plain = in_terminal(&home, &[("NO_COLOR", "1")], args).unwrap();
        assert!(
            !plain.contains('\x1b'),
            "{what}: colour despite NO_COLOR: {plain:?}"
        );
        assert!(
            !log_lines(&plain).is_empty(),
            "{what}: no log line: {plain:?}"
        );
    }
}

#[tokio::test]
async fn the_server_still_logs_to_stderr_at_info_and_keeps_stdout_for_json_rpc() {
    let fake = fake().await;
    let home = Home::new(&fake);
    let out = piped(&home).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "stdout: {}", text(&out.stdout));
    assert_no_escapes("server", &out);
    let stderr = text(&out.stderr);
    let logs = log_lines(&stderr);
    assert!(
        logs.iter()
            .any(|l| l.contains("INFO") && l.contains("the client left before initializing")),
        "{stderr:?}"
    );
    assert!(
        log_file_text(home.path()).contains("the client left before initializing"),
        "the log file"
    );
}
