//! The device-code sign-in for machines without a browser (PROTOCOL.md §3).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use url::Url;

use crate::error::{Error, Result};
use crate::oauth::client::{DeviceCode, DevicePoll, OAuthClient};
use crate::oauth::{Completer, SignInResult};

/// A device code is valid this long.
pub const DEVICE_LOGIN_TIMEOUT: Duration = Duration::from_secs(15 * 60);

pub struct DeviceLogin {
    client: OAuthClient,
    complete: Completer,
    code: DeviceCode,
    verification_url: Url,
    expires_at: DateTime<Utc>,
    timeout: Duration,
    cancel: Arc<Notify>,
}

/// Cancels a pending device sign-in.
#[derive(Clone)]
pub struct DeviceCancel(Arc<Notify>);

impl DeviceCancel {
    pub fn cancel(&self) {
        self.0.notify_one();
    }
}

impl DeviceLogin {
    /// Ask the server for a code to show the user.
    pub async fn start(
        client: OAuthClient,
        complete: Completer,
        timeout: Duration,
    ) -> Result<Self> {
        let code = client.device_code().await?;
        let verification_url = client.settings().device_verification_url();
        let expires_at = Utc::now()
            + chrono::Duration::from_std(timeout).unwrap_or(chrono::Duration::minutes(15));
        Ok(Self {
            client,
            complete,
            code,
            verification_url,
            expires_at,
            timeout,
            cancel: Arc::new(Notify::new()),
        })
    }

    pub fn user_code(&self) -> &str {
        &self.code.user_code
    }
    pub fn verification_url(&self) -> &Url {
        &self.verification_url
    }
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
    pub fn cancel_handle(&self) -> DeviceCancel {
        DeviceCancel(Arc::clone(&self.cancel))
    }

    /// Poll until the user approves (then exchange and save), the code expires, or cancel.
    pub async fn wait(self) -> Result<SignInResult> {
        let cancel = Arc::clone(&self.cancel);
        tokio::select! {
            r = tokio::time::timeout(self.timeout, self.poll_loop()) => match r {
                Ok(r) => r,
                Err(_) => Err(Error::DeviceCodeExpired),
            },
            _ = cancel.notified() => Err(Error::LoginCancelled),
        }
    }

    async fn poll_loop(&self) -> Result<SignInResult> {
        loop {
            match self.client.device_poll(&self.code).await {
                Ok(DevicePoll::Pending) => {}
                Ok(DevicePoll::Approved(grant)) => {
                    let redirect = self.client.settings().device_redirect_uri();
                    let tokens = self
                        .client
                        .exchange_code(&grant.authorization_code, &grant.code_verifier, &redirect)
                        .await?;
                    return (self.complete)(tokens).await;
                }
                Err(e) if e.is_transient() => {
                    tracing::warn!(error = %e, "device-code poll failed; will retry")
                }
                Err(e) => return Err(e),
            }
            tokio::time::sleep(self.code.interval).await;
        }
    }
}
