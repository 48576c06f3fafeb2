//! Shared helpers: where the binaries are, a temp home wired to a fake, running the CLI.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use fake_openai::{FakeConfig, FakeOpenAi};
use serde_json::Value;

/// A binary of the workspace, next to this package's own binaries.
pub fn bin(name: &str) -> PathBuf {
    let own = PathBuf::from(env!("CARGO_BIN_EXE_race-client"));
    let path = own
        .parent()
        .unwrap()
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: build the workspace first (`cargo build --workspace`)",
        path.display()
    );
    path
}

pub fn own_bin(name: &str) -> PathBuf {
    match name {
        "race-client" => PathBuf::from(env!("CARGO_BIN_EXE_race-client")),
        "store-writer" => PathBuf::from(env!("CARGO_BIN_EXE_store-writer")),
        "fake-openai" => PathBuf::from(env!("CARGO_BIN_EXE_fake-openai")),
        other => panic!("unknown helper {other}"),
    }
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A temp CODEX_OAUTH_HOME pointed at a fake, with the file store and no browser.
pub struct Home {
    pub dir: tempfile::TempDir,
    pub env: HashMap<String, String>,
}

impl Home {
    pub fn new(fake: &FakeOpenAi) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut env = HashMap::new();
        env.insert(
            "CODEX_OAUTH_HOME".into(),
            dir.path().to_string_lossy().into_owned(),
        );
        env.extend(fake.env());
        env.insert("CODEX_OAUTH_STORE".into(), "file".into());
        env.insert("CODEX_OAUTH_NO_BROWSER".into(), "1".into());
        env.insert("CODEX_OAUTH_CALLBACK_PORT".into(), free_port().to_string());
        Self { dir, env }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn profile_dir(&self) -> PathBuf {
        self.path().join("default")
    }

    pub fn settings(&self) -> codex_oauth_core::Settings {
        codex_oauth_core::Settings::from_env(&self.env).unwrap()
    }

    /// A command with this home's environment and nothing inherited that could leak in.
    pub fn cmd(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        for (k, _) in std::env::vars() {
            if k.starts_with("CODEX_OAUTH_") || k == "CODEX_HOME" {
                c.env_remove(k);
            }
        }
        c.envs(&self.env);
        c.env("RUST_LOG", "warn");
        c
    }

    pub fn cli(&self, args: &[&str]) -> Output {
        self.cmd(&bin("codex-mcp-bridge"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// The CLI with `input` on its standard input (then closed).
    pub fn cli_with_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self
            .cmd(&bin("codex-mcp-bridge"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), input).unwrap();
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    pub fn status(&self) -> (Value, i32) {
        let out = self.cli(&["status", "--json"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "status --json printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        (v, out.status.code().unwrap())
    }

    /// Sign in directly with tokens the fake minted (as if a sign-in happened).
    pub async fn seed(&self, fake: &FakeOpenAi, access_ttl_secs: i64) {
        let t = fake.mint_tokens(access_ttl_secs);
        let rec = codex_oauth_core::store::AuthRecord::from_tokens(
            codex_oauth_core::Secret::new(t.id_token),
            codex_oauth_core::Secret::new(t.access_token),
            codex_oauth_core::Secret::new(t.refresh_token),
            None,
        );
        let session = codex_oauth_core::Session::open(self.settings()).unwrap();
        session.save_record(rec).await.unwrap();
    }

    pub fn auth_json(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.profile_dir().join("auth.json")).unwrap())
            .unwrap()
    }
}

pub async fn fake() -> FakeOpenAi {
    FakeOpenAi::start(FakeConfig::default()).await.unwrap()
}

pub async fn fake_with(f: impl FnOnce(&mut FakeConfig)) -> FakeOpenAi {
    let mut cfg = FakeConfig::default();
    f(&mut cfg);
    FakeOpenAi::start(cfg).await.unwrap()
}

/// A running CLI whose stdout lines we read as they come.
pub struct Running {
    pub child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Running {
    pub fn spawn(cmd: Command) -> Self {
        Self::spawn_with(cmd, Stdio::null())
    }

    /// `spawn`, with stdin a pipe the test writes to.
    pub fn spawn_piped(cmd: Command) -> (Self, std::process::ChildStdin) {
        let mut run = Self::spawn_with(cmd, Stdio::piped());
        let stdin = run.child.stdin.take().unwrap();
        (run, stdin)
    }

    fn spawn_with(mut cmd: Command, stdin: Stdio) -> Self {
        let mut child = cmd
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines: rx }
    }

    /// The next stdout line (waits up to 30 s: a hang fails the test instead of blocking it).
    pub fn line(&self) -> String {
        self.lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the process printed no further line within 30 s")
    }

    /// Exit code and stderr, waiting up to 60 s.
    pub fn finish(mut self) -> (i32, String) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                let mut err = String::new();
                use std::io::Read;
                self.child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                return (st.code().unwrap_or(-1), err);
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the process did not exit within 60 s");
            }
            std::thread::park_timeout(std::time::Duration::from_millis(20));
        }
    }
}

/// An HTTP client that follows redirects, like a browser.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

/// `?a=b` of a URL as a map.
pub fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// `token` must succeed: the access token it printed.
pub fn token(home: &Home) -> String {
    let out = home.cli(&["token"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The text blocks of a tool result, one per line.
pub fn text(r: &rmcp::model::CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A bridge (the real binary, over stdio) whose working folder is `cwd`: the workspace, when the
/// client gives no roots.
pub async fn bridge_in(
    home: &Home,
    cwd: &Path,
) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
    use rmcp::ServiceExt;
    let mut std_cmd = home.cmd(&bin("codex-mcp-bridge"));
    std_cmd.current_dir(cwd);
    let mut cmd = tokio::process::Command::from(std_cmd);
    cmd.stderr(Stdio::null());
    ().serve(rmcp::transport::TokioChildProcess::new(cmd).unwrap())
        .await
        .expect("the bridge completes initialize")
}

/// One `tools/call` of `tool` with `args` (a JSON object).
pub async fn call_tool(
    s: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    tool: &'static str,
    args: Value,
) -> rmcp::model::CallToolResult {
    let Value::Object(m) = args else {
        panic!("tool arguments are an object: {args}")
    };
    s.call_tool(rmcp::model::CallToolRequestParams::new(tool).with_arguments(m))
        .await
        .unwrap()
}
