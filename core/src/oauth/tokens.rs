//! What a token endpoint gives back.

use crate::secret::Secret;

/// Tokens from a code exchange or a refresh. On refresh, `id_token` and `refresh_token` may be
/// absent (then the old ones stay).
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub id_token: Option<Secret>,
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub expires_in: Option<u64>,
}
