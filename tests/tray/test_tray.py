"""End-to-end tests of codex-oauth-tray: the real binary on a real X server (Xvfb) and a private
D-Bus session, against fake-openai. The tray item is read over D-Bus (a StatusNotifierWatcher of
our own, sni_host.py), the window is driven through WebDriver (tauri-driver + WebKitWebDriver),
"the browser" is browser.sh (curl), and other processes (the CLI, an MCP bridge) change the store
while the app runs. Screenshots go to docs/screenshots/.

Run through scripts/test-tray, which builds the binaries, makes the Python venv and starts Xvfb and
D-Bus. The tests run in order (they follow one account through its life); the last line is
"N passed, N failed"."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
import urllib.request
from pathlib import Path

import dbus
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions

from harness import HERE, ROOT, Fake, HostLog, Processes, TrayItem, free_port, wait_for

BIN = Path(os.environ.get("TRAY_BIN_DIR", ROOT / "target" / "debug"))
APP = BIN / "codex-oauth-tray"
BRIDGE = BIN / "codex-mcp-bridge"
SHOTS = Path(os.environ.get("TRAY_SCREENSHOTS", ROOT / "docs" / "screenshots"))
EMAIL = "ada@example.com"
# The second account: an API key in profile `work`, stored by the CLI. fake-openai signs in one
# ChatGPT account only, and a second sign-in of it under another profile renews the first (one
# account, one profile), so two accounts side by side are that one and an API key.
WORK_KEY = "sk-proj-tray-work-key-1"
# How soon a change made by another process must show (the target).
LIVE_LIMIT = 1.0


class Suite:
    def __init__(self):
        self.work = Path(tempfile.mkdtemp(prefix="tray-e2e-"))
        self.procs = Processes()
        self.host_log = HostLog(self.work / "host.log")
        self.driver = None
        self.tray = None
        self.timings = {}

    # ---- set-up -------------------------------------------------------------------------------

    def env(self):
        home = self.work / "home"
        runtime = self.work / "runtime"
        for d in (home, runtime, self.work / "config", self.work / "data"):
            d.mkdir(parents=True, exist_ok=True)
        runtime.chmod(0o700)
        env = dict(os.environ)
        env.update({
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(self.work / "config"),
            "XDG_DATA_HOME": str(self.work / "data"),
            "XDG_RUNTIME_DIR": str(runtime),
            "NO_AT_BRIDGE": "1",
            "CODEX_OAUTH_HOME": str(self.work / "store"),
            "CODEX_OAUTH_STORE": "file",
            "CODEX_OAUTH_CALLBACK_PORT": str(free_port()),
            "BROWSER": str(HERE / "browser.sh"),
            "TRAY_BROWSER_LOG": str(self.work / "browser.log"),
            "TRAY_BROWSER_HOLD": str(self.work / "browser.hold"),
            "RUST_LOG": "info",
        })
        # The issuer, backend, usage and API-key URLs of the fake.
        env.update(self.fake.urls["env"])
        env.pop("CODEX_OAUTH_NO_BROWSER", None)
        env.pop("CODEX_OAUTH_PROFILE", None)
        return env

    def start(self):
        self.procs.start(["/usr/bin/python3", HERE / "sni_host.py", self.host_log.path], self.work / "host.err")
        wait_for("the test StatusNotifierWatcher", lambda: self.host_log.events("ready"))
        # The user belongs to a team workspace too: every ChatGPT sign-in can use two.
        self.fake = Fake(self.procs, BIN / "fake-openai", self.work / "fake.log", "--manual-device-approval",
                         "--workspace", "ws-acme:Acme:team")
        self.app_env = self.env()
        os.environ.update(self.app_env)
        port = free_port()
        self.procs.start(
            ["tauri-driver", "--port", port, "--native-port", free_port()],
            self.work / "app.log",
            env=self.app_env,
        )
        options = ArgOptions()
        options.set_capability("browserName", "wry")
        options.set_capability("tauri:options", {"application": str(APP), "args": ["--open-window"]})
        self.driver = wait_for(
            "a WebDriver session on the app",
            lambda: webdriver.Remote(command_executor=f"http://127.0.0.1:{port}", options=options),
            timeout=30,
            interval=0.2,
        )
        self.bus = dbus.SessionBus()

    def stop(self):
        """Stop everything; return what fake-openai did not expect since the last check (the app
        and the bridges are stopped before it is asked, so their last requests are in)."""
        if self.driver is not None:
            try:
                self.driver.quit()
            except Exception:  # noqa: BLE001
                pass
        left = []
        try:
            if getattr(self, "fake", None) is not None and self.fake.proc.poll() is None:
                self.procs.stop_started_after(self.fake.proc)
                left = self.fake.take_unexpected()
        finally:
            self.procs.stop_all()
        return left

    def check_unexpected(self):
        """Fail when fake-openai got a request it did not expect since the last check."""
        left = self.fake.take_unexpected()
        assert not left, "fake-openai got requests it did not expect:\n  " + "\n  ".join(left)

    # ---- helpers ------------------------------------------------------------------------------

    def el(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def text(self, css):
        return self.el(css).text

    def visible(self, css):
        els = self.driver.find_elements(By.CSS_SELECTOR, css)
        return bool(els) and els[0].is_displayed()

    def wait_text(self, css, expected, timeout=10.0):
        return wait_for(f"{css} to read {expected!r}", lambda: self.text(css) == expected, timeout)

    @staticmethod
    def card(profile, css=""):
        """The selector of the window's card of `profile` (or of `css` inside it)."""
        return f'#accounts .account[data-profile="{profile}"] {css}'.strip()

    def cards(self):
        return [e.get_attribute("data-profile") for e in self.driver.find_elements(By.CSS_SELECTOR, "#accounts .account")]

    def config_profile(self):
        """The `profile = "..."` line of config.toml (None when there is none)."""
        config = self.work / "store" / "config.toml"
        if not config.exists():
            return None
        for line in config.read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "profile":
                return value.strip().strip('"')
        return None

    def bridge_tool(self, name, arguments):
        """One tool call to a bridge of its own (as Claude Code starts it): its JSON-RPC reply."""
        p = subprocess.Popen([str(BRIDGE)], env=self.app_env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=open(self.work / "bridge.log", "ab"), text=True)
        try:
            def call(msg):
                p.stdin.write(json.dumps(msg) + "\n")
                p.stdin.flush()
                if "id" not in msg:
                    return None
                while True:
                    line = p.stdout.readline()
                    if not line:
                        raise AssertionError("the bridge closed its output")
                    reply = json.loads(line)
                    if reply.get("id") == msg["id"]:
                        return reply

            call({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "tray-e2e", "version": "1"}}})
            call({"jsonrpc": "2.0", "method": "notifications/initialized"})
            return call({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                         "params": {"name": name, "arguments": arguments}})
        finally:
            p.stdin.close()
            p.wait(timeout=10)

    def workspace_shown(self, profile):
        """The workspace the card of `profile` names: the picker's choice when the sign-in can use
        several, else the plain line."""
        pick = self.card(profile, ".workspace-pick")
        if self.visible(pick):
            return self.driver.execute_script(
                "return document.querySelector(arguments[0]).selectedOptions[0]?.text ?? ''", pick)
        return self.text(self.card(profile, ".workspace"))

    def menu_label(self, profile):
        """The menu item of `profile`'s account."""
        for label, _checked in self.tray_item().accounts():
            if label.startswith(f"{profile} — "):
                return label
        raise AssertionError(f"no menu item for profile {profile} in {self.tray_item().labels()}")

    def confirm_sign_out(self, profile):
        self.el(self.card(profile, ".btn-signout")).click()
        wait_for("the confirmation", lambda: self.visible("#btn-signout-confirm"))
        assert self.text("#confirm-profile") == profile, self.text("#confirm-profile")
        self.el("#btn-signout-confirm").click()

    def ensure_default_signed_in(self):
        """The default profile signed in as EMAIL (by the CLI) when no earlier test left it so: the
        account tests also run on their own (scripts/test-tray account)."""
        if self.tray_item().state_line().startswith(f"Signed in as {EMAIL}"):
            return
        r = self.run([BRIDGE, "login"])
        assert r.returncode == 0, r.stderr
        wait_for("the tray to show the sign-in", lambda: self.tray_item().state_line().startswith(f"Signed in as {EMAIL}"))

    def window_id(self):
        return wait_for("the window on the X server", lambda: subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", "^codex-oauth$"], capture_output=True, text=True,
            timeout=5).stdout.split(), timeout=10)[0]

    def shot(self, name):
        """A picture of the window as the X server shows it, once two grabs in a row agree but for
        a spinner (the page has finished painting). Not WebDriver's screenshot: that is WebKit's own snapshot,
        which never returns when the page is drawn without OpenGL, as the app draws it."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        # The page from its top (a click may have scrolled it).
        self.driver.execute_script("window.scrollTo(0, 0)")
        wid = self.window_id()
        last, now = self.work / "shot-last.png", self.work / "shot-now.png"

        def grab(path):
            subprocess.run(["import", "-window", wid, str(path)], check=True, capture_output=True, timeout=5)

        grab(last)

        def steady():
            grab(now)
            # How many pixels changed between the grabs (compare prints it on stderr). A spinner
            # turns a few hundred; a page still painting changes far more.
            diff = subprocess.run(["compare", "-metric", "AE", str(last), str(now), "null:"],
                                  capture_output=True, text=True, timeout=10)
            shutil.copyfile(now, last)
            return diff.returncode in (0, 1) and float(diff.stderr.split()[0]) <= 1000

        wait_for(f"a steady picture of the window ({name})", steady, timeout=10, interval=0.05)
        shutil.copyfile(last, SHOTS / f"{name}.png")
        return SHOTS / f"{name}.png"

    def tray_item(self):
        if self.tray is None:
            reg = wait_for("the tray item to register", lambda: self.host_log.events("item-registered"))[-1]
            self.tray = TrayItem(self.bus, reg["service"], reg["path"])
        return self.tray

    def run(self, args, timeout=60):
        return subprocess.run([str(a) for a in args], env=self.app_env, capture_output=True, text=True,
                              timeout=timeout)

    def state_json_mtime(self):
        return (self.work / "store" / "default" / "state.json").stat().st_mtime

    def live_latency(self, tray_pred, dom_pred):
        """Seconds from state.json's last write to the tray and to the window showing the change."""
        changed_at = self.state_json_mtime()
        wait_for("the tray to follow the change", lambda: tray_pred(self.tray_item().state_line()), timeout=5)
        tray_at = time.time()
        wait_for("the window to follow the change", dom_pred, timeout=5)
        window_at = time.time()
        return tray_at - changed_at, window_at - changed_at

    # ---- the tests, in order ------------------------------------------------------------------

    def test_tray_item_registers_with_the_full_menu(self):
        tray = self.tray_item()
        labels = tray.labels()
        assert labels == ["Not signed in", "default — not signed in", "Sign in…", "Open window", "Copy MCP config",
                          "Start at login", "Quit"], labels
        _id, state = tray.item("Not signed in")
        assert not bool(state.get("enabled", True)), "the state line must be disabled"
        assert tray.accounts() == [("default — not signed in", True)], tray.accounts()
        _id, autostart = tray.item("Start at login")
        assert autostart.get("toggle-type") == "checkmark", autostart
        assert int(autostart.get("toggle-state", 0)) == 0
        assert tray.icon_face() == "signed-out", tray.icon_face()

    def test_window_starts_signed_out(self):
        self.wait_text(self.card("default", ".state-title"), "Not signed in")
        assert self.cards() == ["default"], self.cards()
        assert self.visible("#btn-browser") and self.visible("#btn-device")
        assert not self.visible(self.card("default", ".facts"))
        assert self.text(self.card("default", ".profile")) == "default"
        assert self.visible(self.card("default", ".default-mark"))
        assert self.text("#signin-profile") == "default"
        picture = self.shot("window-signed-out")
        # The page is really on screen (a broken drawing path would leave one flat colour).
        spread = subprocess.run(["convert", str(picture), "-format", "%[fx:standard_deviation]", "info:"],
                                capture_output=True, text=True, check=True).stdout
        assert float(spread) > 0.05, f"the window looks blank (spread {spread})"

    def test_device_code_shows_code_and_url_then_cancels(self):
        self.el("#btn-device").click()
        code = wait_for("a device code", lambda: self.text("#device-code").strip())
        assert self.el("#device-url").get_attribute("value").endswith("/codex/device")
        wait_for("the tray to show the pending sign-in",
                 lambda: self.tray_item().state_line() == "Signing in… (waiting for the device code)")
        self.shot("window-device-code")
        assert len(code) >= 4, code
        self.el("#btn-cancel").click()
        wait_for("the sign-in choices again", lambda: self.visible("#btn-browser"))
        wait_for("the tray to drop the pending sign-in", lambda: self.tray_item().state_line() == "Not signed in")
        assert self.text("#error") == "", self.text("#error")

    def test_browser_sign_in_shows_the_account(self):
        started = time.monotonic()
        self.el("#btn-browser").click()
        self.wait_text(self.card("default", ".email"), EMAIL, timeout=15)
        self.timings["browser sign-in (click → email shown)"] = time.monotonic() - started
        assert self.text(self.card("default", ".plan")) == "Plus"
        assert self.text(self.card("default", ".account-id")) == "acc-1234"
        assert self.text(self.card("default", ".storage")).startswith("file"), self.text(self.card("default", ".storage"))
        expiry = self.text(self.card("default", ".expiry"))
        assert expiry.startswith("valid for "), expiry
        # The workspace comes from accounts/check, asked with the first backend call (usage).
        # This user can use two workspaces, so it is the picker that names it.
        wait_for("the workspace", lambda: self.workspace_shown("default") == "Personal")
        wait_for("the tray to say who is signed in",
                 lambda: self.tray_item().state_line().startswith(f"Signed in as {EMAIL} · Plus · token valid until "))
        assert "Sign out" in self.tray_item().labels()
        assert self.tray_item().icon_face() == "signed-in"
        urls = (self.work / "browser.log").read_text().split()
        assert urls and urls[-1].startswith(self.fake.urls["issuer"]), urls
        bar_css = self.card("default", ".usage-bars .bar")
        bars = wait_for("three usage bars", lambda: len(self.driver.find_elements(By.CSS_SELECTOR, bar_css)) == 3
                        and self.driver.find_elements(By.CSS_SELECTOR, bar_css))
        heads = [[s.text for s in b.find_elements(By.CSS_SELECTOR, ".bar-head span")] for b in bars]
        assert heads[0][0] == "5-hour limit" and heads[0][1].startswith("12% used · resets "), heads
        assert heads[1][0] == "Weekly limit" and heads[1][1].startswith("40% used · resets "), heads
        assert heads[2][0] == "gpt-6-2-sol: 5-hour limit" and heads[2][1].startswith("3% used · resets "), heads
        # The effective remaining: the tightest window that applies (weekly, 40% used).
        remaining = self.card("default", ".usage-remaining")
        wait_for("the remaining usage", lambda: self.visible(remaining)
                 and self.text(remaining).startswith("Remaining: 60% left (weekly window"))
        wait_for("a 'Signed in' notification",
                 lambda: [n for n in self.host_log.notifications() if n["summary"] == "Signed in"])
        self.shot("window-signed-in")

    def test_sign_out_asks_first_then_signs_out(self):
        self.el(self.card("default", ".btn-signout")).click()
        wait_for("the confirmation", lambda: self.visible("#btn-signout-cancel"))
        self.el("#btn-signout-cancel").click()
        wait_for("the dialog to close", lambda: not self.visible("#btn-signout-confirm"))
        assert self.text(self.card("default", ".email")) == EMAIL, "cancelling must keep the account"
        self.confirm_sign_out("default")
        self.wait_text(self.card("default", ".state-title"), "Not signed in")
        wait_for("the tray to say signed out", lambda: self.tray_item().state_line() == "Not signed in")
        assert self.tray_item().icon_face() == "signed-out"
        assert not (self.work / "store" / "default" / "auth.json").exists()

    def test_cli_sign_in_in_another_process_shows_within_a_second(self):
        r = self.run([BRIDGE, "login"])
        assert r.returncode == 0, r.stderr
        tray_s, window_s = self.live_latency(
            lambda line: line.startswith(f"Signed in as {EMAIL}"),
            lambda: self.text(self.card("default", ".email")) == EMAIL,
        )
        self.timings["CLI sign-in → tray"] = tray_s
        self.timings["CLI sign-in → window"] = window_s
        assert tray_s < LIVE_LIMIT, f"the tray took {tray_s:.3f} s"
        assert window_s < LIVE_LIMIT, f"the window took {window_s:.3f} s"

    def test_usage_past_each_threshold_and_a_reset_notify_once(self):
        """The usage alerts (80 and 95 by default) and the reset, each notified once, as another
        process (a bridge's `codex_usage`) brings new numbers into state.json."""
        self.ensure_default_signed_in()

        def usage_notices():
            return [n["summary"] for n in self.host_log.notifications() if n["summary"].startswith("Codex ")]

        def usage_at(percent, left):
            self.fake.put("/_fake/faults", {"primary_used_percent": percent})
            reply = self.bridge_tool("codex_usage", {})
            assert "result" in reply and not reply["result"].get("isError"), reply
            # The menu shows the new remaining once the tray has the snapshot the notices come from.
            wait_for(f"the menu to show {left}", lambda: self.menu_label("default").endswith(f" · {left}"))
            return usage_notices()[before:]

        before = len(usage_notices())
        try:
            # The weekly window is 40% used: 60% left until the 5-hour one is tighter.
            assert usage_at(50, "50% left") == []
            assert usage_at(85, "15% left") == ["Codex usage past 80%"]
            assert usage_at(90, "10% left") == ["Codex usage past 80%"], "80% must be announced once"
            assert usage_at(96, "4% left") == ["Codex usage past 80%", "Codex usage past 95%"]
            assert usage_at(100, "limit reached") == ["Codex usage past 80%", "Codex usage past 95%"]
            assert usage_at(5, "60% left") == ["Codex usage past 80%", "Codex usage past 95%", "Codex limit reset"]
        finally:
            self.fake.put("/_fake/faults", {})
        body = [n["body"] for n in self.host_log.notifications() if n["summary"] == "Codex usage past 95%"][-1]
        assert body.startswith(f"{EMAIL}: 4% left"), body

    def test_the_window_picks_the_workspace_of_a_sign_in_that_can_use_two(self):
        self.ensure_default_signed_in()
        pick = self.card("default", ".workspace-pick")
        wait_for("the workspace picker", lambda: self.visible(pick))
        options = [(o.get_attribute("value"), o.text) for o in self.el(pick).find_elements(By.TAG_NAME, "option")]
        assert options == [("acc-1234", "Personal"), ("ws-acme", "Acme")], options
        assert self.el(pick).get_attribute("value") == "acc-1234"
        self.shot("window-workspace-picker")

        def state_account_id():
            return json.loads((self.work / "store" / "default" / "state.json").read_text()).get("account_id")

        try:
            self.driver.execute_script(
                "const p = document.querySelector(arguments[0]); p.value = 'ws-acme';"
                "p.dispatchEvent(new Event('change'))", pick)
            wait_for("the profile to use the Acme workspace", lambda: state_account_id() == "ws-acme")
            wait_for("the picker to show it", lambda: self.el(pick).get_attribute("value") == "ws-acme")
            wait_for("the toast", lambda: "go to Acme" in self.text("#toast"))
            wait_for("the workspace's id", lambda: self.text(self.card("default", ".account-id")) == "ws-acme")
            # Another process of ours sends its requests to that workspace now.
            reply = self.bridge_tool("codex_usage", {})
            assert "result" in reply and not reply["result"].get("isError"), reply
            usage = [q for q in self.fake.get("/_fake/requests") if q["path"].endswith("/wham/usage")][-1]
            assert usage["headers"].get("chatgpt-account-id") == "ws-acme", usage["headers"]
        finally:
            self.driver.execute_script(
                "const p = document.querySelector(arguments[0]); p.value = 'acc-1234';"
                "p.dispatchEvent(new Event('change'))", pick)
            wait_for("the personal workspace again", lambda: state_account_id() == "acc-1234")
        assert self.text("#error") == "", self.text("#error")

    # ---- several accounts ---------------------------------------------------------------------

    def test_an_account_signed_in_by_another_process_appears_within_a_second(self):
        self.ensure_default_signed_in()
        # The default's usage is known once the window has asked for it (it does for a card without).
        wait_for("the default's usage in the menu",
                 lambda: self.menu_label("default") == f"default — {EMAIL} · 60% left")
        r = subprocess.run([str(BRIDGE), "login", "--with-api-key", "--profile", "work"], input=WORK_KEY + "\n",
                           env=self.app_env, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        changed_at = (self.work / "store" / "work" / "state.json").stat().st_mtime
        wait_for("the menu to list the new account", lambda: len(self.tray_item().accounts()) == 2, timeout=5)
        tray_s = time.time() - changed_at
        wait_for("a card for the new account", lambda: self.visible(self.card("work"))
                 and self.text(self.card("work", ".state-title")) == "Signed in", timeout=5)
        window_s = time.time() - changed_at
        self.timings["new profile (CLI) → tray"] = tray_s
        self.timings["new profile (CLI) → window"] = window_s
        assert tray_s < LIVE_LIMIT, f"the tray took {tray_s:.3f} s"
        assert window_s < LIVE_LIMIT, f"the window took {window_s:.3f} s"
        accounts = self.tray_item().accounts()
        assert accounts == [(f"default — {EMAIL} · 60% left", True), ("work — API key", False)], accounts
        assert self.cards() == ["default", "work"], self.cards()
        assert self.text(self.card("work", ".auth")) == "API key", self.text(self.card("work", ".auth"))
        assert self.visible(self.card("default", ".default-mark"))
        assert not self.visible(self.card("work", ".default-mark"))
        assert self.visible(self.card("work", ".btn-make-default"))
        assert not self.visible(self.card("default", ".btn-make-default"))
        # The state line stays about the default account; the menu items after the accounts.
        labels = self.tray_item().labels()
        assert labels[0].startswith(f"Signed in as {EMAIL}"), labels
        assert labels[3:] == ["Add account…", "Sign out", "Open window", "Copy MCP config", "Start at login", "Quit"], labels

    def test_make_default_from_the_window_the_menu_and_another_process(self):
        # From the window.
        self.el(self.card("work", ".btn-make-default")).click()
        wait_for("config.toml to name work", lambda: self.config_profile() == "work")
        wait_for("the menu to check work", lambda: self.tray_item().checked_accounts() == ["work — API key"])
        wait_for("the state line to be about work", lambda: self.tray_item().state_line() == "Signed in with an API key")
        wait_for("the card of work to be marked", lambda: self.visible(self.card("work", ".default-mark")))
        assert not self.visible(self.card("default", ".default-mark"))
        assert self.visible(self.card("default", ".btn-make-default"))
        assert "Add account…" in self.tray_item().labels()
        self.shot("window-accounts")
        # From another process (`use`): config.toml changes under the app.
        r = self.run([BRIDGE, "use", "default"])
        assert r.returncode == 0, r.stderr
        changed_at = (self.work / "store" / "config.toml").stat().st_mtime
        wait_for("the menu to check default again", lambda: self.tray_item().checked_accounts() == [self.menu_label("default")],
                 timeout=5)
        tray_s = time.time() - changed_at
        self.timings["default changed (CLI use) → tray"] = tray_s
        assert tray_s < LIVE_LIMIT, f"the tray took {tray_s:.3f} s"
        wait_for("the window to mark default again", lambda: self.visible(self.card("default", ".default-mark")))
        # From the menu: choosing an account makes it the default; choosing the default keeps it.
        self.tray_item().click("work — API key")
        wait_for("config.toml to name work", lambda: self.config_profile() == "work")
        wait_for("the menu to check work", lambda: self.tray_item().checked_accounts() == ["work — API key"])
        wait_for("the window to mark work", lambda: self.visible(self.card("work", ".default-mark")))
        # Choosing the default again: its item stays checked. Menu events are handled in order, so
        # once the copy that follows has been notified, this click has been handled too.
        notes = len(self.host_log.notifications())
        self.tray_item().click("work — API key")
        self.tray_item().click("Copy MCP config")
        wait_for("the copy notification", lambda: len(self.host_log.notifications()) > notes)
        assert self.tray_item().checked_accounts() == ["work — API key"], self.tray_item().accounts()
        assert self.config_profile() == "work"
        self.tray_item().click(self.menu_label("default"))
        wait_for("config.toml to name default", lambda: self.config_profile() == "default")
        wait_for("the menu to check default", lambda: self.tray_item().checked_accounts() == [self.menu_label("default")])
        assert self.tray_item().state_line().startswith(f"Signed in as {EMAIL}")

    def test_tray_menu_with_two_accounts_on_an_xembed_panel_screenshot(self):
        """Without a StatusNotifierWatcher the app falls back to an XEmbed icon: show it in trayer,
        open the real GTK menu (two accounts by now), take a picture; then bring the watcher back and
        see the item return."""
        accounts = self.tray_item().accounts()
        assert len(accounts) == 2, f"the picture is of the menu with two accounts: {accounts}"
        host = self.procs.procs[0]
        os.killpg(host.pid, 15)
        host.wait(timeout=5)
        trayer = None

        def icon_geometry():
            tree = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True).stdout
            for line in tree.splitlines():
                if '"tray-icon tray app codex-oauth"' in line and "+" in line:
                    # ...  32x30+0+0  +1247+1
                    size, absolute = line.split()[-2:]
                    w, h = (int(v) for v in size.split("+")[0].split("x"))
                    x, y = (int(v) for v in absolute.lstrip("+").split("+"))
                    if w >= 16 and x >= 0:
                        return x, y, w, h
            return None

        try:
            trayer = self.procs.start(
                ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request", "--height", "32",
                 "--transparent", "false", "--tint", "0x2b2d31", "--SetDockType", "true"],
                self.work / "trayer.log")
            self.open_and_shoot_the_xembed_menu(icon_geometry)
        finally:
            # Whatever happened (even trayer missing), put the panel back as the later tests expect
            # it: trayer gone, our StatusNotifierWatcher back (it also records the notifications).
            subprocess.run(["xdotool", "key", "Escape"], check=False)
            if trayer is not None:
                os.killpg(trayer.pid, 15)
                trayer.wait(timeout=5)
            before = len(self.host_log.events("item-registered"))
            self.procs.start(["/usr/bin/python3", HERE / "sni_host.py", self.host_log.path],
                             self.work / "host.err")
            wait_for("the item to register again", lambda: len(self.host_log.events("item-registered")) > before)
        self.tray = None
        assert self.tray_item().state_line().startswith(f"Signed in as {EMAIL}")

    def open_and_shoot_the_xembed_menu(self, icon_geometry):
        x, y, w, h = wait_for("the icon in trayer", icon_geometry, timeout=10, interval=0.1)
        subprocess.run(["xdotool", "mousemove", str(x + w // 2), str(y + h // 2), "click", "1"], check=True)
        shot = self.work / "root.png"
        region = f"300x300+{max(0, x + w - 300)}+{y + h + 4}"

        def menu_drawn():
            subprocess.run(["import", "-window", "root", str(shot)], check=True)
            mean = subprocess.run(["convert", str(shot), "-crop", region, "-format", "%[fx:mean]", "info:"],
                                  capture_output=True, text=True, check=True).stdout
            return float(mean) > 0.5

        # The icon's window can be listed before GTK has mapped it and listens for the press: a
        # press that lands then is lost. So press again when the menu has not opened after a while;
        # only then, since a press on the icon while the menu is open would close it.
        pressed = [time.monotonic()]

        def menu_drawn_or_press_again():
            if menu_drawn():
                return True
            if time.monotonic() - pressed[0] > 3:
                subprocess.run(["xdotool", "mousemove", str(x + w // 2), str(y + h // 2), "click", "1"], check=True)
                pressed[0] = time.monotonic()
            return False

        wait_for("the menu to open", menu_drawn_or_press_again, timeout=15, interval=0.2)
        SHOTS.mkdir(parents=True, exist_ok=True)
        # The panel's corner with the icon and the open menu; the black root window trimmed away.
        crop = f"800x420+{max(0, x + w - 800)}+0"
        subprocess.run(["convert", str(shot), "-crop", crop, "+repage", "-fuzz", "3%", "-trim", "+repage",
                        "-bordercolor", "black", "-border", "10", str(SHOTS / "tray-menu-accounts.png")], check=True)

    def test_signing_out_one_account_leaves_the_other_signed_in(self):
        self.confirm_sign_out("default")
        self.wait_text(self.card("default", ".state-title"), "Not signed in")
        wait_for("the menu to say default is signed out", lambda: self.tray_item().accounts()
                 == [("default — not signed in", True), ("work — API key", False)])
        assert self.tray_item().state_line() == "Not signed in"
        assert "Sign in…" in self.tray_item().labels() and "Sign out" not in self.tray_item().labels()
        assert self.text(self.card("work", ".state-title")) == "Signed in"
        assert not (self.work / "store" / "default" / "auth.json").exists()
        assert (self.work / "store" / "work" / "auth.json").exists(), "the other account was signed out too"
        r = self.run([BRIDGE, "status", "--profile", "work"])
        assert r.returncode == 0, r.stdout + r.stderr

    def test_the_paste_field_completes_a_sign_in_and_refuses_a_wrong_state(self):
        """The browser is "on another machine": browser.sh only logs the URL; the test follows the
        authorize URL against fake-openai itself, stops at the redirect to the app's callback, and
        pastes that address into the window."""
        if not self.visible("#btn-browser"):
            # Run on its own: sign the default out first.
            self.confirm_sign_out("default")
            wait_for("the sign-in choices", lambda: self.visible("#btn-browser"))
        before = self.fake.get("/_fake/stats")["code_exchanges"]
        hold = self.work / "browser.hold"
        hold.touch()
        try:
            self.el("#btn-browser").click()
            url = wait_for("the sign-in link", lambda: self.visible("#flow-browser")
                           and self.el("#signin-url").get_attribute("value"))
            assert self.visible("#paste-url"), "no field for the pasted address"
            final = follow_to_callback(url)
            parts = urllib.parse.urlsplit(final)
            query = dict(urllib.parse.parse_qsl(parts.query))
            assert "code" in query and "state" in query, final
            wrong = urllib.parse.urlunsplit(parts._replace(
                query=urllib.parse.urlencode({**query, "state": "not-this-sign-in-" + "x" * 30})))
            self.el("#paste-url").send_keys(wrong)
            self.el("#btn-paste").click()
            wait_for("the refusal", lambda: "the pasted address was not used" in self.text("#error"))
            assert "state" in self.text("#error"), self.text("#error")
            assert self.visible("#flow-browser"), "a refused paste must keep the sign-in waiting"
            assert self.fake.get("/_fake/stats")["code_exchanges"] == before
            self.el("#paste-url").clear()
            self.el("#paste-url").send_keys(final)
            self.el("#btn-paste").click()
            self.wait_text(self.card("default", ".email"), EMAIL, timeout=15)
        finally:
            hold.unlink(missing_ok=True)
        assert self.fake.get("/_fake/stats")["code_exchanges"] == before + 1
        assert self.text("#error") == "", self.text("#error")
        assert self.el("#paste-url").get_attribute("value") == "", "the pasted address (it holds a code) stays in the field"
        wait_for("the tray to say who is signed in", lambda: self.tray_item().state_line().startswith(f"Signed in as {EMAIL}"))

    def test_add_account_checks_the_name_and_the_same_account_renews_its_profile(self):
        # From the menu: the window asks for the new profile's name.
        assert not self.visible("#add-name")
        self.tray_item().click("Add account…")
        wait_for("the name field", lambda: self.visible("#add-name"))
        assert not self.visible("#btn-add"), "the window is adding an account already"
        for name, said in (("../evil", "not a valid profile name"), ("work", "already")):
            self.el("#add-name").clear()
            self.el("#add-name").send_keys(name)
            self.el("#btn-device").click()
            wait_for(f"the refusal of {name!r}", lambda: said in self.text("#error"))
            assert not self.visible("#flow-device"), "a refused name started a sign-in"
        assert self.cards() == ["default", "work"], self.cards()
        self.el("#add-name").clear()
        self.el("#add-name").send_keys("team")
        self.el("#btn-device").click()
        code = wait_for("a device code", lambda: self.visible("#flow-device") and self.text("#device-code").strip())
        assert self.text("#signin-profile") == "team"
        wait_for("the new profile pending in the menu", lambda: self.menu_label("team") == "team — signing in…")
        wait_for("a card for the new profile", lambda: "team" in self.cards())
        # fake-openai has one ChatGPT account, which profile default holds: the sign-in renews it.
        self.fake.post("/_fake/device/approve", {"user_code": code})
        wait_for("the message", lambda: "already profile default" in self.text("#toast"), timeout=15)
        wait_for("the profile to go", lambda: self.cards() == ["default", "work"])
        wait_for("the menu to drop it", lambda: [l.split(" — ")[0] for l, _ in self.tray_item().accounts()] == ["default", "work"])
        assert not (self.work / "store" / "team").exists()
        assert self.text(self.card("default", ".email")) == EMAIL

    def test_a_background_job_shows_in_the_menu_and_the_window_and_its_end_is_notified(self):
        """A bridge starts a background job and exits; the job's runner works on (a slow
        answer): the menu says a job runs, the window lists it, and its end is notified once,
        with its title."""
        self.ensure_default_signed_in()

        def job_notices():
            return [n for n in self.host_log.notifications() if n["summary"].startswith("Codex job")]

        before = len(job_notices())
        self.fake.put("/_fake/faults", {"delta_delay_ms": 800})
        try:
            reply = self.bridge_tool("codex_query", {"prompt": "Weigh the two designs", "background": True})
            assert "result" in reply and not reply["result"].get("isError"), reply
            job_id = reply["result"]["structuredContent"]["job_id"]
            wait_for("the menu's jobs line", lambda: "1 Codex job running" in self.tray_item().labels())
            row = f'li.job[data-job="{job_id}"]'
            wait_for("the job in the window", lambda: self.visible(self.card("default", row)))
            # Below the card's other parts: brought into view, as a person would scroll to it.
            self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})",
                                       self.el(self.card("default", row)))
            shown = self.text(self.card("default", f"{row} .job-title"))
            assert shown == "Weigh the two designs", shown
            assert "running since" in self.text(self.card("default", f"{row} .job-state"))
            note = wait_for("the job's end to be notified", lambda: job_notices()[before:], timeout=30)
        finally:
            self.fake.put("/_fake/faults", {})
        assert [n["summary"] for n in note] == ["Codex job done"], note
        # With several accounts the body names the profile: "codex_query (profile default): …".
        body = note[0]["body"]
        assert body.startswith("codex_query") and body.endswith(": Weigh the two designs"), note
        wait_for("the jobs line to go", lambda: not any("Codex job" in l for l in self.tray_item().labels()))
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})",
                                   self.el(self.card("default", row)))
        wait_for("the window to say it is done",
                 lambda: "done at" in self.text(self.card("default", f"{row} .job-state")))
        assert len(job_notices()) == before + 1, "notified once"

    def test_codex_clear_from_a_bridge_shows_within_a_second(self):
        reply = self.bridge_tool("codex_clear", {})
        assert "result" in reply and not reply["result"].get("isError"), reply
        tray_s, window_s = self.live_latency(
            lambda line: line == "Not signed in",
            lambda: self.text(self.card("default", ".state-title")) == "Not signed in",
        )
        self.timings["bridge codex_clear → tray"] = tray_s
        self.timings["bridge codex_clear → window"] = window_s
        assert tray_s < LIVE_LIMIT, f"the tray took {tray_s:.3f} s"
        assert window_s < LIVE_LIMIT, f"the window took {window_s:.3f} s"

    def test_start_at_login_toggles_the_autostart_entry(self):
        # auto-launch writes to $HOME/.config/autostart (whatever XDG_CONFIG_HOME says).
        autostart = self.work / "home" / ".config" / "autostart"
        self.tray_item().click("Start at login")
        wait_for("an autostart entry", lambda: list(autostart.glob("*.desktop")))
        entry = list(autostart.glob("*.desktop"))[0].read_text()
        assert str(APP) in entry, entry
        wait_for("the item to be checked",
                 lambda: int(self.tray_item().item("Start at login")[1].get("toggle-state", 0)) == 1)
        self.tray_item().click("Start at login")
        wait_for("the autostart entry to go", lambda: not list(autostart.glob("*.desktop")))
        wait_for("the item to be unchecked",
                 lambda: int(self.tray_item().item("Start at login")[1].get("toggle-state", 0)) == 0)

    def test_copy_mcp_config_from_the_menu(self):
        before = len(self.host_log.notifications())
        self.tray_item().click("Copy MCP config")
        note = wait_for("the copy notification",
                        lambda: [n for n in self.host_log.notifications()[before:] if n["summary"] == "MCP config copied"])
        assert note
        # The window's button copies the same and says so.
        self.el("#btn-copy-mcp").click()
        wait_for("the copied message", lambda: self.text("#toast").startswith("MCP config copied"))

    def test_a_second_launch_hands_over_and_exits(self):
        before = len(self.host_log.events("item-registered"))
        r = self.run([APP], timeout=20)
        assert r.returncode == 0, r.stderr
        assert len(self.host_log.events("item-registered")) == before, "a second tray item appeared"

    def test_no_secret_reaches_logs_or_the_window(self):
        secrets = self.fake.secrets()
        assert secrets, "the fake issued no tokens?"
        page = self.driver.page_source
        logs = {p.name: p.read_text(errors="replace") for p in self.work.glob("*.log")}
        logs.update({p.name: p.read_text(errors="replace") for p in self.work.glob("*.err")})
        for s in secrets:
            assert s not in page, "a token is in the window"
            for name, text in logs.items():
                if name == "fake.log":
                    continue
                assert s not in text, f"a token is in {name}"

    def test_closing_the_window_keeps_the_app_in_the_tray(self):
        # Close it as the title bar's close button does (a WebDriver "close window" would end the
        # session, and WebKitWebDriver would end the app with it).
        self.driver.execute_script("window.__TAURI__.window.getCurrentWindow().close()")
        wait_for("the window to close", lambda: subprocess.run(
            ["xdotool", "search", "--name", "^codex-oauth$"], capture_output=True).returncode != 0, timeout=10)
        # The app is still there and opens a new window from the tray.
        self.tray_item().click("Open window")
        wait_for("a new window", lambda: subprocess.run(
            ["xdotool", "search", "--name", "^codex-oauth$"], capture_output=True).returncode == 0, timeout=10)
        assert not self.host_log.events("item-unregistered")

    def test_quit_during_a_refresh_keeps_the_rotation(self):
        """Quit while the tray's timer is refreshing: the issuer has rotated the refresh token and
        holds its answer back, so the old one is already dead; the app must save the answer
        before it exits, and the next call gets a token of the same lineage."""
        r = self.run([BRIDGE, "login"])
        assert r.returncode == 0, r.stderr
        wait_for("the tray to show the sign-in", lambda: self.tray_item().state_line().startswith("Signed in"))
        self.fake.put("/_fake/faults", {"token_answer_delay_ms": 3000})
        # Counted before the record is written: the timer may refresh at once.
        before = self.fake.get("/_fake/stats")["refreshes"]
        # A record whose access token is inside the refresh margin, written as another process
        # would (atomically, then state.json bumped): the tray's timer refreshes at once.
        tokens = self.fake.get("/_fake/mint?access_ttl_secs=120")
        profile = self.work / "store" / "default"
        record = {
            "auth_mode": "chatgpt",
            "OPENAI_API_KEY": None,
            "tokens": {**tokens, "account_id": "acc-1234"},
            "last_refresh": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        tmp = profile / ".auth.json.test.tmp"
        tmp.write_text(json.dumps(record))
        tmp.chmod(0o600)
        os.replace(tmp, profile / "auth.json")
        state_path = profile / "state.json"
        state = json.loads(state_path.read_text())
        state["generation"] = state.get("generation", 0) + 1
        tmp = profile / ".state.json.test.tmp"
        tmp.write_text(json.dumps(state))
        os.replace(tmp, state_path)
        wait_for("the tray's timer to refresh", lambda: self.fake.get("/_fake/stats")["refreshes"] > before, timeout=20)
        self.tray_item().click("Quit")
        wait_for("the tray item to go away on Quit", lambda: self.host_log.events("item-unregistered"), timeout=40)
        wait_for("the app to exit after saving", lambda: subprocess.run(
            ["pgrep", "-f", str(APP)], capture_output=True).returncode != 0, timeout=40)
        self.fake.put("/_fake/faults", {})
        r = self.run([BRIDGE, "token"])
        stats = self.fake.get("/_fake/stats")
        assert r.returncode == 0, f"the next call failed: {r.stderr}"
        assert stats["reuse_rejections"] == 0, "a dead refresh token was used"
        assert stats["refreshes"] == before + 1, "the rotation was not kept (the next call refreshed again)"

def follow_to_callback(url):
    """Follow the authorize URL as a browser would, but stop at the redirect to the app's loopback
    callback (a browser on another machine cannot load it): return that address."""

    class Stop(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):
            if urllib.parse.urlsplit(newurl).path == "/auth/callback":
                raise CallbackReached(newurl)
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    try:
        urllib.request.build_opener(Stop).open(url, timeout=10).read()
    except CallbackReached as reached:
        return reached.url
    raise AssertionError(f"the authorize URL did not lead to the callback: {url}")


class CallbackReached(Exception):
    def __init__(self, url):
        super().__init__(url)
        self.url = url


def main():
    suite = Suite()
    tests = [
        suite.test_tray_item_registers_with_the_full_menu,
        suite.test_window_starts_signed_out,
        suite.test_device_code_shows_code_and_url_then_cancels,
        suite.test_browser_sign_in_shows_the_account,
        suite.test_sign_out_asks_first_then_signs_out,
        suite.test_cli_sign_in_in_another_process_shows_within_a_second,
        suite.test_usage_past_each_threshold_and_a_reset_notify_once,
        suite.test_the_window_picks_the_workspace_of_a_sign_in_that_can_use_two,
        suite.test_an_account_signed_in_by_another_process_appears_within_a_second,
        suite.test_make_default_from_the_window_the_menu_and_another_process,
        suite.test_tray_menu_with_two_accounts_on_an_xembed_panel_screenshot,
        suite.test_signing_out_one_account_leaves_the_other_signed_in,
        suite.test_the_paste_field_completes_a_sign_in_and_refuses_a_wrong_state,
        suite.test_add_account_checks_the_name_and_the_same_account_renews_its_profile,
        suite.test_a_background_job_shows_in_the_menu_and_the_window_and_its_end_is_notified,
        suite.test_codex_clear_from_a_bridge_shows_within_a_second,
        suite.test_start_at_login_toggles_the_autostart_entry,
        suite.test_copy_mcp_config_from_the_menu,
        suite.test_a_second_launch_hands_over_and_exits,
        suite.test_no_secret_reaches_logs_or_the_window,
        suite.test_closing_the_window_keeps_the_app_in_the_tray,
        # Last: it quits the app.
        suite.test_quit_during_a_refresh_keeps_the_rotation,
    ]
    only = sys.argv[1:]
    passed = failed = 0
    try:
        suite.start()
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        print(f"set-up failed; logs in {suite.work}", file=sys.stderr)
        suite.stop()
        print(f"0 passed, {len(tests)} failed")
        return 1
    try:
        for t in tests:
            if only and not any(o in t.__name__ for o in only):
                continue
            name = t.__name__.removeprefix("test_").replace("_", " ")
            began = time.monotonic()
            try:
                try:
                    t()
                finally:
                    # Whatever the test's outcome, what it made the fake see is checked (and
                    # taken) here, so the next test starts from an empty record.
                    suite.check_unexpected()
                passed += 1
                print(f"ok   {name} ({time.monotonic() - began:.2f} s)", flush=True)
            except Exception:  # noqa: BLE001
                failed += 1
                print(f"FAIL {name}", flush=True)
                traceback.print_exc()
    finally:
        left = suite.stop()
    if left:
        # Requests that came after the last test (the app's own, as it quit).
        failed += 1
        print("FAIL fake-openai got requests it did not expect at the end:\n  " + "\n  ".join(left), flush=True)
    for what, secs in suite.timings.items():
        print(f"  {what}: {secs * 1000:.0f} ms")
    if failed:
        print(f"logs kept in {suite.work}", file=sys.stderr)
    else:
        shutil.rmtree(suite.work, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
