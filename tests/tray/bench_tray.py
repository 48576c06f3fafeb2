"""Tray numbers for scripts/bench: launch → tray item registered (over D-Bus, as a panel sees it),
and the idle cost of the tray-only app (RSS, CPU, wake-ups) over a quiet period, signed in.

Runs inside a private X server and D-Bus session:
  xvfb-run -a dbus-run-session -- /usr/bin/python3 tests/tray/bench_tray.py --bin-dir target/release
Prints one JSON object on stdout."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import HERE, Fake, HostLog, Processes, free_port, wait_for


def env_for(fake, work):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODEX_OAUTH_")}
    for d in ("home", "config", "data"):
        (work / d).mkdir(parents=True, exist_ok=True)
    env.update({
        "HOME": str(work / "home"),
        "XDG_CONFIG_HOME": str(work / "config"),
        "XDG_DATA_HOME": str(work / "data"),
        "NO_AT_BRIDGE": "1",
        "CODEX_OAUTH_HOME": str(work / "store"),
        "CODEX_OAUTH_STORE": "file",
        "CODEX_OAUTH_ISSUER": fake.urls["issuer"],
        "CODEX_OAUTH_API_BASE": fake.urls["api_base"],
        "CODEX_OAUTH_USAGE_URL": fake.urls["usage_url"],
        "CODEX_OAUTH_CALLBACK_PORT": str(free_port()),
        "BROWSER": str(HERE / "browser.sh"),
        "TRAY_BROWSER_LOG": str(work / "browser.log"),
        "RUST_LOG": "warn",
    })
    return env


def threads_stat(pid):
    """{thread id: (CPU seconds, context switches)} for every thread of `pid`."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            cpu = (int(fields[11]) + int(fields[12])) / tick
            switches = 0
            for line in (task / "status").read_text().splitlines():
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    switches += int(line.split()[1])
            out[task.name] = (cpu, switches)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return out


class ThreadTally:
    """CPU time and context switches of a process over a period, thread by thread, sampled often
    so that a thread that ends within the period still counts up to its last sample."""

    def __init__(self, pid):
        self.pid = pid
        self.first = threads_stat(pid)
        self.last = dict(self.first)

    def sample(self):
        self.last.update(threads_stat(self.pid))

    def totals(self):
        cpu = sum(c - self.first.get(t, (0.0, 0))[0] for t, (c, _) in self.last.items())
        switches = sum(s - self.first.get(t, (0.0, 0))[1] for t, (_, s) in self.last.items())
        return cpu, switches


def rss_mb(pid, field="VmRSS"):
    """A memory line of /proc/<pid>/status in MB: VmRSS (all), RssAnon (the process's own) or
    RssFile (mapped files, mostly shared libraries: GTK, WebKitGTK, Mesa)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")


def rss_by_file(pid, top=8):
    """The mapped files holding the most resident memory, {name: MB}, from /proc/<pid>/smaps: which
    libraries the RssFile figure is made of."""
    sizes, name = {}, None
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and not head[0].endswith(":"):
            name = os.path.basename(head[5]) if len(head) > 5 and head[5].startswith("/") else None
        elif name and line.startswith("Rss:"):
            sizes[name] = sizes.get(name, 0) + int(head[1])
    largest = sorted(sizes.items(), key=lambda kv: -kv[1])[:top]
    return {n: round(kb / 1024, 1) for n, kb in largest}


def pss_mb(pid):
    """Proportional set size in MB: each shared page divided by the number of processes mapping it."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no Pss")


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--launches", type=int, default=10)
    ap.add_argument("--idle-secs", type=float, default=60.0)
    a = ap.parse_args()
    bins = Path(a.bin_dir)
    work = Path(tempfile.mkdtemp(prefix="tray-bench-"))
    procs = Processes()
    try:
        log = HostLog(work / "host.log")
        procs.start(["/usr/bin/python3", HERE / "sni_host.py", log.path], work / "host.err")
        wait_for("the test StatusNotifierWatcher", lambda: log.events("ready"))
        fake = Fake(procs, bins / "fake-openai", work / "fake.log")
        env = env_for(fake, work)
        # Sign in through the real loopback flow: the CLI prints the URL, browser.sh follows it.
        cli = subprocess.Popen([str(bins / "codex-mcp-bridge"), "login", "--no-browser"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        url = next(line.strip() for line in cli.stdout if line.strip().startswith("http"))
        subprocess.run([str(HERE / "browser.sh"), url], env=env, check=True, capture_output=True, timeout=30)
        if cli.wait(timeout=30) != 0:
            raise SystemExit("the CLI sign-in failed")

        # Launch → item registered, a fresh process each time.
        launches = []
        for _ in range(a.launches):
            seen = len(log.events("item-registered"))
            t0 = time.time()
            p = subprocess.Popen([str(bins / "codex-oauth-tray")], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
            reg = wait_for("the tray item", lambda: log.events("item-registered")[seen:], timeout=20)[0]
            launches.append((reg["t"] - t0) * 1000)
            p.terminate()
            p.wait(timeout=10)
            wait_for("the item to go", lambda: len(log.events("item-unregistered")) >= len(launches), timeout=10)

        # Idle, tray only (no window opened), signed in with a token valid for an hour.
        p = procs.start([bins / "codex-oauth-tray"], work / "app.err", env=env)
        wait_for("the tray item", lambda: len(log.events("item-registered")) > a.launches, timeout=20)
        # Let start-up work (first status, usage fetch) finish before the quiet period is measured.
        time.sleep(2)
        tally = ThreadTally(p.pid)
        t0 = time.monotonic()
        peak = rss_mb(p.pid)
        while time.monotonic() - t0 < a.idle_secs:
            time.sleep(1)
            peak = max(peak, rss_mb(p.pid))
            tally.sample()
        tally.sample()
        cpu, switches = tally.totals()
        secs = time.monotonic() - t0
        kids = children(p.pid)
        print(json.dumps({
            "launch_ms": sorted(launches),
            "launch_median_ms": statistics.median(launches),
            "launch_p95_ms": sorted(launches)[max(0, int(len(launches) * 0.95) - 1)],
            "idle_secs": round(secs, 1),
            "idle_rss_mb": round(rss_mb(p.pid), 1),
            "idle_peak_rss_mb": round(peak, 1),
            "idle_rss_anon_mb": round(rss_mb(p.pid, "RssAnon"), 1),
            "idle_rss_file_mb": round(rss_mb(p.pid, "RssFile"), 1),
            "idle_pss_mb": round(pss_mb(p.pid), 1),
            "idle_rss_by_file_mb": rss_by_file(p.pid),
            "idle_cpu_percent": round(100 * cpu / secs, 3),
            "idle_wakeups_per_sec": round(switches / secs, 2),
            "child_processes": len(kids),
        }))
    finally:
        procs.stop_all()


if __name__ == "__main__":
    sys.exit(main())
