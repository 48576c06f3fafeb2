//! `codex_login` with a client that shows forms (MCP form elicitation, protocol 2025-11-25 as
//! Claude Code speaks it): the sign-in link and a field for the pasted final redirect; the form
//! is withdrawn when the browser completes the sign-in itself. And `account` on the sign-in tools.

use std::sync::{Arc, Mutex};

use codex_mcp_bridge::server::CodexServer;
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult,
    ElicitationAction, ElicitationCapability, FormElicitationCapability, Implementation,
    ProtocolVersion,
};
use rmcp::service::RequestContext;
use rmcp::{ClientHandler, ErrorData, RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::account::{final_redirect, with_state};
use crate::support::*;

#[derive(Clone, Copy)]
enum Behaviour {
    /// Paste a redirect with a wrong `state` first, then the right one.
    PasteWrongThenRight,
    /// Open the link in a browser that completes the sign-in, then wait for the form to be
    /// withdrawn.
    FinishInTheBrowser,
}

#[derive(Clone)]
struct FormClient {
    behaviour: Behaviour,
    messages: Arc<Mutex<Vec<String>>>,
    /// The bridge withdrew the form (`notifications/cancelled` reached the handler).
    withdrawn: Arc<std::sync::atomic::AtomicBool>,
}

impl ClientHandler for FormClient {
    fn get_info(&self) -> ClientConfig {
        let mut caps = ClientCapabilities::default();
        caps.elicitation =
            Some(ElicitationCapability::new().with_form(FormElicitationCapability::new()));
        ClientConfig::new(caps, Implementation::new("form-client", "1.0"))
            .with_protocol_version(ProtocolVersion::V_2025_11_25)
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let ElicitRequestParams::FormElicitationParams {
            message,
            requested_schema,
            ..
        } = request
        else {
            return Ok(ElicitResult::new(ElicitationAction::Decline));
        };
        let schema = serde_json::to_value(&requested_schema).unwrap();
        assert!(
            schema["properties"]["redirect_url"]["type"] == "string",
            "{schema}"
        );
        let url = message
            .split_whitespace()
            .find(|w| w.contains("/oauth/authorize?"))
            .expect("the form shows the sign-in link")
            .to_owned();
        let asked = {
            let mut m = self.messages.lock().unwrap();
            m.push(message);
            m.len()
        };
        match self.behaviour {
            Behaviour::PasteWrongThenRight => {
                let redirect = final_redirect(&url).await;
                let pasted = if asked == 1 {
                    with_state(&redirect, "not-this-sign-in")
                } else {
                    redirect.to_string()
                };
                Ok(ElicitResult::new(ElicitationAction::Accept)
                    .with_content(json!({ "redirect_url": pasted })))
            }
            Behaviour::FinishInTheBrowser => {
                let page = reqwest::get(&url).await.unwrap();
                assert_eq!(page.status(), 200);
                // The bridge must withdraw the form now; a form left open hangs this test.
                context.ct.cancelled().await;
                self.withdrawn
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(ElicitResult::new(ElicitationAction::Cancel))
            }
        }
    }
}

/// A second client, one that shows forms, on a new server over the harness's session.
async fn form_client(
    h: &Harness,
    behaviour: Behaviour,
) -> (
    rmcp::service::RunningService<RoleClient, FormClient>,
    Arc<Mutex<Vec<String>>>,
    Arc<std::sync::atomic::AtomicBool>,
) {
    let server = CodexServer::with_session(Arc::clone(&h.session), test_options()).unwrap();
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let messages = Arc::new(Mutex::new(Vec::new()));
    let withdrawn = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let client = FormClient {
        behaviour,
        messages: Arc::clone(&messages),
        withdrawn: Arc::clone(&withdrawn),
    }
    .serve(client_io)
    .await
    .unwrap();
    (client, messages, withdrawn)
}

async fn login(client: &rmcp::service::RunningService<RoleClient, FormClient>) -> (String, Value) {
    let r = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        client.call_tool(CallToolRequestParams::new("codex_login")),
    )
    .await
    .expect("codex_login answered")
    .unwrap();
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    (text(&r), r.structured_content.unwrap_or_default())
}

#[tokio::test]
async fn a_client_with_forms_gets_the_link_and_a_field_for_the_pasted_redirect() {
    let h = signed_out().await;
    let (client, messages, _) = form_client(&h, Behaviour::PasteWrongThenRight).await;
    let (text, data) = login(&client).await;
    assert!(
        text.contains("Signed in to Codex as ada@example.com"),
        "{text}"
    );
    assert_eq!(data["status"], "signed_in", "{data}");
    let messages = messages.lock().unwrap().clone();
    assert_eq!(messages.len(), 2, "asked again after the refusal");
    assert!(messages[0].contains("paste it here"), "{}", messages[0]);
    assert!(
        messages[1].starts_with("That address was refused"),
        "{}",
        messages[1]
    );
    assert!(h.session.status().await.signed_in);
    assert_eq!(h.fake.stats().code_exchanges, 1);
    let _ = client.cancel().await;
    h.stop().await;
}

#[tokio::test]
async fn the_form_is_withdrawn_when_the_browser_completes_the_sign_in() {
    let h = signed_out().await;
    let (client, messages, withdrawn) = form_client(&h, Behaviour::FinishInTheBrowser).await;
    let (text, data) = login(&client).await;
    assert!(text.starts_with("Signed in as ada@example.com"), "{text}");
    assert_eq!(data["signed_in"], true, "{data}");
    assert_eq!(messages.lock().unwrap().len(), 1);
    eventually("the form withdrawn", || {
        withdrawn.load(std::sync::atomic::Ordering::SeqCst)
    })
    .await;
    let _ = client.cancel().await;
    h.stop().await;
}

#[tokio::test]
async fn login_and_clear_take_an_account_and_leave_the_others_alone() {
    // The user also belongs to a team workspace: a second account of one person.
    let cfg = fake_openai::FakeConfig {
        extra_workspaces: vec![fake_openai::FakeWorkspace {
            id: "ws-acme".into(),
            name: "Acme".into(),
            plan_type: "team".into(),
        }],
        ..fake_openai::FakeConfig::default()
    };
    let h = start(cfg, test_options(), Some(3600)).await;
    // A new name adds an account: the sign-in goes to that profile, for the workspace asked.
    let (text, data) = h
        .ok(
            "codex_login",
            json!({"account": "work", "method": "device", "workspace": "ws-acme"}),
        )
        .await;
    assert!(text.contains("profile work"), "{text}");
    assert_eq!(data["profile"], "work");
    let work = h.home.path().join("work");
    eventually("the work profile signed in", || {
        std::fs::read_to_string(work.join("state.json"))
            .ok()
            .and_then(|s| serde_json::from_str::<Value>(&s).ok())
            .is_some_and(|v| v["account_id"] == "ws-acme" && v["pending_login"].is_null())
    })
    .await;
    let (_, status) = h.ok("codex_status", json!({})).await;
    let accounts = status["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2, "{status}");

    let (text, err) = h
        .tool_error("codex_login", json!({"account": "../etc"}))
        .await;
    assert!(text.contains("cannot be an account name"), "{text}");
    assert_eq!(err["category"], "input", "{err}");

    let (text, data) = h.ok("codex_clear", json!({"account": "work"})).await;
    assert!(text.contains("Signed out of profile work"), "{text}");
    assert_eq!(data["profile"], "work");
    assert!(
        h.session.status().await.signed_in,
        "the served account is untouched"
    );
    h.stop().await;
}
