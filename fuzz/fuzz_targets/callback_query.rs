//! The loopback callback's query string (`oauth::read_callback_query`): any query text, and
//! queries built by a URL encoder from arbitrary parameters.
//!
//! Beyond "no panic": the decision follows the parameters as an independent decoder reads them (a
//! wrong or missing `state` is always ignored, an `error` always ends the sign-in, a code is taken
//! only with the right state and no error); a code sent through a form encoder comes back exactly;
//! the error shown to the user never quotes the authorization code.
#![no_main]

use codex_oauth_core::oauth::{CallbackQuery, read_callback_query};
use codex_oauth_core::{Error, Secret};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

const STATE: &str = "Qx7vN2c_kR0aLmT-3pYwZ8uE1sD4fG6hJ9bV5nC0oI2";

#[derive(Debug, Arbitrary)]
enum Input {
    /// Any query text.
    Raw(String),
    /// A query encoded from parameters.
    Built {
        state_ok: bool,
        code: Option<String>,
        error: Option<(String, Option<String>)>,
        others: Vec<(String, String)>,
        state_first: bool,
    },
}

/// The last value of each parameter, read independently of core.
fn last(query: &str, key: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == key)
        .last()
        .map(|(_, v)| v.into_owned())
}

fn check(query: &str) -> CallbackQuery {
    let expected = Secret::new(STATE);
    let got = read_callback_query(query, &expected);
    let state_ok = last(query, "state").as_deref() == Some(STATE);
    let error = last(query, "error");
    let code = last(query, "code").filter(|c| !c.is_empty());
    match &got {
        CallbackQuery::WrongState => assert!(!state_ok, "{query:?}"),
        CallbackQuery::Denied(e) => {
            assert!(state_ok && error.is_some(), "{query:?}");
            // The message is made of the fixed wording and the `error` and `error_description`
            // the server sent, nothing else: so it cannot quote the code (or anything else).
            let error = error.unwrap_or_default();
            let desc = last(query, "error_description");
            let expected = match e {
                Error::NoCodexEntitlement => {
                    assert!(error == "access_denied", "{query:?}");
                    assert!(
                        desc.as_deref()
                            .is_some_and(|d| d.contains("missing_codex_entitlement"))
                    );
                    Error::NoCodexEntitlement.to_string()
                }
                _ => match &desc {
                    Some(d) => format!("the sign-in was refused: {error} ({d})"),
                    None => format!("the sign-in was refused: {error}"),
                },
            };
            assert_eq!(e.to_string(), expected, "{query:?}");
        }
        CallbackQuery::NoCode => assert!(state_ok && error.is_none() && code.is_none()),
        CallbackQuery::Code(c) => {
            assert!(state_ok && error.is_none(), "{query:?}");
            assert_eq!(Some(c.expose()), code.as_deref());
        }
    }
    got
}

fuzz_target!(|input: Input| match input {
    Input::Raw(q) => {
        check(&q);
    }
    Input::Built {
        state_ok,
        code,
        error,
        others,
        state_first,
    } => {
        let reserved = ["state", "code", "error", "error_description"];
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        let state = if state_ok { STATE } else { "not-the-state" };
        if state_first {
            ser.append_pair("state", state);
        }
        for (k, v) in others
            .iter()
            .filter(|(k, _)| !reserved.contains(&k.as_str()))
        {
            ser.append_pair(k, v);
        }
        if let Some(c) = &code {
            ser.append_pair("code", c);
        }
        if let Some((e, d)) = &error {
            ser.append_pair("error", e);
            if let Some(d) = d {
                ser.append_pair("error_description", d);
            }
        }
        if !state_first {
            ser.append_pair("state", state);
        }
        let query = ser.finish();
        let got = check(&query);
        match (state_ok, &error, code.as_deref().filter(|c| !c.is_empty())) {
            (false, _, _) => assert!(matches!(got, CallbackQuery::WrongState)),
            (true, Some(_), _) => assert!(matches!(got, CallbackQuery::Denied(_))),
            (true, None, None) => assert!(matches!(got, CallbackQuery::NoCode)),
            (true, None, Some(c)) => match got {
                CallbackQuery::Code(got) => assert_eq!(got.expose(), c),
                other => panic!("expected the code, got {other:?}"),
            },
        }
    }
});
