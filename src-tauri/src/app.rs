//! Start-up and wiring: plugins, managed state, the tray, and the background tasks (state.json
//! watcher, reloads, refresh timer, the presenter that shows each snapshot).

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use chrono::{Local, Utc};
use codex_oauth_core::{Session, Settings};
use notify::RecommendedWatcher;
use tauri::menu::MenuEvent;
use tauri::{App, AppHandle, Emitter, Manager, RunEvent};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_notification::NotificationExt;

use crate::commands::{self, AppState, EVENT_STATUS};
use crate::hub::Hub;
use crate::model::{Notice, notice, tray_model, usage_notice, window_model};
use crate::tray::{self, Tray, ids};
use crate::{refresh, watch, window};

/// Passed by a launcher (and by the WebDriver tests): open the window at start.
pub const OPEN_WINDOW_ARG: &str = "--open-window";

/// Keeps the state.json watcher alive.
struct StateWatcher(#[allow(dead_code)] Mutex<Option<RecommendedWatcher>>);

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// GTK's X11 back end loads the OpenGL stack at start-up only to pick GL-capable visuals; with
/// Mesa that maps the GL driver and libLLVM, about 45 MB of the always-running tray's memory.
/// Nothing here draws through GDK's OpenGL: the tray menu is plain GTK, and WebKit renders the
/// window without it. Whoever sets `GDK_GL` themselves (even to an empty value) is left alone.
fn keep_gtk_off_opengl() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("GDK_GL").is_none() {
        #[allow(unsafe_code)]
        // SAFETY: called first thing in `run`, before this process starts any other thread, so
        // nothing can read the environment while it changes.
        unsafe {
            std::env::set_var("GDK_GL", "disable");
        }
    }
}

pub fn run() -> ExitCode {
    // First, while this process has one thread.
    keep_gtk_off_opengl();
    // Nothing this process writes (store, logs, autostart entry) is for other local users.
    codex_oauth_core::restrict_umask();
    init_tracing();
    let session = match Settings::load().and_then(Session::open) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("codex-oauth-tray: {e}");
            return ExitCode::from(2);
        }
    };
    let open_at_start = std::env::args().skip(1).any(|a| a == OPEN_WINDOW_ARG);
    let built = tauri::Builder::default()
        // First, so a second launch stops before anything else starts.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            window::open(app)
        }))
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_autostart::Builder::new().build())
        .invoke_handler(tauri::generate_handler![
            commands::get_status,
            commands::get_usage,
            commands::sign_in_browser,
            commands::sign_in_device,
            commands::cancel_sign_in,
            commands::sign_out_account,
            commands::copy_mcp,
            commands::copy_text,
            commands::open_sign_in_page,
        ])
        .setup(move |app| {
            setup(app, session, open_at_start);
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match built {
        Ok(app) => app,
        Err(e) => {
            eprintln!("codex-oauth-tray: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    app.run(|_app, event| {
        // Closing the window must not end the app: only Quit (exit with a code) does.
        if let RunEvent::ExitRequested {
            code: None, api, ..
        } = event
        {
            api.prevent_exit();
        }
    });
    ExitCode::SUCCESS
}

fn setup(app: &mut App, session: Arc<Session>, open_at_start: bool) {
    let handle = app.handle().clone();
    let (hub, pokes) = tauri::async_runtime::block_on(Hub::new(Arc::clone(&session)));

    let poke = Arc::clone(&hub);
    let watcher = match watch::watch_state(session.store().dir(), move || poke.poke()) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch state.json; changes by other programs show up only on the next action");
            None
        }
    };
    app.manage(StateWatcher(Mutex::new(watcher)));
    tauri::async_runtime::spawn(Arc::clone(&hub).run_reloads(pokes));
    tauri::async_runtime::spawn(refresh::run(Arc::clone(&hub)));

    let autostart_on = app.autolaunch().is_enabled().unwrap_or(false);
    let first = hub.current();
    match Tray::build(
        &handle,
        &tray_model(&first, Utc::now(), &Local),
        autostart_on,
        on_menu,
    ) {
        Ok(t) => {
            app.manage(t);
        }
        Err(e) => tracing::error!(error = %e, "cannot create the tray icon"),
    }
    tauri::async_runtime::spawn(present(handle.clone(), Arc::clone(&hub)));
    app.manage(AppState::new(hub));
    if open_at_start {
        window::open(&handle);
    }
}

/// Show every snapshot: the tray, the window (event `status`), and a notification when one is due.
async fn present(app: AppHandle, hub: Arc<Hub>) {
    let mut rx = hub.subscribe();
    let mut prev = rx.borrow_and_update().status.clone();
    while rx.changed().await.is_ok() {
        let snap = rx.borrow_and_update().clone();
        let now = Utc::now();
        if let Some(t) = tray::get(&app) {
            t.show(&tray_model(&snap, now, &Local));
        }
        if let Err(e) = app.emit(EVENT_STATUS, window_model(&snap, now, &Local)) {
            tracing::warn!(error = %e, "could not send the status to the window");
        }
        let alerts = &hub.session().settings().usage_alerts;
        let due = notice(&prev, &snap.status).or_else(|| {
            // The same account only: a sign-in of another one is not a usage change.
            (prev.account_id == snap.status.account_id)
                .then(|| usage_notice(&prev, &snap.status, alerts))
                .flatten()
        });
        if let Some(n) = due {
            notify(&app, &n);
        }
        prev = snap.status;
    }
}

fn notify(app: &AppHandle, n: &Notice) {
    tracing::info!(title = %n.title, "notification");
    if let Err(e) = app
        .notification()
        .builder()
        .title(&n.title)
        .body(&n.body)
        .show()
    {
        tracing::warn!(error = %e, "could not show a notification");
    }
}

fn on_menu(app: &AppHandle, event: MenuEvent) {
    let Some(state) = app.try_state::<AppState>() else {
        return;
    };
    match event.id().as_ref() {
        ids::SIGN => {
            if state.hub.current().status.signed_in {
                let app = app.clone();
                tauri::async_runtime::spawn(async move {
                    let state = app.state::<AppState>();
                    if let Err(e) = commands::sign_out(&state).await {
                        tracing::warn!(error = %e, "sign-out failed");
                        notify(
                            &app,
                            &Notice {
                                title: "Sign-out failed".into(),
                                body: e.message,
                            },
                        );
                    }
                });
            } else {
                window::open(app);
            }
        }
        ids::OPEN => window::open(app),
        ids::COPY_MCP => {
            let copied = commands::copy_mcp_config(&state, |text| {
                app.clipboard().write_text(text).map_err(|e| e.to_string())
            });
            let n = match copied {
                Ok(_) => Notice {
                    title: "MCP config copied".into(),
                    body: "Paste it into .mcp.json, or run `claude mcp add-json codex` with it."
                        .into(),
                },
                Err(e) => Notice {
                    title: "Copy failed".into(),
                    body: e.message,
                },
            };
            notify(app, &n);
        }
        ids::AUTOSTART => toggle_autostart(app),
        ids::QUIT => {
            state.flows.cancel();
            // A timer refresh in flight finishes its save before the app goes (bounded).
            let session = Arc::clone(state.hub.session());
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                if !session.settle(codex_oauth_core::SETTLE_LIMIT).await {
                    tracing::error!("a refreshed sign-in could not be saved before quitting");
                }
                app.exit(0);
            });
        }
        _ => {}
    }
}

/// The check item has already flipped; make the login item match, or flip it back.
fn toggle_autostart(app: &AppHandle) {
    let Some(t) = tray::get(app) else {
        return;
    };
    let want = t.autostart.is_checked().unwrap_or(false);
    let manager = app.autolaunch();
    let result = if want {
        manager.enable()
    } else {
        manager.disable()
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not change start at login");
        notify(
            app,
            &Notice {
                title: "Start at login not changed".into(),
                body: e.to_string(),
            },
        );
    }
    let actual = manager.is_enabled().unwrap_or(false);
    if actual != want {
        let _ = t.autostart.set_checked(actual);
    }
}
