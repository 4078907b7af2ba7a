// The hint under a finished research's header (what to do next: go online, name the
// company's domain, see why data is missing) and small words it shares with the header.
import { $, DATA_TYPE_LABEL, sourceLabel } from "./dom.js";

/** What the finished research says to do next: offline, identify the company, … */
export function renderHint(model, setFormHint) {
  const box = $('[data-role="session-hint"]');
  const unresolved = Object.values(model.coverage || {}).some((c) => c && c.state === "unresolved");
  const hint = model.running ? "" : model.summary?.hint || "";
  const gaps = (model.summary?.missing || []).filter((m) => m && m.data_type);
  let text = hint;
  if (!text && !model.running && model.status === "partial" && gaps.length) {
    const settled = new Set(["found", "none_found", "not_applicable"]);
    const missing = Object.entries(model.coverage || {}).filter(([, c]) => c && !settled.has(c.state)).map(([t]) => DATA_TYPE_LABEL[t] || t);
    const silent = [...new Set(gaps.filter((m) => settled.has(model.coverage?.[m.data_type]?.state)).flatMap((m) => m.sources || []).map(sourceLabel))];
    const parts = [];
    if (missing.length) parts.push(`Missing: ${missing.join(", ")}.`);
    if (silent.length) parts.push(`Some sources did not answer (${silent.join(", ")}).`);
    text = `${parts.join(" ")} The coverage below says why.`;
  }
  const ask = unresolved && !model.running;
  box.dataset.kind = model.status === "failed" ? "error" : ask ? "action" : "info";
  const form = $('[data-role="domain-form"]');
  form.hidden = !ask;
  if (ask) {
    // the prompt beside the name box says it; here only the short form to answer it
    const name = model.account?.name || "this company";
    text = `Couldn't identify ${name}.`;
    $("#company").value = model.account?.name || "";
    $("#hint-domain").placeholder = exampleDomain(name);
    setFormHint(`We couldn't identify ${name}. Add its domain (e.g. ${exampleDomain(name)}) and research again.`);
  } else {
    setFormHint("");
  }
  box.hidden = !text;
  $('[data-role="hint-text"]').textContent = text;
}

function exampleDomain(name) {
  const word = String(name || "").toLowerCase().replace(/[^a-z0-9]+/g, " ").trim().split(" ")[0];
  return `${word || "example"}.com`;
}

/** "3 h", "2 d" (how long ago an ISO time was), or "" when unknown. */
export function ageWords(iso, nowMs) {
  const at = Date.parse(iso || "");
  if (!Number.isFinite(at)) return "";
  const s = Math.max(0, (nowMs - at) / 1000);
  if (s < 90) return `${Math.max(1, Math.round(s))} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}
