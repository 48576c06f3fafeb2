//! Sign-in flows (browser with PKCE, device code), code exchange, refresh and revoke.

mod cancel;
mod client;
mod completion;
mod device;
mod failure;
mod pkce;
mod server;
mod tokens;
mod wire;

pub use cancel::SignInCancel;
pub use client::{DeviceCode, OAuthClient, SCOPES};
pub use completion::{Completer, SignInResult};
pub use device::{DEVICE_LOGIN_TIMEOUT, DeviceCancel, DeviceLogin};
pub(crate) use failure::network;
pub use pkce::{Pkce, new_state};
pub use server::{
    BROWSER_LOGIN_TIMEOUT, BrowserLogin, BrowserLoginOptions, CancelHandle, PasteHandle,
};
#[doc(hidden)]
pub use server::{CallbackQuery, read_callback_query};
pub use tokens::TokenSet;
