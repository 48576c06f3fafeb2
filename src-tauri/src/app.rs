//! Start-up and wiring: plugins, managed state, the tray, and the background tasks (the store
//! watcher, reloads, a refresh timer per account, the presenter that shows each snapshot).

use std::process::ExitCode;
use std::sync::Arc;

use chrono::{Local, Utc};
use codex_oauth_core::Settings;
use codex_oauth_core::app::Accounts;
use codex_oauth_core::codex::CodexOptions;
use tauri::menu::MenuEvent;
use tauri::{App, AppHandle, Emitter, Manager, RunEvent};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_notification::NotificationExt;

use crate::commands::{self, AppState, EVENT_ADD_ACCOUNT, EVENT_STATUS};
use crate::hub::Hub;
use crate::model::{Notice, notices, tray_model, window_model};
use crate::tray::{self, Tray, ids};
use crate::{refresh, window};

/// Passed by a launcher (and by the WebDriver tests): open the window at start.
pub const OPEN_WINDOW_ARG: &str = "--open-window";

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
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("codex-oauth-tray: {e}");
            return ExitCode::from(2);
        }
    };
    let registry = Accounts::new(settings, CodexOptions::default());
    let hub = match tauri::async_runtime::block_on(Hub::new(registry)) {
        Ok(h) => h,
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
            commands::get_workspaces,
            commands::use_workspace,
            commands::sign_in_browser,
            commands::sign_in_device,
            commands::paste_sign_in,
            commands::cancel_sign_in,
            commands::sign_out_account,
            commands::make_default_account,
            commands::take_add_request,
            commands::copy_mcp,
            commands::copy_text,
            commands::open_sign_in_page,
        ])
        .setup(move |app| {
            setup(app, hub, open_at_start);
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

fn setup(app: &mut App, hub: Arc<Hub>, open_at_start: bool) {
    let handle = app.handle().clone();
    // A config.toml outside the home folder is watched in its folder: make it (0700) so it can be.
    if let Some(dir) = hub.base().config_file.parent()
        && !dir.exists()
        && let Err(e) = codex_oauth_core::store::ensure_private_dir(dir)
    {
        tracing::warn!(error = %e, "cannot make the config folder; a default changed by another program shows up only on the next change of the accounts");
    }
    if let Err(e) = hub.watch_store() {
        tracing::warn!(error = %e, "cannot watch the store; changes by other programs show up only on the next action");
    }
    tauri::async_runtime::spawn(Arc::clone(&hub).run_reloads());
    tauri::async_runtime::spawn(refresh::supervise(Arc::clone(&hub)));

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

/// Show every snapshot: the tray, the window (event `status`), and the notifications due.
async fn present(app: AppHandle, hub: Arc<Hub>) {
    let mut rx = hub.subscribe();
    let mut prev = rx.borrow_and_update().clone();
    while rx.changed().await.is_ok() {
        let snap = rx.borrow_and_update().clone();
        let now = Utc::now();
        if let Some(t) = tray::get(&app) {
            t.show(&tray_model(&snap, now, &Local));
        }
        if let Err(e) = app.emit(EVENT_STATUS, window_model(&snap, now, &Local)) {
            tracing::warn!(error = %e, "could not send the status to the window");
        }
        for n in notices(&prev, &snap, &hub.base().usage_alerts) {
            notify(&app, &n);
        }
        prev = snap;
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
    let id = event.id().as_ref();
    if let Some(profile) = ids::profile_of(id) {
        choose_default(app, &state, profile);
        return;
    }
    match id {
        ids::SIGN => {
            if state.hub.current().default_account().status.signed_in {
                // "Add account…": the window asks for the profile's name.
                state.ask_to_add();
                window::open(app);
                let _ = app.emit(EVENT_ADD_ACCOUNT, ());
            } else {
                window::open(app);
            }
        }
        ids::SIGN_OUT => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let state = app.state::<AppState>();
                if let Err(e) = commands::sign_out(&state, None).await {
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
        }
        ids::OPEN | ids::JOBS => window::open(app),
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
            state.cancel_all();
            // A timer refresh in flight finishes its save before the app goes (bounded).
            let sessions: Vec<_> = state
                .hub
                .opened()
                .into_iter()
                .map(|a| Arc::clone(&a.session))
                .collect();
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let settling: Vec<_> = sessions
                    .into_iter()
                    .map(|s| {
                        tauri::async_runtime::spawn(async move {
                            s.settle(codex_oauth_core::SETTLE_LIMIT).await
                        })
                    })
                    .collect();
                for done in settling {
                    if !matches!(done.await, Ok(true)) {
                        tracing::error!("a refreshed sign-in could not be saved before quitting");
                    }
                }
                app.exit(0);
            });
        }
        _ => {}
    }
}

/// An account chosen in the menu becomes the default; choosing the default keeps it.
fn choose_default(app: &AppHandle, state: &AppState, profile: &str) {
    // The item has flipped its own check: put it back; a new default moves it when it shows.
    if let Some(t) = tray::get(app) {
        t.sync_checks();
    }
    if profile == state.hub.default_profile() {
        return;
    }
    let app = app.clone();
    let profile = profile.to_owned();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        if let Err(e) = commands::make_default(&state, &profile).await {
            tracing::warn!(error = %e, %profile, "could not make the account the default");
            notify(
                &app,
                &Notice {
                    title: "Default account not changed".into(),
                    body: e.message,
                },
            );
        }
    });
}

/// The check item has already flipped; make the login item match, or flip it back.
fn toggle_autostart(app: &AppHandle) {
    let Some(t) = tray::get(app) else {
        return;
    };
    let want = t.autostart_checked();
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
        t.set_autostart_checked(actual);
    }
}
