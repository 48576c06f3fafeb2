//! How a file writes values, by its name: code, configuration or shell.

/// How a file writes values: in code a bare value is an expression (`password = read()`), in
/// configuration it is the value itself, in shell it ends at the first blank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Code,
    Config,
    Shell,
}

impl Syntax {
    /// The syntax of a file by its name.
    pub fn of(name: &str) -> Self {
        let lower = name.to_ascii_lowercase();
        let base = lower.rsplit('/').next().unwrap_or(&lower);
        let ext = base.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        const SHELL_NAMES: &[&str] = &[
            "dockerfile",
            "containerfile",
            "makefile",
            "bashrc",
            ".bashrc",
            "zshrc",
            ".zshrc",
            ".profile",
            "profile",
            ".bash_profile",
            ".zprofile",
            "config.fish",
            "procfile",
        ];
        if SHELL_NAMES.contains(&base)
            || base.starts_with("dockerfile.")
            || base.ends_with(".dockerfile")
            || matches!(ext, "sh" | "bash" | "zsh" | "fish" | "ksh" | "ps1" | "mk")
        {
            return Syntax::Shell;
        }
        const CODE_EXTS: &[&str] = &[
            "rs", "py", "pyi", "js", "mjs", "cjs", "jsx", "ts", "mts", "cts", "tsx", "go", "java",
            "kt", "kts", "scala", "sc", "rb", "php", "c", "h", "cc", "cpp", "cxx", "hpp", "hh",
            "cs", "fs", "swift", "m", "mm", "dart", "lua", "pl", "pm", "r", "ex", "exs", "erl",
            "clj", "cljs", "groovy", "gradle", "vue", "svelte", "hs", "ml", "zig", "nim", "jl",
            "sql", "tf", "hcl",
        ];
        if CODE_EXTS.contains(&ext) {
            Syntax::Code
        } else {
            Syntax::Config
        }
    }
}
