//! `codex_query`'s `files` through the real bridge: the workspace is the client's MCP roots (and
//! follows their change), else the bridge's working folder; what went to fake-openai is exactly
//! what the result lists, and no secret of the workspace is in it.
// Roots are deprecated in the newest MCP revision (SEP-2577); the clients of today send them.
#![allow(deprecated)]

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation,
    ListRootsResult, Root,
};
use rmcp::service::{RequestContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, ErrorData, RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::support::*;

/// A client that gives `roots` (file URIs) when `with_roots`.
#[derive(Clone)]
struct RootsClient {
    roots: Arc<Mutex<Vec<String>>>,
    with_roots: bool,
}

impl ClientHandler for RootsClient {
    fn get_info(&self) -> ClientConfig {
        #[allow(deprecated)]
        let capabilities = if self.with_roots {
            ClientCapabilities::builder()
                .enable_roots()
                .enable_roots_list_changed()
                .build()
        } else {
            ClientCapabilities::default()
        };
        ClientConfig::new(capabilities, Implementation::new("files-e2e", "1"))
    }

    #[allow(deprecated)]
    async fn list_roots(
        &self,
        _cx: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, ErrorData> {
        let roots = self.roots.lock().unwrap().iter().map(Root::new).collect();
        Ok(ListRootsResult::new(roots))
    }
}

fn uri(dir: &Path) -> String {
    url::Url::from_directory_path(dir).unwrap().to_string()
}

async fn bridge(
    home: &Home,
    client: RootsClient,
    cwd: &Path,
) -> RunningService<RoleClient, RootsClient> {
    let mut std_cmd = home.cmd(&bin("codex-mcp-bridge"));
    std_cmd.current_dir(cwd);
    let mut cmd = tokio::process::Command::from(std_cmd);
    cmd.stderr(Stdio::null());
    client
        .serve(TokioChildProcess::new(cmd).unwrap())
        .await
        .expect("the bridge completes initialize")
}

async fn query(s: &RunningService<RoleClient, RootsClient>, args: Value) -> CallToolResult {
    let Value::Object(m) = args else { panic!() };
    s.call_tool(CallToolRequestParams::new("codex_query").with_arguments(m))
        .await
        .unwrap()
}

/// What the last request to the backend sent, as text.
fn last_sent(fake: &fake_openai::FakeOpenAi) -> String {
    let r = fake.requests_to("/responses");
    r.last()
        .expect("a request reached the backend")
        .body
        .to_string()
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (path, body) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
}

#[tokio::test]
async fn the_named_files_of_the_roots_go_with_line_numbers_and_the_result_lists_what_went() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    let ws = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    write(
        ws.path(),
        &[
            (".gitignore", "build/\n"),
            (
                "src/lib.rs",
                "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n",
            ),
            ("src/config.py", "import os\nKEY = 'AKIAIOSFODNN7EXAMPLE'\n"),
            (".env", "OPENAI_API_KEY=sk-proj-AbCdEfGhIjKlMnOpQrStUvWx\n"),
            ("build/out.txt", "generated\n"),
        ],
    );
    write(outside.path(), &[("notes.txt", "not in the workspace\n")]);
    let client = RootsClient {
        roots: Arc::new(Mutex::new(vec![uri(ws.path())])),
        with_roots: true,
    };
    // The bridge's working folder is elsewhere: the roots decide.
    let s = bridge(&home, client, outside.path()).await;
    let escape = outside.path().join("notes.txt");
    let r = query(
        &s,
        json!({"prompt": "Is add correct?", "files": ["src", ".env", "build/out.txt", escape.to_str().unwrap()]}),
    )
    .await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    let data = r.structured_content.clone().unwrap();
    let sent: Vec<&str> = data["files"]["sent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(sent, ["src/config.py", "src/lib.rs"]);
    let skipped: Vec<(&str, &str)> = data["files"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(skipped[0], (".env", "an .env file: never sent"));
    assert_eq!(skipped[1], ("build/out.txt", "ignored by .gitignore"));
    assert!(
        skipped[2].1.starts_with("outside the workspace"),
        "{skipped:?}"
    );
    assert_eq!(
        data["files"]["sent"][0]["redactions"],
        json!([{"line": 2, "kind": "aws_access_key_id"}])
    );
    assert!(
        text(&r).contains(
            "Files: 2 files sent; redacted: src/config.py:2 aws_access_key_id; not sent: .env"
        ),
        "{}",
        text(&r)
    );

    let body = last_sent(&fake);
    assert!(
        body.contains(r#" \"src/lib.rs\" (3 lines) ====="#),
        "{body}"
    );
    assert!(body.contains("2 |     a + b"), "{body}");
    assert!(body.contains("Is add correct?"));
    for secret in [
        "AKIAIOSFODNN7EXAMPLE",
        "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx",
        "generated",
        "not in the workspace",
    ] {
        assert!(!body.contains(secret), "{secret} left the machine: {body}");
    }
    s.cancel().await.unwrap();
}

#[tokio::test]
async fn a_change_of_roots_is_followed_and_without_roots_the_working_folder_is_the_workspace() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write(first.path(), &[("one.txt", "first root\n")]);
    write(second.path(), &[("two.txt", "second root\n")]);
    let roots = Arc::new(Mutex::new(vec![uri(first.path())]));
    let client = RootsClient {
        roots: Arc::clone(&roots),
        with_roots: true,
    };
    let s = bridge(&home, client, first.path()).await;
    let r = query(&s, json!({"prompt": "q", "files": ["two.txt"]})).await;
    assert_eq!(r.is_error, Some(true), "two.txt is not in the first root");
    assert!(
        text(&r).contains("No file of `files` can be sent"),
        "{}",
        text(&r)
    );
    assert!(
        fake.requests_to("/responses").is_empty(),
        "nothing goes without its files"
    );

    *roots.lock().unwrap() = vec![uri(second.path())];
    s.notify_roots_list_changed().await.unwrap();
    // The notification and the next call travel separately: wait until the bridge has asked
    // for the roots again.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let r = query(&s, json!({"prompt": "q", "files": ["two.txt"]})).await;
        if r.is_error != Some(true) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the new roots were not used: {}",
            text(&r)
        );
        tokio::task::yield_now().await;
    }
    assert!(last_sent(&fake).contains("second root"));
    s.cancel().await.unwrap();

    // A client without roots: the bridge's working folder.
    let client = RootsClient {
        roots: Arc::new(Mutex::new(vec![])),
        with_roots: false,
    };
    let s = bridge(&home, client, first.path()).await;
    let r = query(&s, json!({"prompt": "q", "files": ["one.txt"]})).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    assert!(last_sent(&fake).contains("first root"));
    s.cancel().await.unwrap();
}

#[tokio::test]
async fn the_size_caps_of_config_toml_apply_and_the_cut_is_in_the_result() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    std::fs::write(home.path().join("config.toml"), "files_max_file_kb = 1\n").unwrap();
    let ws = tempfile::tempdir().unwrap();
    let long: String = (1..=300).map(|i| format!("line {i:04}\n")).collect(); // 10 bytes a line
    write(ws.path(), &[("big.txt", &long)]);
    let client = RootsClient {
        roots: Arc::new(Mutex::new(vec![])),
        with_roots: false,
    };
    let s = bridge(&home, client, ws.path()).await;
    let r = query(&s, json!({"prompt": "q", "files": ["big.txt"]})).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    let data = r.structured_content.clone().unwrap();
    let f = &data["files"]["sent"][0];
    assert_eq!(
        (f["lines"].as_u64(), f["truncated"].as_bool()),
        (Some(102), Some(true)),
        "{f}"
    );
    assert!(
        text(&r).contains("1 file sent (1 cut at the size limit)"),
        "{}",
        text(&r)
    );
    let body = last_sent(&fake);
    assert!(
        body.contains("line 0102") && !body.contains("line 0103"),
        "{body}"
    );
    s.cancel().await.unwrap();
}

/// A 2×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x7b, 0x40, 0xe8,
    0xdd, 0x00, 0x00, 0x00, 0x0f, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xc0,
    0xf0, 0x9f, 0x01, 0x00, 0x07, 0xff, 0x01, 0xff, 0x01, 0x7f, 0x89, 0xa7, 0x00, 0x00, 0x00, 0x00,
    0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[tokio::test]
async fn an_image_goes_as_input_image_to_a_model_that_takes_images_and_is_refused_by_one_that_does_not()
 {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    let ws = tempfile::tempdir().unwrap();
    std::fs::write(ws.path().join("bug.png"), PNG).unwrap();
    std::fs::write(ws.path().join("notes.txt"), "not an image").unwrap();
    let client = RootsClient {
        roots: Arc::new(Mutex::new(vec![])),
        with_roots: false,
    };
    let s = bridge(&home, client, ws.path()).await;
    let r = query(
        &s,
        json!({"prompt": "What is wrong here?", "images": ["bug.png"], "model": "gpt-5.5"}),
    )
    .await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    let data = r.structured_content.clone().unwrap();
    assert_eq!(
        data["images"],
        json!([{"source": "bug.png", "mime": "image/png", "width": 2, "height": 1, "bytes": PNG.len()}])
    );
    assert!(
        text(&r).contains("Images: bug.png (2×1, 1 KB)."),
        "{}",
        text(&r)
    );
    let body = fake.requests_to("/responses").last().unwrap().body.clone();
    let user = body["input"].as_array().unwrap().last().unwrap();
    assert_eq!(user["content"][1]["type"], json!("input_image"));
    assert!(
        user["content"][1]["image_url"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,iVBORw0KGgo")
    );

    // A text-only model: refused before anything is sent; so is a file that is no image.
    let before = fake.requests_to("/responses").len();
    let r = query(
        &s,
        json!({"prompt": "q", "images": ["bug.png"], "model": "gpt-6-luna"}),
    )
    .await;
    assert_eq!(r.is_error, Some(true));
    assert!(
        text(&r).contains("The model gpt-6-luna takes text only"),
        "{}",
        text(&r)
    );
    let r = query(
        &s,
        json!({"prompt": "q", "images": ["notes.txt", "../x.png"], "model": "gpt-5.5"}),
    )
    .await;
    assert_eq!(r.is_error, Some(true));
    let t = text(&r);
    assert!(
        t.contains("notes.txt: not an image") && t.contains("../x.png: not found in the workspace"),
        "{t}"
    );
    assert_eq!(fake.requests_to("/responses").len(), before);
    s.cancel().await.unwrap();
}
