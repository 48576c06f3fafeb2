// The window's controller: renders the model the app sends (command `get_status`, event `status`),
// a card per account, and turns clicks into commands. All state lives in the app; this file only
// shows it, and remembers what this window started (its sign-in, the account being added).
import { clock, expiryText, jobLine, percent, stateTitle } from "./format.js";

const tauri = window.__TAURI__;
const invoke = (cmd, args) => tauri.core.invoke(cmd, args);
const $ = (id) => document.getElementById(id);

let model = null;
/** This window's own flow, for what the status does not carry: its profile, whether the browser opened. */
let flow = null;
/** What the sign-in section is for when the user chose it: {profile, add} (a card's "Sign in…", "Add account…"). */
let target = null;
/** The profile the sign-out dialog is about. */
let signingOut = null;
let toastTimer = 0;
/** Usage fetched from the backend by this window, per profile (state.json may not have any yet). */
const fetchedUsage = new Map();
const usageAsked = new Set();
/** profile → { accountId, list }: the workspaces its sign-in can use, asked once per account id. */
const fetchedWorkspaces = new Map();

function show(el, visible) {
  el.hidden = !visible;
}

function setText(el, value) {
  el.textContent = value ?? "—";
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

function renderUsage(card, bars, note) {
  const box = card.querySelector(".usage-bars");
  const noteEl = card.querySelector(".usage-note");
  noteEl.textContent = note ?? "";
  show(noteEl, !!note);
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
  show(card.querySelector(".usage"), bars.length > 0 || !!note);
}

async function askUsage(profile) {
  usageAsked.add(profile);
  try {
    fetchedUsage.set(profile, { bars: await invoke("get_usage", { profile }), note: null });
  } catch (e) {
    fetchedUsage.set(profile, { bars: [], note: `Usage not available: ${errorMessage(e)}` });
  }
  if (model) render(model);
}

async function askWorkspaces(profile, accountId) {
  // Marked as asked before the answer, so a render meanwhile does not ask again.
  fetchedWorkspaces.set(profile, { accountId, list: [] });
  try {
    fetchedWorkspaces.set(profile, { accountId, list: await invoke("get_workspaces", { profile }) });
  } catch (e) {
    // accounts/check could not be read: no picker, the workspace line stays as it is.
    console.warn(`workspaces of ${profile}: ${errorMessage(e)}`);
  }
  if (model) render(model);
}

/** The workspace picker: shown when the sign-in can use more than one workspace. */
function renderWorkspaces(card, a) {
  const pick = card.querySelector(".workspace-pick");
  const got = fetchedWorkspaces.get(a.profile);
  const list = got && got.accountId === a.account_id ? got.list : [];
  const several = list.length > 1;
  show(pick, several);
  show(card.querySelector(".workspace"), !several && !!a.workspace);
  if (!several) return;
  const ids = list.map((w) => w.id).join("\n");
  if (pick.dataset.ids !== ids) {
    pick.replaceChildren(...list.map((w) => new Option(w.label, w.id)));
    pick.dataset.ids = ids;
  }
  pick.value = a.account_id;
}

/** The line under an account's heading: what to do, or the tray's state line when it adds something. */
function subtitle(a) {
  if (a.signed_in) return a.icon === "signed-in" ? "" : a.state_line;
  if (a.pending || a.last_error) return a.state_line;
  return a.default ? "Sign in so Claude Code can use Codex with your ChatGPT plan." : "Not signed in.";
}

function cardOf(profile) {
  return [...$("accounts").children].find((c) => c.dataset.profile === profile) ?? null;
}

function newCard(profile) {
  const card = $("account-card").content.firstElementChild.cloneNode(true);
  card.dataset.profile = profile;
  card.setAttribute("aria-label", `Account ${profile}`);
  card.querySelector(".btn-make-default").addEventListener("click", (ev) => busy(ev.currentTarget, async () => {
    showError("");
    const m = await invoke("make_default_account", { profile });
    render(m);
    toast(`Profile ${profile} is the default account now.`);
  }));
  card.querySelector(".workspace-pick").addEventListener("change", (ev) => busy(ev.currentTarget, async () => {
    showError("");
    const pick = ev.currentTarget;
    const label = pick.selectedOptions[0]?.text ?? pick.value;
    try {
      render(await invoke("use_workspace", { profile, workspace: pick.value }));
    } finally {
      // Back to what the profile uses (the new one, or the old one when the switch failed).
      if (model) render(model);
    }
    toast(`Codex requests of profile ${profile} now go to ${label}.`);
  }));
  card.querySelector(".btn-signin").addEventListener("click", () => {
    showError("");
    target = { profile, add: false };
    render(model);
    $("btn-browser").focus();
  });
  card.querySelector(".btn-signout").addEventListener("click", () => {
    signingOut = profile;
    $("confirm-profile").textContent = profile;
    $("confirm-signout").showModal();
  });
  return card;
}

/** The account's background jobs, newest first: the title, what it is and where it stands. */
function renderJobs(card, jobs) {
  const items = jobs.map((j) => {
    const li = document.createElement("li");
    li.className = `job ${j.state}`;
    li.dataset.job = j.id;
    const title = document.createElement("span");
    title.className = "job-title";
    title.textContent = j.title || "(untitled)";
    const state = document.createElement("span");
    state.className = "job-state muted small";
    state.textContent = jobLine(j);
    li.append(title, state);
    return li;
  });
  card.querySelector(".job-list").replaceChildren(...items);
  show(card.querySelector(".jobs"), items.length > 0);
}

function renderCard(card, a) {
  const q = (css) => card.querySelector(css);
  q(".dot").className = `dot ${a.icon}`;
  setText(q(".state-title"), stateTitle(a));
  const line = subtitle(a);
  q(".state-line").textContent = line;
  show(q(".state-line"), !!line);
  setText(q(".profile"), a.profile);
  show(q(".default-mark"), a.default);
  card.classList.toggle("is-default", a.default);
  show(q(".facts"), a.signed_in);
  if (a.signed_in) {
    const apiKey = a.auth_mode === "apikey";
    setText(q(".email"), a.email);
    show(q(".plan"), !apiKey);
    setText(q(".plan"), a.plan);
    show(q(".auth"), apiKey);
    q(".auth").textContent = apiKey ? "API key" : "";
    q(".workspace").textContent = a.workspace ?? "";
    show(q(".workspace"), !!a.workspace);
    setText(q(".account-id"), a.account_id);
    setText(q(".storage"), a.storage.backend);
    // Where exactly: on hover (a path is long), and in the tray's status.
    q(".storage").title = a.storage.location ?? "";
    q(".storage-reason").textContent = a.storage.reason ?? "";
    show(q(".storage-reason"), !!a.storage.reason);
    q(".expiry").textContent = expiryText(a.expires_at);
  }
  if (a.signed_in && a.auth_mode !== "apikey") {
    const fetched = fetchedUsage.get(a.profile);
    const bars = a.usage.length ? a.usage : fetched?.bars ?? [];
    renderUsage(card, bars, bars.length ? null : fetched?.note);
    q(".usage-remaining").textContent = a.remaining ? `Remaining: ${a.remaining}` : "";
    show(q(".usage-remaining"), !!a.remaining);
    if (!usageAsked.has(a.profile)) askUsage(a.profile);
    const got = fetchedWorkspaces.get(a.profile);
    if (!got || got.accountId !== a.account_id) askWorkspaces(a.profile, a.account_id);
    renderWorkspaces(card, a);
  } else {
    renderUsage(card, [], null);
    show(q(".usage-remaining"), false);
    usageAsked.delete(a.profile);
    fetchedUsage.delete(a.profile);
    fetchedWorkspaces.delete(a.profile);
    show(q(".workspace-pick"), false);
  }
  renderJobs(card, a.jobs ?? []);
  q(".card-error").textContent = a.last_error ?? "";
  show(q(".card-error"), !!a.last_error);
  show(q(".btn-make-default"), !a.default);
  show(q(".btn-signin"), !a.signed_in && !a.pending && !a.default);
  show(q(".btn-signout"), a.signed_in);
  const actions = q(".actions");
  show(actions, [...actions.children].some((b) => !b.hidden));
}

/** What the sign-in section is for: this window's flow, the user's choice, or a signed-out default. */
function signinTarget(m) {
  if (flow) return { profile: flow.profile, add: false };
  if (target) return target;
  const d = m.accounts.find((a) => a.default);
  if (d && !d.signed_in) return { profile: d.profile, add: false };
  return null;
}

function renderFlow(m) {
  const t = signinTarget(m);
  show($("signin"), !!t);
  show($("btn-add"), !(t && t.add));
  if (!t) return;
  const account = t.add ? null : m.accounts.find((a) => a.profile === t.profile);
  const pending = account && !account.signed_in ? account.pending : null;
  const mine = flow && pending && pending.url === flow.url;
  show($("add-row"), t.add);
  $("signin-profile").textContent = t.add ? ($("add-name").value.trim() || "new") : t.profile;
  show($("btn-add-cancel"), t.add || (!!target && !pending));
  show($("signin-choices"), !pending);
  show($("flow-browser"), !!pending && pending.method === "browser" && !!mine);
  show($("flow-device"), !!pending && pending.method === "device");
  show($("flow-other"), !!pending && pending.method === "browser" && !mine);
  show($("flow-actions"), !!pending && !!mine);
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
  // The answer to an earlier get_status can arrive after a newer status event (the revision only
  // grows): never let it undo what the newer one showed.
  if (model && m.revision < model.revision) return;
  model = m;
  const box = $("accounts");
  const wanted = new Set(m.accounts.map((a) => a.profile));
  for (const card of [...box.children]) {
    if (!wanted.has(card.dataset.profile)) card.remove();
  }
  m.accounts.forEach((a, i) => {
    const card = cardOf(a.profile) ?? newCard(a.profile);
    if (box.children[i] !== card) box.insertBefore(card, box.children[i] ?? null);
    renderCard(card, a);
  });
  // A chosen account that is gone (or signed in elsewhere) needs no sign-in section any more.
  if (target && !target.add && !flow) {
    const a = m.accounts.find((x) => x.profile === target.profile);
    if (!a || a.signed_in) target = null;
  }
  renderFlow(m);
}

/** The live countdowns: only these lines change each second. */
function tick() {
  if (!model) return;
  for (const a of model.accounts) {
    const card = cardOf(a.profile);
    if (card && a.signed_in) card.querySelector(".expiry").textContent = expiryText(a.expires_at);
  }
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

/** The arguments of a sign-in command: the new account's name, or the chosen profile. */
function signInArgs() {
  const t = signinTarget(model) ?? { profile: null, add: false };
  if (t.add) return { profile: $("add-name").value.trim(), add: true };
  return { profile: t.profile, add: false };
}

function startAdding() {
  showError("");
  target = { profile: null, add: true };
  if (model) render(model);
  $("add-name").focus();
}

function wire() {
  $("btn-browser").addEventListener("click", (ev) => busy(ev.currentTarget, async () => {
    showError("");
    const started = await invoke("sign_in_browser", signInArgs());
    flow = { profile: started.profile, url: started.url, browserOpened: started.browser_opened };
    target = { profile: started.profile, add: false };
    $("paste-url").value = "";
    await refresh();
    $("btn-cancel").focus();
  }));
  $("btn-device").addEventListener("click", (ev) => busy(ev.currentTarget, async () => {
    showError("");
    const started = await invoke("sign_in_device", signInArgs());
    flow = { profile: started.profile, url: started.verification_url, browserOpened: false };
    target = { profile: started.profile, add: false };
    await refresh();
    $("btn-copy-code").focus();
  }));
  $("btn-paste").addEventListener("click", (ev) => busy(ev.currentTarget, async () => {
    showError("");
    const pasted = $("paste-url").value;
    await invoke("paste_sign_in", { profile: flow?.profile ?? null, url: pasted });
    // It held an authorization code: not kept on the page.
    $("paste-url").value = "";
  }));
  $("paste-url").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") $("btn-paste").click();
  });
  $("btn-cancel").addEventListener("click", (ev) => busy(ev.currentTarget, async () => {
    await invoke("cancel_sign_in", { profile: flow?.profile ?? null });
    flow = null;
    target = null;
    await refresh();
  }));
  $("btn-add").addEventListener("click", startAdding);
  $("btn-add-cancel").addEventListener("click", () => {
    showError("");
    target = null;
    if (model) render(model);
  });
  $("add-name").addEventListener("input", () => { if (model) renderFlow(model); });
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
  dialog.addEventListener("close", async () => {
    const profile = signingOut;
    signingOut = null;
    const card = profile ? cardOf(profile) : null;
    if (dialog.returnValue !== "confirm" || !profile) {
      card?.querySelector(".btn-signout")?.focus();
      return;
    }
    await busy(card?.querySelector(".btn-signout") ?? $("btn-copy-mcp"), async () => {
      const out = await invoke("sign_out_account", { profile });
      toast(out.revoked
        ? `Signed out of ${profile}; the tokens were revoked.`
        : `Signed out of ${profile}; the server could not be told, the local copy is gone.`);
      await refresh();
    });
  });
}

async function main() {
  wire();
  await tauri.event.listen("status", (ev) => render(ev.payload));
  await tauri.event.listen("signin-ended", (ev) => {
    const end = ev.payload;
    if (flow && flow.profile === end.profile) flow = null;
    if (target && target.profile === end.profile) target = null;
    if (end.ok) {
      showError("");
      $("paste-url").value = "";
      toast(end.message ?? "Signed in.");
    } else if (end.error && end.error.kind !== "cancelled") {
      showError(end.error.message);
    }
    refresh();
  });
  await tauri.event.listen("add-account", () => {
    invoke("take_add_request");
    startAdding();
  });
  await refresh();
  if (await invoke("take_add_request")) startAdding();
  setInterval(tick, 1000);
}

main();
