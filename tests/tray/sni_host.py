#!/usr/bin/python3
"""A tiny desktop for tests: an org.kde.StatusNotifierWatcher (so the app registers its tray item
over D-Bus, as on KDE/GNOME with the AppIndicator extension) and an org.freedesktop.Notifications
server that records each notification. Every event is one JSON line on the log file given as the
first argument: {"event": "item-registered", "service": ":1.5", "path": "/org/ayatana/...", "t": <unix s>}
or {"event": "notification", "app": ..., "summary": ..., "body": ..., "t": ...}.
Runs until killed. Needs /usr/bin/python3 with python3-dbus and python3-gi."""

import json
import sys
import time

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

WATCHER = "org.kde.StatusNotifierWatcher"
NOTIFY = "org.freedesktop.Notifications"


class Log:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1)

    def write(self, **event):
        event["t"] = time.time()
        self.f.write(json.dumps(event) + "\n")


class Watcher(dbus.service.Object):
    def __init__(self, bus, log):
        super().__init__(bus, "/StatusNotifierWatcher")
        self.bus = bus
        self.log = log
        self.items = []
        bus.add_signal_receiver(self.name_owner_changed, "NameOwnerChanged", "org.freedesktop.DBus")

    @dbus.service.method(WATCHER, in_signature="s", out_signature="", sender_keyword="sender")
    def RegisterStatusNotifierItem(self, service, sender=None):
        # libayatana passes its object path; others pass a bus name.
        path = service if service.startswith("/") else "/StatusNotifierItem"
        name = sender if service.startswith("/") else service
        item = f"{name}{path}"
        if item not in self.items:
            self.items.append(item)
        self.log.write(event="item-registered", service=str(name), path=str(path))
        self.StatusNotifierItemRegistered(item)

    @dbus.service.method(WATCHER, in_signature="s", out_signature="")
    def RegisterStatusNotifierHost(self, service):
        pass

    @dbus.service.signal(WATCHER, signature="s")
    def StatusNotifierItemRegistered(self, item):
        pass

    @dbus.service.signal(WATCHER, signature="s")
    def StatusNotifierItemUnregistered(self, item):
        pass

    @dbus.service.signal(WATCHER, signature="")
    def StatusNotifierHostRegistered(self):
        pass

    def name_owner_changed(self, name, old, new):
        if new:
            return
        for item in [i for i in self.items if i.startswith(name + "/")]:
            self.items.remove(item)
            self.log.write(event="item-unregistered", service=str(name))
            self.StatusNotifierItemUnregistered(item)

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="ss", out_signature="v")
    def Get(self, interface, prop):
        return self.GetAll(interface)[prop]

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        return {
            "RegisteredStatusNotifierItems": dbus.Array(self.items, signature="s"),
            "IsStatusNotifierHostRegistered": dbus.Boolean(True),
            "ProtocolVersion": dbus.Int32(0),
        }


class Notifications(dbus.service.Object):
    def __init__(self, bus, log):
        super().__init__(bus, "/org/freedesktop/Notifications")
        self.log = log
        self.next_id = 0

    @dbus.service.method(NOTIFY, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app, replaces, icon, summary, body, actions, hints, timeout):
        self.next_id += 1
        self.log.write(event="notification", app=str(app), summary=str(summary), body=str(body))
        return dbus.UInt32(self.next_id)

    @dbus.service.method(NOTIFY, in_signature="", out_signature="as")
    def GetCapabilities(self):
        return dbus.Array(["body", "actions"], signature="s")

    @dbus.service.method(NOTIFY, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ("tray-test-host", "codex-oauth", "1.0", "1.2")

    @dbus.service.method(NOTIFY, in_signature="u", out_signature="")
    def CloseNotification(self, nid):
        self.NotificationClosed(nid, 3)

    @dbus.service.signal(NOTIFY, signature="uu")
    def NotificationClosed(self, nid, reason):
        pass

    @dbus.service.signal(NOTIFY, signature="us")
    def ActionInvoked(self, nid, action):
        pass


def main():
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    log = Log(sys.argv[1])
    watcher_name = dbus.service.BusName(WATCHER, bus, do_not_queue=True)
    notify_name = dbus.service.BusName(NOTIFY, bus, do_not_queue=True)
    _objects = (Watcher(bus, log), Notifications(bus, log), watcher_name, notify_name)
    log.write(event="ready")
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
