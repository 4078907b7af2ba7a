// HTTP API client. The bearer token (only needed when the server runs with
// DOSSIER_API_TOKEN) lives in localStorage: fetch sends it as a header; EventSource and
// WebSocket cannot set headers, so their URLs carry it as ?access_token=.

const TOKEN_KEY = "dossier.token";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function getToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) || "";
  } catch {
    return ""; // storage can be disabled; then the user simply has no saved token
  }
}

export function setToken(token) {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    /* see getToken */
  }
}

function authHeaders() {
  const token = getToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** Add ?access_token= for transports that cannot send headers. */
export function withToken(path) {
  const token = getToken();
  if (!token) return path;
  const sep = path.includes("?") ? "&" : "?";
  return `${path}${sep}access_token=${encodeURIComponent(token)}`;
}

async function request(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: { Accept: "application/json", ...authHeaders(), ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new ApiError(0, "network", "The server cannot be reached. Is it running?");
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

async function errorOf(response) {
  let code = `http_${response.status}`;
  let message = response.statusText || "Request failed";
  try {
    const payload = await response.json();
    // {"error": {"code", "message"}} is the API's error shape; FastAPI's 422 uses {"detail": [...]}
    if (payload && payload.error) {
      code = payload.error.code || code;
      message = payload.error.message || message;
    } else if (payload && Array.isArray(payload.detail)) {
      code = "invalid_input";
      message = payload.detail.map((d) => d.msg).join("; ");
    }
  } catch {
    /* not JSON: keep the status text */
  }
  return new ApiError(response.status, code, message);
}

/** POST /api/sessions -> {session_id, status, joined, cached, links}. `refresh` asks the
 * sources again instead of serving what the cache holds. */
export async function createSession(name, domain, refresh = false, vendor = null) {
  const account = { name };
  if (domain) account.domain = domain;
  const body = { account };
  if (vendor) body.vendor = vendor;
  if (refresh) body.refresh = true;
  const response = await request("POST", "/api/sessions", body);
  return response.json();
}

/** GET /api/info -> {sources, demo: {accounts, recorded_from, recorded_to} | null, ...}. */
export async function getInfo() {
  const response = await request("GET", "/api/info");
  return response.json();
}

/**
 * GET /api/sessions/{id} -> {snapshot, clockOffsetMs}. The offset (server clock minus ours,
 * from the Date header) lets liveness ages use server timestamps without trusting our clock.
 */
export async function getSnapshot(sessionId) {
  const response = await request("GET", `/api/sessions/${encodeURIComponent(sessionId)}`);
  // The header has whole seconds: the server's clock is somewhere in [date, date + 1 s).
  // Offsets within that resolution cannot be told from zero, so they count as none.
  const date = Date.parse(response.headers.get("date") || "");
  const raw = Number.isFinite(date) ? date + 500 - Date.now() : 0;
  const clockOffsetMs = Math.abs(raw) < 2000 ? 0 : raw;
  return { snapshot: await response.json(), clockOffsetMs };
}

export async function listSessions(limit = 8) {
  const response = await request("GET", `/api/sessions?limit=${limit}`);
  return (await response.json()).sessions || [];
}

export async function steer(sessionId, action, target, id) {
  const response = await request("POST", `/api/sessions/${encodeURIComponent(sessionId)}/steer`, {
    action,
    target: target || null,
    id,
  });
  return response.json();
}

/** Download the dossier (format: "md" | "json") as a file, with the auth header. */
export async function exportSession(sessionId, format) {
  const path = `/api/sessions/${encodeURIComponent(sessionId)}/export?format=${format}`;
  const response = await request("GET", path);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  // the server names the file from the company and the day ("dossier-stripe-2026-12-06.md")
  const named = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "");
  a.download = named ? named[1] : `dossier-${sessionId}.${format}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function eventsUrl(sessionId, afterSeq) {
  // follow=true: keep the stream open after the research ends, so chat from other tabs
  // still arrives; resume point is the snapshot's last_seq (EventSource then resumes by
  // itself with the Last-Event-ID header).
  const path = `/api/sessions/${encodeURIComponent(sessionId)}/events?follow=true&last_event_id=${afterSeq}`;
  return withToken(path);
}

export function chatUrl(sessionId) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${withToken(`/ws/sessions/${encodeURIComponent(sessionId)}/chat`)}`;
}
