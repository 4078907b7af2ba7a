// Findings grouped by data type, the streamed analysis with its citations, and the coverage
// summary. Finding cards are keyed by id and updated in place, so a merge (the same fact from
// a second source) or a replay never shows a card twice.

import { STATE_LABEL } from "./vocabulary.js";
import {
  DATA_TYPE_LABEL, DATA_TYPES, GROUP_OF_KIND, el, extLink, fmtDate, fmtMs, plural, replaceChildren, sourceLabel,
} from "./dom.js";

const COLLAPSED_LIMIT = 6;
const DATED_FIRST = new Set(["news", "jobs", "funding"]);

export class FindingsView {
  constructor(root, model) {
    this.root = root;
    this.model = model;
    this.cards = new Map(); // finding id -> card element
    this.expanded = new Set(); // groups the user opened in full
    this.groups = new Map();
    replaceChildren(root, DATA_TYPES.map((type) => this.buildGroup(type)));
  }

  buildGroup(type) {
    const count = el("span", { class: "count" });
    const list = el("ul", { class: "finding-list" });
    const empty = el("p", { class: "group-empty muted small" });
    const more = el("button", { class: "link-button small", type: "button", hidden: true, on: { click: () => this.toggle(type) } });
    const section = el("section", { class: "group", dataset: { group: type }, attrs: { "aria-label": DATA_TYPE_LABEL[type] } },
      el("h3", { class: "group-title" }, DATA_TYPE_LABEL[type], " ", count), list, empty, more);
    this.groups.set(type, { section, count, list, empty, more });
    return section;
  }

  toggle(type) {
    if (this.expanded.has(type)) this.expanded.delete(type);
    else this.expanded.add(type);
    this.renderGroup(type);
  }

  /** Re-render all groups (after a snapshot), or only the groups of `ids`. */
  render(ids = null) {
    const touched = new Set();
    const wanted = ids ? [...ids] : [...this.model.findings.keys()];
    for (const id of wanted) {
      const finding = this.model.findings.get(id);
      if (!finding) continue;
      const card = renderCard(finding);
      const old = this.cards.get(id);
      if (old) {
        if (old.classList.contains("is-highlighted")) card.classList.add("is-highlighted");
        old.replaceWith(card);
      }
      this.cards.set(id, card);
      touched.add(GROUP_OF_KIND[finding.kind] || "profile");
    }
    for (const type of ids ? touched : DATA_TYPES) this.renderGroup(type);
  }

  /** Re-render group headers and empty states only (e.g. when the research ends). */
  refreshGroups() {
    for (const type of DATA_TYPES) this.renderGroup(type);
  }

  renderGroup(type) {
    const group = this.groups.get(type);
    if (!group) return;
    const items = [...this.model.findings.values()].filter((f) => (GROUP_OF_KIND[f.kind] || "profile") === type);
    if (DATED_FIRST.has(type)) items.sort((a, b) => (b.published_at || "").localeCompare(a.published_at || ""));
    const open = this.expanded.has(type);
    items.forEach((finding, i) => {
      const card = this.cards.get(finding.id);
      card.hidden = !open && i >= COLLAPSED_LIMIT;
      // Move a card only when it is out of place: re-inserting a node restarts its
      // arrival animation, and every card would flash on each new finding.
      const at = group.list.children[i];
      if (at !== card) group.list.insertBefore(card, at || null);
    });
    group.count.textContent = items.length ? String(items.length) : "";
    group.section.dataset.count = String(items.length);
    group.more.hidden = items.length <= COLLAPSED_LIMIT;
    group.more.textContent = open ? "Show fewer" : `Show all ${items.length}`;
    group.empty.hidden = items.length > 0;
    group.empty.textContent = this.emptyText(type);
  }

  emptyText(type) {
    const cover = this.model.coverage?.[type];
    if (this.model.running && !cover) return "Collecting…";
    return cover ? emptyWords(cover) : "Nothing found.";
  }

  /** Scroll to a finding and highlight it (a citation was clicked). False if not on the page. */
  jumpTo(findingId) {
    const id = this.model.resolveFinding(findingId);
    const card = id && this.cards.get(id);
    if (!card) return false;
    const finding = this.model.findings.get(id);
    const type = GROUP_OF_KIND[finding.kind] || "profile";
    if (card.hidden) {
      this.expanded.add(type);
      this.renderGroup(type);
    }
    for (const other of this.root.querySelectorAll(".finding.is-highlighted")) other.classList.remove("is-highlighted");
    // Restart the flash animation even when the same card is cited twice in a row.
    void card.offsetWidth;
    card.classList.add("is-highlighted");
    card.scrollIntoView({ behavior: "smooth", block: "center" });
    card.focus({ preventScroll: true });
    return true;
  }
}

/** Why a data type has no findings, in the coverage vocabulary's words. */
export function emptyWords(cover) {
  const reason = cover.reason ? String(cover.reason) : "";
  if (cover.state === "unresolved") return "Unknown until the company is identified: add its domain above.";
  const lead = { none_found: "None found", failed: "Unknown", skipped: "Skipped", not_recorded: "Not recorded", not_applicable: "Does not apply" }[cover.state];
  if (!lead) return reason ? `Nothing found (${reason}).` : "Nothing found.";
  return reason ? `${lead}: ${reason}.` : `${lead}.`;
}

function renderCard(f) {
  const fields = f.fields || {};
  const sources = Array.isArray(fields.sources) && fields.sources.length ? fields.sources : [f.source];
  const date = f.published_at ? fmtDate(f.published_at) : "";
  const sample = fields.sample === true;
  return el(
    "li",
    { class: "finding", id: `finding-${f.id}`, tabIndex: -1, dataset: { findingId: f.id, kind: f.kind, sample: sample ? "true" : "false" } },
    el("div", { class: "finding-title" },
      sample ? el("span", { class: "badge badge-sample", title: "Built from a constructed demo recording, not real data", text: "sample data" }) : null,
      sample ? " " : null,
      extLink(f.url, f.title || "(untitled)", "finding-link")),
    detailLine(f.kind, fields),
    el("div", { class: "finding-meta" },
      el("span", { class: "finding-source", text: sources.map(sourceLabel).join(" + ") }),
      date ? el("span", { text: date }) : null,
      el("span", { class: "confidence", title: "confidence", text: `${Math.round((Number(f.confidence) || 0) * 100)}%` })),
  );
}

function str(v) {
  return typeof v === "string" || typeof v === "number" ? String(v) : "";
}

function detailLine(kind, fields) {
  const parts = [];
  if (kind === "job_posting") parts.push(str(fields.department), str(fields.location));
  else if (kind === "person") {
    const roles = Array.isArray(fields.roles) ? fields.roles.filter((r) => typeof r === "string") : [];
    parts.push(roles.join(", ") || str(fields.role) || str(fields.title));
    if (fields.change) parts.push(str(fields.change));
  } else if (kind === "news_article") {
    parts.push(str(fields.outlet));
    if (typeof fields.points === "number") parts.push(`${fields.points} points`);
  } else if (kind === "company_profile") {
    parts.push(str(fields.short_description) || str(fields.industry), str(fields.headquarters));
    if (fields.founded) parts.push(`founded ${str(fields.founded)}`);
    if (typeof fields.employees === "number") parts.push(`${fields.employees.toLocaleString()} employees`);
  } else if (kind === "technology") {
    parts.push(str(fields.category), str(fields.version));
  } else if (kind === "filing") {
    parts.push(str(fields.form));
  } else if (kind === "funding_round") {
    parts.push(str(fields.industry));
  }
  const text = parts.filter(Boolean).join(" · ");
  return text ? el("div", { class: "finding-detail", text }) : null;
}

// The profile table's rows: field, label, and how to show the value.
const PROFILE_ROWS = [
  ["headquarters", "Headquarters", str],
  ["country", "Country", str],
  ["founded", "Founded", str],
  ["employees", "Employees", (v, f) => (typeof v === "number" ? v.toLocaleString() + (f.employees_as_of ? ` (${str(f.employees_as_of)})` : "") : "")],
  ["industry", "Industry", str],
  ["ticker", "Ticker", str],
  ["website", "Website", str],
];

/** The company profile as a table at the top of the briefing, citing the profile finding. */
export function renderProfile(root, model, onCite) {
  const profile = [...model.findings.values()].find((f) => f.kind === "company_profile" && !model.vendorFindings.has(f.id));
  const fields = profile?.fields || {};
  const rows = PROFILE_ROWS.map(([key, label, show]) => [label, show(fields[key], fields)]).filter(([, value]) => value);
  root.hidden = !rows.length;
  if (!rows.length) return replaceChildren(root);
  const sources = Array.isArray(fields.sources) && fields.sources.length ? fields.sources : [profile.source];
  replaceChildren(root,
    el("caption", { class: "small muted" },
      fields.sample === true ? el("span", { class: "badge badge-sample", text: "sample data" }) : null,
      fields.sample === true ? " " : null,
      "Profile from ",
      el("button", { type: "button", class: "cite-inline", dataset: { finding: profile.id, where: "profile" },
        on: { click: () => onCite({ finding: profile.id, title: profile.title }) }, text: sources.map(sourceLabel).join(" + ") })),
    el("tbody", {}, rows.map(([label, value]) => el("tr", {}, el("th", { scope: "row", text: label }), el("td", { text: value })))));
}

/** The briefing (customer analysis) and the vendor's own, with citation chips. */
export function renderAnalysis(root, model, onCite) {
  const customer = model.analysis.get("customer_intelligence");
  const vendor = model.analysis.get("vendor_context");
  const body = root.querySelector('[data-role="briefing"]');
  root.dataset.status = customer?.status || "pending";
  body.setAttribute("aria-busy", customer?.status === "running" ? "true" : "false");
  if (!customer || (!customer.text && customer.status !== "completed")) {
    replaceChildren(body, el("p", { class: "muted", text: model.running ? "The briefing is written once the sources are in…" : "No briefing was written." }));
  } else {
    const paragraphs = paragraphsOf(customer.text);
    const last = paragraphs.length - 1;
    replaceChildren(body,
      paragraphs.map((text, i) => el("p", { class: "analysis-text", text },
        i === last && customer.status === "running" ? el("span", { class: "caret", attrs: { "aria-hidden": "true" } }) : null)),
      citationList(customer.citations, onCite, "analysis"));
  }
  const about = root.querySelector('[data-role="vendor"]');
  about.hidden = !vendor || !vendor.text;
  if (vendor && vendor.text) {
    replaceChildren(about.querySelector('[data-role="vendor-text"]'), el("p", { text: vendor.text }), citationList(vendor.citations, onCite, "analysis"));
    about.querySelector("summary").textContent = `About us${model.vendor?.name ? ` (${model.vendor.name})` : ""}`;
  }
}

/** Split an analysis into paragraphs where a sentence opens with a label ("Talking point: …"),
 * which is how analysts structure a briefing; plain prose stays one paragraph. */
export function paragraphsOf(text) {
  return String(text || "").split(/(?<=[.!?”"])\s+(?=[A-Z][A-Za-z0-9 ,'’()-]{2,40}:\s)/u).filter((p) => p.trim());
}

/** Numbered citation chips; each jumps to its finding. */
export function citationList(citations, onCite, where) {
  const seen = new Set();
  const unique = (citations || []).filter((c) => c && typeof c.finding === "string" && !seen.has(c.finding) && seen.add(c.finding));
  if (!unique.length) return null;
  return el("ol", { class: "citations", attrs: { "aria-label": "Sources" } },
    unique.map((c, i) => el("li", {},
      el("button", {
        type: "button",
        class: "cite",
        title: c.title || c.finding,
        dataset: { finding: c.finding, where },
        on: { click: () => onCite(c) },
      }, el("span", { class: "cite-n", text: String(i + 1) }), el("span", { class: "cite-title", text: c.title || c.finding })))));
}

export function renderCoverage(root, model) {
  root.hidden = model.running;
  if (model.running) return;
  const rows = DATA_TYPES.filter((t) => model.coverage?.[t]).map((type) => {
    const c = model.coverage[type];
    const state = typeof c.state === "string" ? c.state : "found";
    const incomplete = state === "found" && c.complete === false;
    const sources = Object.entries(c.sources && typeof c.sources === "object" && !Array.isArray(c.sources) ? c.sources : {});
    return el("li", { class: "coverage-row", dataset: { type, state, incomplete: incomplete ? "true" : "false" } },
      el("span", { class: "coverage-name", text: DATA_TYPE_LABEL[type] }),
      el("span", { class: "pill", dataset: { status: incomplete ? "partial" : state }, text: STATE_LABEL[state] || state }),
      el("span", { class: "coverage-reason small", text: c.reason || plural(Number(c.found) || 0, "finding") }),
      sources.length
        ? el("ul", { class: "coverage-sources small muted" },
            sources.map(([name, src]) => el("li", { dataset: { source: name, state: src.state || "" } },
              el("span", { class: "source-name", text: sourceLabel(name) }), ": ",
              src.reason || STATE_LABEL[src.state] || "")))
        : null);
  });
  const s = model.summary || {};
  const stats = [];
  if (typeof s.duration_ms === "number" && s.duration_ms > 0) stats.push(`finished in ${fmtMs(s.duration_ms)}`);
  if (typeof s.requests === "number") stats.push(plural(s.requests, "source call"));
  if (typeof s.cache_hits === "number") stats.push(plural(s.cache_hits, "cache hit"));
  if (s.calls_saved) stats.push(`${plural(s.calls_saved, "call")} saved`);
  if (s.time_saved_ms) stats.push(`${fmtMs(s.time_saved_ms)} saved`);
  replaceChildren(root.querySelector('[data-role="coverage-list"]'), rows);
  root.querySelector('[data-role="coverage-stats"]').textContent = stats.join(" · ");
}
