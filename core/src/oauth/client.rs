//! Requests to the OpenAI auth server: code exchange and refresh (through the oauth2 crate),
//! revoke and the device-code endpoints (PROTOCOL.md §1-§3).

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oauth2::basic::{BasicErrorResponse, BasicTokenType};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, EndpointNotSet, EndpointSet, ExtraTokenFields,
    HttpRequest, HttpResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::Settings;
use crate::error::{Error, Result, json_problem};
use crate::oauth::failure::{Ctx, classify, http_error, network, redact_reqwest};
use crate::oauth::tokens::TokenSet;
use crate::oauth::wire::{DeviceApproval, TokenAnswer, UserCodeAnswer};
use crate::secret::Secret;

/// The scopes of the Codex CLI's sign-in (PROTOCOL.md §1).
pub const SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "offline_access",
    "api.connectors.read",
    "api.connectors.invoke",
];

const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);
const REVOKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}
impl ExtraTokenFields for IdTokenField {}

type TokenResp = StandardTokenResponse<IdTokenField, BasicTokenType>;
type OAuth2Client = oauth2::Client<
    BasicErrorResponse,
    TokenResp,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

type HttpFuture = futures::future::BoxFuture<
    'static,
    std::result::Result<HttpResponse, oauth2::HttpClientError<reqwest::Error>>,
>;

/// Status and body of the last HTTP answer, kept for error classification.
type LastAnswer = Mutex<Option<(u16, Vec<u8>)>>;

/// The sign-in server of one issuer and client id.
#[derive(Clone)]
pub struct OAuthClient {
    settings: Arc<Settings>,
    inner: OAuth2Client,
}

/// A device code to show the user (PROTOCOL.md §3).
#[derive(Debug, Clone)]
pub struct DeviceCode {
    pub device_auth_id: String,
    pub user_code: String,
    pub interval: Duration,
}

/// What the device-token poll returned once the user approved.
pub struct DeviceGrant {
    pub authorization_code: Secret,
    pub code_verifier: Secret,
}

pub enum DevicePoll {
    Pending,
    Approved(DeviceGrant),
}

impl OAuthClient {
    pub fn new(settings: Arc<Settings>) -> Result<Self> {
        let bad = |e: url::ParseError| Error::Internal(format!("bad endpoint URL: {e}"));
        let inner = oauth2::Client::new(ClientId::new(settings.client_id.clone()))
            .set_auth_uri(AuthUrl::from_url(settings.authorize_url()))
            .set_token_uri(TokenUrl::from_url(settings.token_url()))
            .set_auth_type(AuthType::RequestBody);
        // Validate once that the URLs parse as oauth2 wants them.
        let _ = AuthUrl::new(settings.authorize_url().to_string()).map_err(bad)?;
        Ok(Self { settings, inner })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The authorize URL as the Codex CLI builds it (PROTOCOL.md §1): its parameters in its
    /// order, form-encoded as it encodes them (a space as `+`), and the authorize originator;
    /// last, `allowed_workspace_id` when the sign-in is for one workspace.
    pub fn authorize_url(
        &self,
        redirect_uri: &Url,
        challenge: PkceCodeChallenge,
        state: &Secret,
        workspace: Option<&str>,
    ) -> Url {
        let scope = SCOPES.join(" ");
        let params: [(&str, &str); 10] = [
            ("response_type", "code"),
            ("client_id", &self.settings.client_id),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("state", state.expose()),
            ("scope", &scope),
            ("id_token_add_organizations", "true"),
            ("codex_cli_simplified_flow", "true"),
            ("originator", &self.settings.authorize_originator),
        ];
        let mut url = self.settings.authorize_url();
        url.query_pairs_mut().clear().extend_pairs(params);
        if let Some(w) = workspace {
            url.query_pairs_mut().append_pair("allowed_workspace_id", w);
        }
        url
    }

    /// An HTTP client for oauth2 that remembers the status and body of the last answer.
    fn recording_client(&self) -> (impl Fn(HttpRequest) -> HttpFuture, Arc<LastAnswer>) {
        let seen: Arc<LastAnswer> = Arc::new(Mutex::new(None));
        let keep = Arc::clone(&seen);
        let f = move |req: HttpRequest| {
            let keep = Arc::clone(&keep);
            let fut: HttpFuture = Box::pin(async move {
                let http = crate::http::client()
                    .map_err(|e| oauth2::HttpClientError::Other(e.to_string()))?;
                let resp =
                    tokio::time::timeout(TOKEN_TIMEOUT, oauth2::AsyncHttpClient::call(http, req))
                        .await
                        .map_err(|_| {
                            oauth2::HttpClientError::Other(format!(
                                "no answer within {} s",
                                TOKEN_TIMEOUT.as_secs()
                            ))
                        })??;
                if let Ok(mut s) = keep.lock() {
                    *s = Some((resp.status().as_u16(), resp.body().clone()));
                }
                Ok(resp)
            });
            fut
        };
        (f, seen)
    }

    /// The oauth2 crate's answer, or, for a 200 it could not parse (no `token_type`, another
    /// content type), a lenient reading of the body.
    fn token_answer(
        res: std::result::Result<
            TokenResp,
            RequestTokenError<oauth2::HttpClientError<reqwest::Error>, BasicErrorResponse>,
        >,
        seen: &LastAnswer,
        ctx: Ctx,
    ) -> Result<TokenSet> {
        let seen = seen.lock().ok().and_then(|s| s.clone());
        match res {
            Ok(resp) => Ok(to_token_set(resp)),
            Err(e) => match seen {
                Some((200, body)) => lenient_token_set(&body),
                Some((status, _)) => Err(classify(e, Some(status), ctx)),
                None => Err(classify(e, None, ctx)),
            },
        }
    }

    /// Exchange an authorization code (browser or device flow) for tokens.
    pub async fn exchange_code(
        &self,
        code: &Secret,
        verifier: &Secret,
        redirect_uri: &Url,
    ) -> Result<TokenSet> {
        let (client, seen) = self.recording_client();
        let res = self
            .inner
            .exchange_code(AuthorizationCode::new(code.expose().to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.expose().to_owned()))
            .set_redirect_uri(Cow::Owned(RedirectUrl::from_url(redirect_uri.clone())))
            .request_async(&client)
            .await;
        let tokens = Self::token_answer(res, &seen, Ctx::Exchange)?;
        match (&tokens.id_token, &tokens.refresh_token) {
            (Some(_), Some(_)) => Ok(tokens),
            _ => Err(Error::BadResponse {
                what: "the sign-in server".into(),
                detail: "the token answer lacks an id_token or a refresh_token".into(),
            }),
        }
    }

    /// Use the refresh token. The answer carries a rotated refresh token (the old one is dead).
    pub async fn refresh(&self, refresh_token: &Secret) -> Result<TokenSet> {
        let (client, seen) = self.recording_client();
        let rt = RefreshToken::new(refresh_token.expose().to_owned());
        let res = self
            .inner
            .exchange_refresh_token(&rt)
            .request_async(&client)
            .await;
        Self::token_answer(res, &seen, Ctx::Refresh)
    }

    /// Best-effort revoke of a refresh token on sign-out (10 s limit). Returns whether it worked.
    pub async fn revoke(&self, refresh_token: &Secret) -> bool {
        let body = serde_json::json!({
            "token": refresh_token.expose(),
            "token_type_hint": "refresh_token",
            "client_id": self.settings.client_id,
        });
        let Ok(http) = crate::http::client() else {
            return false;
        };
        let req = http
            .post(self.settings.revoke_url())
            .json(&body)
            .timeout(REVOKE_TIMEOUT)
            .send();
        match req.await {
            Ok(r) if r.status().is_success() => true,
            Ok(r) => {
                tracing::warn!(
                    status = r.status().as_u16(),
                    "the sign-in server did not accept the revoke"
                );
                false
            }
            Err(e) => {
                tracing::warn!(error = %redact_reqwest(&e), "revoke failed");
                false
            }
        }
    }

    /// Ask for a device code.
    pub async fn device_code(&self) -> Result<DeviceCode> {
        let what = "the device-code endpoint";
        let resp = crate::http::client()?
            .post(self.settings.device_usercode_url())
            .json(&serde_json::json!({ "client_id": self.settings.client_id }))
            .timeout(TOKEN_TIMEOUT)
            .send()
            .await
            .map_err(|e| network(what, &e))?;
        let status = resp.status().as_u16();
        if status == 404 {
            return Err(Error::DeviceCodeUnavailable);
        }
        let body = resp.bytes().await.map_err(|e| network(what, &e))?;
        if status != 200 {
            return Err(http_error(what, status, &body));
        }
        let answer: UserCodeAnswer =
            serde_json::from_slice(&body).map_err(|e| Error::BadResponse {
                what: what.into(),
                detail: json_problem(&e),
            })?;
        let interval = answer
            .interval
            .filter(|x| x.is_finite() && *x >= 0.0)
            .unwrap_or(5.0);
        Ok(DeviceCode {
            device_auth_id: answer.device_auth_id,
            user_code: answer.user_code,
            interval: Duration::from_secs_f64(interval.clamp(0.2, 60.0)),
        })
    }

    /// Poll once for the device-code approval.
    pub async fn device_poll(&self, code: &DeviceCode) -> Result<DevicePoll> {
        let what = "the device-code endpoint";
        let resp = crate::http::client()?
            .post(self.settings.device_token_url())
            .json(&serde_json::json!({ "device_auth_id": code.device_auth_id, "user_code": code.user_code }))
            .timeout(TOKEN_TIMEOUT)
            .send()
            .await
            .map_err(|e| network(what, &e))?;
        let status = resp.status().as_u16();
        if status == 403 || status == 404 {
            return Ok(DevicePoll::Pending);
        }
        let body = resp.bytes().await.map_err(|e| network(what, &e))?;
        if status != 200 {
            return Err(http_error(what, status, &body));
        }
        let approval: DeviceApproval =
            serde_json::from_slice(&body).map_err(|_| Error::BadResponse {
                what: what.into(),
                detail: "the approval lacks authorization_code or code_verifier".into(),
            })?;
        Ok(DevicePoll::Approved(DeviceGrant {
            authorization_code: approval.authorization_code,
            code_verifier: approval.code_verifier,
        }))
    }
}

/// A 200 answer read without the oauth2 crate's strictness. Its body is never shown: it may hold tokens.
fn lenient_token_set(body: &[u8]) -> Result<TokenSet> {
    let bad = |detail: &str| Error::BadResponse {
        what: "the sign-in server".into(),
        detail: detail.into(),
    };
    let t: TokenAnswer =
        serde_json::from_slice(body).map_err(|_| bad("the token answer is not JSON"))?;
    Ok(TokenSet {
        access_token: t
            .access_token
            .ok_or_else(|| bad("the token answer has no access_token"))?,
        id_token: t.id_token,
        refresh_token: t.refresh_token,
        expires_in: t.expires_in,
    })
}

fn to_token_set(resp: TokenResp) -> TokenSet {
    TokenSet {
        id_token: resp.extra_fields().id_token.clone().map(Secret::new),
        access_token: Secret::new(resp.access_token().secret().clone()),
        refresh_token: resp
            .refresh_token()
            .map(|r| Secret::new(r.secret().clone())),
        expires_in: resp.expires_in().map(|d| d.as_secs()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_200_answer_without_token_type_is_still_read_and_garbage_is_a_clear_error() {
        let t = lenient_token_set(
            br#"{"access_token":"a","refresh_token":"r","id_token":"i","expires_in":3600}"#,
        )
        .unwrap();
        assert_eq!(t.access_token.expose(), "a");
        assert_eq!(t.refresh_token.unwrap().expose(), "r");
        let e = lenient_token_set(b"<html>secret-looking</html>")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("not JSON") && !e.contains("secret-looking"),
            "{e}"
        );
        let e = lenient_token_set(br#"{"refresh_token":"rt_secret"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no access_token") && !e.contains("rt_secret"),
            "{e}"
        );
        assert!(lenient_token_set(b"{}").unwrap_err().is_transient());
    }

    #[test]
    fn authorize_url_has_the_codex_cli_parameters_in_its_order() {
        let mut s = Settings::for_home(std::env::temp_dir()).unwrap();
        s.issuer = Url::parse("http://127.0.0.1:9/").unwrap();
        let c = OAuthClient::new(Arc::new(s)).unwrap();
        let pkce = crate::oauth::pkce::Pkce::new();
        let ch = pkce.challenge.as_str().to_owned();
        let url = c.authorize_url(
            &Url::parse("http://127.0.0.1:1455/auth/callback").unwrap(),
            pkce.challenge,
            &Secret::new("st"),
            None,
        );
        assert!(
            url.as_str()
                .starts_with("http://127.0.0.1:9/oauth/authorize?response_type=code&client_id=app_EMoamEEZ73f0CkXaXp7hrann&redirect_uri=http%3A%2F%2F127.0.0.1%3A1455%2Fauth%2Fcallback&code_challenge=")
        );
        assert!(
            url.as_str().ends_with("&code_challenge_method=S256&state=st&scope=openid+profile+email+offline_access+api.connectors.read+api.connectors.invoke&id_token_add_organizations=true&codex_cli_simplified_flow=true&originator=codex_cli_rs"),
            "{url}"
        );
        let names: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
        assert_eq!(
            names,
            [
                "response_type",
                "client_id",
                "redirect_uri",
                "code_challenge",
                "code_challenge_method",
                "state",
                "scope",
                "id_token_add_organizations",
                "codex_cli_simplified_flow",
                "originator"
            ]
        );
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], crate::config::DEFAULT_CLIENT_ID);
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:1455/auth/callback");
        assert_eq!(
            q["scope"],
            "openid profile email offline_access api.connectors.read api.connectors.invoke"
        );
        assert_eq!(q["code_challenge"], ch);
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["id_token_add_organizations"], "true");
        assert_eq!(q["codex_cli_simplified_flow"], "true");
        assert_eq!(q["state"], "st");
        assert_eq!(q["originator"], "codex_cli_rs");

        let one = c.authorize_url(
            &Url::parse("http://127.0.0.1:1455/auth/callback").unwrap(),
            crate::oauth::pkce::Pkce::new().challenge,
            &Secret::new("st"),
            Some("ws-acme"),
        );
        assert!(
            one.as_str()
                .ends_with("&originator=codex_cli_rs&allowed_workspace_id=ws-acme"),
            "{one}"
        );
    }
}
