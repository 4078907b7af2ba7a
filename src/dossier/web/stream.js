// The session's event stream (SSE). Opened from the snapshot's last_seq; EventSource's own
// reconnects send Last-Event-ID, which the server answers with exactly the events after it.
// When EventSource gives up (the server answered an error), we reopen it ourselves, with
// backoff, from the last seq we applied. Duplicates cannot hurt: the model ignores any seq
// it already has.

import { eventsUrl } from "./api.js";
import { EVENT_TYPES } from "./vocabulary.js";

// Named SSE events only reach listeners registered for their name (not onmessage): the
// names come from the server (./vocabulary.js), so a new event type cannot go unheard.

const MAX_BACKOFF_MS = 15_000;

export class EventStream {
  /**
   * @param {string} sessionId
   * @param {() => number} lastSeq  where to resume (the model's last applied seq)
   * @param {(event: object) => void} onEvent  one parsed envelope {seq, type, ts, data, ...}
   * @param {(state: "connecting"|"live"|"reconnecting"|"closed", detail?: string) => void} onState
   * @param {(failures: number) => void} onRefused  the server refused the stream (an HTTP
   *   error, not a dropped connection): the caller may need to re-check the session
   */
  constructor(sessionId, lastSeq, onEvent, onState, onRefused = () => {}) {
    this.sessionId = sessionId;
    this.lastSeq = lastSeq;
    this.onEvent = onEvent;
    this.onState = onState;
    this.onRefused = onRefused;
    this.source = null;
    this.failures = 0;
    this.timer = null;
    this.stopped = false;
    this.handle = (message) => this.dispatch(message);
  }

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.close();
    this.onState("closed");
  }

  open() {
    this.close();
    this.onState(this.failures ? "reconnecting" : "connecting");
    const source = new EventSource(eventsUrl(this.sessionId, this.lastSeq()));
    this.source = source;
    source.onopen = () => {
      this.failures = 0;
      this.onState("live");
    };
    source.onerror = () => {
      if (this.stopped || source !== this.source) return;
      if (source.readyState === EventSource.CONNECTING) {
        this.onState("reconnecting"); // the browser retries by itself, with Last-Event-ID
        return;
      }
      // CLOSED: an HTTP error (or 204). Reopen from what we have, backing off.
      this.close();
      this.failures += 1;
      const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** (this.failures - 1)) * (0.8 + Math.random() * 0.4);
      this.onState("reconnecting", `retrying in ${Math.max(1, Math.round(delay / 1000))} s`);
      this.timer = setTimeout(() => this.open(), delay);
      this.onRefused(this.failures);
    };
    for (const type of EVENT_TYPES) source.addEventListener(type, this.handle);
  }

  close() {
    if (!this.source) return;
    for (const type of EVENT_TYPES) this.source.removeEventListener(type, this.handle);
    this.source.close();
    this.source = null;
  }

  dispatch(message) {
    let envelope;
    try {
      envelope = JSON.parse(message.data);
    } catch {
      return; // not ours to render; the stream carries only JSON envelopes
    }
    if (envelope && typeof envelope === "object") this.onEvent(envelope);
  }
}
