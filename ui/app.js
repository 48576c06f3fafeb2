// The window's controller: renders the model the app sends (command `get_status`, event `status`)
// and turns clicks into commands. All state lives in the app; this file only shows it.
import { clock, expiryText, percent, stateTitle } from "./format.js";

const tauri = window.__TAURI__;
const invoke = (cmd, args) => tauri.core.invoke(cmd, args);
const $ = (id) => document.getElementById(id);

let model = null;
/** This window's own flow, for what the status does not carry (whether the browser opened). */
let flow = null;
let toastTimer = 0;
/** Usage fetched from the backend by this window (state.json may not have any yet). */
let fetchedUsage = null;
let usageAsked = false;

function text(id, value) {
  $(id).textContent = value ?? "—";
}

function show(id, visible) {
  $(id).hidden = !visible;
}

function toast(message) {
  $("toast").textContent = message;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { $("toast").textContent = ""; }, 4000);
}

function showError(message) {
  $("error").textContent = message ?? "";
}

function errorMessage(e) {
  if (e && typeof e === "object" && "message" in e) return e.message;
  return String(e);
}

function renderUsage(bars, note) {
  const box = $("usage-bars");
  text("usage-note", note ?? "");
  show("usage-note", !!note);
  box.replaceChildren();
  for (const b of bars) {
    const row = document.createElement("div");
    row.className = "bar";
    const head = document.createElement("div");
    head.className = "bar-head";
    const label = document.createElement("span");
    label.textContent = b.label;
    const value = document.createElement("span");
    value.textContent = percent(b.used_percent) + (b.resets_at ? ` · resets ${clock(b.resets_at)}` : "");
    head.append(label, value);
    const track = document.createElement("div");
    track.className = "track";
    track.setAttribute("role", "progressbar");
    track.setAttribute("aria-label", b.label);
    track.setAttribute("aria-valuemin", "0");
    track.setAttribute("aria-valuemax", "100");
    track.setAttribute("aria-valuenow", String(Math.round(b.used_percent)));
    const fill = document.createElement("div");
    fill.className = "fill" + (b.used_percent >= 100 ? " full" : b.used_percent >= 80 ? " high" : "");
    fill.style.width = `${Math.max(0, Math.min(100, b.used_percent))}%`;
    track.append(fill);
    row.append(head, track);
    box.append(row);
  }
  show("usage", bars.length > 0 || !!note);
}

async function askUsage() {
  usageAsked = true;
  try {
    fetchedUsage = { bars: await invoke("get_usage"), note: null };
  } catch (e) {
    fetchedUsage = { bars: [], note: `Usage not available: ${errorMessage(e)}` };
  }
  if (model) render(model);
}

/** The line under the heading: what to do, or the tray's state line when it adds something. */
function subtitle(m) {
  if (m.signed_in) return m.icon === "signed-in" ? "Claude Code can use Codex through this account." : m.state_line;
  if (m.pending || m.last_error) return m.state_line;
  return "Sign in so Claude Code can use Codex with your ChatGPT plan.";
}

function renderFlow(m) {
  const pending = m.signed_in ? null : m.pending;
  const mine = flow && pending && pending.url === flow.url;
  show("signin", !m.signed_in);
  show("signin-choices", !pending);
  show("flow-browser", !!pending && pending.method === "browser" && !!mine);
  show("flow-device", !!pending && pending.method === "device");
  show("flow-other", !!pending && pending.method === "browser" && !mine);
  show("flow-actions", !!pending && !!mine);
  if (!pending) return;
  if (pending.method === "browser" && mine) {
    $("signin-url").value = pending.url;
    $("signin-url-label").textContent = flow.browserOpened
      ? "If the browser did not open, open this link:"
      : "The browser could not be opened. Open this link to sign in:";
  }
  if (pending.method === "device") {
    $("device-url").value = pending.url;
    $("device-code").textContent = pending.user_code ?? "";
  }
}

function render(m) {
  // The answer to an earlier get_status can arrive after a newer status event (state.json's
  // generation only grows): never let it undo what the newer one showed.
  if (model && m.profile === model.profile && m.generation < model.generation) return;
  model = m;
  text("profile", m.profile);
  $("profile").title = `Profile ${m.profile}`;
  $("state-dot").className = `dot ${m.icon}`;
  text("state-title", stateTitle(m));
  text("state-line", subtitle(m));
  show("account", m.signed_in);
  if (m.signed_in) {
    text("email", m.email);
    text("plan", m.plan);
    text("account-id", m.account_id);
    const where = m.storage.backend ?? "—";
    text("storage", m.storage.location ? `${where} (${m.storage.location})` : where);
    text("storage-reason", m.storage.reason);
    show("storage-reason", !!m.storage.reason);
    tick();
  }
  if (m.signed_in && m.auth_mode !== "apikey") {
    const bars = m.usage.length ? m.usage : fetchedUsage?.bars ?? [];
    renderUsage(bars, bars.length ? null : fetchedUsage?.note);
    text("usage-remaining", m.remaining ? `Remaining: ${m.remaining}` : "");
    show("usage-remaining", !!m.remaining);
    if (!usageAsked) askUsage();
  } else {
    renderUsage([], null);
    show("usage-remaining", false);
    usageAsked = false;
    fetchedUsage = null;
  }
  renderFlow(m);
  show("btn-signout", m.signed_in);
  showError(m.last_error);
  if (m.signed_in) flow = null;
}

/** The live countdown: only this line changes each second. */
function tick() {
  if (model && model.signed_in) $("expiry").textContent = expiryText(model.expires_at);
}

async function refresh() {
  try {
    render(await invoke("get_status"));
  } catch (e) {
    showError(errorMessage(e));
  }
}

async function busy(button, work) {
  button.disabled = true;
  try {
    await work();
  } catch (e) {
    showError(errorMessage(e));
  } finally {
    button.disabled = false;
  }
}

async function copy(value, what) {
  await invoke("copy_text", { text: value });
  toast(`${what} copied`);
}

function wire() {
  $("btn-browser").addEventListener("click", (ev) => busy(ev.currentTarget, async () => {
    showError("");
    const started = await invoke("sign_in_browser");
    flow = { url: started.url, browserOpened: started.browser_opened };
    await refresh();
    $("btn-cancel").focus();
  }));
  $("btn-device").addEventListener("click", (ev) => busy(ev.currentTarget, async () => {
    showError("");
    const started = await invoke("sign_in_device");
    flow = { url: started.verification_url, browserOpened: false };
    await refresh();
    $("btn-copy-code").focus();
  }));
  $("btn-cancel").addEventListener("click", (ev) => busy(ev.currentTarget, async () => {
    await invoke("cancel_sign_in");
    flow = null;
    await refresh();
    $("btn-browser").focus();
  }));
  $("btn-copy-url").addEventListener("click", () => copy($("signin-url").value, "Link").catch((e) => showError(errorMessage(e))));
  $("btn-copy-device-url").addEventListener("click", () => copy($("device-url").value, "Link").catch((e) => showError(errorMessage(e))));
  $("btn-copy-code").addEventListener("click", () => copy($("device-code").textContent, "Code").catch((e) => showError(errorMessage(e))));
  $("btn-open-url").addEventListener("click", () => invoke("open_sign_in_page", { url: $("signin-url").value }).catch((e) => showError(errorMessage(e))));
  $("btn-open-device-url").addEventListener("click", () => invoke("open_sign_in_page", { url: $("device-url").value }).catch((e) => showError(errorMessage(e))));
  $("btn-copy-mcp").addEventListener("click", (ev) => busy(ev.currentTarget, async () => {
    await invoke("copy_mcp");
    toast("MCP config copied: paste it into .mcp.json, or run `claude mcp add-json codex '<it>'`");
  }));
  const dialog = $("confirm-signout");
  $("btn-signout").addEventListener("click", () => dialog.showModal());
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "confirm") {
      $("btn-signout").focus();
      return;
    }
    await busy($("btn-signout"), async () => {
      const out = await invoke("sign_out_account");
      toast(out.revoked ? "Signed out; the tokens were revoked." : "Signed out; the server could not be told, the local copy is gone.");
      await refresh();
      $("btn-browser").focus();
    });
  });
}

async function main() {
  wire();
  await tauri.event.listen("status", (ev) => render(ev.payload));
  await tauri.event.listen("signin-ended", (ev) => {
    const end = ev.payload;
    flow = null;
    if (!end.ok && end.error && end.error.kind !== "cancelled") showError(end.error.message);
    if (end.ok) toast(`Signed in${end.email ? ` as ${end.email}` : ""}.`);
    refresh();
  });
  await refresh();
  setInterval(tick, 1000);
}

main();
