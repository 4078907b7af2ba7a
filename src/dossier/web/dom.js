// DOM helpers. Every piece of text that reaches the page goes through textContent here:
// findings, answers and errors come from public web sources and must never be parsed as HTML.

import { SOURCE_LABEL } from "./vocabulary.js";

// Properties that parse their value as markup: never set from here (source text is untrusted).
const MARKUP_PROPS = new Set(["innerHTML", "outerHTML", "srcdoc"]);

/**
 * Build an element. `props`: class, dataset, attrs (plain attributes), on (event handlers),
 * text (textContent) and any other DOM property. Children may be nodes, strings (inserted as
 * text nodes), or null/false (skipped).
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "attrs") {
      for (const [name, v] of Object.entries(value)) {
        if (v !== undefined && v !== null && v !== false) node.setAttribute(name, String(v));
      }
    } else if (key === "on") {
      for (const [name, handler] of Object.entries(value)) node.addEventListener(name, handler);
    } else if (MARKUP_PROPS.has(key)) {
      throw new Error(`el(): ${key} would parse markup; use text or children`);
    } else node[key] = value;
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace a node's children (the text-only way; never innerHTML). */
export function replaceChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** The URL if it is an absolute http(s) URL, else null: a `javascript:` or `data:` link from
 * a source must never become clickable (and a relative one would point into this app). */
export function safeHref(url) {
  if (typeof url !== "string" || !url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** An external link (new tab, no opener, no referrer), or plain text when the URL is unsafe. */
export function extLink(url, text, className = "") {
  const href = safeHref(url);
  if (!href) return el("span", { class: className, text });
  return el("a", {
    class: className,
    href,
    text,
    target: "_blank",
    attrs: { rel: "noopener noreferrer" },
  });
}

export const $ = (selector, root = document) => root.querySelector(selector);

// ---- formatting

const DATE_FMT = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });
const TIME_FMT = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

export function fmtDate(iso) {
  const ms = Date.parse(iso || "");
  return Number.isFinite(ms) ? DATE_FMT.format(ms) : "";
}

export function fmtTime(iso) {
  const ms = Date.parse(iso || "");
  return Number.isFinite(ms) ? TIME_FMT.format(ms) : "";
}

export function fmtSeconds(s) {
  if (typeof s !== "number" || !Number.isFinite(s)) return "";
  if (s < 1) return "<1 s";
  if (s < 90) return `${Math.round(s)} s`;
  return `${Math.round(s / 60)} min`;
}

export function fmtMs(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

// The vocabulary (data types, their words, the group of each finding kind, sources'
// names) comes from the server: ./vocabulary.js is generated from its own definitions.
export { DATA_TYPES, DATA_TYPE_LABEL, GROUP_OF_KIND } from "./vocabulary.js";

export function sourceLabel(name) {
  return SOURCE_LABEL[name] || String(name || "");
}

const STEP_LABEL = {
  cache_check: "Check cache",
  resolve: "Identify the company",
  plan: "Plan sources",
  analyze: "Write the analysis",
  cache_store: "Store results",
};

export function stepLabel(name) {
  if (STEP_LABEL[name]) return STEP_LABEL[name];
  if (name.startsWith("collect.")) return sourceLabel(name.slice("collect.".length));
  return name;
}
