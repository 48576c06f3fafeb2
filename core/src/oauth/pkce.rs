//! PKCE (RFC 7636, S256) and the `state` value, from the oauth2 crate's generators.

use oauth2::{CsrfToken, PkceCodeChallenge};

use crate::secret::Secret;

/// A verifier of 64 random bytes (86 base64url characters) and its S256 challenge.
pub struct Pkce {
    pub verifier: Secret,
    pub challenge: PkceCodeChallenge,
}

impl Pkce {
    pub fn new() -> Self {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256_len(64);
        Self {
            verifier: Secret::new(verifier.secret().clone()),
            challenge,
        }
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Self::new()
    }
}

/// 32 random bytes, base64url without padding.
pub fn new_state() -> Secret {
    Secret::new(CsrfToken::new_random_len(32).secret().clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use sha2::{Digest, Sha256};

    #[test]
    fn verifier_is_86_chars_and_challenge_is_its_sha256() {
        let p = Pkce::new();
        assert_eq!(p.verifier.expose().len(), 86);
        let expect = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(p.verifier.expose().as_bytes()));
        assert_eq!(p.challenge.as_str(), expect);
        assert_eq!(p.challenge.method().as_str(), "S256");
        assert_ne!(Pkce::new().verifier, p.verifier);
    }

    #[test]
    fn state_is_43_chars_of_base64url() {
        let s = new_state();
        assert_eq!(s.expose().len(), 43);
        assert!(
            s.expose()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }
}
