// The two workflow timelines: each step's state, progress, found count, ETA, cache hits,
// retries and failures, and whether it is still alive. Steps beat at least every 5 s while
// they run, so a step silent for longer than STUCK_AFTER_MS is shown as stuck, not working.

import { el, fmtMs, fmtSeconds, plural, replaceChildren, stepLabel } from "./dom.js";
import { WORKFLOW_KINDS } from "./model.js";

export const STUCK_AFTER_MS = 10_000;

const WORKFLOW_TITLE = {
  vendor_context: ["Vendor Context", "Who we are"],
  customer_intelligence: ["Customer Intelligence", "Who they are"],
};

const STATUS_LABEL = {
  pending: "Waiting",
  running: "Running",
  retrying: "Retrying",
  completed: "Done",
  failed: "Failed",
  skipped: "Skipped",
  cancelled: "Cancelled",
  partial: "Partial",
  not_recorded: "Not recorded",
  not_applicable: "Nothing to do",
};

/** What a step's row says it is: a step that ended with some lookups failed is "partial"
 * (never a green "Done" over failures), one whose request was never recorded (demo) is
 * "not_recorded". */
export function stepStatus(step) {
  const status = step.status || "pending";
  if (status === "completed" && step.partial) return "partial";
  if (status === "failed" && step.state === "not_recorded") return "not_recorded";
  return status;
}

/** Render both timelines into `root` (a container of two cards, built once). */
export function renderTimelines(root, model) {
  for (const kind of WORKFLOW_KINDS) {
    let card = root.querySelector(`[data-workflow="${kind}"]`);
    if (!card) {
      const [title, subtitle] = WORKFLOW_TITLE[kind];
      card = el(
        "section",
        { class: "card timeline", dataset: { workflow: kind }, attrs: { "aria-label": title } },
        el("header", { class: "timeline-head" },
          el("div", {}, el("h2", { text: title }), el("p", { class: "muted small", text: subtitle })),
          el("span", { class: "pill", dataset: { role: "wf-status" } })),
        el("ol", { class: "steps" }),
        el("div", { class: "timeline-foot" },
          el("p", { class: "muted small", dataset: { role: "wf-summary" } }),
          el("button", {
            type: "button",
            class: "link-button small",
            dataset: { role: "wf-toggle" },
            hidden: true,
            attrs: { "aria-expanded": "false" },
          })),
      );
      root.append(card);
    }
    renderWorkflow(card, model.workflows.get(kind), model);
  }
}

// The user's choice per workflow: true (every step), false (folded), absent (the default:
// while running, a long list -- or any list on a narrow screen -- is one summary line, so
// the chat stays within reach; once finished, clean successes fold away and failures,
// partial and not-recorded steps stay in view).
const opened = new Map();
const LONG_LIST = 6;
const NARROW = window.matchMedia("(max-width: 1100px)");

/** A new session on screen starts with its timelines folded again. */
export function resetTimelines() {
  opened.clear();
}

function toggle(kind, showing, root, model) {
  opened.set(kind, !showing);
  renderTimelines(root, model);
}

/** "3 of 8 sources answered · 2 retrying · 1 failed", or what comes before the sources. */
export function progressWords(steps) {
  const sources = steps.filter((step) => step.name.startsWith("collect."));
  if (!sources.length) {
    const resolve = steps.find((step) => step.name === "resolve");
    return resolve && resolve.status !== "completed" ? resolve.message || "identifying the company" : "planning the sources";
  }
  const count = (...states) => sources.filter((step) => states.includes(stepStatus(step))).length;
  const parts = [`${count("completed", "partial")} of ${plural(sources.length, "source")} answered`];
  const retrying = count("retrying");
  const failed = count("failed");
  const unrecorded = count("not_recorded");
  const skipped = count("skipped");
  if (retrying) parts.push(`${retrying} retrying`);
  if (failed) parts.push(`${failed} failed`);
  if (unrecorded) parts.push(`${unrecorded} not recorded`);
  if (skipped) parts.push(`${skipped} skipped`);
  return parts.join(" · ");
}

function renderWorkflow(card, wf, model) {
  const steps = [...wf.steps.values()];
  const live = steps.map((step) => liveness(step, model));
  const stuck = live.includes("stuck");
  const status = workflowStatus(wf, steps);
  card.dataset.status = status;
  card.dataset.live = stuck ? "stuck" : wf.status === "running" ? "working" : "idle";
  const pill = card.querySelector('[data-role="wf-status"]');
  pill.dataset.status = stuck ? "stuck" : status;
  pill.textContent = stuck ? "Stuck?" : wf.status === "running" ? "Working" : STATUS_LABEL[status] || status;

  const list = card.querySelector(".steps");
  const finished = ["completed", "failed", "cancelled"].includes(wf.status);
  const choice = opened.get(wf.kind);
  const long = steps.length > LONG_LIST || NARROW.matches;
  // Only clean successes fold away: failures, partial and not-recorded steps stay in view
  // -- unless they are many (or the screen narrow): then the summary line counts them.
  const foldable = steps.filter((step) => stepStatus(step) === "completed").length;
  const problems = steps.length - foldable;
  const folded = problems > LONG_LIST || (NARROW.matches && problems) ? "none" : "problems";
  // "all" rows, "problems" only, or "none" (the summary line alone)
  const mode = choice === true ? "all" : finished ? folded : choice === false || long ? "none" : "all";
  card.dataset.rows = mode;
  if (!steps.length) {
    replaceChildren(list, el("li", { class: "step step-placeholder muted", text: model.running ? "Starting…" : "No steps ran." }));
  } else {
    replaceChildren(list, steps.map((step, i) => {
      const row = renderStep(step, live[i], model);
      row.hidden = mode === "none" || (mode === "problems" && stepStatus(step) === "completed");
      return row;
    }));
  }
  const parts = [];
  const idle = status === "not_applicable" ? idleReason(wf) : "";
  if (idle) parts.push(`Nothing to research: ${idle}${wf.kind === "vendor_context" ? " (add yours with We are…)" : ""}`);
  else if (!finished || mode === "none") parts.push(progressWords(steps));
  else if (foldable) parts.push(`${foldable} of ${plural(steps.length, "step")} done`);
  if (!idle && typeof wf.result.found === "number") parts.push(plural(wf.result.found, "finding"));
  if (typeof wf.result.duration_ms === "number") parts.push(`in ${fmtMs(wf.result.duration_ms)}`);
  if (wf.result.cached) parts.push("served from cache");
  card.querySelector('[data-role="wf-summary"]').textContent = parts.join(" · ");
  const button = card.querySelector('[data-role="wf-toggle"]');
  const showing = mode === "all";
  button.hidden = finished ? !foldable && mode !== "none" : !steps.length || (!long && choice === undefined);
  button.textContent = finished ? (showing ? "Hide finished steps" : "Show all steps") : showing ? "Hide steps" : "Show steps";
  button.setAttribute("aria-expanded", String(showing));
  button.onclick = () => toggle(wf.kind, showing, card.parentElement, model);
}

/** completed|partial|failed|running|… : a finished workflow says how it went (its verdict
 * from the server's coverage; failed or partial steps make it "partial" at least). */
export function workflowStatus(wf, steps = [...wf.steps.values()]) {
  if (wf.status !== "completed") return wf.status;
  const causes = Array.isArray(wf.result.causes) ? wf.result.causes : [];
  // nothing answered because nothing was recorded: a demo's gap, not a broken source
  if (wf.result.verdict === "failed" && causes.length && causes.every((c) => c === "not_recorded")) return "not_recorded";
  // nothing applied (no vendor set): not a research that was done and found nothing
  if (idleReason(wf)) return "not_applicable";
  if (wf.result.verdict) return wf.result.verdict;
  if (steps.some((s) => stepStatus(s) !== "completed" && stepStatus(s) !== "skipped")) return "partial";
  return wf.status;
}

/** Why a finished workflow had nothing to look up ("no vendor configured"), or "". */
function idleReason(wf) {
  const coverage = Object.values(wf.result.coverage || {});
  if (!coverage.length || !coverage.every((c) => c && c.state === "not_applicable")) return "";
  return coverage[0].reason || "nothing applies";
}

/** "working", "stuck", "waiting" (retry scheduled) or "idle" (not running). */
export function liveness(step, model) {
  if (!model.running || (step.status !== "running" && step.status !== "retrying")) return "idle";
  const now = model.serverNow();
  if (step.status === "retrying" && step.retry_at && step.retry_at > now) return "waiting";
  const last = Date.parse(step.last_beat_at || step.started_at || "");
  if (!Number.isFinite(last)) return "working";
  return now - last > STUCK_AFTER_MS ? "stuck" : "working";
}

function renderStep(step, live, model) {
  const status = stepStatus(step);
  const total = Number(step.total) || 0;
  const done = Math.min(Number(step.done) || 0, total);
  const meta = [];
  const ended = TERMINAL.has(status);
  if (total > 0 && !ended) meta.push(`${done}/${total}`);
  if (typeof step.found === "number" && step.found > 0) meta.push(`${step.found} found`);
  if ((status === "running" || status === "retrying") && typeof step.eta_s === "number" && step.eta_s > 0) {
    meta.push(`${step.eta_s < 1 ? "" : "~"}${fmtSeconds(step.eta_s)} left`);
  }
  if (ended && typeof step.duration_ms === "number") meta.push(fmtMs(step.duration_ms));
  // A finished step's last message is worth keeping when it sums up what it gave ("2 job
  // postings", "identified: CIK …"); for the others it is stale ("writing the analysis").
  const summing = step.name.startsWith("collect.") || step.name === "resolve" || step.name === "plan";
  const message = !ended || (["completed", "partial"].includes(status) && summing) ? step.message || "" : "";

  return el(
    "li",
    { class: "step", dataset: { step: step.name, status, live } },
    el("span", { class: "step-icon", attrs: { "aria-hidden": "true" } }),
    el("div", { class: "step-main" },
      el("div", { class: "step-head" },
        el("span", { class: "step-name", text: stepLabel(step.name) }),
        step.cached ? el("span", { class: "badge badge-cache", text: "cached" }) : null,
        el("span", { class: "step-state", text: live === "stuck" ? "Stuck?" : STATUS_LABEL[status] || status })),
      total > 0 && !TERMINAL.has(status)
        ? el("div", {
            class: "bar",
            attrs: { role: "progressbar", "aria-valuemin": 0, "aria-valuemax": total, "aria-valuenow": done, "aria-label": `${stepLabel(step.name)} progress` },
          }, el("div", { class: "bar-fill", style: `width:${Math.round((100 * done) / total)}%` }))
        : null,
      meta.length || message
        ? el("div", { class: "step-meta" }, meta.join(" · "), meta.length && message ? " · " : "", message ? el("span", { class: "step-message", text: message }) : null)
        : null,
      detail(step, status, live, model)),
  );
}

const TERMINAL = new Set(["completed", "failed", "skipped", "partial", "not_recorded"]);

function detail(step, status, live, model) {
  if (status === "retrying") {
    const attempt = step.attempt ? `attempt ${step.attempt}` : "retrying";
    const wait = step.retry_at ? Math.max(0, (step.retry_at - model.serverNow()) / 1000) : null;
    const next = wait !== null && wait > 0 ? ` · next try in ${fmtSeconds(wait)}` : "";
    return el("p", { class: "step-note note-warn" }, `Retrying (${attempt}${next}): `, el("span", { class: "step-error", text: step.error || "source error" }));
  }
  if (status === "failed") {
    return el("p", { class: "step-note note-error" }, "Failed: ", el("span", { class: "step-error", text: step.error || "unknown error" }));
  }
  if (status === "not_recorded") {
    // the request it needed is a developer's detail: on hover, not in the seller's way
    return el("p", { class: "step-note note-muted", title: step.error || "" }, "Not in this demo's recordings.");
  }
  if (status === "partial") {
    return el("p", { class: "step-note note-warn" }, "Partly: ", el("span", { class: "step-error", text: step.error || "some requests failed" }));
  }
  if (status === "skipped") {
    return el("p", { class: "step-note note-muted" }, "Skipped: ", el("span", { class: "step-error", text: step.error || "not needed" }));
  }
  if (live === "stuck") {
    const since = (model.serverNow() - Date.parse(step.last_beat_at || step.started_at)) / 1000;
    return el("p", { class: "step-note note-error", text: `Stuck? No sign of life for ${fmtSeconds(since)}.` });
  }
  if (live === "working") {
    const since = (model.serverNow() - Date.parse(step.last_beat_at || step.started_at || "")) / 1000;
    const ago = Number.isFinite(since) ? ` · last update ${since < 1.5 ? "just now" : `${fmtSeconds(since)} ago`}` : "";
    return el("p", { class: "step-note note-live" }, el("span", { class: "pulse", attrs: { "aria-hidden": "true" } }), `Working${ago}`);
  }
  return null;
}
