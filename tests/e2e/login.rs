//! Sign-in end to end: the real CLI, the real loopback server, the fake issuer.

use std::os::unix::fs::PermissionsExt;

use fake_openai::Faults;

use crate::support::*;

fn login_no_browser(home: &Home) -> Running {
    let mut c = home.cmd(&bin("codex-mcp-bridge"));
    c.args(["login", "--no-browser"]);
    Running::spawn(c)
}

#[tokio::test]
async fn headless_browser_login_signs_in_and_status_shows_the_account() {
    let fake = fake().await;
    let home = Home::new(&fake);
    let run = login_no_browser(&home);
    let url = run.line();
    assert!(
        url.starts_with(&format!("{}/oauth/authorize?", fake.issuer())),
        "{url}"
    );
    // "Open" the URL: the fake approves and redirects to our loopback callback, which redirects to /success.
    let page = browser().get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.url().path().ends_with("/success"), "{}", page.url());
    assert!(page.text().await.unwrap().contains("Signed in"));
    let (code, stderr) = run.finish();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("ada@example.com"), "{stderr}");

    let (st, code) = home.status();
    assert_eq!(code, 0);
    assert_eq!(st["signed_in"], true);
    assert_eq!(st["email"], "ada@example.com");
    assert_eq!(st["account_id"], "acc-1234");
    assert_eq!(st["plan"], "plus");
    assert_eq!(st["store"]["backend"], "file");
    assert!(st["expires_at"].as_str().unwrap().ends_with('Z'));
    assert!(st["last_error"].is_null());

    // The record: Codex CLI schema, 0600 in a 0700 folder.
    let rec = home.auth_json();
    assert_eq!(rec["auth_mode"], "chatgpt");
    assert!(rec["OPENAI_API_KEY"].is_null());
    assert_eq!(rec["tokens"]["account_id"], "acc-1234");
    for k in ["id_token", "access_token", "refresh_token"] {
        assert!(
            rec["tokens"][k].as_str().is_some_and(|s| !s.is_empty()),
            "{k}"
        );
    }
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&home.profile_dir().join("auth.json")), 0o600);
    assert_eq!(mode(&home.profile_dir()), 0o700);
    assert_eq!(fake.stats().code_exchanges, 1);
}

#[tokio::test]
async fn device_code_login_prints_url_and_code_then_signs_in() {
    let fake = fake().await;
    let home = Home::new(&fake);
    let mut c = home.cmd(&bin("codex-mcp-bridge"));
    c.args(["login", "--device"]);
    let run = Running::spawn(c);
    let url = run.line();
    let code = run.line();
    assert_eq!(url, format!("{}/codex/device", fake.issuer()));
    assert!(!code.is_empty() && !code.contains(' '), "{code}");
    let (exit, stderr) = run.finish();
    assert_eq!(exit, 0, "{stderr}");
    assert!(stderr.contains("Never share this code"), "{stderr}");
    let (st, _) = home.status();
    assert_eq!(st["signed_in"], true);
    assert_eq!(st["email"], "ada@example.com");
    assert!(fake.stats().device_polls >= 1);
}

#[tokio::test]
async fn device_code_login_says_what_to_do_when_the_server_does_not_offer_it() {
    let fake = fake().await;
    fake.set_faults(Faults {
        device_disabled: true,
        ..Faults::default()
    });
    let home = Home::new(&fake);
    let out = home.cli(&["login", "--device"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Device code authorization for Codex") && err.contains("browser"),
        "{err}"
    );
}

#[tokio::test]
async fn a_hundred_forged_callbacks_are_refused_and_the_real_one_still_signs_in() {
    let fake = fake().await;
    let home = Home::new(&fake);
    let run = login_no_browser(&home);
    let url = run.line();
    let q = query(&url);
    let redirect = &q["redirect_uri"];
    let client = browser();
    for i in 0..100 {
        let forged = format!("{redirect}?code=forged{i}&state=not-the-state-{i}");
        let r = client.get(&forged).send().await.unwrap();
        assert_eq!(r.status(), 400, "forged callback {i}");
    }
    // A forged error callback (wrong state) must not end the flow either.
    let r = client
        .get(format!("{redirect}?error=access_denied&state=nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let page = client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let (code, stderr) = run.finish();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        fake.stats().code_exchanges,
        1,
        "forged codes never reach the token endpoint"
    );
    assert_eq!(home.status().0["signed_in"], true);
}

/// The browser goes away (the tab closed, the connection dropped) while the code is being
/// exchanged: the exchange and the save finish anyway, and the sign-in completes.
#[tokio::test]
async fn the_sign_in_completes_when_the_browser_drops_the_callback_mid_exchange() {
    use std::io::Write;
    let fake = fake().await;
    let home = Home::new(&fake);
    let run = login_no_browser(&home);
    let url = run.line();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let approved = no_redirects.get(&url).send().await.unwrap();
    let callback = approved.headers()["location"].to_str().unwrap().to_owned();
    let callback = url::Url::parse(&callback).unwrap();
    fake.set_faults(Faults {
        token_answer_delay_ms: 1500,
        ..Faults::default()
    });
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", callback.port().unwrap())).unwrap();
    write!(
        conn,
        "GET {}?{} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n",
        callback.path(),
        callback.query().unwrap(),
        callback.port().unwrap()
    )
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while fake.stats().code_exchanges < 1 {
        assert!(std::time::Instant::now() < deadline, "no code exchange");
        std::thread::park_timeout(std::time::Duration::from_millis(5));
    }
    drop(conn);
    let (code, stderr) = run.finish();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(home.status().0["signed_in"], true);
}

#[tokio::test]
async fn an_error_callback_ends_the_sign_in_with_words_a_person_understands() {
    let fake = fake().await;
    fake.set_faults(Faults {
        authorize_error: Some(("access_denied".into(), "missing_codex_entitlement".into())),
        ..Faults::default()
    });
    let home = Home::new(&fake);
    let run = login_no_browser(&home);
    let url = run.line();
    let page = browser().get(&url).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("Codex is not enabled"));
    let (code, stderr) = run.finish();
    assert_eq!(code, 1);
    assert!(
        stderr.contains("Codex is not enabled for this ChatGPT workspace"),
        "{stderr}"
    );
    assert_eq!(
        stderr
            .trim()
            .lines()
            .filter(|l| l.starts_with("error:"))
            .count(),
        1,
        "{stderr}"
    );
    let (st, code) = home.status();
    assert_eq!(code, 1);
    assert_eq!(st["signed_in"], false);
    assert!(
        st["last_error"]
            .as_str()
            .unwrap()
            .contains("Codex is not enabled")
    );
    assert!(st["pending_login"].is_null());
}

#[tokio::test]
async fn a_busy_port_chosen_by_the_user_fails_at_once_with_advice() {
    let fake = fake().await;
    let home = Home::new(&fake);
    let holder = std::net::TcpListener::bind((
        "127.0.0.1",
        home.env["CODEX_OAUTH_CALLBACK_PORT"]
            .parse::<u16>()
            .unwrap(),
    ))
    .unwrap();
    let out = home.cli(&["login", "--no-browser"]);
    drop(holder);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot listen for the sign-in callback") && err.contains("--device"),
        "{err}"
    );
}

/// Uses the real ports 1455 and 1457, so it is the only test that may.
#[tokio::test]
async fn when_1455_stays_busy_the_sign_in_moves_to_1457() {
    let fake = fake_with(|c| c.strict_redirect_ports = true).await;
    let mut home = Home::new(&fake);
    home.env.remove("CODEX_OAUTH_CALLBACK_PORT");
    // Hold 1455 with a listener that never answers /cancel.
    let holder = match std::net::TcpListener::bind("127.0.0.1:1455") {
        Ok(l) => l,
        Err(e) => panic!("port 1455 must be free for this test: {e}"),
    };
    let run = login_no_browser(&home);
    let url = run.line();
    assert_eq!(
        query(&url)["redirect_uri"],
        "http://127.0.0.1:1457/auth/callback"
    );
    // The holder got the one /cancel request.
    holder.set_nonblocking(false).unwrap();
    let (mut sock, _) = holder.accept().unwrap();
    let mut buf = [0u8; 512];
    let n = std::io::Read::read(&mut sock, &mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("GET /cancel "));
    let page = browser().get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let (code, stderr) = run.finish();
    assert_eq!(code, 0, "{stderr}");
}

#[tokio::test]
async fn api_key_login_reads_the_key_from_stdin_and_status_says_so() {
    let fake = fake().await;
    let home = Home::new(&fake);
    let out = home.cli_with_stdin(&["login", "--with-api-key"], b"sk-proj-test-key-123\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (st, code) = home.status();
    assert_eq!(code, 0);
    assert_eq!(st["auth_mode"], "apikey");
    assert_eq!(home.auth_json()["OPENAI_API_KEY"], "sk-proj-test-key-123");
    let out = home.cli(&["token"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "sk-proj-test-key-123"
    );
}

#[tokio::test]
async fn logout_revokes_and_deletes_then_status_exits_1() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    assert_eq!(home.status().1, 0);
    let out = home.cli(&["logout"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fake.stats().revokes, 1);
    assert!(!home.profile_dir().join("auth.json").exists());
    let (st, code) = home.status();
    assert_eq!(code, 1);
    assert_eq!(st["signed_in"], false);
    // Logging out twice is fine.
    assert!(home.cli(&["logout"]).status.success());
}

#[tokio::test]
async fn usage_errors_exit_2_and_every_command_has_help() {
    let fake = fake().await;
    let home = Home::new(&fake);
    assert_eq!(home.cli(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        home.cli(&["login", "--device", "--with-api-key"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        home.cli(&["--profile", "../evil", "status"]).status.code(),
        Some(2)
    );
    for cmd in ["login", "status", "token", "logout", "import-codex"] {
        let out = home.cli(&[cmd, "--help"]);
        assert!(out.status.success(), "{cmd}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage:"),
            "{cmd}"
        );
    }
}

#[tokio::test]
async fn a_bad_setting_names_the_key_and_the_file() {
    let fake = fake().await;
    let home = Home::new(&fake);
    std::fs::write(
        home.path().join("config.toml"),
        "callback_port = \"soon\"\n",
    )
    .unwrap();
    let mut c = home.cmd(&bin("codex-mcp-bridge"));
    c.env_remove("CODEX_OAUTH_CALLBACK_PORT");
    let out = c.args(["status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("callback_port") && err.contains("config.toml"),
        "{err}"
    );
}

/// Sign in through the real loopback flow; the fake approves at once.
async fn sign_in(home: &Home) {
    let run = login_no_browser(home);
    let url = run.line();
    let page = browser().get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let (code, stderr) = run.finish();
    assert_eq!(code, 0, "{stderr}");
}

/// Seconds until the token expiry that `status --json` shows (signed in).
fn seconds_left(home: &Home) -> i64 {
    let (st, code) = home.status();
    assert_eq!(code, 0);
    let expires = chrono::DateTime::parse_from_rfc3339(st["expires_at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    expires - chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn opaque_access_tokens_live_as_long_as_expires_in_says() {
    // Many OAuth servers issue access tokens that are not JWTs: only the token answer's
    // `expires_in` says how long they last. A token an hour long is used, not refreshed per call.
    let fake = fake_with(|c| c.opaque_access_tokens = true).await;
    let home = Home::new(&fake);
    sign_in(&home).await;
    let stored = home.auth_json()["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(stored.starts_with("at_"), "the fake issued a JWT?");
    let left = seconds_left(&home);
    assert!((3500..=3600).contains(&left), "expires in {left} s");
    assert_eq!(token(&home), stored);
    assert_eq!(token(&home), stored);
    assert_eq!(fake.stats().refresh_attempts, 0);

    // Tokens that last 2 minutes are inside the 5-minute margin: each `token` refreshes, and the
    // refreshed token's expiry comes from the refresh answer's `expires_in`.
    let fake = fake_with(|c| {
        c.opaque_access_tokens = true;
        c.access_ttl_secs = 120;
    })
    .await;
    let home = Home::new(&fake);
    sign_in(&home).await;
    let first = token(&home);
    assert_eq!(fake.stats().refreshes, 1);
    let left = seconds_left(&home);
    assert!((60..=120).contains(&left), "expires in {left} s");
    assert_ne!(token(&home), first);
    assert_eq!(fake.stats().refreshes, 2);
}

fn login_paste(home: &Home) -> (Running, std::process::ChildStdin) {
    let mut c = home.cmd(&bin("codex-mcp-bridge"));
    c.args(["login", "--paste"]);
    Running::spawn_piped(c)
}

/// The address the browser's last page shows: the fake approves and redirects to our loopback
/// callback, which a browser on another machine cannot load.
async fn final_redirect(authorize_url: &str) -> url::Url {
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let approved = no_redirects.get(authorize_url).send().await.unwrap();
    url::Url::parse(approved.headers()["location"].to_str().unwrap()).unwrap()
}

fn code_of(redirect: &url::Url) -> String {
    redirect
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned()
}

#[tokio::test]
async fn login_paste_signs_in_with_the_final_redirect_pasted_on_stdin() {
    use std::io::Write;
    let fake = fake().await;
    let home = Home::new(&fake);
    let (run, mut stdin) = login_paste(&home);
    let url = run.line();
    assert!(
        url.starts_with(&format!("{}/oauth/authorize?", fake.issuer())),
        "{url}"
    );
    let redirect = final_redirect(&url).await;
    // As copied from an address bar: white space around it.
    writeln!(stdin, "  {redirect}  ").unwrap();
    let (code, stderr) = run.finish();
    drop(stdin);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("paste that page's address"), "{stderr}");
    assert!(stderr.contains("ada@example.com"), "{stderr}");
    assert!(!stderr.contains(&code_of(&redirect)), "{stderr}");
    let (st, code) = home.status();
    assert_eq!(code, 0);
    assert_eq!(st["signed_in"], true);
    assert_eq!(st["email"], "ada@example.com");
    assert!(st["pending_login"].is_null());
    assert_eq!(fake.stats().code_exchanges, 1);
}

#[tokio::test]
async fn login_paste_refuses_another_sign_ins_redirect_and_takes_the_next_right_one() {
    use std::io::Write;
    let fake = fake().await;
    let home = Home::new(&fake);
    let (run, mut stdin) = login_paste(&home);
    let url = run.line();
    let redirect = final_redirect(&url).await;
    let mut wrong = redirect.clone();
    let code = code_of(&redirect);
    wrong
        .query_pairs_mut()
        .clear()
        .append_pair("code", &code)
        .append_pair("state", "another-sign-in");
    let mut elsewhere = redirect.clone();
    elsewhere.set_path("/somewhere/else");
    writeln!(stdin, "{wrong}").unwrap();
    writeln!(stdin, "{elsewhere}").unwrap();
    writeln!(stdin).unwrap();
    // Only the query part, as some browsers show it.
    writeln!(stdin, "{}", redirect.query().unwrap()).unwrap();
    let (exit, stderr) = run.finish();
    drop(stdin);
    assert_eq!(exit, 0, "{stderr}");
    assert_eq!(
        stderr.matches("the sign-in is still waiting").count(),
        2,
        "{stderr}"
    );
    assert!(stderr.contains("another sign-in"), "{stderr}");
    assert!(!stderr.contains(&code), "{stderr}");
    assert!(!stderr.lines().any(|l| l.starts_with("error:")), "{stderr}");
    assert_eq!(home.status().0["signed_in"], true);
    assert_eq!(
        fake.stats().code_exchanges,
        1,
        "refused pastes never reach the token endpoint"
    );
}

#[tokio::test]
async fn login_paste_with_nothing_on_stdin_still_completes_through_the_callback() {
    let fake = fake().await;
    let home = Home::new(&fake);
    let mut c = home.cmd(&bin("codex-mcp-bridge"));
    c.args(["login", "--paste"]);
    // stdin is /dev/null: EOF at once, which only means nothing is pasted.
    let run = Running::spawn(c);
    let url = run.line();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let page = browser().get(&url).send().await.unwrap();
    assert!(page.url().path().ends_with("/success"), "{}", page.url());
    let (code, stderr) = run.finish();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(home.status().0["signed_in"], true);
}
