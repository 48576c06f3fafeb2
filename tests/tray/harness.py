"""Helpers for the tray suite: processes, waiting for conditions with deadlines, the tray item over
D-Bus (StatusNotifierItem + com.canonical.dbusmenu), the icon's face, and fake-openai."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import dbus

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
ICONS = ROOT / "src-tauri" / "icons"


class Timeout(AssertionError):
    pass


def wait_for(what, check, timeout=10.0, interval=0.02):
    """Call check() until it returns a truthy value; fail with `what` after `timeout` seconds.
    This waits for a condition (with a deadline), it does not sleep to synchronise."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = check()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - the condition may not be checkable yet
            last_error = e
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise Timeout(f"timed out after {timeout} s waiting for {what}{detail}")
        time.sleep(interval)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Started processes, stopped in reverse order at the end."""

    def __init__(self):
        self.procs = []

    def start(self, args, log_path, env=None, stdout=None, stdin=None):
        log = open(log_path, "ab")
        p = subprocess.Popen(
            [str(a) for a in args],
            stdout=stdout if stdout is not None else log,
            stderr=log,
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        self.procs.append(p)
        return p

    def stop_started_after(self, first):
        """Stop the processes started after `first` (newest first), keeping `first` and older."""
        later = self.procs[self.procs.index(first) + 1:]
        del self.procs[self.procs.index(first) + 1:]
        stopping = Processes()
        stopping.procs = later
        stopping.stop_all()

    def stop_all(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in reversed(self.procs):
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


class HostLog:
    """The JSON-lines log of sni_host.py."""

    def __init__(self, path):
        self.path = Path(path)

    def events(self, kind=None):
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text().splitlines():
            try:
                e = json.loads(line)
            except json.JSONDecodeError:
                continue
            if kind is None or e.get("event") == kind:
                out.append(e)
        return out

    def notifications(self):
        return self.events("notification")


class TrayItem:
    """The app's StatusNotifierItem and its dbusmenu, read over the session bus."""

    def __init__(self, bus, service, path):
        self.bus = bus
        self.service = service
        self.path = path
        self.props = dbus.Interface(bus.get_object(service, path), dbus.PROPERTIES_IFACE)

    def prop(self, name):
        return self.props.Get("org.kde.StatusNotifierItem", name)

    def menu(self):
        obj = self.bus.get_object(self.service, self.prop("Menu"))
        return dbus.Interface(obj, "com.canonical.dbusmenu")

    def items(self):
        """[(id, label, props)] of the top-level menu, in order (separators have no label)."""
        _rev, layout = self.menu().GetLayout(0, -1, dbus.Array([], signature="s"))
        out = []
        for child in layout[2]:
            cid, props, _children = child
            out.append((int(cid), str(props.get("label", "")), {str(k): v for k, v in props.items()}))
        return out

    def labels(self):
        return [label for _id, label, props in self.items() if props.get("type") != "separator"]

    def accounts(self):
        """[(label, checked)] of the account items: the check items other than Start at login."""
        return [(label, int(props.get("toggle-state", 0)) == 1) for _id, label, props in self.items()
                if props.get("toggle-type") == "checkmark" and label != "Start at login"]

    def checked_accounts(self):
        """The labels of the checked account items (the default: exactly one)."""
        return [label for label, checked in self.accounts() if checked]

    def state_line(self):
        return self.labels()[0]

    def item(self, label):
        for cid, lab, props in self.items():
            if lab == label:
                return cid, props
        raise AssertionError(f"no menu item {label!r} in {self.labels()}")

    def click(self, label):
        cid, _props = self.item(label)
        self.menu().Event(dbus.Int32(cid), "clicked", dbus.String("", variant_level=1), dbus.UInt32(0))

    def icon_face(self):
        return icon_face(str(self.prop("IconName")))


def average_rgb(png):
    out = subprocess.run(
        ["convert", str(png), "-background", "white", "-alpha", "remove", "-scale", "1x1!",
         "-format", "%[fx:int(255*r)] %[fx:int(255*g)] %[fx:int(255*b)]", "info:"],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    return tuple(int(x) for x in out)


_FACES = None


def icon_face(png):
    """Which of the app's four tray icons `png` shows (nearest average colour)."""
    global _FACES
    if _FACES is None:
        _FACES = {
            face: average_rgb(ICONS / f"tray-{face}-64.png")
            for face in ("signed-out", "signed-in", "refreshing", "attention")
        }
    rgb = average_rgb(png)
    return min(_FACES, key=lambda f: sum((a - b) ** 2 for a, b in zip(_FACES[f], rgb)))


class Fake:
    """fake-openai as a process."""

    def __init__(self, procs, binary, log_path, *args):
        self.proc = procs.start([binary, *args], log_path, stdout=subprocess.PIPE, stdin=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        if not line:
            raise AssertionError(f"fake-openai did not start; see {log_path}")
        self.urls = json.loads(line)

    def get(self, path):
        with urllib.request.urlopen(self.urls["base_url"].rstrip("/") + path, timeout=10) as r:
            return json.loads(r.read().decode())

    def post(self, path, body):
        return self._send("POST", path, body)

    def put(self, path, body):
        return self._send("PUT", path, body)

    def _send(self, method, path, body):
        req = urllib.request.Request(
            self.urls["base_url"].rstrip("/") + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method=method,
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read().decode()

    def take_unexpected(self):
        """The requests fake-openai did not expect since the last call, one line each (`GET /path:
        reason`); the record is empty afterwards. A test must leave none."""
        req = urllib.request.Request(self.urls["base_url"].rstrip("/") + "/_fake/unexpected", method="DELETE")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read().decode())

    def secrets(self):
        return [s for s in self.get("/_fake/secrets") if isinstance(s, str) and len(s) >= 12]
