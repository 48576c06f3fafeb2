//! Import a Codex CLI login (PROTOCOL.md §5): `$CODEX_HOME/auth.json`, or the Codex keychain item
//! (service `Codex Auth`, account `cli|<first 16 hex of SHA-256 of the canonical CODEX_HOME>`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::{AuthRecord, KEYCHAIN_TIMEOUT, Keychain, OsKeychain, TimedKeychain};

pub const CODEX_KEYCHAIN_SERVICE: &str = "Codex Auth";

/// The Codex CLI home: the given folder, else `$CODEX_HOME`, else `~/.codex`.
pub fn codex_home(explicit: Option<PathBuf>) -> Option<PathBuf> {
    explicit
        .or_else(|| {
            std::env::var_os("CODEX_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .or_else(|| directories::BaseDirs::new().map(|b| b.home_dir().join(".codex")))
}

/// The keychain account under which the Codex CLI keeps the login of `codex_home`.
pub fn codex_keychain_account(codex_home: &Path) -> String {
    let canonical = codex_home
        .canonicalize()
        .unwrap_or_else(|_| codex_home.to_path_buf());
    let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("cli|{}", &hex[..16])
}

/// Read the Codex CLI login of `codex_home`, from its `auth.json` or else its keychain item.
pub fn read_codex_login(codex_home: &Path, keychain: Option<&dyn Keychain>) -> Result<AuthRecord> {
    let file = codex_home.join("auth.json");
    match std::fs::read(&file) {
        Ok(bytes) => {
            return AuthRecord::from_json(&bytes).map_err(|e| {
                Error::Input(format!(
                    "{} is not a usable Codex login: {e}",
                    file.display()
                ))
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(Error::Io {
                action: "read",
                path: file,
                source: e,
            });
        }
    }
    let account = codex_keychain_account(codex_home);
    let os;
    let keychain = match keychain {
        Some(k) => k,
        None => {
            let inner: Arc<dyn Keychain> = Arc::new(OsKeychain::new(CODEX_KEYCHAIN_SERVICE));
            os = TimedKeychain::new(inner, KEYCHAIN_TIMEOUT);
            &os
        }
    };
    match keychain.get(&account) {
        Ok(Some(value)) => AuthRecord::from_json(value.as_bytes()).map_err(|e| {
            Error::Input(format!(
                "the Codex keychain item is not a usable login: {e}"
            ))
        }),
        Ok(None) => Err(Error::ImportNotFound(format!(
            "no {} and no keychain item `{CODEX_KEYCHAIN_SERVICE}`/`{account}`",
            file.display()
        ))),
        Err(e) => Err(Error::ImportNotFound(format!(
            "no {}, and the keychain could not be read: {e}",
            file.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryKeychain;

    #[test]
    fn reads_auth_json_first_then_the_keychain_item() {
        let dir = tempfile::tempdir().unwrap();
        let mem = MemoryKeychain::new(100_000);
        let err = read_codex_login(dir.path(), Some(&mem)).unwrap_err();
        assert!(matches!(err, Error::ImportNotFound(_)), "{err}");
        let rec = r#"{"auth_mode":"apikey","OPENAI_API_KEY":"sk-proj-abc"}"#;
        mem.set(&codex_keychain_account(dir.path()), rec).unwrap();
        let got = read_codex_login(dir.path(), Some(&mem)).unwrap();
        assert_eq!(got.openai_api_key.unwrap().expose(), "sk-proj-abc");
        std::fs::write(
            dir.path().join("auth.json"),
            r#"{"OPENAI_API_KEY":"sk-file"}"#,
        )
        .unwrap();
        let got = read_codex_login(dir.path(), Some(&mem)).unwrap();
        assert_eq!(got.openai_api_key.unwrap().expose(), "sk-file");
    }

    #[test]
    fn keychain_account_is_cli_and_16_hex_digits() {
        let a = codex_keychain_account(Path::new("/nonexistent/codex"));
        assert!(a.starts_with("cli|") && a.len() == 20, "{a}");
    }
}
