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
        self.fake = Fake(self.procs, BIN / "fake-openai", self.work / "fake.log", "--manual-device-approval")
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

    def window_id(self):
        return wait_for("the window on the X server", lambda: subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", "^codex-oauth$"], capture_output=True, text=True,
            timeout=5).stdout.split(), timeout=10)[0]

    def shot(self, name):
        """A picture of the window as the X server shows it, once two grabs in a row agree but for
        a spinner (the page has finished painting). Not WebDriver's screenshot: that is WebKit's own snapshot,
        which never returns when the page is drawn without OpenGL, as the app draws it."""
        SHOTS.mkdir(parents=True, exist_ok=True)
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
        assert labels == ["Not signed in", "Sign in…", "Open window", "Copy MCP config", "Start at login", "Quit"], labels
        _id, state = tray.item("Not signed in")
        assert not bool(state.get("enabled", True)), "the state line must be disabled"
        _id, autostart = tray.item("Start at login")
        assert autostart.get("toggle-type") == "checkmark", autostart
        assert int(autostart.get("toggle-state", 0)) == 0
        assert tray.icon_face() == "signed-out", tray.icon_face()

    def test_window_starts_signed_out(self):
        self.wait_text("#state-title", "Not signed in")
        assert self.visible("#btn-browser") and self.visible("#btn-device")
        assert not self.visible("#account")
        assert self.text("#profile") == "default"
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
        self.wait_text("#email", EMAIL, timeout=15)
        self.timings["browser sign-in (click → email shown)"] = time.monotonic() - started
        assert self.text("#plan") == "Plus"
        assert self.text("#account-id") == "acc-1234"
        assert self.text("#storage").startswith("file"), self.text("#storage")
        assert self.text("#expiry").startswith("valid for "), self.text("#expiry")
        wait_for("the tray to say who is signed in",
                 lambda: self.tray_item().state_line().startswith(f"Signed in as {EMAIL} · Plus · token valid until "))
        assert "Sign out" in self.tray_item().labels()
        assert self.tray_item().icon_face() == "signed-in"
        urls = (self.work / "browser.log").read_text().split()
        assert urls and urls[-1].startswith(self.fake.urls["issuer"]), urls
        bars = wait_for("three usage bars", lambda: len(self.driver.find_elements(By.CSS_SELECTOR, "#usage-bars .bar")) == 3
                        and self.driver.find_elements(By.CSS_SELECTOR, "#usage-bars .bar"))
        heads = [[s.text for s in b.find_elements(By.CSS_SELECTOR, ".bar-head span")] for b in bars]
        assert heads[0][0] == "5-hour limit" and heads[0][1].startswith("12% used · resets "), heads
        assert heads[1][0] == "Weekly limit" and heads[1][1].startswith("40% used · resets "), heads
        assert heads[2][0] == "gpt-6-2-sol: 5-hour limit" and heads[2][1].startswith("3% used · resets "), heads
        # The effective remaining: the tightest window that applies (weekly, 40% used).
        try:
            wait_for("the remaining usage", lambda: self.visible("#usage-remaining")
                     and self.text("#usage-remaining").startswith("Remaining: 60% left (weekly window"))
        except Exception:
            print("DEBUG", self.visible("#usage-remaining"), repr(self.driver.execute_script(
                "return document.getElementById('usage-remaining') && document.getElementById('usage-remaining').outerHTML")))
            print("DEBUG model", self.driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "window.__TAURI__.core.invoke('get_status').then(m => done(JSON.stringify({remaining: m.remaining, usage: m.usage, gen: m.generation})), e => done('ERR ' + e));"))
            state = self.work / "store" / "default" / "state.json"
            print("DEBUG state", state.read_text()[:600] if state.exists() else None)
            raise
        wait_for("a 'Signed in' notification",
                 lambda: [n for n in self.host_log.notifications() if n["summary"] == "Signed in"])
        self.shot("window-signed-in")

    def test_sign_out_asks_first_then_signs_out(self):
        self.el("#btn-signout").click()
        wait_for("the confirmation", lambda: self.visible("#btn-signout-cancel"))
        self.el("#btn-signout-cancel").click()
        wait_for("the dialog to close", lambda: not self.visible("#btn-signout-confirm"))
        assert self.text("#email") == EMAIL, "cancelling must keep the account"
        self.el("#btn-signout").click()
        wait_for("the confirmation", lambda: self.visible("#btn-signout-confirm"))
        self.el("#btn-signout-confirm").click()
        self.wait_text("#state-title", "Not signed in")
        wait_for("the tray to say signed out", lambda: self.tray_item().state_line() == "Not signed in")
        assert self.tray_item().icon_face() == "signed-out"
        assert not (self.work / "store" / "default" / "auth.json").exists()

    def test_cli_sign_in_in_another_process_shows_within_a_second(self):
        r = self.run([BRIDGE, "login"])
        assert r.returncode == 0, r.stderr
        tray_s, window_s = self.live_latency(
            lambda line: line.startswith(f"Signed in as {EMAIL}"),
            lambda: self.text("#email") == EMAIL,
        )
        self.timings["CLI sign-in → tray"] = tray_s
        self.timings["CLI sign-in → window"] = window_s
        assert tray_s < LIVE_LIMIT, f"the tray took {tray_s:.3f} s"
        assert window_s < LIVE_LIMIT, f"the window took {window_s:.3f} s"

    def test_tray_menu_on_an_xembed_panel_screenshot(self):
        """Without a StatusNotifierWatcher the app falls back to an XEmbed icon: show it in trayer,
        open the real GTK menu, take a picture; then bring the watcher back and see the item return."""
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
        region = f"300x220+{max(0, x + w - 300)}+{y + h + 4}"

        def menu_drawn():
            subprocess.run(["import", "-window", "root", str(shot)], check=True)
            mean = subprocess.run(["convert", str(shot), "-crop", region, "-format", "%[fx:mean]", "info:"],
                                  capture_output=True, text=True, check=True).stdout
            return float(mean) > 0.5

        wait_for("the menu to open", menu_drawn, timeout=10, interval=0.2)
        SHOTS.mkdir(parents=True, exist_ok=True)
        # The panel's corner with the icon and the open menu; the black root window trimmed away.
        crop = f"800x300+{max(0, x + w - 800)}+0"
        subprocess.run(["convert", str(shot), "-crop", crop, "+repage", "-fuzz", "3%", "-trim", "+repage",
                        "-bordercolor", "black", "-border", "10", str(SHOTS / "tray-menu.png")], check=True)

    def test_codex_clear_from_a_bridge_shows_within_a_second(self):
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
            reply = call({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                          "params": {"name": "codex_clear", "arguments": {}}})
            assert "result" in reply and not reply["result"].get("isError"), reply
        finally:
            p.stdin.close()
            p.wait(timeout=10)
        tray_s, window_s = self.live_latency(
            lambda line: line == "Not signed in",
            lambda: self.text("#state-title") == "Not signed in",
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
        before = self.fake.get("/_fake/stats")["refreshes"]
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

def main():
    suite = Suite()
    tests = [
        suite.test_tray_item_registers_with_the_full_menu,
        suite.test_window_starts_signed_out,
        suite.test_device_code_shows_code_and_url_then_cancels,
        suite.test_browser_sign_in_shows_the_account,
        suite.test_sign_out_asks_first_then_signs_out,
        suite.test_cli_sign_in_in_another_process_shows_within_a_second,
        suite.test_tray_menu_on_an_xembed_panel_screenshot,
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
