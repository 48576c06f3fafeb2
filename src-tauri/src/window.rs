//! The window: created when asked (no webview until then), focused when it exists. Closing it
//! destroys the webview; the app stays in the tray.

use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder};

pub const LABEL: &str = "main";

/// Only the app's own pages load in the window; a link elsewhere never replaces it.
pub fn is_app_url(url: &url::Url) -> bool {
    match url.scheme() {
        "tauri" => url.host_str() == Some("localhost"),
        "http" | "https" => url.host_str() == Some("tauri.localhost"),
        _ => false,
    }
}

pub fn open(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(LABEL) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
        return;
    }
    let built = WebviewWindowBuilder::new(app, LABEL, WebviewUrl::App("index.html".into()))
        .title("codex-oauth")
        .inner_size(460.0, 760.0)
        .min_inner_size(360.0, 520.0)
        .on_navigation(|url| {
            let ok = is_app_url(url);
            if !ok {
                tracing::warn!(
                    scheme = url.scheme(),
                    "blocked a navigation away from the app"
                );
            }
            ok
        })
        .build();
    if let Err(e) = built {
        tracing::error!(error = %e, "could not open the window");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn the_window_stays_on_the_app_pages() {
        let ok = |s: &str| is_app_url(&url::Url::parse(s).unwrap());
        assert!(ok("tauri://localhost/index.html"));
        assert!(ok("http://tauri.localhost/index.html"));
        assert!(!ok("https://auth.openai.com/oauth/authorize?x=1"));
        assert!(!ok("http://localhost:1455/auth/callback"));
        assert!(!ok("file:///etc/passwd"));
    }
}
