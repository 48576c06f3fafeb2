// Pure formatting helpers for the window (no DOM, no Tauri).

/** "54 min 12 s", "3 h 05 min", "2 d 4 h" for a number of seconds (≥ 0). */
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min`;
  if (m > 0) return `${m} min ${String(sec).padStart(2, "0")} s`;
  return `${sec} s`;
}

/** Local clock time, with the date when it is not today. */
export function clock(iso, now = new Date()) {
  const t = new Date(iso);
  const sameDay = t.toDateString() === now.toDateString();
  const time = t.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (sameDay) return time;
  return `${t.toLocaleDateString([], { month: "short", day: "numeric" })}, ${time}`;
}

/** The token line: "valid for 54 min 12 s (until 14:32)", or "expired". */
export function expiryText(iso, now = new Date()) {
  if (!iso) return "does not expire (API key)";
  const left = (new Date(iso).getTime() - now.getTime()) / 1000;
  if (left <= 0) return `expired at ${clock(iso, now)}`;
  return `valid for ${duration(left)} (until ${clock(iso, now)})`;
}

export function percent(p) {
  const v = Math.max(0, Math.min(100, Number(p) || 0));
  return `${v < 10 && v % 1 ? v.toFixed(1) : Math.round(v)}% used`;
}

/** The heading for the state the tray shows. */
export function stateTitle(model) {
  switch (model.icon) {
    case "signed-in": return "Signed in";
    case "refreshing": return model.refreshing ? "Refreshing the token…" : "Signed in — token expiring soon";
    case "attention": return model.signed_in ? "Signed in — needs attention" : "Needs attention";
    default: return model.pending ? "Signing in…" : "Not signed in";
  }
}

/** A background job's line: what it is, and when it started or ended. */
export function jobLine(job, now = new Date()) {
  const what = job.tool === "codex_review" ? "review" : job.tool === "codex_task" ? "task" : "question";
  switch (job.state) {
    case "running": return `${what} · running since ${clock(job.started_at, now)}`;
    case "completed": return `${what} · done at ${clock(job.ended_at ?? job.started_at, now)}`;
    case "failed": return `${what} · failed at ${clock(job.ended_at ?? job.started_at, now)}`;
    default: return `${what} · cancelled`;
  }
}
