//! The sandbox itself, run directly (not through Codex): the real bridge binary as launcher, a
//! temp copy folder, and each escape tried for real. Every escape probe is first run outside the
//! sandbox, to show it would have worked there.

use std::io::ErrorKind;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use codex_oauth_core::sandbox::{self, Availability, Launcher, Output, Sandbox};

use crate::support::*;

const PYTHON: &str = "/usr/bin/python3";

/// A task's folders: the copy, the private temp folder, and a place outside both.
struct Task {
    dir: tempfile::TempDir,
}

impl Task {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for d in ["copy", "tmp", "outside"] {
            std::fs::create_dir(dir.path().join(d)).unwrap();
        }
        std::fs::write(dir.path().join("copy/README"), "the copy\n").unwrap();
        Self { dir }
    }

    fn copy(&self) -> PathBuf {
        self.dir.path().join("copy")
    }

    fn outside(&self) -> PathBuf {
        self.dir.path().join("outside")
    }

    fn sandbox(&self) -> Sandbox {
        let available = sandbox::availability();
        assert!(
            matches!(available, Availability::Available { .. }),
            "this machine must be able to sandbox: {available:?}"
        );
        Sandbox::new(
            Launcher::bridge(bin("codex-mcp-bridge")),
            self.copy(),
            self.dir.path().join("tmp"),
        )
        .time_limit(Duration::from_secs(20))
    }
}

async fn run(sandbox: &Sandbox, command: &str) -> Output {
    sandbox.run(command).await.unwrap()
}

/// `command` run by `sh -c` outside any sandbox: its exit code and output.
fn unconfined(command: &str) -> (i32, String) {
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .output()
        .unwrap();
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

fn python_connect(family: &str, address: &str) -> String {
    format!(
        "{PYTHON} -c 'import socket,sys; s=socket.socket(socket.{family}); s.settimeout(3); \
         s.connect({address}); print(\"connected\")'"
    )
}

#[tokio::test]
async fn a_connection_to_a_local_tcp_server_fails() {
    let task = Task::new();
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    server.set_nonblocking(true).unwrap();
    let port = server.local_addr().unwrap().port();
    let probe = python_connect("AF_INET", &format!("(\"127.0.0.1\", {port})"));
    let (code, text) = unconfined(&probe);
    assert_eq!((code, text.trim()), (0, "connected"), "control run failed");
    server.accept().unwrap();
    let out = run(&task.sandbox(), &probe).await;
    assert_ne!(out.exit_code, Some(0), "{out:?}");
    assert!(!out.text.contains("connected\n"), "{out:?}");
    let err = server.accept().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WouldBlock, "the server was reached");
}

#[tokio::test]
async fn a_connection_to_a_unix_socket_outside_the_copy_fails() {
    let task = Task::new();
    let path = task.outside().join("agent.sock");
    let server = UnixListener::bind(&path).unwrap();
    server.set_nonblocking(true).unwrap();
    let probe = python_connect("AF_UNIX", &format!("\"{}\"", path.display()));
    let (code, text) = unconfined(&probe);
    assert_eq!((code, text.trim()), (0, "connected"), "control run failed");
    server.accept().unwrap();
    let out = run(&task.sandbox(), &probe).await;
    assert_ne!(out.exit_code, Some(0), "{out:?}");
    assert_eq!(server.accept().unwrap_err().kind(), ErrorKind::WouldBlock);
}

#[tokio::test]
async fn a_connection_to_an_abstract_unix_socket_fails() {
    use std::os::linux::net::SocketAddrExt;
    let task = Task::new();
    let name = format!("codex-sandbox-test-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let server = UnixListener::bind_addr(&addr).unwrap();
    server.set_nonblocking(true).unwrap();
    let probe = python_connect("AF_UNIX", &format!("\"\\0{name}\""));
    let (code, text) = unconfined(&probe);
    assert_eq!((code, text.trim()), (0, "connected"), "control run failed");
    server.accept().unwrap();
    let out = run(&task.sandbox(), &probe).await;
    assert_ne!(out.exit_code, Some(0), "{out:?}");
    assert_eq!(server.accept().unwrap_err().kind(), ErrorKind::WouldBlock);
}

#[tokio::test]
async fn the_home_folders_secrets_cannot_be_read() {
    let task = Task::new();
    let home = task.dir.path().join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::write(home.join(".ssh/id_rsa"), "FAKE PRIVATE KEY\n").unwrap();
    let key = home.join(".ssh/id_rsa");
    let probe = format!("cat '{}'", key.display());
    assert_eq!(
        unconfined(&probe).1,
        "FAKE PRIVATE KEY\n",
        "control run failed"
    );
    let caller = [("HOME".to_owned(), home.display().to_string())];
    let sandbox = task.sandbox().caller_env(caller);
    let out = run(
        &sandbox,
        &format!(
            "{probe}; cat \"$HOME/.ssh/id_rsa\"; ls -a '{}'",
            home.display()
        ),
    )
    .await;
    assert!(!out.text.contains("FAKE PRIVATE KEY"), "{out:?}");
    assert_ne!(out.exit_code, Some(0), "{out:?}");
    // The real home folder (the bridge's store lives there) is not there either.
    if let Some(real) = std::env::var_os("HOME") {
        let out = run(&sandbox, &format!("ls -a '{}'", Path::new(&real).display())).await;
        assert_ne!(out.exit_code, Some(0), "{out:?}");
    }
}

#[tokio::test]
async fn the_systems_password_hashes_read_empty_even_for_root() {
    let task = Task::new();
    let out = run(&task.sandbox(), "cat /etc/shadow /etc/gshadow; id -u").await;
    assert!(!out.text.contains("root:"), "{out:?}");
    if out.text.trim() == "0" {
        // As root the read itself succeeds: it must read nothing.
        assert_eq!(out.exit_code, Some(0), "{out:?}");
    }
}

#[tokio::test]
async fn writes_outside_the_copy_fail_and_leave_nothing() {
    let task = Task::new();
    let target = task.outside().join("escaped");
    let out = run(
        &task.sandbox(),
        &format!(
            "echo x > '{}'; echo x > /etc/escaped; echo x > /escaped; echo x > /tmp/escaped",
            target.display()
        ),
    )
    .await;
    assert_ne!(out.exit_code, Some(0), "{out:?}");
    assert!(!target.exists(), "{out:?}");
    assert!(!Path::new("/etc/escaped").exists());
    assert!(!Path::new("/escaped").exists());
    assert!(!Path::new("/tmp/escaped").exists());
}

#[tokio::test]
async fn writes_inside_the_copy_and_the_private_temp_work() {
    let task = Task::new();
    let out = run(
        &task.sandbox(),
        "echo a > made.txt && echo b > \"$TMPDIR/t\" && cat \"$TMPDIR/t\" && echo c > \"$HOME/h\" \
         && mkdir -p sub/dir && mv made.txt sub/dir/ && cat README",
    )
    .await;
    assert_eq!(out.exit_code, Some(0), "{out:?}");
    assert_eq!(out.text, "b\nthe copy\n");
    assert_eq!(
        std::fs::read_to_string(task.copy().join("sub/dir/made.txt")).unwrap(),
        "a\n"
    );
    assert!(task.dir.path().join("tmp/home/h").exists());
}

#[tokio::test]
async fn a_read_only_toolchain_folder_is_readable_not_writable() {
    let task = Task::new();
    let tools = task.dir.path().join("tools");
    std::fs::create_dir(&tools).unwrap();
    std::fs::write(tools.join("tool.txt"), "a tool\n").unwrap();
    let sandbox = task.sandbox().read_only([tools.clone()]);
    let t = tools.display();
    let out = run(
        &sandbox,
        &format!("cat '{t}/tool.txt' && echo x > '{t}/tool.txt'"),
    )
    .await;
    assert_ne!(out.exit_code, Some(0), "{out:?}");
    assert!(out.text.starts_with("a tool\n"), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(tools.join("tool.txt")).unwrap(),
        "a tool\n"
    );
    let out = run(&sandbox, &format!("touch '{t}/new'; rm '{t}/tool.txt'")).await;
    assert_ne!(out.exit_code, Some(0), "{out:?}");
    assert!(!tools.join("new").exists() && tools.join("tool.txt").exists());
}

#[tokio::test]
async fn signals_to_processes_outside_fail() {
    let task = Task::new();
    let mut victim = Command::new("sleep").arg("60").spawn().unwrap();
    let out = run(
        &task.sandbox(),
        &format!(
            "kill -TERM {0}; kill -KILL {0}; kill -KILL {1}",
            victim.id(),
            std::process::id()
        ),
    )
    .await;
    assert_ne!(out.exit_code, Some(0), "{out:?}");
    assert!(
        victim.try_wait().unwrap().is_none(),
        "the victim was killed: {out:?}"
    );
    // ptrace(PTRACE_ATTACH) of it fails too, and it has no tracer.
    let attach = format!(
        "{PYTHON} -c 'import ctypes,sys; r=ctypes.CDLL(None).ptrace(16, {}, 0, 0); sys.exit(0 if r == 0 else 1)'",
        victim.id()
    );
    let out = run(&task.sandbox(), &attach).await;
    assert_eq!(out.exit_code, Some(1), "{out:?}");
    let status = std::fs::read_to_string(format!("/proc/{}/status", victim.id())).unwrap();
    assert!(status.contains("TracerPid:\t0"), "{status}");
    victim.kill().unwrap();
    victim.wait().unwrap();
}

#[tokio::test]
async fn the_environment_holds_only_the_allow_list() {
    let task = Task::new();
    let caller = [
        ("PATH".to_owned(), "/usr/bin:/bin".to_owned()),
        ("CODEX_SANDBOX_MARKER".to_owned(), "leaked".to_owned()),
        ("OPENAI_API_KEY".to_owned(), "sk-leaked".to_owned()),
    ];
    let out = run(&task.sandbox().caller_env(caller), "env").await;
    assert_eq!(out.exit_code, Some(0), "{out:?}");
    assert!(!out.text.contains("leaked"), "{out:?}");
    let names: Vec<&str> = out
        .text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, _)| k)
        .collect();
    for name in &names {
        assert!(
            sandbox::ALLOWED_ENV.contains(name) || *name == "PWD",
            "{name} in {out:?}"
        );
    }
    // Nothing of this process's own environment either.
    let out = run(&task.sandbox(), "env").await;
    for (k, v) in std::env::vars() {
        if !sandbox::ALLOWED_ENV.contains(&k.as_str()) && k != "PWD" {
            assert!(
                !out.text.contains(&format!("{k}={v}")),
                "{k} leaked: {out:?}"
            );
        }
    }
}

/// Whether a process with `marker` in its command line is running (anywhere on the machine).
fn running(marker: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        std::fs::read(e.path().join("cmdline")).is_ok_and(|c| {
            String::from_utf8_lossy(&c)
                .replace('\0', " ")
                .contains(marker)
        })
    })
}

#[tokio::test]
async fn a_command_past_its_time_limit_is_killed_with_its_children() {
    let task = Task::new();
    let sandbox = task.sandbox().time_limit(Duration::from_secs(1));
    let started = Instant::now();
    let out = run(&sandbox, "echo started; sleep 1001 & sleep 1002").await;
    assert!(out.timed_out, "{out:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "{out:?}");
    assert!(out.text.contains("started"), "{out:?}");
    assert!(!out.success());
    let end = Instant::now() + Duration::from_secs(3);
    while running("sleep 100") && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !running("sleep 1001") && !running("sleep 1002"),
        "a child outlived the command"
    );
}

#[tokio::test]
async fn a_command_that_leaves_a_child_behind_ends_with_it_killed() {
    let task = Task::new();
    let out = run(&task.sandbox(), "sleep 1003 & echo done").await;
    assert_eq!(out.exit_code, Some(0), "{out:?}");
    assert!(!out.timed_out);
    assert!(out.wall_time < Duration::from_secs(5), "{out:?}");
    let end = Instant::now() + Duration::from_secs(3);
    while running("sleep 1003") && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !running("sleep 1003"),
        "the background child outlived the command"
    );
}

#[tokio::test]
async fn the_output_cap_truncates() {
    let task = Task::new();
    let sandbox = task.sandbox().output_cap(1000);
    let out = run(
        &sandbox,
        "head -c 100000 /dev/zero | tr '\\0' x; echo; echo END >&2",
    )
    .await;
    assert_eq!(out.exit_code, Some(0), "{out:?}");
    assert!(out.truncated);
    assert!(out.text.len() < 1100, "{}", out.text.len());
    assert!(
        out.text.trim_end().ends_with("END"),
        "stderr is captured too: {out:?}"
    );
}

#[tokio::test]
async fn system_tools_and_exit_codes_work() {
    let task = Task::new();
    let sandbox = task.sandbox();
    let out = run(&sandbox, "ls /usr/bin").await;
    assert_eq!(out.exit_code, Some(0), "{out:?}");
    assert!(out.text.lines().any(|l| l == "sh"), "{out:?}");
    let out = run(&sandbox, "exit 3").await;
    assert_eq!((out.exit_code, out.signal), (Some(3), None));
    sandbox.probe().await.unwrap();
}

#[tokio::test]
async fn git_status_runs_in_the_copy() {
    let Some(git) = ["/usr/bin/git", "/usr/local/bin/git"]
        .into_iter()
        .find(|g| Path::new(g).exists())
    else {
        eprintln!("git is not installed: skipped");
        return;
    };
    let task = Task::new();
    let out = run(
        &task.sandbox(),
        &format!("{git} init -q && {git} status --short"),
    )
    .await;
    assert_eq!(out.exit_code, Some(0), "{out:?}");
    assert!(out.text.contains("?? README"), "{out:?}");
}

#[tokio::test]
async fn a_sandbox_that_cannot_be_set_up_is_an_error_not_an_unconfined_run() {
    let task = Task::new();
    let sandbox = Sandbox::new(
        Launcher::bridge(bin("codex-mcp-bridge")),
        task.dir.path().join("missing"),
        task.dir.path().join("tmp"),
    );
    let err = sandbox.run("touch /tmp/ran-unconfined").await.unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
    assert!(!Path::new("/tmp/ran-unconfined").exists());
    let enforced = task.sandbox().enforced();
    assert!(enforced.mechanism.contains("Landlock"), "{enforced:?}");
    assert_eq!(
        enforced.writable,
        vec![task.copy(), task.dir.path().join("tmp")]
    );
}
