// The chat panel: questions over the WebSocket, streamed answers with citations, the
// "pending -> revised" life of an answer, suggestions, steering and cancel. Turns live in the
// session model, so chat from other tabs (seen on the event stream) shows in the same list.

import { steer as steerOverHttp } from "./api.js";
import { DATA_TYPE_LABEL, DATA_TYPES, el, fmtMs, fmtTime, replaceChildren } from "./dom.js";
import { applyEnd } from "./model.js";
import { citationList } from "./findings.js";

const BASIS_LABEL = { partial: "from partial data", complete: "complete data", cache: "from cache" };
const STEER_TEXT = {
  focus: (t) => `Focusing on ${label(t)}`,
  skip: (t) => `Skipping ${label(t)}`,
  stop_and_summarize: () => "Stopping and summarizing",
};

function label(type) {
  return (DATA_TYPE_LABEL[type] || type || "").toLowerCase();
}

export function newId(prefix) {
  const bytes = crypto.getRandomValues(new Uint8Array(5));
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class ChatPanel {
  /**
   * @param {HTMLElement} root  the panel (see index.html)
   * @param {import("./model.js").SessionModel} model
   * @param {{send(frame: object): boolean}} socket
   * @param {(citation: object) => void} onCite
   */
  constructor(root, model, socket, onCite) {
    this.root = root;
    this.model = model;
    this.socket = socket;
    this.onCite = onCite;
    this.turnEls = new Map();
    this.noteEls = new Map();
    this.steers = new Map(); // steering ids sent from this tab
    this.inflight = new Set(); // questions sent on the current socket, not answered yet
    this.log = root.querySelector('[data-role="chat-log"]');
    this.form = root.querySelector('[data-role="chat-form"]');
    this.input = root.querySelector('[data-role="chat-input"]');
    this.suggestionsEl = root.querySelector('[data-role="suggestions"]');
    this.steerStatus = root.querySelector('[data-role="steer-status"]');
    this.banner = root.querySelector('[data-role="chat-error"]');
    this.target = root.querySelector('[data-role="steer-target"]');
    replaceChildren(this.log);
    replaceChildren(this.target, DATA_TYPES.map((t) => el("option", { value: t, text: DATA_TYPE_LABEL[t] })));
    this.form.onsubmit = (e) => {
      e.preventDefault();
      this.ask(this.input.value);
    };
    // Enter sends; Shift+Enter is a new line (the box is a textarea for longer questions).
    this.input.onkeydown = (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.ask(this.input.value);
      }
    };
    for (const button of root.querySelectorAll("[data-steer]")) {
      button.onclick = () => this.steer(button.dataset.steer);
    }
    // The newest answer stays in view while the reader is at the bottom; once they scroll
    // up to read, new text does not move the page under them: a pill offers the way down.
    this.scroller = this.log.parentElement;
    this.stick = true;
    this.newAnswer = root.querySelector('[data-role="new-answer"]');
    this.newAnswer.onclick = () => this.scrollToEnd(true);
    this.scroller.onscroll = () => {
      this.stick = this.atBottom();
      if (this.stick) this.newAnswer.hidden = true;
    };
    this.render();
  }

  atBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 24;
  }

  ask(text) {
    const question = String(text || "").trim();
    if (!question) return;
    const id = newId("q_");
    this.model.ask(id, question);
    const sentNow = this.socket.open; // otherwise it is queued until the socket is back
    if (!this.socket.send({ type: "question", id, content: question })) {
      this.turnError(id, "Too many questions are waiting for the connection; try again shortly.");
    } else if (sentNow) this.inflight.add(id);
    this.input.value = "";
    this.renderTurn(id);
    this.scrollToEnd(true);
  }

  cancel(id) {
    this.socket.send({ type: "cancel", id });
  }

  steer(action) {
    const target = action === "stop_and_summarize" ? null : this.target.value;
    const id = newId("c_");
    this.steers.set(id, { action, target });
    this.setSteerStatus(`${STEER_TEXT[action](target)}…`, "pending");
    if (this.socket.open) {
      this.socket.send({ type: "steer", id, action, target });
      return;
    }
    // Steering should not wait for the chat to reconnect: the HTTP route does the same.
    steerOverHttp(this.model.sessionId, action, target, id)
      .then((ack) => this.onFrame({ type: "steer.ack", ...ack, id }))
      .catch((err) => this.setSteerStatus(err.message || String(err), "error"));
  }

  setSteerStatus(text, state) {
    this.steerStatus.textContent = text;
    this.steerStatus.dataset.state = state;
  }

  /** One frame from the chat WebSocket. */
  onFrame(frame) {
    const turn = frame.id ? this.model.chat.get(frame.id) : null;
    switch (frame.type) {
      case "answer.start":
        // Only a turn still waiting for its answer starts one (the logged answer.end, seen
        // on the event stream, may have completed it already).
        if (!turn || turn.state !== "sending") return;
        turn.state = "streaming";
        turn.basis = frame.basis;
        turn.pending = Array.isArray(frame.pending) ? frame.pending : [];
        break;
      case "answer.delta":
        if (!turn || turn.state !== "streaming") return;
        turn.text += String(frame.text ?? "");
        break;
      case "answer.citation":
        if (!turn || turn.state !== "streaming") return;
        if (!turn.citations.some((c) => c.finding === frame.finding)) turn.citations.push({ finding: frame.finding, url: frame.url, title: frame.title });
        break;
      case "answer.end":
        this.inflight.delete(frame.id);
        if (!turn) return;
        applyEnd(turn, frame);
        break;
      case "answer.revised":
        if (!this.model.addRevision(frame)) return;
        break;
      case "steer.ack":
        if (this.steers.has(frame.id)) {
          const { action, target } = this.steers.get(frame.id);
          this.setSteerStatus(frame.message || `${STEER_TEXT[action](target)}.`, frame.applies_at === "already_done" ? "noop" : "ok");
        }
        return;
      case "suggestions":
        this.model.suggestions = Array.isArray(frame.items) ? frame.items : [];
        this.renderSuggestions();
        return;
      case "error":
        this.onError(frame);
        return;
      default:
        return;
    }
    this.renderTurn(frame.id);
    this.scrollToEnd(false);
  }

  onError(frame) {
    const message = String(frame.message || frame.code || "error");
    if (frame.id && this.model.chat.has(frame.id)) this.turnError(frame.id, message);
    else if (frame.id && this.steers.has(frame.id)) this.setSteerStatus(message, "error");
    else {
      this.banner.textContent = message;
      this.banner.hidden = false;
    }
  }

  turnError(id, message) {
    this.inflight.delete(id);
    const turn = this.model.chat.get(id);
    if (!turn) return;
    turn.state = "error";
    turn.error = message;
    this.renderTurn(id);
  }

  setConnection(state, detail) {
    const status = this.root.querySelector('[data-role="chat-conn"]');
    status.dataset.state = state;
    status.textContent = state === "open" ? "connected" : state === "closed" ? "offline" : detail || `${state}…`;
    if (state === "open") this.banner.hidden = true;
    if (state === "reconnecting" || state === "closed") {
      // The server drops a socket's answers with it. If one was finished after all, its
      // logged answer.end (on the event stream) still completes the turn.
      for (const id of this.inflight) {
        if (this.model.chat.get(id)?.state === "streaming" || this.model.chat.get(id)?.state === "sending") {
          this.turnError(id, "The connection dropped before this answer finished; ask again.");
        }
      }
      this.inflight.clear();
    }
  }

  /** Re-render everything (after a snapshot) or the turns in `ids` (from the event stream). */
  render(ids = null) {
    if (!ids) {
      replaceChildren(this.log);
      this.turnEls.clear();
      this.noteEls.clear();
    }
    const wanted = ids ? [...ids] : [...this.model.chat.keys()];
    for (const id of wanted) {
      if (id === "__suggestions__") this.renderSuggestions();
      else if (id === "__notes__") this.renderNotes();
      else this.renderTurn(id);
    }
    if (!ids) {
      this.renderNotes();
      this.renderSuggestions();
    }
    this.renderControls();
    if (ids) this.scrollToEnd(false);
  }

  renderControls() {
    for (const button of this.root.querySelectorAll("[data-steer]")) button.disabled = !this.model.running;
    this.target.disabled = !this.model.running;
    const empty = this.root.querySelector('[data-role="chat-empty"]');
    empty.hidden = this.model.chat.size > 0;
  }

  renderTurn(id) {
    const turn = this.model.chat.get(id);
    if (!turn) return;
    let node = this.turnEls.get(id);
    if (!node) {
      node = buildTurn(turn, () => this.cancel(id));
      this.log.append(node);
      this.turnEls.set(id, node);
    }
    updateTurn(node, turn, this.onCite);
    this.root.querySelector('[data-role="chat-empty"]').hidden = true;
  }

  /** Steering from other tabs and failovers, as notes in the conversation. */
  renderNotes() {
    for (const note of this.model.notes) {
      const key = note.id || `${note.action}:${note.target}:${note.ts}`;
      if (this.steers.has(note.id) || this.noteEls.has(key)) continue;
      if (note.system) {
        const node = el("li", { class: "note", text: `${note.message}${note.ts ? ` (${fmtTime(note.ts)})` : ""}` });
        this.noteEls.set(key, node);
        this.log.append(node);
        continue;
      }
      const text = STEER_TEXT[note.action] ? STEER_TEXT[note.action](note.target) : String(note.action);
      const said = note.message ? `: ${note.message}` : "";
      const node = el("li", { class: "note", text: `${text} (from another tab${note.ts ? `, ${fmtTime(note.ts)}` : ""})${said}` });
      this.noteEls.set(key, node);
      this.log.append(node);
    }
  }

  renderSuggestions() {
    replaceChildren(this.suggestionsEl, this.model.suggestions.map((text) =>
      el("button", { type: "button", class: "chip", text, on: { click: () => this.ask(text) } })));
    // the chips share the card's height with the conversation: re-pin its bottom
    this.scrollToEnd(false);
  }

  /** Keep the newest answer in view (``force``: the user just asked, or asked to). */
  scrollToEnd(force) {
    if (force) this.stick = true;
    if (this.stick) {
      this.scroller.scrollTop = this.scroller.scrollHeight;
      this.newAnswer.hidden = true;
    } else if (!this.atBottom()) {
      this.newAnswer.hidden = false;
    }
  }
}

/**
 * A turn's element, built once: the question and a status row (with the Stop button) stay put
 * while the answer body below is redrawn on every delta, so the button never moves or
 * flickers under the pointer.
 */
function buildTurn(turn, onCancel) {
  const status = el("span", { class: "turn-status muted small" });
  const stop = el("button", { type: "button", class: "link-button small", dataset: { role: "cancel" }, text: "Stop", hidden: true, on: { click: onCancel } });
  const body = el("div", { class: "answer-body" });
  const node = el("li", { class: "turn", dataset: { turnId: turn.id } },
    el("div", { class: "question" }, el("span", { class: "who" }), el("p", { class: "question-text" })),
    el("div", { class: "answer" }, el("div", { class: "turn-status-row" }, status, stop), body));
  return node;
}

function updateTurn(node, turn, onCite) {
  const revised = turn.revisions[turn.revisions.length - 1];
  const streaming = turn.state === "streaming" || turn.state === "sending";
  Object.assign(node.dataset, { state: turn.state, origin: turn.origin, revised: revised ? "true" : "false" });
  node.querySelector(".who").textContent = turn.origin === "elsewhere" ? "Asked in another tab" : turn.origin === "here" ? "You" : "Earlier";
  node.querySelector(".question-text").textContent = turn.question || "(question not shown)";
  const status = node.querySelector(".turn-status");
  status.textContent = turn.state === "sending" ? "Sending…" : streaming ? (turn.origin === "elsewhere" ? "Being answered in another tab…" : "Answering…") : "";
  node.querySelector(".turn-status-row").hidden = !streaming;
  node.querySelector('[data-role="cancel"]').hidden = !(streaming && turn.origin === "here" && turn.state !== "sending");

  const children = [];
  if (turn.pending.length) {
    const many = turn.pending.length > 1;
    children.push(el("p", {
      class: `marker ${revised ? "marker-done" : "marker-pending"}`,
      dataset: { role: "pending" },
      text: revised
        ? `Answered while ${turn.pending.join(", ")} ${many ? "were" : "was"} still being collected`
        : `Still collecting ${turn.pending.join(", ")}: this answer will be revised when ${many ? "they land" : "it lands"}`,
    }));
  }
  if (revised) {
    children.push(
      el("p", { class: "marker marker-revised", dataset: { role: "revised" }, text: `Revised: ${revised.reason || "new data arrived"}` }),
      el("p", { class: "answer-text", dataset: { role: "answer" }, text: revised.text }),
      citationList(revised.citations, onCite, "chat"),
      el("details", { class: "first-answer" },
        el("summary", { text: "First answer" }),
        el("p", { class: "answer-text", text: turn.text }),
        citationList(turn.citations, onCite, "chat")),
    );
  } else {
    const empty = turn.state === "unanswered" ? "No answer yet." : "";
    children.push(
      el("p", { class: `answer-text${turn.text ? "" : " muted"}`, dataset: { role: "answer" } },
        turn.text || empty,
        streaming && turn.text ? el("span", { class: "caret", attrs: { "aria-hidden": "true" } }) : null),
      citationList(turn.citations, onCite, "chat"),
    );
  }
  const meta = [];
  if (turn.basis && BASIS_LABEL[turn.basis]) meta.push(BASIS_LABEL[turn.basis]);
  if (typeof turn.latencyMs === "number") meta.push(`first answer in ${fmtMs(turn.latencyMs)}`);
  if (turn.state === "cancelled") meta.push("stopped");
  if (meta.length) children.push(el("p", { class: "turn-foot muted small", text: meta.join(" · ") }));
  if (turn.error) children.push(el("p", { class: "turn-error", attrs: { role: "alert" }, text: turn.error }));
  replaceChildren(node.querySelector(".answer-body"), children);
}
