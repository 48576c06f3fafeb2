//! Conformance: fake-openai held to the reference client, and our requests held to its
//! (PROTOCOL.md §8). The official Codex CLI (pinned in `tests/conformance/package.json`,
//! installed by `scripts/setup --test`) runs against fake-openai in API-key mode over plain HTTP
//! and in ChatGPT mode over TLS on `localhost` with a test CA made at run time. The fake must
//! accept every request it makes; our bridge, asked for the same model, must send the same
//! header names, body keys, input item kinds and roles, and reasoning fields; our authorize URL
//! must match the one `codex login` prints.
//!
//! Raising the pinned version is one line in `tests/conformance/package.json` (and `npm install`
//! there to refresh the lock); these tests then say what changed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fake_openai::{FakeConfig, FakeOpenAi, RecordedRequest, TestTls};
use serde_json::{Value, json};

use crate::bridge_faults::{Raw, tool_text};
use crate::support::{Home, Running, bin};

/// Headers the reference sends that are telemetry or transport (PROTOCOL.md §6: "none of those
/// is needed"), or that name the client itself.
const NOT_COMPARED: &[&str] = &[
    "x-codex-turn-metadata",
    "x-codex-window-id",
    "x-codex-beta-features",
    "x-codex-routing-hint",
    "content-encoding",
    "accept-encoding",
    "content-length",
    "host",
    "connection",
];

/// The reference client's binary: `CODEX_REFERENCE_BIN`, else the pinned npm install.
fn reference_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("CODEX_REFERENCE_BIN") {
        return PathBuf::from(p);
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/node_modules/.bin/codex");
    assert!(
        p.exists(),
        "the reference client is not installed at {}: run `scripts/setup --test` (npm ci in tests/conformance)",
        p.display()
    );
    p
}

/// The version the pin names, from package.json.
fn pinned_version() -> String {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/package.json"),
    )
    .unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["dependencies"]["@openai/codex"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A CODEX_HOME for the reference client, with HOME beside it (it must not touch the user's).
pub(crate) struct RefHome {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl RefHome {
    pub(crate) fn new(auth: Value, config: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let codex_home = dir.path().join("codex");
        std::fs::create_dir_all(&codex_home).unwrap();
        std::fs::write(
            codex_home.join("auth.json"),
            serde_json::to_vec_pretty(&auth).unwrap(),
        )
        .unwrap();
        std::fs::write(codex_home.join("config.toml"), config).unwrap();
        let env = vec![
            ("CODEX_HOME".into(), codex_home.display().to_string()),
            ("HOME".into(), dir.path().display().to_string()),
            ("NO_COLOR".into(), "1".into()),
        ];
        Self { dir, env }
    }

    /// The folder the reference client runs in (HOME too).
    pub(crate) fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    fn set(&mut self, k: &str, v: impl Into<String>) {
        self.env.push((k.into(), v.into()));
    }

    /// `codex <args>` with a time limit: (exit code, stdout, stderr).
    pub(crate) async fn run(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let mut cmd = tokio::process::Command::new(reference_bin());
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().cloned())
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = cmd.spawn().unwrap();
        let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
            .await
            .expect("the reference client finishes within 120 s")
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// `codex exec` of one prompt with `model`; it must succeed with the fake's echo.
async fn exec(home: &RefHome, model: &str, prompt: &str) {
    let (code, out, err) = home
        .run(&["exec", "--skip-git-repo-check", "-m", model, prompt])
        .await;
    assert_eq!(code, Some(0), "codex exec -m {model} failed:\n{out}\n{err}");
    assert!(
        out.contains("Echo #") && out.contains(prompt),
        "the answer reached the reference client ({model}):\n{out}\n{err}"
    );
}

/// Every request to `suffix` was accepted, and there was at least one.
pub(crate) fn all_accepted(fake: &FakeOpenAi, suffix: &str) -> Vec<RecordedRequest> {
    let reqs = fake.requests_to(suffix);
    assert!(
        !reqs.is_empty(),
        "the reference client made no request to {suffix}"
    );
    for r in &reqs {
        assert_eq!(
            r.rejected, None,
            "fake-openai refused a request of the reference client to {suffix}: {r:?}"
        );
    }
    reqs
}

fn chatgpt_auth(fake: &FakeOpenAi, access_ttl_secs: i64) -> Value {
    let t = fake.mint_tokens(access_ttl_secs);
    json!({
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": null,
        "tokens": {
            "id_token": t.id_token,
            "access_token": t.access_token,
            "refresh_token": t.refresh_token,
            "account_id": fake.config().account_id,
        },
        "last_refresh": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    })
}

/// The reference client in ChatGPT mode against a TLS fake (PROTOCOL.md §8).
fn chatgpt_home(fake: &FakeOpenAi, bundle: &Path, access_ttl_secs: i64) -> RefHome {
    let base = fake.base_url();
    let config = format!(
        "chatgpt_base_url = \"{base}/backend-api/\"\nopenai_base_url = \"{base}/backend-api/codex\"\n"
    );
    let mut home = RefHome::new(chatgpt_auth(fake, access_ttl_secs), &config);
    home.set("SSL_CERT_FILE", bundle.display().to_string());
    home.set(
        "CODEX_REFRESH_TOKEN_URL_OVERRIDE",
        format!("{}/oauth/token", fake.issuer()),
    );
    home
}

/// The shape of a `/responses` request, as compared: header names, body keys, input item
/// kinds and roles, the reasoning object, `text`.
#[derive(Debug, PartialEq)]
struct Shape {
    headers: BTreeSet<String>,
    keys: BTreeSet<String>,
    items: BTreeSet<(String, String)>,
    reasoning: Value,
    text: Value,
}

fn shape(r: &RecordedRequest) -> Shape {
    let input = r.body["input"].as_array().cloned().unwrap_or_default();
    Shape {
        headers: r
            .headers
            .keys()
            .filter(|k| !NOT_COMPARED.contains(&k.as_str()))
            .cloned()
            .collect(),
        keys: r
            .body
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default(),
        items: input
            .iter()
            // The reference client's own tools: this project sends none (PROTOCOL.md §6: the
            // item comes "when any").
            .filter(|i| i["type"] != "additional_tools")
            .map(|i| {
                (
                    i["type"].as_str().unwrap_or("").to_owned(),
                    i["role"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect(),
        reasoning: r.body["reasoning"].clone(),
        text: r.body["text"].clone(),
    }
}

/// The POST requests to the ChatGPT `/responses` for `model`.
fn responses_for(fake: &FakeOpenAi, model: &str) -> Vec<RecordedRequest> {
    fake.requests_to("/backend-api/codex/responses")
        .into_iter()
        .filter(|r| r.method == "POST" && r.body["model"] == model)
        .collect()
}

#[tokio::test]
#[ignore = "needs the reference client (tests/conformance, npm): run by scripts/test"]
async fn the_reference_client_in_api_key_mode_is_accepted_for_a_lite_model_and_gpt_5_5() {
    let fake = FakeOpenAi::start(FakeConfig::default()).await.unwrap();
    let home = RefHome::new(
        json!({"auth_mode": "apikey", "OPENAI_API_KEY": "sk-conformance-0001"}),
        &format!("openai_base_url = \"{}/v1\"\n", fake.base_url()),
    );
    exec(&home, "gpt-6.2-sol", "say hi from the lite model").await;
    exec(&home, "gpt-5.5", "say hi from the standard model").await;
    let reqs = all_accepted(&fake, "/v1/responses");
    let models: BTreeSet<&str> = reqs
        .iter()
        .filter_map(|r| r.body["model"].as_str())
        .collect();
    assert_eq!(models, BTreeSet::from(["gpt-5.5", "gpt-6.2-sol"]));
    for r in &reqs {
        for refused in [
            "instructions",
            "temperature",
            "max_output_tokens",
            "metadata",
        ] {
            assert!(
                r.body.get(refused).is_none(),
                "the reference sends no `{refused}`"
            );
        }
    }
}

/// What the reference client (0.171, ChatGPT mode) calls besides the protocol of PROTOCOL.md:
/// its plugin store, MCP connectors, user settings and analytics. This project uses none of them.
const REFERENCE_EXTRAS: &[&str] = &[
    " /backend-api/ps/plugins/",
    "POST /backend-api/ps/mcp:",
    "GET /backend-api/wham/settings/user:",
    "POST /backend-api/codex/analytics-events/events:",
];

#[tokio::test]
#[ignore = "needs the reference client (tests/conformance, npm): run by scripts/test"]
async fn the_reference_client_in_chatgpt_mode_is_accepted_and_our_bridge_sends_the_same_shape() {
    let tls = TestTls::localhost().unwrap();
    let fake = FakeOpenAi::start_tls(FakeConfig::default(), &tls)
        .await
        .unwrap();
    let certs = tempfile::tempdir().unwrap();
    let bundle = certs.path().join("bundle.pem");
    tls.write_bundle(&bundle).unwrap();

    // The reference client, first with an expired access token: it refreshes against the fake
    // (JSON body with `refresh_reason`), then asks the lite default and the standard gpt-5.5.
    let reference = chatgpt_home(&fake, &bundle, -60);
    exec(&reference, "gpt-6.2-sol", "hello lite").await;
    assert_eq!(
        fake.stats().refreshes,
        1,
        "the reference refreshed once, accepted"
    );
    exec(&reference, "gpt-5.5", "hello standard").await;
    let models = all_accepted(&fake, "/backend-api/codex/models");
    assert!(
        models
            .iter()
            .all(|r| r.query.as_deref() == Some("client_version=0.171.0")),
        "{models:?}"
    );
    all_accepted(&fake, "/backend-api/wham/accounts/check");
    all_accepted(&fake, "/backend-api/codex/responses");
    all_accepted(&fake, "/oauth/token");
    let theirs_lite = responses_for(&fake, "gpt-6.2-sol").pop().unwrap();
    let theirs_std = responses_for(&fake, "gpt-5.5").pop().unwrap();
    // Beyond the protocol this project speaks, the reference client asks for plugins, connectors,
    // user settings and analytics, which fake-openai does not serve (404). Those paths, and only
    // those, are taken out of the record here; our bridge, below, must cause none at all.
    let extras = fake.take_unexpected();
    let unknown: Vec<&String> = extras
        .iter()
        .filter(|l| !REFERENCE_EXTRAS.iter().any(|p| l.contains(p)))
        .collect();
    assert!(
        unknown.is_empty(),
        "the reference client called paths fake-openai does not know and this test does not list: {unknown:?}"
    );
    // It used the fake's catalog (a catalog it cannot parse is dropped for its built-in one).
    let developer_texts = |r: &RecordedRequest| -> Vec<String> {
        r.body["input"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["type"] == "message" && i["role"] == "developer")
            .filter_map(|i| i["content"][0]["text"].as_str().map(str::to_owned))
            .collect()
    };
    assert!(
        developer_texts(&theirs_lite)
            .contains(&"You are GPT-6.2 Sol, served by fake-openai.".to_owned()),
        "the reference client did not take fake-openai's catalog: {:?}",
        developer_texts(&theirs_lite)
    );
    assert_eq!(
        theirs_lite.headers["x-openai-internal-codex-responses-lite"],
        "true"
    );
    assert!(
        !theirs_std
            .headers
            .contains_key("x-openai-internal-codex-responses-lite")
    );
    assert_eq!(theirs_lite.headers["version"], pinned_version());

    // Our bridge against the same TLS fake, trusting the test CA through SSL_CERT_FILE only.
    let mut ours_home = Home::new(&fake);
    ours_home
        .env
        .insert("SSL_CERT_FILE".into(), bundle.display().to_string());
    ours_home.seed(&fake, 3600).await;
    let mut bridge = Raw::spawn(&ours_home);
    // First with no model: the catalog's default, as the reference client picks it.
    for (id, args) in [
        (1, json!({"prompt": "hello"})),
        (2, json!({"prompt": "hello", "model": "gpt-5.5"})),
    ] {
        let a = bridge.call(id, "codex_query", args.clone());
        assert_ne!(a["result"]["isError"], true, "{args}: {}", tool_text(&a));
        assert_eq!(
            a["result"]["structuredContent"]["answer"], "Echo #1: hello",
            "the answer is the final_answer phase alone (commentary kept out)"
        );
    }
    let (code, stderr) = bridge.finish();
    assert_eq!(code, Some(0), "{stderr}");
    let ours_lite = responses_for(&fake, "gpt-6.2-sol")
        .pop()
        .expect("a query without a model asks the catalog's default, gpt-6.2-sol");
    let ours_std = responses_for(&fake, "gpt-5.5").pop().unwrap();
    assert_eq!(ours_lite.rejected, None);
    assert_eq!(ours_std.rejected, None);

    for (what, ours, theirs) in [
        ("lite", &ours_lite, &theirs_lite),
        ("standard", &ours_std, &theirs_std),
    ] {
        let (o, t) = (shape(ours), shape(theirs));
        assert_eq!(o.headers, t.headers, "{what}: header names differ");
        assert_eq!(o.keys, t.keys, "{what}: body keys differ");
        assert!(
            o.items.is_subset(&t.items),
            "{what}: input items the reference never sends: {:?} (reference: {:?})",
            o.items.difference(&t.items).collect::<Vec<_>>(),
            t.items
        );
        assert_eq!(o.reasoning, t.reasoning, "{what}: reasoning differs");
        assert_eq!(o.text, t.text, "{what}: text differs");
        assert_eq!(ours.headers["version"], theirs.headers["version"], "{what}");
        for h in ["session-id", "thread-id", "x-client-request-id"] {
            assert_eq!(
                ours.headers[h], ours.body["prompt_cache_key"],
                "{what}: {h} is the conversation id"
            );
        }
    }
}

/// The query of a URL as (name, raw value) pairs, in order, as written (not decoded).
fn raw_pairs(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

#[tokio::test]
#[ignore = "needs the reference client (tests/conformance, npm) and port 1455: run by scripts/test"]
async fn our_authorize_url_has_the_parameters_order_and_values_that_codex_login_prints() {
    let mut home = RefHome::new(json!({}), "");
    home.set("BROWSER", "true");
    let mut cmd = tokio::process::Command::new(reference_bin());
    cmd.arg("login")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(home.env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // `codex` is a node launcher with the native binary as its child: a group of its own,
        // so the whole group can be ended (the native binary holds port 1455).
        .process_group(0)
        .kill_on_drop(true);
    std::fs::remove_file(home.dir.path().join("codex/auth.json")).unwrap();
    let mut child = cmd.spawn().unwrap();
    let find = |text: &str| {
        text.split_whitespace()
            .find(|w| w.contains("/oauth/authorize?"))
            .map(str::to_owned)
    };
    use tokio::io::AsyncReadExt;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let mut seen = String::new();
    let theirs = tokio::time::timeout(Duration::from_secs(60), async {
        let (mut a, mut b) = ([0u8; 4096], [0u8; 4096]);
        loop {
            tokio::select! {
                n = out.read(&mut a) => { let n = n.unwrap(); if n == 0 { break None; } seen.push_str(&String::from_utf8_lossy(&a[..n])); }
                n = err.read(&mut b) => { let n = n.unwrap(); if n == 0 { break None; } seen.push_str(&String::from_utf8_lossy(&b[..n])); }
            }
            if let Some(u) = find(&seen) {
                break Some(u);
            }
        }
    })
    .await
    .expect("codex login prints its URL within 60 s")
    .unwrap_or_else(|| panic!("codex login printed no authorize URL: {seen}"));
    if let Some(pid) = child.id() {
        // SAFETY: kill(2) on the process group this test created; no memory is involved.
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(-(pid as i32), libc::SIGKILL);
        }
    }
    let _ = child.wait().await;

    // Ours, as `codex-mcp-bridge login --no-browser` prints it, on the default port (1455, now
    // free again), against the real issuer's URL (nothing is sent: the URL is only printed).
    let fake = FakeOpenAi::start(FakeConfig::default()).await.unwrap();
    let mut ours_home = Home::new(&fake);
    for k in ["CODEX_OAUTH_CALLBACK_PORT", "CODEX_OAUTH_ISSUER"] {
        ours_home.env.remove(k);
    }
    let run = Running::spawn({
        let mut c = ours_home.cmd(&bin("codex-mcp-bridge"));
        c.args(["login", "--no-browser"]);
        c
    });
    let ours = run.line();
    let mut child = run.child;
    let _ = child.kill();
    let _ = child.wait();
    let (t, o) = (raw_pairs(&theirs), raw_pairs(&ours));
    let names = |p: &[(String, String)]| p.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    assert_eq!(names(&o), names(&t), "parameters or their order differ");
    let t: BTreeMap<_, _> = t.into_iter().collect();
    let o: BTreeMap<_, _> = o.into_iter().collect();
    for (k, v) in &t {
        match k.as_str() {
            "code_challenge" | "state" => assert_eq!(o[k].len(), v.len(), "{k} length"),
            _ => assert_eq!(&o[k], v, "{k} differs (as encoded)"),
        }
    }
    assert_eq!(
        theirs.split('?').next(),
        ours.split('?').next(),
        "the authorize endpoint differs"
    );
}
