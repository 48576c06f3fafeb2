//! The default model and effort (config.toml, `CODEX_OAUTH_MODEL`, the plugin's userConfig):
//! a call that names none is asked with them; an effort the model does not take falls back to
//! the model's own, and an argument still wins.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_call_without_model_or_effort_uses_the_configured_defaults() {
    let fake = fake().await;
    let mut home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    home.env
        .insert("CODEX_OAUTH_MODEL".into(), "gpt-5.5".into());
    home.env
        .insert("CODEX_OAUTH_REASONING_EFFORT".into(), "high".into());
    let work = tempfile::tempdir().unwrap();
    let s = bridge_in(&home, work.path()).await;
    let r = call_tool(&s, "codex_query", json!({"prompt": "defaults"})).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    let r = call_tool(
        &s,
        "codex_query",
        json!({"prompt": "explicit", "model": "gpt-5.5", "reasoning_effort": "low"}),
    )
    .await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    s.cancel().await.unwrap();
    let reqs = fake.requests_to("/backend-api/codex/responses");
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].body["model"], "gpt-5.5");
    assert_eq!(reqs[0].body["reasoning"]["effort"], "high");
    assert_eq!(
        reqs[1].body["reasoning"]["effort"], "low",
        "an argument wins"
    );
}

#[tokio::test]
async fn a_default_effort_the_model_does_not_take_gives_way_to_the_models_own() {
    let fake = fake().await;
    let mut home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    home.env
        .insert("CODEX_OAUTH_MODEL".into(), "gpt-5.5".into());
    home.env
        .insert("CODEX_OAUTH_REASONING_EFFORT".into(), "nonexistent".into());
    let work = tempfile::tempdir().unwrap();
    let s = bridge_in(&home, work.path()).await;
    let r = call_tool(&s, "codex_query", json!({"prompt": "still works"})).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    s.cancel().await.unwrap();
    let reqs = fake.requests_to("/backend-api/codex/responses");
    assert_ne!(reqs[0].body["reasoning"]["effort"], "nonexistent");
}
