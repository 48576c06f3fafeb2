//! Hardening, end to end: the loopback callback server's attack surface, a secret-leak sweep over
//! every output and file of a full session, and faults (disk full, token endpoint down or slow,
//! many processes signing in and out at once).

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use fake_openai::Faults;
use serde_json::{Value, json};

use crate::bridge_faults::{Raw, tool_text};
use crate::support::*;

/// One raw HTTP exchange with 127.0.0.1:port; the whole answer (the server closes the connection).
fn raw_http(port: u16, request: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // The server may close early on an oversized request: a failed write is an answer too.
    let _ = s.write_all(request);
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

fn status_line(answer: &str) -> &str {
    answer.lines().next().unwrap_or("")
}

#[tokio::test]
async fn the_callback_server_answers_only_loopback_localhost_and_its_three_routes() {
    let fake = fake().await;
    let home = Home::new(&fake);
    let mut c = home.cmd(&bin("codex-mcp-bridge"));
    c.args(["login", "--no-browser"]);
    let run = Running::spawn(c);
    let url = run.line();
    let port: u16 = home.env["CODEX_OAUTH_CALLBACK_PORT"].parse().unwrap();

    // Bound to 127.0.0.1 only: another loopback address of this machine gets nothing.
    assert!(
        TcpStream::connect(("127.0.0.2", port)).is_err(),
        "listening beyond 127.0.0.1"
    );

    // DNS rebinding: a page on evil.example that resolves to 127.0.0.1 sends its own Host.
    let a = raw_http(
        port,
        b"GET /auth/callback?code=x&state=y HTTP/1.1\r\nHost: evil.example:1455\r\n\r\n",
    );
    assert!(status_line(&a).contains(" 4"), "{a}");
    assert!(a.contains("only answers requests for localhost"), "{a}");
    let a = raw_http(port, b"GET /cancel HTTP/1.1\r\nHost: evil.example\r\n\r\n");
    assert!(
        !status_line(&a).contains(" 200 "),
        "a rebinding page must not cancel the sign-in: {a}"
    );

    // Any web page can make a plain GET to 127.0.0.1 (an image tag does): it must not end the
    // sign-in. Only another codex-oauth sign-in, which says so in a header no page can set
    // without a CORS preflight, may ask it to give the port up.
    let a = raw_http(
        port,
        format!("GET /cancel HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes(),
    );
    assert!(
        status_line(&a).contains(" 403 "),
        "a plain GET must not cancel the sign-in: {a}"
    );

    // No CORS, for any route or method.
    for req in [
        format!(
            "GET /success HTTP/1.1\r\nHost: localhost:{port}\r\nOrigin: https://evil.example\r\n\r\n"
        ),
        format!(
            "OPTIONS /auth/callback HTTP/1.1\r\nHost: localhost:{port}\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: GET\r\n\r\n"
        ),
    ] {
        let a = raw_http(port, req.as_bytes());
        assert!(
            !a.to_ascii_lowercase().contains("access-control-allow"),
            "{a}"
        );
        assert!(!status_line(&a).contains(" 2"), "{a}");
    }
    // Everything but the three routes: 404.
    for path in [
        "/",
        "/auth/callback/../../etc/passwd",
        "/admin",
        "/favicon.ico",
    ] {
        let a = raw_http(
            port,
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes(),
        );
        assert!(status_line(&a).contains(" 404 "), "{path}: {a}");
    }
    // Oversized requests are cut off, not buffered without end.
    let many: String = (0..400).map(|i| format!("X-Filler-{i}: {i}\r\n")).collect();
    let a = raw_http(
        port,
        format!("GET /success HTTP/1.1\r\nHost: localhost:{port}\r\n{many}\r\n").as_bytes(),
    );
    assert!(
        !status_line(&a).contains(" 200 "),
        "400 headers accepted: {}",
        status_line(&a)
    );
    let long = "a".repeat(1 << 20);
    let a = raw_http(
        port,
        format!("GET /auth/callback?code={long} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n")
            .as_bytes(),
    );
    assert!(
        !status_line(&a).contains(" 200 ") && !status_line(&a).contains(" 302 "),
        "{}",
        status_line(&a)
    );

    // After all that, the real sign-in still works, and then the port is closed.
    let page = browser().get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let (code, err) = run.finish();
    assert_eq!(code, 0, "{err}");
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the callback server outlived its flow"
    );
}

/// Every window of `n` characters of every secret the fake issued or received.
fn secret_windows(secrets: &[String], n: usize) -> HashSet<String> {
    let mut set = HashSet::new();
    for s in secrets {
        let chars: Vec<char> = s.chars().collect();
        for w in chars.windows(n) {
            let w: String = w.iter().collect();
            // The JWT header is the same public text in every token; it is not a secret.
            if !s.starts_with("eyJ") || !JWT_HEADER.contains(&w) {
                set.insert(w);
            }
        }
    }
    set
}

/// base64url of the fake's JWT header, `{"alg":"RS256","typ":"JWT","kid":"fake-openai"}`.
const JWT_HEADER: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImZha2Utb3BlbmFpIiwidHlwIjoiSldUIn0";

fn leaks(text: &str, windows: &HashSet<String>, n: usize) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .windows(n)
        .map(|w| w.iter().collect::<String>())
        .find(|w| windows.contains(w))
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[tokio::test]
async fn no_token_appears_in_any_output_log_or_file_of_a_whole_session_at_trace_level() {
    let fake = fake().await;
    let mut home = Home::new(&fake);
    home.env.insert("RUST_LOG".into(), "trace".into());
    let mut outputs: Vec<(String, String)> = Vec::new();
    let trace = |home: &Home, program: &Path| {
        let mut c = home.cmd(program);
        c.env("RUST_LOG", "trace");
        c
    };

    // Sign in through the browser flow.
    let mut c = trace(&home, &bin("codex-mcp-bridge"));
    c.args(["login", "--no-browser"]);
    let run = Running::spawn(c);
    let url = run.line();
    outputs.push(("login stdout".into(), url.clone()));
    browser().get(&url).send().await.unwrap();
    let (code, err) = run.finish();
    assert_eq!(code, 0, "{err}");
    outputs.push(("login stderr".into(), err));

    // A refresh through the CLI (`token` prints the token on stdout by design: only stderr counts).
    home.seed(&fake, 30).await;
    let out = trace(&home, &bin("codex-mcp-bridge"))
        .arg("token")
        .output()
        .unwrap();
    assert!(out.status.success());
    outputs.push((
        "token stderr".into(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ));
    let out = trace(&home, &bin("codex-mcp-bridge"))
        .args(["status", "--json"])
        .output()
        .unwrap();
    outputs.push((
        "status".into(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ));

    // The bridge: queries (one after a refresh, one after a 401), models, usage, status, and a
    // permanent refresh failure.
    home.seed(&fake, 30).await;
    let mut b = Raw::spawn_cmd(trace(&home, &bin("codex-mcp-bridge")));
    let mut answers = Vec::new();
    answers.push(b.call(1, "codex_query", json!({"prompt": "first"})));
    fake.set_faults(Faults {
        backend_status_once: Some(401),
        ..Faults::default()
    });
    answers.push(b.call(
        2,
        "codex_query",
        json!({"prompt": "second", "model": "gpt-6.2-sol"}),
    ));
    answers.push(b.call(3, "codex_models", json!({})));
    answers.push(b.call(4, "codex_usage", json!({})));
    answers.push(b.call(5, "codex_status", json!({})));
    home.seed(&fake, -5).await;
    fake.set_faults(Faults {
        refresh_error: Some("refresh_token_reused".into()),
        ..Faults::default()
    });
    let expired = b.call(6, "codex_query", json!({"prompt": "third"}));
    assert_eq!(expired["result"]["isError"], true, "{expired}");
    assert!(tool_text(&expired).contains("sign in again"), "{expired}");
    answers.push(expired);
    answers.push(b.call(7, "codex_status", json!({})));
    let (code, err) = b.finish();
    assert_eq!(code, Some(0));
    outputs.push(("bridge stderr".into(), err));
    for (i, a) in answers.iter().enumerate() {
        outputs.push((format!("bridge answer {i}"), a.to_string()));
    }

    // Sign in again and sign out.
    fake.set_faults(Faults::default());
    home.seed(&fake, 3600).await;
    // The sweep can see a token when there is one: the credential file holds them.
    let windows = secret_windows(&fake.issued_secrets(), 8);
    let record =
        String::from_utf8(std::fs::read(home.profile_dir().join("auth.json")).unwrap()).unwrap();
    assert!(
        leaks(&record, &windows, 8).is_some(),
        "the sweep cannot see tokens"
    );
    let out = trace(&home, &bin("codex-mcp-bridge"))
        .arg("logout")
        .output()
        .unwrap();
    assert!(out.status.success());
    outputs.push((
        "logout".into(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    ));

    // Every file the session left (the credential file itself excepted: it is gone after logout).
    let mut files = Vec::new();
    files_under(home.path(), &mut files);
    assert!(
        files.iter().any(|f| f.to_string_lossy().contains("/logs/")),
        "the bridge wrote no log file: {files:?}"
    );
    for f in &files {
        assert!(!f.ends_with("auth.json"), "auth.json outlived logout");
        let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode & 0o077,
            0,
            "{} is readable by others ({mode:o})",
            f.display()
        );
        let dir_mode = std::fs::metadata(f.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700, "{}", f.parent().unwrap().display());
        outputs.push((
            f.display().to_string(),
            String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned(),
        ));
    }

    let secrets = fake.issued_secrets();
    assert!(
        secrets.len() >= 10,
        "the fake issued {} secrets",
        secrets.len()
    );
    let windows = secret_windows(&secrets, 8);
    let mut checked = 0;
    for (what, text) in &outputs {
        if let Some(w) = leaks(text, &windows, 8) {
            panic!("{what} contains a piece of a token: …{w}…");
        }
        checked += text.len();
    }
    assert!(
        checked > 10_000,
        "the sweep read only {checked} bytes: trace logging did not happen?"
    );
}

#[tokio::test]
async fn a_full_disk_during_a_save_loses_nothing_and_says_what_happened() {
    if std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("prlimit (util-linux) is needed for this test");
    }
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, -5).await;
    let before = home.auth_json();
    // A file size limit makes every write past 1 KB fail (EFBIG), like a full disk.
    let mut c = home.cmd(Path::new("/bin/sh"));
    c.arg("-c")
        .arg("trap '' XFSZ; exec prlimit --fsize=1024 -- \"$0\" token")
        .arg(bin("codex-mcp-bridge"));
    let out = c.stdin(Stdio::null()).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot")
            && err.to_lowercase().contains("large")
            && err.contains("nothing is lost"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    // The store could not take a rotation, so the refresh token was not spent.
    assert_eq!(
        fake.stats().refresh_attempts,
        0,
        "no refresh whose answer could not be kept"
    );
    assert_eq!(home.auth_json(), before, "the old record, whole");
    for e in std::fs::read_dir(home.profile_dir()).unwrap() {
        let e = e.unwrap();
        let mode = e.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{:?}", e.file_name());
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".tmp"), "no temp file left behind: {name}");
    }
    // The second call, with room again: the same sign-in refreshes once and works.
    assert!(!crate::support::token(&home).is_empty());
    let stats = fake.stats();
    assert_eq!((stats.refreshes, stats.reuse_rejections), (1, 0));
    let (st, _) = home.status();
    assert_eq!(st["signed_in"], true);
}

#[tokio::test]
async fn a_token_endpoint_that_is_down_or_too_slow_fails_fast_with_advice() {
    // Down: nothing listens at the issuer.
    let fake = fake().await;
    let mut home = Home::new(&fake);
    home.seed(&fake, -5).await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    home.env.insert(
        "CODEX_OAUTH_ISSUER".into(),
        format!("http://127.0.0.1:{dead_port}"),
    );
    let out = home.cli(&["token"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot reach") && err.contains("try again"),
        "{err}"
    );
    home.env.insert("CODEX_OAUTH_ISSUER".into(), fake.issuer());
    let (st, _) = home.status();
    assert_eq!(st["signed_in"], true, "tokens kept");

    // Slow: beyond the 30-second limit.
    fake.set_faults(Faults {
        token_delay_ms: 45_000,
        ..Faults::default()
    });
    let mut c = home.cmd(&bin("codex-mcp-bridge"));
    c.arg("token");
    let out = tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("try again"), "{err}");
    assert!(home.profile_dir().join("auth.json").exists());
}

#[tokio::test]
async fn the_cli_and_two_bridges_signing_in_and_out_at_once_leave_a_consistent_store() {
    let fake = fake().await;
    let home = Home::new(&fake);
    let rounds = 15;
    let mut workers = Vec::new();
    for w in 0..2 {
        let mut c = home.cmd(Path::new("/bin/sh"));
        // Sign in with an API key, then out, over and over.
        c.arg("-c").arg(format!(
            "for i in $(seq {rounds}); do echo sk-proj-worker{w}-$i | \"$0\" login --with-api-key || exit 10; \"$0\" logout || exit 11; done"
        ));
        c.arg(bin("codex-mcp-bridge"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        workers.push(c.spawn().unwrap());
    }
    let mut bridges: Vec<Raw> = (0..2).map(|_| Raw::spawn(&home)).collect();
    for i in 0..rounds as i64 {
        for (k, b) in bridges.iter_mut().enumerate() {
            let id = i * 10 + k as i64;
            let tool = if (i + k as i64) % 2 == 0 {
                "codex_clear"
            } else {
                "codex_status"
            };
            let a = b.call(id, tool, json!({}));
            assert!(a.get("result").is_some(), "{tool}: {a}");
            let t = tool_text(&a);
            assert!(!t.contains("corrupt"), "{t}");
        }
    }
    for w in workers {
        let out = w.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "worker: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for b in bridges {
        assert_eq!(b.finish().0, Some(0));
    }
    // Consistent: state.json parses, auth.json (if any) parses, and they agree.
    let dir = home.profile_dir();
    let state: Value =
        serde_json::from_slice(&std::fs::read(dir.join("state.json")).unwrap()).unwrap();
    let has_record = dir.join("auth.json").exists();
    assert_eq!(state["signed_in"], has_record, "{state}");
    if has_record {
        codex_oauth_core::store::AuthRecord::from_json(
            &std::fs::read(dir.join("auth.json")).unwrap(),
        )
        .unwrap();
    }
    for e in std::fs::read_dir(&dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            !name.contains(".corrupt"),
            "something was judged corrupt: {name}"
        );
    }
}
