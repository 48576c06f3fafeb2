//! The tray icon and its menu: built once, then updated in place from each snapshot.

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
    pub const SIGN: &str = "sign";
    pub const OPEN: &str = "open";
    pub const COPY_MCP: &str = "copy-mcp";
    pub const AUTOSTART: &str = "autostart";
    pub const QUIT: &str = "quit";
}

pub const SIGN_IN_TEXT: &str = "Sign in…";
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

/// The tray and the menu items that change.
pub struct Tray {
    icon: TrayIcon<Wry>,
    state: MenuItem<Wry>,
    sign: MenuItem<Wry>,
    pub autostart: CheckMenuItem<Wry>,
    shown: Mutex<Option<TrayModel>>,
}

impl Tray {
    pub fn build(
        app: &AppHandle,
        model: &TrayModel,
        autostart_on: bool,
        on_menu: impl Fn(&AppHandle, MenuEvent) + Send + Sync + 'static,
    ) -> tauri::Result<Self> {
        let state = MenuItem::with_id(
            app,
            ids::STATE,
            menu_text(&model.state_line),
            false,
            None::<&str>,
        )?;
        let sign = MenuItem::with_id(app, ids::SIGN, sign_text(model), true, None::<&str>)?;
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
        let menu = Menu::with_items(
            app,
            &[
                &state,
                &PredefinedMenuItem::separator(app)?,
                &sign,
                &open,
                &copy,
                &PredefinedMenuItem::separator(app)?,
                &autostart,
                &PredefinedMenuItem::separator(app)?,
                &quit,
            ],
        )?;
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
            state,
            sign,
            autostart,
            shown: Mutex::new(Some(model.clone())),
        })
    }

    /// Bring the tray in line with `model`, touching only what changed.
    pub fn show(&self, model: &TrayModel) {
        let Ok(mut shown) = self.shown.lock() else {
            return;
        };
        let before = shown.clone();
        let changed = |f: fn(&TrayModel) -> &str| before.as_ref().map(f) != Some(f(model));
        if before.as_ref().map(|m| m.icon) != Some(model.icon) {
            let r =
                Image::from_bytes(icon_bytes(model.icon)).and_then(|i| self.icon.set_icon(Some(i)));
            log_err("tray icon", r);
        }
        if changed(|m| &m.tooltip) {
            log_err("tooltip", self.icon.set_tooltip(Some(&model.tooltip)));
        }
        if changed(|m| &m.state_line) {
            log_err(
                "state line",
                self.state.set_text(menu_text(&model.state_line)),
            );
        }
        if before.as_ref().map(|m| m.sign_out) != Some(model.sign_out) {
            log_err("sign item", self.sign.set_text(sign_text(model)));
        }
        *shown = Some(model.clone());
    }
}

fn sign_text(model: &TrayModel) -> &'static str {
    if model.sign_out {
        SIGN_OUT_TEXT
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

    #[test]
    fn the_sign_item_follows_the_state() {
        let mut m = TrayModel {
            icon: IconState::SignedOut,
            state_line: String::new(),
            tooltip: String::new(),
            sign_out: false,
        };
        assert_eq!(sign_text(&m), "Sign in…");
        m.sign_out = true;
        assert_eq!(sign_text(&m), "Sign out");
    }
}
