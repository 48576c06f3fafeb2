//! Sign-in flows (browser with PKCE, device code), code exchange, refresh and revoke.

mod client;
mod device;
mod failure;
mod pkce;
mod server;
mod tokens;
mod wire;

use std::sync::Arc;

use futures::future::BoxFuture;

pub use client::{DeviceCode, OAuthClient, SCOPES};
pub use device::{DEVICE_LOGIN_TIMEOUT, DeviceCancel, DeviceLogin};
pub(crate) use failure::network;
pub use pkce::{Pkce, new_state};
pub use server::{
    BROWSER_LOGIN_TIMEOUT, BrowserLogin, BrowserLoginOptions, CancelHandle, PasteHandle,
};
#[doc(hidden)]
pub use server::{CallbackQuery, read_callback_query};
pub use tokens::TokenSet;

use crate::error::Result;
use crate::store::SaveOutcome;

/// Cancels a running sign-in of either kind (what front ends keep while a flow runs).
#[derive(Clone)]
pub enum SignInCancel {
    Browser(CancelHandle),
    Device(DeviceCancel),
}

impl SignInCancel {
    pub fn cancel(&self) {
        match self {
            SignInCancel::Browser(c) => c.cancel(),
            SignInCancel::Device(c) => c.cancel(),
        }
    }
}

impl From<CancelHandle> for SignInCancel {
    fn from(c: CancelHandle) -> Self {
        SignInCancel::Browser(c)
    }
}

impl From<DeviceCancel> for SignInCancel {
    fn from(c: DeviceCancel) -> Self {
        SignInCancel::Device(c)
    }
}

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
