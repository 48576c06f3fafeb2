//! Files that are secrets by their name or place: never sent, whatever they hold.
//!
//! The list errs on the side of keeping a file home: a file skipped by mistake costs the user
//! one `prompt` line; a key sent by mistake cannot be taken back.

use std::path::Path;

/// Why a file is a secret by its name or place, when it is: "a private key", "an .env file".
pub fn secret_by_name(relative: &Path) -> Option<&'static str> {
    // Lossy: a name that is not UTF-8 is still checked (its odd bytes become U+FFFD).
    let name = relative.file_name()?.to_string_lossy().to_ascii_lowercase();
    let dirs: Vec<String> = relative
        .parent()
        .into_iter()
        .flat_map(Path::components)
        .map(|c| c.as_os_str().to_string_lossy().to_ascii_lowercase())
        .collect();
    let in_dir = |d: &str| dirs.iter().any(|x| x == d);
    let ext = name.rsplit_once('.').map(|(_, e)| e);

    if name == ".env" || name.starts_with(".env.") || name.ends_with(".env") || name == ".envrc" {
        return Some("an .env file");
    }
    if name == "hosts.yml" && in_dir("gh") {
        return Some("a credential store");
    }
    if in_dir(".ssh") || in_dir(".gnupg") {
        return Some("a file of a key folder (.ssh, .gnupg)");
    }
    // id_rsa, id_ed25519, id_ecdsa_sk and their .pub: SSH keys by their usual names.
    if name.starts_with("id_") && (!name.contains('.') || name.ends_with(".pub")) {
        return Some("an SSH key");
    }
    if matches!(
        ext,
        Some("pem" | "key" | "p12" | "pfx" | "jks" | "keystore" | "ppk" | "asc" | "gpg" | "pgp")
    ) {
        return Some("a key or certificate file");
    }
    if matches!(ext, Some("kdbx" | "kdb" | "keychain" | "keychain-db")) {
        return Some("a password database");
    }
    if matches!(ext, Some("tfstate" | "tfvars")) || name.ends_with(".tfstate.backup") {
        return Some("a Terraform state or variables file (they hold secrets)");
    }
    const CREDENTIAL_FILES: &[&str] = &[
        ".netrc",
        "_netrc",
        ".git-credentials",
        ".pgpass",
        ".my.cnf",
        ".npmrc",
        ".pypirc",
        ".yarnrc.yml",
        ".htpasswd",
        ".dockercfg",
        "credentials",
        "credentials.json",
        "credentials.db",
        "client_secret.json",
        "application_default_credentials.json",
        "access_tokens.db",
        "kubeconfig",
        ".terraformrc",
        ".vault-token",
        "terraform.rc",
        "secrets.yml",
        "secrets.yaml",
        "secrets.json",
        "secrets.toml",
        // The sign-in of this project and of the Codex CLI (both use this name).
        "auth.json",
    ];
    if CREDENTIAL_FILES.contains(&name.as_str()) {
        return Some("a credential store");
    }
    const CLOUD_DIRS: &[&str] = &[
        ".aws", ".azure", "gcloud", ".kube", ".docker", ".oci", ".codex",
    ];
    if CLOUD_DIRS.iter().any(|d| in_dir(d)) {
        return Some(
            "a cloud or CLI configuration folder (.aws, .azure, gcloud, .kube, .docker, .codex)",
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_that_are_secrets_by_name_or_place() {
        for (path, why) in [
            (".env", "an .env file"),
            ("config/.env.production", "an .env file"),
            ("prod.env", "an .env file"),
            ("home/.ssh/config", "a file of a key folder (.ssh, .gnupg)"),
            ("keys/id_ed25519", "an SSH key"),
            ("keys/id_rsa.pub", "an SSH key"),
            ("tls/server.pem", "a key or certificate file"),
            ("tls/server.KEY", "a key or certificate file"),
            ("vault.kdbx", "a password database"),
            (".envrc", "an .env file"),
            (
                "prod.tfvars",
                "a Terraform state or variables file (they hold secrets)",
            ),
            (".vault-token", "a credential store"),
            (".config/gh/hosts.yml", "a credential store"),
            (
                "infra/terraform.tfstate",
                "a Terraform state or variables file (they hold secrets)",
            ),
            (".netrc", "a credential store"),
            (".git-credentials", "a credential store"),
            (".npmrc", "a credential store"),
            ("creds/credentials.json", "a credential store"),
            (".codex/auth.json", "a credential store"),
            (
                ".aws/config",
                "a cloud or CLI configuration folder (.aws, .azure, gcloud, .kube, .docker, .codex)",
            ),
            (
                ".config/gcloud/properties",
                "a cloud or CLI configuration folder (.aws, .azure, gcloud, .kube, .docker, .codex)",
            ),
        ] {
            assert_eq!(secret_by_name(Path::new(path)), Some(why), "{path}");
        }
        for path in [
            "src/main.rs",
            "src/id_map.rs",
            "docs/keys.md",
            "environment.ts",
            "src/auth.rs",
            "README.md",
        ] {
            assert_eq!(secret_by_name(Path::new(path)), None, "{path}");
        }
    }
}

#[cfg(all(test, unix))]
mod unix_tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn a_name_that_is_not_utf8_is_still_checked() {
        let name = std::ffi::OsStr::from_bytes(b"\xff.env");
        assert_eq!(secret_by_name(Path::new(name)), Some("an .env file"));
    }
}
