// Page wiring: the company box, the token prompt, and one session view at a time.
// A session is shown by loading its snapshot first (everything known so far, rendered at
// once), then streaming the events after the snapshot's last_seq; the URL (?session=…) makes
// reloads and shared links land on the same session.

import * as api from "./api.js";
import { $, el, fmtDate, replaceChildren, safeHref } from "./dom.js";
import { Dirty, SessionModel } from "./model.js";
import { EventStream } from "./stream.js";
import { ChatSocket } from "./socket.js";
import { ChatPanel } from "./chat.js";
import { FindingsView, renderAnalysis, renderProfile, renderCoverage } from "./findings.js";
import { renderTimelines, resetTimelines } from "./timeline.js";
import { ageWords, renderHint } from "./hint.js";
import { STATUS_LABEL } from "./vocabulary.js";
import { setupVendorPanel, vendorForRequest } from "./vendor.js";

let current = null; // the session view on screen: {model, stream, socket, ...}

function init() {
  const form = $('[data-role="research-form"]');
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    research(form);
  });
  $('[data-role="refresh"]').addEventListener("click", () => refresh());
  setupAskJump();
  $('[data-role="domain-form"]').addEventListener("submit", (e) => {
    e.preventDefault();
    researchWithDomain(e.target.elements.domain.value.trim());
  });
  setupToken();
  showDemoBanner();
  const sessionId = new URLSearchParams(window.location.search).get("session");
  if (sessionId) showSession(sessionId, {});
  else showWelcome();
}

async function research(form) {
  const name = form.elements.company.value.trim();
  const domain = form.elements.domain.value.trim();
  if (!name) return;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await open(name, domain, false);
  } finally {
    button.disabled = false;
  }
}

async function open(name, domain, refresh) {
  setFormError("");
  setFormHint("");
  try {
    const opened = await api.createSession(name, domain || undefined, refresh, vendorForRequest());
    const url = new URL(window.location.href);
    url.searchParams.set("session", opened.session_id);
    window.history.replaceState(null, "", url);
    await showSession(opened.session_id, { joined: opened.joined, cached: opened.cached });
  } catch (err) {
    handleError(err, setFormError);
  }
}

/** Research the account on screen again, from the sources (the cache is bypassed). */
async function refresh() {
  if (!current) return;
  const account = current.model.account || {};
  const button = $('[data-role="refresh"]');
  button.disabled = true;
  try {
    await open(account.name || "", account.domain || "", true);
  } finally {
    button.disabled = false;
  }
}

/** The company was not identified: research it again with the domain the user gave. */
async function researchWithDomain(domain) {
  if (!current || !domain) return;
  const name = current.model.account?.name || "";
  $("#company").value = name;
  $("#domain").value = domain;
  await open(name, domain, true);
}

// On a narrow screen the chat sits below the steps: while the research runs, a button in
// the corner reaches it (shown only while the question box is out of view).
let chatInView = true;

function setupAskJump() {
  const jump = $('[data-role="ask-jump"]');
  const box = $('[data-role="chat-form"]');
  new IntersectionObserver((entries) => {
    chatInView = entries.some((e) => e.isIntersecting);
    updateAskJump();
  }).observe(box);
  jump.addEventListener("click", () => {
    box.scrollIntoView({ behavior: "smooth", block: "center" });
    $('[data-role="chat-input"]').focus({ preventScroll: true });
  });
}

function updateAskJump() {
  const running = Boolean(current && current.model.running);
  $('[data-role="ask-jump"]').hidden = chatInView || !running || $("#session").hidden;
}

async function showDemoBanner() {
  let info;
  try {
    info = await api.getInfo();
  } catch {
    setupVendorPanel(null);
    return; // no token yet, or an older server: no banner
  }
  setupVendorPanel(info && info.vendor);
  const banner = $('[data-role="demo-banner"]');
  if (!info || info.sources !== "replay" || !info.demo) {
    banner.hidden = true;
    return;
  }
  const { accounts = [], recorded_from: from, recorded_to: to } = info.demo;
  const when = from && to ? ` (${from} to ${to})` : to ? ` (up to ${to})` : "";
  const who = accounts.length ? ` Try ${accounts.join(", ")}.` : "";
  banner.textContent = `Demo: recorded responses${when}, not live sources.${who}`;
  banner.title = 'What a recording lacks is shown as "not recorded"; invented sample data is marked "sample data".';
  banner.hidden = false;
}

function setFormHint(message) {
  const node = $('[data-role="form-hint"]');
  node.textContent = message;
  node.hidden = !message;
  $("#domain").classList.toggle("needs-domain", Boolean(message));
}

function setFormError(message) {
  const node = $('[data-role="form-error"]');
  node.textContent = message;
  node.hidden = !message;
}

function handleError(err, show) {
  if (err instanceof api.ApiError && err.status === 401) {
    openTokenPanel("This server needs an API token.");
    show("Paste the API token to continue.");
  } else {
    show(err.message || String(err));
  }
}

// ---- token (only when the server runs with DOSSIER_API_TOKEN)

function setupToken() {
  const panel = $('[data-role="token-panel"]');
  const input = $("#token");
  $('[data-role="token-toggle"]').addEventListener("click", () => (panel.hidden ? openTokenPanel("") : (panel.hidden = true)));
  $('[data-role="token-form"]').addEventListener("submit", (e) => {
    e.preventDefault();
    api.setToken(input.value.trim());
    input.value = "";
    panel.hidden = true;
    refreshTokenState();
    const sessionId = new URLSearchParams(window.location.search).get("session");
    if (sessionId) showSession(sessionId, {});
    else showWelcome();
  });
  $('[data-role="token-clear"]').addEventListener("click", () => {
    api.setToken("");
    refreshTokenState();
  });
  refreshTokenState();
}

function openTokenPanel(reason) {
  const panel = $('[data-role="token-panel"]');
  $('[data-role="token-reason"]').textContent = reason || "Used only when the server requires one; kept in this browser.";
  panel.hidden = false;
  $("#token").focus();
}

function refreshTokenState() {
  $('[data-role="token-toggle"]').dataset.set = api.getToken() ? "true" : "false";
}

// ---- welcome

async function showWelcome() {
  teardown();
  updateAskJump();
  $("#welcome").hidden = false;
  $("#session").hidden = true;
  document.title = "dossier";
  const list = $('[data-role="recent"]');
  try {
    const sessions = await api.listSessions(8);
    replaceChildren(list, sessions.map((s) =>
      el("li", {}, el("a", { href: `?session=${encodeURIComponent(s.session_id)}`, text: s.account?.name || s.session_id }),
        el("span", { class: "muted small", text: ` ${fmtDate(s.created_at)} · ${s.status}` }))));
    $('[data-role="recent-card"]').hidden = sessions.length === 0;
  } catch (err) {
    $('[data-role="recent-card"]').hidden = true;
    if (err instanceof api.ApiError && err.status === 401) openTokenPanel("This server needs an API token.");
  }
}

// ---- session view

function teardown() {
  if (!current) return;
  current.stream.stop();
  current.socket.stop();
  clearInterval(current.ticker);
  clearTimeout(current.renderTimer);
  current = null;
}

async function showSession(sessionId, flags) {
  teardown();
  $("#welcome").hidden = true;
  const view = $("#session");
  view.hidden = false;
  view.dataset.state = "loading";
  setSessionError("");
  let loaded;
  try {
    loaded = await api.getSnapshot(sessionId);
  } catch (err) {
    view.dataset.state = "error";
    handleError(err, (m) => setSessionError(err.status === 404 ? "That session does not exist (or is not yours)." : m));
    return;
  }
  const model = new SessionModel(sessionId);
  model.loadSnapshot(loaded.snapshot, loaded.clockOffsetMs);
  model.joined = Boolean(flags.joined);
  model.cached = model.cached || Boolean(flags.cached);

  const session = { model, dirty: new Dirty(), renderTimer: null };
  session.findings = new FindingsView($('[data-role="findings"]'), model);
  const onCite = (citation) => cite(session, citation);
  session.socket = new ChatSocket(sessionId, (frame) => session.chat.onFrame(frame), (state, detail) => session.chat.setConnection(state, detail));
  session.chat = new ChatPanel($('[data-role="chat"]'), model, session.socket, onCite);
  session.onCite = onCite;
  session.stream = new EventStream(
    sessionId,
    () => model.lastSeq,
    (event) => onEvent(session, event),
    (state, detail) => setStreamState(state, detail),
    (failures) => recheck(session, failures),
  );
  current = session;

  replaceChildren($('[data-role="timelines"]'));
  resetTimelines();
  session.dirty.all = true;
  flush(session);
  view.dataset.state = "ready";
  session.stream.start();
  session.socket.start();
  // Liveness ("working" vs "stuck") and retry countdowns age with the clock, not with events.
  session.ticker = setInterval(() => {
    if (model.running) {
      session.dirty.timeline = true;
      schedule(session);
    }
  }, 1000);
}

/**
 * The server keeps refusing the stream: find out why from the snapshot. A missing session or
 * a bad token is shown; a log that is now shorter than what we applied (the server's data
 * was reset) means our state is stale, so the session is loaded again from scratch.
 */
async function recheck(session, failures) {
  if (failures % 3 !== 0 || session !== current) return;
  try {
    const { snapshot } = await api.getSnapshot(session.model.sessionId);
    if (session === current && snapshot.last_seq < session.model.lastSeq) showSession(session.model.sessionId, {});
  } catch (err) {
    if (session !== current) return;
    if (err.status === 404) {
      session.stream.stop();
      setSessionError("This session no longer exists.");
    } else handleError(err, setSessionError);
  }
}

function onEvent(session, event) {
  if (session !== current) return;
  if (session.model.apply(event, session.dirty)) schedule(session);
}

/** Coalesce a burst of events (one SSE read can carry hundreds) into one render. */
function schedule(session) {
  if (session.renderTimer !== null) return;
  session.renderTimer = setTimeout(() => {
    session.renderTimer = null;
    flush(session);
  }, 16);
}

function flush(session) {
  const { model, dirty } = session;
  session.dirty = new Dirty();
  const all = dirty.all;
  if (all || dirty.header) renderHeader(model);
  if (all || dirty.timeline || dirty.header) renderTimelines($('[data-role="timelines"]'), model);
  if (all) session.findings.render();
  else if (dirty.findings.size) session.findings.render(dirty.findings);
  if (all || dirty.analysis) renderAnalysis($('[data-role="analysis"]'), model, session.onCite);
  if (all || dirty.findings.size) renderProfile($('[data-role="profile"]'), model, session.onCite);
  if (all || dirty.coverage || dirty.header) {
    renderCoverage($('[data-role="coverage"]'), model);
    if (!model.running) session.findings.refreshGroups(); // empty groups now say why
  }
  if (all) session.chat.render();
  else if (dirty.chat.size || dirty.header) session.chat.render(dirty.chat);
  $("#session").dataset.lastSeq = String(model.lastSeq);
}

function renderHeader(model) {
  const view = $("#session");
  const name = model.account?.name || model.sessionId;
  view.dataset.status = model.status;
  document.title = `${name} · dossier`;
  $('[data-role="account-name"]').textContent = name;
  const domain = model.account?.domain;
  $('[data-role="account-sub"]').textContent = [domain, model.vendor?.name ? `for ${model.vendor.name}` : ""].filter(Boolean).join(" · ");
  const status = $('[data-role="session-status"]');
  status.dataset.status = model.status;
  status.textContent = STATUS_LABEL[model.status] || model.status;
  $('[data-role="badge-joined"]').hidden = !model.joined;
  const cachedBadge = $('[data-role="badge-cached"]');
  cachedBadge.hidden = !model.cached;
  const age = ageWords(model.summary?.cached_at, model.serverNow());
  cachedBadge.textContent = age ? `from cache, ${age} old` : "from cache";
  $('[data-role="refresh"]').hidden = model.running;
  $('[data-role="chat-title"]').textContent = model.running ? "Ask while it runs" : "Ask about this account";
  renderHint(model, setFormHint);
  setStreamState(...streamState);
  updateAskJump();
  const errors = model.errors.map((e) => e.message || e.error).filter(Boolean);
  setSessionError(errors.length ? `Server error: ${errors[errors.length - 1]}` : "");
}

function setSessionError(message) {
  const node = $('[data-role="session-error"]');
  node.textContent = message;
  node.hidden = !message;
}

let streamState = ["connecting", ""];

function setStreamState(state, detail) {
  streamState = [state, detail];
  const node = $('[data-role="stream-state"]');
  // "Live" only while the research can still change; afterwards the stream only carries chat.
  const finished = current && !current.model.running;
  const shown = state === "live" && finished ? "idle" : state;
  node.dataset.state = shown;
  node.textContent = shown === "idle" ? "" : state === "live" ? "Live" : state === "closed" ? "Offline" : detail ? `Reconnecting (${detail})` : state === "connecting" ? "Connecting…" : "Reconnecting…";
  node.hidden = shown === "idle";
}

function cite(session, citation) {
  if (session.findings.jumpTo(citation.finding)) return;
  // Not on this page (e.g. a vendor finding the snapshot folds away): open the source.
  const href = safeHref(citation.url);
  if (href) window.open(href, "_blank", "noopener,noreferrer");
}

function exportAs(format) {
  if (!current) return;
  api.exportSession(current.model.sessionId, format).catch((err) => handleError(err, setSessionError));
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-export]")) {
    button.addEventListener("click", () => exportAs(button.dataset.export));
  }
  init();
});
