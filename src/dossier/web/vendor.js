// Who we are: the seller's own company, kept in this browser and sent with each research,
// so the briefing's entry point, talking points and discovery questions are about what we
// sell. Empty: the server's DOSSIER_VENDOR_* settings apply.
import { $ } from "./dom.js";

const KEY = "dossier.vendor";
const FIELDS = ["name", "domain", "description", "sells_to"];

/** The vendor to send with a research, or null to let the server's settings apply. */
export function vendorForRequest() {
  const saved = load();
  const vendor = {};
  for (const field of FIELDS) {
    const value = (saved[field] || "").trim();
    if (!value) continue;
    vendor[field] = field === "sells_to" ? value.split(",").map((r) => r.trim()).filter(Boolean) : value;
  }
  return Object.keys(vendor).length ? vendor : null;
}

function load() {
  try {
    const value = JSON.parse(localStorage.getItem(KEY) || "{}");
    return value && typeof value === "object" ? value : {};
  } catch {
    return {};
  }
}

function save(values) {
  if (Object.values(values).some((v) => v)) localStorage.setItem(KEY, JSON.stringify(values));
  else localStorage.removeItem(KEY);
}

/** The panel: open/close, fill from what is saved, the server's vendor as placeholders. */
export function setupVendorPanel(serverVendor) {
  const panel = $('[data-role="vendor-panel"]');
  const form = $('[data-role="vendor-form"]');
  const toggle = $('[data-role="vendor-toggle"]');
  const fill = () => {
    const saved = load();
    for (const field of FIELDS) form.elements[field].value = saved[field] || "";
    toggle.dataset.set = String(Boolean(vendorForRequest()));
  };
  if (serverVendor) {
    for (const field of FIELDS) {
      const value = serverVendor[field];
      const text = Array.isArray(value) ? value.join(", ") : value;
      if (text) form.elements[field].placeholder = `${text} (server setting)`;
    }
  }
  toggle.addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    if (!panel.hidden) form.elements.name.focus();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const values = {};
    for (const field of FIELDS) values[field] = form.elements[field].value.trim();
    save(values);
    fill();
    panel.hidden = true;
  });
  $('[data-role="vendor-clear"]').addEventListener("click", () => {
    save({});
    fill();
  });
  fill();
}
