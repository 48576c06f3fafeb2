//! How a sign-in ends: what a flow does with the tokens it obtained, and who signed in.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::tokens::TokenSet;
use crate::error::Result;
use crate::store::SaveOutcome;

/// Who signed in and where the credentials went.
#[derive(Debug, Clone)]
pub struct SignInResult {
    pub email: Option<String>,
    pub plan: Option<String>,
    pub account_id: Option<String>,
    pub saved: SaveOutcome,
}

impl SignInResult {
    /// "ada@example.com (Plus)": who signed in, for the messages that say so.
    pub fn who(&self) -> String {
        let who = self.email.as_deref().unwrap_or("your account");
        match &self.plan {
            Some(p) => format!("{who} ({p})"),
            None => who.to_owned(),
        }
    }
}

/// What a flow does with the tokens it obtained (save them): the session provides it.
pub type Completer =
    Arc<dyn Fn(TokenSet) -> BoxFuture<'static, Result<SignInResult>> + Send + Sync>;
