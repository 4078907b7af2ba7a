// The chat WebSocket, kept open for as long as a session is shown. It reconnects with
// exponential backoff (and jitter, so many tabs do not return in lockstep); frames sent while
// it is down wait in a small queue and go out on reconnect.

import { chatUrl } from "./api.js";

const MAX_BACKOFF_MS = 10_000;
const PING_EVERY_MS = 25_000; // keeps idle proxies from closing a quiet chat
const MAX_QUEUED = 20;

export class ChatSocket {
  /**
   * @param {string} sessionId
   * @param {(frame: object) => void} onFrame  every server frame (answer.*, steer.ack, ...)
   * @param {(state: "connecting"|"open"|"reconnecting"|"closed", detail?: string) => void} onState
   */
  constructor(sessionId, onFrame, onState) {
    this.sessionId = sessionId;
    this.onFrame = onFrame;
    this.onState = onState;
    this.ws = null;
    this.queue = [];
    this.failures = 0;
    this.timer = null;
    this.pinger = null;
    this.stopped = false;
  }

  get open() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
    this.onState("closed");
  }

  /** Send now, or when the socket is back. Returns false if the queue is full. */
  send(frame) {
    if (this.open) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    if (this.queue.length >= MAX_QUEUED) return false;
    this.queue.push(frame);
    return true;
  }

  connect() {
    this.onState(this.failures ? "reconnecting" : "connecting");
    const ws = new WebSocket(chatUrl(this.sessionId));
    this.ws = ws;
    ws.onopen = () => {
      this.failures = 0;
      this.onState("open");
      const pending = this.queue.splice(0);
      for (const frame of pending) ws.send(JSON.stringify(frame));
      clearInterval(this.pinger);
      this.pinger = setInterval(() => this.open && ws.send('{"type":"ping"}'), PING_EVERY_MS);
    };
    ws.onmessage = (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      if (frame && typeof frame === "object" && frame.type !== "pong") this.onFrame(frame);
    };
    ws.onclose = (event) => {
      clearInterval(this.pinger);
      if (this.stopped || ws !== this.ws) return;
      this.ws = null;
      this.failures += 1;
      // 1008: policy (bad token, unknown session, origin). Retrying will not help soon, but
      // a fixed token might: keep trying, slowly.
      const base = event.code === 1008 ? MAX_BACKOFF_MS : Math.min(MAX_BACKOFF_MS, 400 * 2 ** (this.failures - 1));
      const delay = base * (0.8 + Math.random() * 0.4);
      this.onState("reconnecting", `reconnecting in ${Math.max(1, Math.round(delay / 1000))} s`);
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }
}
