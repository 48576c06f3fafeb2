#!/usr/bin/env python3
"""Owns org.freedesktop.secrets on the session bus and never answers: a hung Secret Service."""
import time

import dbus

bus = dbus.SessionBus()
bus.request_name("org.freedesktop.secrets")
print("ready", flush=True)
time.sleep(3600)
