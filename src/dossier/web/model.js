// The session as this page knows it: the server's snapshot, then every logged event folded in
// (the same fold as core/snapshot.py), plus the chat answers streamed to this tab over the
// WebSocket. Events are applied by seq and at most once, so replays after a reconnect or a
// reload can neither duplicate nor drop anything.

import { WORKFLOW_KINDS } from "./vocabulary.js";

const STEP_STATUS_OF = {
  "step.started": "running",
  "step.progress": "running",
  "step.retrying": "retrying",
  "step.completed": "completed",
  "step.failed": "failed",
  "step.skipped": "skipped",
};
const WORKFLOW_STATUS_OF = {
  "workflow.started": "running",
  "workflow.completed": "completed",
  "workflow.failed": "failed",
  "workflow.cancelled": "cancelled",
};
const TERMINAL_STEP = new Set(["completed", "failed", "skipped"]);
const STEP_FIELDS = ["done", "total", "found", "eta_s", "message", "duration_ms", "coverage", "cached", "data_types", "label", "state", "cause", "partial"];
const WORKFLOW_RESULT_FIELDS = ["verdict", "causes", "found", "coverage", "missing", "hint", "duration_ms", "cached", "error", "failed", "skipped"];
export { WORKFLOW_KINDS } from "./vocabulary.js";

/** What an applied change touched, so the page re-renders only those parts. */
export class Dirty {
  constructor() {
    this.all = false;
    this.header = false;
    this.timeline = false;
    this.analysis = false;
    this.coverage = false;
    this.findings = new Set();
    this.chat = new Set();
  }

  get any() {
    return this.all || this.header || this.timeline || this.analysis || this.coverage || this.findings.size > 0 || this.chat.size > 0;
  }
}

export class SessionModel {
  constructor(sessionId) {
    this.sessionId = sessionId;
    this.lastSeq = 0;
    this.status = "running";
    this.account = null;
    this.vendor = null;
    this.cached = false;
    this.joined = false;
    this.workflows = new Map();
    this.findings = new Map(); // id -> Finding (merged when a fact comes from several sources)
    this.vendorFindings = new Set(); // ids only our own side (vendor context) found
    this.customerFindings = new Set();
    this.aliases = new Map(); // merged id -> id of the finding that absorbed it
    this.analysis = new Map(); // workflow kind -> {status, text, citations, ...}
    this.chat = new Map(); // question id -> turn (insertion order = conversation order)
    this.coverage = {};
    this.summary = {};
    this.errors = [];
    this.suggestions = [];
    this.notes = []; // steering acknowledgements seen on the log (any tab), failovers
    this.clockOffsetMs = 0;
    for (const kind of WORKFLOW_KINDS) this.workflows.set(kind, newWorkflow(kind));
  }

  get running() {
    return this.status === "running";
  }

  /** Server time now (ms), by our clock corrected with the snapshot's Date header. */
  serverNow() {
    return Date.now() + this.clockOffsetMs;
  }

  loadSnapshot(snap, clockOffsetMs = 0) {
    this.clockOffsetMs = clockOffsetMs;
    this.lastSeq = snap.last_seq || 0;
    this.status = snap.status || "running";
    this.account = snap.account || null;
    this.vendor = snap.vendor || null;
    this.cached = Boolean(snap.cached);
    for (const [kind, wf] of Object.entries(snap.workflows || {})) {
      const state = newWorkflow(kind);
      state.status = wf.status || "pending";
      state.startedAt = wf.started_at || null;
      state.endedAt = wf.ended_at || null;
      for (const key of WORKFLOW_RESULT_FIELDS) if (key in wf) state.result[key] = wf[key];
      for (const step of wf.steps || []) state.steps.set(step.name, { ...step });
      this.workflows.set(kind, state);
    }
    this.findings.clear();
    this.aliases.clear();
    for (const finding of snap.findings || []) this.putFinding(finding);
    this.vendorFindings = new Set(snap.vendor_findings || []);
    this.customerFindings = new Set([...this.findings.keys()].filter((id) => !this.vendorFindings.has(id)));
    this.analysis.clear();
    for (const [kind, a] of Object.entries(snap.analysis || {})) {
      this.analysis.set(kind, { ...a, citations: [...(a.citations || [])] });
    }
    this.chat.clear();
    for (const turn of snap.chat || []) this.chat.set(turn.id, turnFromSnapshot(turn));
    this.coverage = snap.coverage || {};
    this.summary = snap.summary || {};
    this.errors = [...(snap.errors || [])];
  }

  /**
   * Fold one logged event in. Returns what changed, or null when the event was already
   * applied (seq at or below the last one): the dedup that makes resume idempotent.
   */
  apply(event, dirty = new Dirty()) {
    if (typeof event.seq !== "number" || event.seq <= this.lastSeq) return null;
    this.lastSeq = event.seq;
    const { type, data = {} } = event;
    if (type === "session.created") {
      this.account = data.account || this.account;
      this.vendor = data.vendor || this.vendor;
      this.cached = Boolean(data.cached);
      dirty.header = true;
    } else if (type === "session.completed") {
      this.status = data.status || "completed";
      const { coverage, ...summary } = data;
      if (coverage) this.coverage = coverage;
      this.summary = summary;
      dirty.header = dirty.coverage = dirty.timeline = true;
    } else if (type === "session.error") {
      this.errors.push(data);
      dirty.header = true;
    } else if (type in WORKFLOW_STATUS_OF) {
      this.applyWorkflow(event, WORKFLOW_STATUS_OF[type]);
      dirty.timeline = true;
    } else if (type in STEP_STATUS_OF) {
      this.applyStep(event, STEP_STATUS_OF[type]);
      dirty.timeline = true;
    } else if (type === "finding") {
      const id = this.putFinding(data);
      if (id) dirty.findings.add(id);
      if (id) this.noteSide(id, event.workflow);
      dirty.coverage = true;
    } else if (type.startsWith("analysis.")) {
      this.applyAnalysis(event);
      dirty.analysis = true;
    } else if (type === "chat.question") {
      if (!this.chat.has(data.id)) {
        this.chat.set(data.id, newTurn(data.id, data.content, event.ts, "elsewhere"));
        dirty.chat.add(data.id);
      }
    } else if (type === "answer.end") {
      if (this.finishFromLog(data, event.ts)) dirty.chat.add(data.id);
    } else if (type === "answer.revised") {
      if (this.addRevision(data)) dirty.chat.add(data.id);
    } else if (type === "session.resumed") {
      // a worker was lost and another took the research over: a note in the conversation
      this.notes.push({ id: `resumed:${event.seq}`, system: true, message: data.message || "resumed on another worker", ts: event.ts });
      dirty.chat.add("__notes__");
    } else if (type === "steer.ack") {
      this.notes.push({ ...data, ts: event.ts });
      dirty.chat.add("__notes__");
    } else if (type === "suggestions") {
      this.suggestions = Array.isArray(data.items) ? data.items : [];
      dirty.chat.add("__suggestions__");
    }
    return dirty;
  }

  applyWorkflow(event, status) {
    const wf = this.workflow(event.workflow);
    wf.status = status;
    if (status === "running") wf.startedAt = wf.startedAt || event.ts;
    else {
      wf.endedAt = event.ts;
      for (const key of WORKFLOW_RESULT_FIELDS) if (key in event.data) wf.result[key] = event.data[key];
    }
  }

  applyStep(event, status) {
    const wf = this.workflow(event.workflow);
    const name = event.step || "?";
    let step = wf.steps.get(name);
    if (!step) {
      step = { name, status: "pending", started_at: null, last_beat_at: null, ended_at: null };
      wf.steps.set(name, step);
    }
    if (TERMINAL_STEP.has(step.status) && (status === "running" || status === "retrying")) return; // a late beat after the end: the end wins
    const data = event.data || {};
    step.status = status;
    for (const key of STEP_FIELDS) if (key in data) step[key] = data[key];
    if (event.type === "step.retrying") {
      step.attempt = data.attempt;
      step.error = data.error;
      const next = Number(data.next_in_s);
      step.retry_at = Number.isFinite(next) ? Date.parse(event.ts) + next * 1000 : null;
    } else if (status === "running") {
      step.retry_at = null;
    }
    if (event.type === "step.failed" || event.type === "step.skipped") step.error = data.error || data.reason;
    else if (event.type === "step.completed") step.error = data.partial ? data.error : null;
    if (status === "running" && !step.started_at) step.started_at = event.ts;
    step.last_beat_at = event.ts;
    if (TERMINAL_STEP.has(status)) step.ended_at = event.ts;
  }

  applyAnalysis(event) {
    const kind = event.workflow || "session";
    let state = this.analysis.get(kind);
    if (!state) {
      state = { status: "pending", text: "", citations: [] };
      this.analysis.set(kind, state);
    }
    const data = event.data || {};
    if (event.type === "analysis.started") Object.assign(state, { status: "running", text: "", citations: [], provider: data.provider });
    else if (event.type === "analysis.delta") state.text += String(data.text ?? "");
    else if (event.type === "analysis.citation") state.citations.push(data);
    else if (event.type === "analysis.completed") {
      state.status = data.partial ? "partial" : "completed";
      if (typeof data.text === "string") state.text = data.text;
      if (Array.isArray(data.citations)) state.citations = data.citations;
      state.partial = data.partial;
      state.error = data.error;
    }
  }

  workflow(kind) {
    const name = kind || "session";
    if (!this.workflows.has(name)) this.workflows.set(name, newWorkflow(name));
    return this.workflows.get(name);
  }

  /** Store a finding (merging with one of the same id); returns its id, or null if invalid. */
  /** Which side found a finding, as the snapshot counts it: one the customer side found is theirs. */
  noteSide(id, workflow) {
    if (workflow !== "vendor_context") {
      this.customerFindings.add(id);
      this.vendorFindings.delete(id);
    } else if (!this.customerFindings.has(id)) this.vendorFindings.add(id);
  }

  putFinding(finding) {
    if (!finding || typeof finding.id !== "string" || typeof finding.kind !== "string") return null;
    const known = this.findings.get(finding.id);
    const merged = known ? mergeFindings(known, finding) : { ...finding, fields: { ...(finding.fields || {}) } };
    this.findings.set(finding.id, merged);
    for (const alias of merged.fields.merged_ids || []) this.aliases.set(alias, finding.id);
    return finding.id;
  }

  /** The finding a citation points at (following merges), or null. */
  resolveFinding(id) {
    if (this.findings.has(id)) return id;
    const alias = this.aliases.get(id);
    return alias && this.findings.has(alias) ? alias : null;
  }

  // ---- chat (this tab's WebSocket answers and the log's chat events meet here)

  ask(id, question) {
    const turn = newTurn(id, question, new Date().toISOString(), "here");
    turn.state = "sending";
    this.chat.set(id, turn);
    return turn;
  }

  /** The logged answer.end: completes a turn whose live stream this tab did not (fully) see. */
  finishFromLog(data, ts) {
    let turn = this.chat.get(data.id);
    if (!turn) {
      turn = newTurn(data.id, "", ts, "elsewhere");
      this.chat.set(data.id, turn);
    }
    if (turn.state === "done") return false;
    applyEnd(turn, data);
    if (!data.error) turn.error = null; // e.g. "connection dropped": the answer was logged after all
    turn.text = typeof data.text === "string" ? data.text : turn.text;
    turn.citations = Array.isArray(data.citations) ? data.citations : turn.citations;
    turn.basis = data.basis || turn.basis;
    return true;
  }

  /** answer.revised (from the WebSocket or the log: the same revision must show once). */
  addRevision(data) {
    const turn = this.chat.get(data.id);
    if (!turn) return false;
    const last = turn.revisions[turn.revisions.length - 1];
    if (last && last.text === data.text && last.reason === data.reason) return false;
    turn.revisions.push({ text: String(data.text ?? ""), citations: data.citations || [], reason: data.reason || "", pending: data.pending || [] });
    return true;
  }
}

export function applyEnd(turn, end) {
  turn.state = end.cancelled ? "cancelled" : "done";
  turn.complete = Boolean(end.complete);
  turn.partial = Boolean(end.partial);
  turn.endPending = Array.isArray(end.pending) ? end.pending : [];
  if (!turn.pending.length && turn.endPending.length) turn.pending = turn.endPending;
  turn.latencyMs = end.latency_ms;
  if (end.error) turn.error = end.error.message || String(end.error.code || "error");
}

function newWorkflow(kind) {
  return { kind, status: "pending", steps: new Map(), startedAt: null, endedAt: null, result: {} };
}

function newTurn(id, question, askedAt, origin) {
  return {
    id,
    question: String(question ?? ""),
    askedAt,
    origin,
    state: "streaming",
    basis: null,
    pending: [],
    endPending: [],
    text: "",
    citations: [],
    complete: false,
    partial: false,
    error: null,
    latencyMs: null,
    revisions: [],
  };
}

function turnFromSnapshot(t) {
  const turn = newTurn(t.id, t.question, t.asked_at, "history");
  if (t.answer) {
    applyEnd(turn, t.answer);
    turn.text = String(t.answer.text ?? "");
    turn.citations = t.answer.citations || [];
    turn.basis = t.answer.basis || null;
  } else {
    turn.state = "unanswered";
  }
  for (const r of t.revisions || []) {
    turn.revisions.push({ text: String(r.text ?? ""), citations: r.citations || [], reason: r.reason || "", pending: r.pending || [] });
  }
  return turn;
}

const EMPTY = [null, undefined, "", "[]", "{}"];
const isEmpty = (v) => EMPTY.includes(v) || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);

/** core/merge.py's merge_group for two findings: the most confident is the base, gaps are
 * filled from the other, sources (and a person's roles) are unioned. */
export function mergeFindings(a, b) {
  const ranked = [a, b].sort((x, y) => y.confidence - x.confidence || cmp(x.source, y.source) || cmp(x.id, y.id));
  const [base, other] = ranked;
  const fields = { ...(base.fields || {}) };
  for (const [name, value] of Object.entries(other.fields || {})) {
    if (isEmpty(fields[name]) && !isEmpty(value)) fields[name] = value;
  }
  const sources = new Set();
  const roles = [];
  for (const member of ranked) {
    for (const s of member.fields?.sources || []) if (typeof s === "string") sources.add(s);
    sources.add(member.source);
    for (const key of ["role", "roles"]) {
      const v = member.fields?.[key];
      for (const r of Array.isArray(v) ? v : [v]) if (typeof r === "string" && r && !roles.includes(r)) roles.push(r);
    }
  }
  fields.sources = [...sources].sort();
  if (base.kind === "person") fields.roles = roles;
  const published = ranked.map((f) => f.published_at).filter(Boolean).sort();
  return {
    ...base,
    fields,
    published_at: published[0] || null,
    url: base.url || other.url || null,
    confidence: Math.max(a.confidence, b.confidence),
  };
}

function cmp(x, y) {
  return x < y ? -1 : x > y ? 1 : 0;
}
