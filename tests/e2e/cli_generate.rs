//! The shell completions and the man pages the CLI generates: every command named, roff that
//! `man` reads, one page per command.

use crate::cli_output::{piped, run, text};
use crate::support::*;

#[tokio::test]
async fn completions_for_each_shell_name_the_commands() {
    let fake = fake().await;
    let home = Home::new(&fake);
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = run(piped(&home), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out.stderr));
        assert!(out.stderr.is_empty(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        assert!(script.len() > 200, "{shell}: {script}");
        assert!(script.contains("codex-mcp-bridge"), "{shell}");
        for sub in [
            "login",
            "status",
            "token",
            "logout",
            "import-codex",
            "plugin-config",
            "completions",
        ] {
            assert!(script.contains(sub), "{shell} completion lacks {sub}");
        }
        for flag in ["profile", "json", "device", "verbose"] {
            // fish names a long option `-l profile`; the others `--profile`.
            let spelled = if shell == "fish" {
                format!("-l {flag}")
            } else {
                format!("--{flag}")
            };
            assert!(
                script.contains(&spelled),
                "{shell} completion lacks {spelled}"
            );
        }
    }
    let out = run(piped(&home), &["completions", "tcsh"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

/// The page without roff's two-line preamble (`.ie`/`.el`, which defines the apostrophe string
/// `\*(Aq`): clap_mangen puts it before the title.
fn after_preamble(page: &str) -> &str {
    let mut rest = page;
    for start in [".ie \\n(.g .ds Aq", ".el .ds Aq"] {
        if rest.starts_with(start) {
            rest = rest.split_once('\n').map_or("", |(_, r)| r);
        }
    }
    rest
}

#[tokio::test]
async fn the_man_page_is_roff_and_lists_the_commands() {
    let fake = fake().await;
    let home = Home::new(&fake);
    // A broken config file does not stop it: it needs no settings.
    std::fs::write(home.path().join("config.toml"), "store = 3").unwrap();
    let out = run(piped(&home), &["man"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let page = text(&out.stdout);
    assert!(
        after_preamble(&page).starts_with(".TH codex-mcp-bridge 1"),
        "{page}"
    );
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH SUBCOMMANDS"] {
        assert!(page.contains(section), "the man page lacks {section}");
    }
    for sub in [
        "login",
        "status",
        "token",
        "logout",
        "import\\-codex",
        "completions",
        "accounts",
        "use",
    ] {
        assert!(
            page.contains(&format!("codex\\-mcp\\-bridge\\-{sub}(1)")),
            "the man page lacks {sub}"
        );
    }
    assert!(page.contains("verbose"), "the man page lacks --verbose");
    assert!(!page.contains("bridge\\-help(1)"), "no page for `help`");

    // For packages: every page it refers to, written to a folder.
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        piped(&home),
        &["man", "--out-dir", dir.path().to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for name in [
        "codex-mcp-bridge",
        "codex-mcp-bridge-login",
        "codex-mcp-bridge-status",
        "codex-mcp-bridge-token",
        "codex-mcp-bridge-logout",
        "codex-mcp-bridge-import-codex",
        "codex-mcp-bridge-plugin-config",
        "codex-mcp-bridge-completions",
        "codex-mcp-bridge-accounts",
        "codex-mcp-bridge-use",
        "codex-mcp-bridge-jobs",
        "codex-mcp-bridge-jobs-show",
        "codex-mcp-bridge-jobs-cancel",
        "codex-mcp-bridge-jobs-apply",
        "codex-mcp-bridge-task",
    ] {
        let page = std::fs::read_to_string(dir.path().join(format!("{name}.1")))
            .unwrap_or_else(|e| panic!("{name}.1: {e}"));
        assert!(after_preamble(&page).starts_with(".TH"), "{name}.1: {page}");
    }
    let pages = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(
        pages, 15,
        "one page each (jobs and its three), none for `help`, `man` or the hidden `run-job`"
    );
}
