//! The tray icon and its menu: built once, then updated in place from each snapshot; the menu is
//! built again only when its items change (an account comes or goes, the default signs in or out).

use std::sync::Mutex;

use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};

use crate::model::{IconState, TrayModel};

pub const TRAY_ID: &str = "codex-oauth";

/// Menu item ids (also what the D-Bus menu carries, for tests).
pub mod ids {
    pub const STATE: &str = "state";
    /// "Sign in…" (the default is signed out) or "Add account…".
    pub const SIGN: &str = "sign";
    /// "Sign out" of the default account (shown when it is signed in).
    pub const SIGN_OUT: &str = "sign-out";
    pub const OPEN: &str = "open";
    pub const COPY_MCP: &str = "copy-mcp";
    pub const AUTOSTART: &str = "autostart";
    pub const QUIT: &str = "quit";
    /// "N Codex jobs running": opens the window, which lists them.
    pub const JOBS: &str = "jobs";
    /// An account's item: this prefix and the profile.
    pub const ACCOUNT_PREFIX: &str = "account:";

    pub fn account(profile: &str) -> String {
        format!("{ACCOUNT_PREFIX}{profile}")
    }

    /// The profile of an account item's id.
    pub fn profile_of(id: &str) -> Option<&str> {
        id.strip_prefix(ACCOUNT_PREFIX)
    }
}

pub const SIGN_IN_TEXT: &str = "Sign in…";
pub const ADD_ACCOUNT_TEXT: &str = "Add account…";
pub const SIGN_OUT_TEXT: &str = "Sign out";

pub fn icon_bytes(state: IconState) -> &'static [u8] {
    match state {
        IconState::SignedOut => include_bytes!("../icons/tray-signed-out-64.png"),
        IconState::SignedIn => include_bytes!("../icons/tray-signed-in-64.png"),
        IconState::Refreshing => include_bytes!("../icons/tray-refreshing-64.png"),
        IconState::Attention => include_bytes!("../icons/tray-attention-64.png"),
    }
}

/// Menu labels treat `&` as a mnemonic marker: show it as itself.
pub fn menu_text(text: &str) -> String {
    text.replace('&', "&&")
}

/// The menu items that change (handles: clones are the same items).
#[derive(Clone)]
struct Items {
    state: MenuItem<Wry>,
    jobs: Option<MenuItem<Wry>>,
    /// (profile, its item), in menu order.
    accounts: Vec<(String, CheckMenuItem<Wry>)>,
    sign: MenuItem<Wry>,
    autostart: CheckMenuItem<Wry>,
}

struct Shown {
    items: Items,
    model: TrayModel,
}

/// The tray and the menu items that change.
pub struct Tray {
    icon: TrayIcon<Wry>,
    app: AppHandle,
    shown: Mutex<Shown>,
}

/// What decides the menu's items (their texts and checks change in place).
fn layout(model: &TrayModel) -> (Vec<&str>, bool, bool) {
    (
        model.accounts.iter().map(|a| a.profile.as_str()).collect(),
        model.sign_out,
        model.jobs_line.is_some(),
    )
}

fn build_menu(
    app: &AppHandle,
    model: &TrayModel,
    autostart_on: bool,
) -> tauri::Result<(Menu<Wry>, Items)> {
    let state = MenuItem::with_id(
        app,
        ids::STATE,
        menu_text(&model.state_line),
        false,
        None::<&str>,
    )?;
    let accounts = model
        .accounts
        .iter()
        .map(|a| {
            CheckMenuItem::with_id(
                app,
                ids::account(&a.profile),
                menu_text(&a.label),
                true,
                a.default,
                None::<&str>,
            )
            .map(|item| (a.profile.clone(), item))
        })
        .collect::<tauri::Result<Vec<_>>>()?;
    let sign = MenuItem::with_id(app, ids::SIGN, sign_text(model), true, None::<&str>)?;
    let sign_out = model
        .sign_out
        .then(|| MenuItem::with_id(app, ids::SIGN_OUT, SIGN_OUT_TEXT, true, None::<&str>))
        .transpose()?;
    let open = MenuItem::with_id(app, ids::OPEN, "Open window", true, None::<&str>)?;
    let copy = MenuItem::with_id(app, ids::COPY_MCP, "Copy MCP config", true, None::<&str>)?;
    let autostart = CheckMenuItem::with_id(
        app,
        ids::AUTOSTART,
        "Start at login",
        true,
        autostart_on,
        None::<&str>,
    )?;
    let quit = MenuItem::with_id(app, ids::QUIT, "Quit", true, None::<&str>)?;
    let jobs = model
        .jobs_line
        .as_deref()
        .map(|line| MenuItem::with_id(app, ids::JOBS, menu_text(line), true, None::<&str>))
        .transpose()?;
    let menu = Menu::with_items(app, &[&state])?;
    if let Some(item) = &jobs {
        menu.append(item)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    for (_, item) in &accounts {
        menu.append(item)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&sign)?;
    if let Some(item) = &sign_out {
        menu.append(item)?;
    }
    menu.append_items(&[
        &open,
        &copy,
        &PredefinedMenuItem::separator(app)?,
        &autostart,
        &PredefinedMenuItem::separator(app)?,
        &quit,
    ])?;
    Ok((
        menu,
        Items {
            state,
            jobs,
            accounts,
            sign,
            autostart,
        },
    ))
}

impl Tray {
    pub fn build(
        app: &AppHandle,
        model: &TrayModel,
        autostart_on: bool,
        on_menu: impl Fn(&AppHandle, MenuEvent) + Send + Sync + 'static,
    ) -> tauri::Result<Self> {
        let (menu, items) = build_menu(app, model, autostart_on)?;
        let icon = TrayIconBuilder::with_id(TRAY_ID)
            .icon(Image::from_bytes(icon_bytes(model.icon))?)
            .tooltip(&model.tooltip)
            .menu(&menu)
            .show_menu_on_left_click(false)
            .on_menu_event(on_menu)
            .on_tray_icon_event(|tray, event| {
                // Windows and macOS: a left click opens the window (Linux shows the menu).
                if let TrayIconEvent::Click {
                    button: MouseButton::Left,
                    button_state: MouseButtonState::Up,
                    ..
                } = event
                {
                    crate::window::open(tray.app_handle());
                }
            })
            .build(app)?;
        Ok(Self {
            icon,
            app: app.clone(),
            shown: Mutex::new(Shown {
                items,
                model: model.clone(),
            }),
        })
    }

    fn shown(&self) -> std::sync::MutexGuard<'_, Shown> {
        self.shown
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Bring the tray in line with `model`, touching only what changed. The lock is not held
    /// while the items change: that runs on the main thread, which may be waiting for the lock
    /// (a menu click).
    pub fn show(&self, model: &TrayModel) {
        let (before, items) = {
            let shown = self.shown();
            (shown.model.clone(), shown.items.clone())
        };
        if before.icon != model.icon {
            let r =
                Image::from_bytes(icon_bytes(model.icon)).and_then(|i| self.icon.set_icon(Some(i)));
            log_err("tray icon", r);
        }
        if before.tooltip != model.tooltip {
            log_err("tooltip", self.icon.set_tooltip(Some(&model.tooltip)));
        }
        if layout(&before) != layout(model) {
            let autostart_on = items.autostart.is_checked().unwrap_or(false);
            match build_menu(&self.app, model, autostart_on) {
                Ok((menu, items)) => {
                    log_err("menu", self.icon.set_menu(Some(menu)));
                    let next = Shown {
                        items,
                        model: model.clone(),
                    };
                    // The old items go after the lock is released.
                    let old = std::mem::replace(&mut *self.shown(), next);
                    drop(old);
                }
                Err(e) => tracing::warn!(error = %e, "could not build the menu"),
            }
            return;
        }
        if before.state_line != model.state_line {
            log_err(
                "state line",
                items.state.set_text(menu_text(&model.state_line)),
            );
        }
        if before.jobs_line != model.jobs_line
            && let (Some(item), Some(line)) = (&items.jobs, &model.jobs_line)
        {
            log_err("jobs line", item.set_text(menu_text(line)));
        }
        for ((_, item), (was, now)) in items
            .accounts
            .iter()
            .zip(before.accounts.iter().zip(&model.accounts))
        {
            if was.label != now.label {
                log_err("account item", item.set_text(menu_text(&now.label)));
            }
            if was.default != now.default {
                log_err("account item", item.set_checked(now.default));
            }
        }
        if before.sign_out != model.sign_out {
            log_err("sign item", items.sign.set_text(sign_text(model)));
        }
        self.shown().model = model.clone();
    }

    /// Put the account checks back as shown (a click flips a check item by itself; only a new
    /// default moves the check).
    pub fn sync_checks(&self) {
        let (items, model) = {
            let shown = self.shown();
            (shown.items.clone(), shown.model.clone())
        };
        for ((_, item), a) in items.accounts.iter().zip(&model.accounts) {
            if item.is_checked().ok() != Some(a.default) {
                log_err("account item", item.set_checked(a.default));
            }
        }
    }

    pub fn autostart_checked(&self) -> bool {
        let item = self.shown().items.autostart.clone();
        item.is_checked().unwrap_or(false)
    }

    pub fn set_autostart_checked(&self, on: bool) {
        let item = self.shown().items.autostart.clone();
        log_err("start at login", item.set_checked(on));
    }
}

fn sign_text(model: &TrayModel) -> &'static str {
    if model.sign_out {
        ADD_ACCOUNT_TEXT
    } else {
        SIGN_IN_TEXT
    }
}

fn log_err(what: &str, r: tauri::Result<()>) {
    if let Err(e) = r {
        tracing::warn!(error = %e, "could not update the {what}");
    }
}

/// The tray of the app, once built.
pub fn get(app: &AppHandle) -> Option<tauri::State<'_, Tray>> {
    app.try_state::<Tray>()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::model::{AccountItem, jobs_line};

    #[test]
    fn every_icon_state_has_its_own_square_png() {
        let all = [
            IconState::SignedOut,
            IconState::SignedIn,
            IconState::Refreshing,
            IconState::Attention,
        ];
        for (i, a) in all.iter().enumerate() {
            let img = Image::from_bytes(icon_bytes(*a)).unwrap();
            assert_eq!((img.width(), img.height()), (64, 64));
            for b in &all[i + 1..] {
                assert_ne!(icon_bytes(*a), icon_bytes(*b));
            }
        }
    }

    #[test]
    fn ampersands_in_menu_text_are_shown_not_taken_as_mnemonics() {
        assert_eq!(
            menu_text("Signed in as a&b@example.com"),
            "Signed in as a&&b@example.com"
        );
        assert_eq!(menu_text("ada_l@example.com"), "ada_l@example.com");
    }

    fn model(profiles: &[&str], sign_out: bool) -> TrayModel {
        TrayModel {
            icon: IconState::SignedOut,
            state_line: String::new(),
            tooltip: String::new(),
            sign_out,
            accounts: profiles
                .iter()
                .map(|p| AccountItem {
                    profile: (*p).into(),
                    label: format!("{p} — not signed in"),
                    default: *p == "default",
                })
                .collect(),
            jobs_line: None,
        }
    }

    #[test]
    fn the_sign_item_follows_the_default_account() {
        assert_eq!(sign_text(&model(&["default"], false)), "Sign in…");
        assert_eq!(sign_text(&model(&["default"], true)), "Add account…");
    }

    #[test]
    fn the_menu_is_built_again_only_when_its_items_change() {
        let one = model(&["default"], false);
        let mut relabelled = one.clone();
        relabelled.accounts[0].label = "default — ada@example.com".into();
        relabelled.accounts[0].default = false;
        relabelled.state_line = "Signing in…".into();
        assert_eq!(layout(&one), layout(&relabelled));
        assert_ne!(layout(&one), layout(&model(&["default", "work"], false)));
        assert_ne!(layout(&one), layout(&model(&["default"], true)));
        // The jobs line comes and goes with the menu; its count changes in place.
        let mut running = one.clone();
        running.jobs_line = jobs_line(1);
        assert_ne!(layout(&one), layout(&running));
        let mut more = running.clone();
        more.jobs_line = jobs_line(2);
        assert_eq!(layout(&running), layout(&more));
        assert_eq!(more.jobs_line.as_deref(), Some("2 Codex jobs running"));
    }

    #[test]
    fn an_account_items_id_carries_its_profile() {
        assert_eq!(ids::account("work"), "account:work");
        assert_eq!(ids::profile_of("account:work"), Some("work"));
        assert_eq!(ids::profile_of(ids::QUIT), None);
    }
}
