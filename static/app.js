// wdtpanel's small client side: the frame session, error banners, confirmations, select-all, the menu.
"use strict";

// --- The session inside the mall's iframe -------------------------------------------------------------
// When the browser keeps no cookie for the panel inside a cross-site frame, the signed session lives in the
// frame's sessionStorage and goes with every HTMX request in a header; the server hands a changed one back.
const FRAME_HEADER = "X-Wdtpanel-Frame";
const FRAME_KEY = "wdtpanel.frame";
let frameMemory = null; // where sessionStorage is not available

function frameToken() {
  try { return sessionStorage.getItem(FRAME_KEY); } catch (e) { return frameMemory; }
}

function keepFrameToken(value) {
  frameMemory = value || null;
  try {
    if (value) sessionStorage.setItem(FRAME_KEY, value); else sessionStorage.removeItem(FRAME_KEY);
  } catch (e) { /* storage blocked: keep it in memory for this page */ }
}

document.addEventListener("htmx:configRequest", (e) => {
  const token = frameToken();
  if (token) e.detail.headers[FRAME_HEADER] = token;
});
document.addEventListener("htmx:beforeOnLoad", (e) => {
  const changed = e.detail.xhr.getResponseHeader(FRAME_HEADER);
  if (changed !== null) keepFrameToken(changed);
});
document.addEventListener("htmx:historyCacheMiss", (e) => {
  const token = frameToken();
  if (token) e.detail.xhr.setRequestHeader(FRAME_HEADER, token);
});

// The page /embed answers with (or a reload inside the frame): keep the new session, then open the page with it.
function startFrame() {
  const start = document.querySelector("[data-frame-next]");
  if (!start) return;
  if (start.dataset.frameToken) keepFrameToken(start.dataset.frameToken);
  if (frameToken()) {
    htmx.ajax("GET", start.dataset.frameNext, { target: "body", swap: "innerHTML", replace: "true" });
  } else if (start.dataset.frameFallback) {
    location.replace(start.dataset.frameFallback);
  }
}

// --- Errors: the server's banner fragment is swapped into #banner (base.html's responseHandling) --------
let sessionGone = false;

function showBanner(html) {
  const banner = document.getElementById("banner");
  if (banner) banner.innerHTML = html;
}

document.addEventListener("htmx:responseError", (e) => {
  if (e.detail.xhr.status === 401) sessionGone = true; // stop polling a session that is gone
});
document.addEventListener("htmx:sendError", () => {
  const app = document.getElementById("app");
  const text = document.createElement("div");
  text.className = "alert alert-error error-banner";
  text.setAttribute("role", "alert");
  text.textContent = app ? app.dataset.networkError : "Network error";
  showBanner(text.outerHTML);
});
document.addEventListener("htmx:beforeRequest", (e) => {
  if (sessionGone) e.preventDefault();
});
document.addEventListener("click", (e) => {
  if (e.target.matches(".error-banner .reload")) { e.preventDefault(); location.reload(); }
  if (e.target.matches(".error-banner .close")) e.target.closest(".error-banner").remove();
});

// --- Confirmations with a question the server wrote (data-confirm-*) ------------------------------------
document.addEventListener("htmx:confirm", (e) => {
  const elt = e.detail.elt;
  let question = elt.dataset.confirm;
  if (elt.id === "wdt-config-form") { // switching the integration off
    const enabled = elt.querySelector("#enabled");
    question = elt.dataset.wasEnabled === "true" && enabled && !enabled.checked ? elt.dataset.confirmOff : null;
  }
  if (!question) return;
  e.preventDefault();
  if (window.confirm(question)) e.detail.issueRequest(true);
});

// --- Select all rows --------------------------------------------------------------------------------------
document.addEventListener("change", (e) => {
  if (e.target.matches("[data-select-all]")) {
    const scope = e.target.closest("form") || document;
    scope.querySelectorAll(e.target.dataset.selectAll).forEach((box) => { box.checked = e.target.checked; });
  }
  if (e.target.id === "environment") syncEnvironmentField(document);
});

// --- Rows that leave the list once pushed (no request: the row removes itself) ----------------------------
function scheduleLeaving(root) {
  root.querySelectorAll("[data-leaves-after]").forEach((row) => {
    if (row.dataset.leaving) return;
    row.dataset.leaving = "1";
    setTimeout(() => row.remove(), Number(row.dataset.leavesAfter));
  });
}

// --- The menu on a narrow screen -------------------------------------------------------------------------
document.addEventListener("click", (e) => {
  const toggle = e.target.closest(".menu-toggle");
  if (!toggle) return;
  const open = toggle.getAttribute("aria-expanded") !== "true";
  toggle.setAttribute("aria-expanded", String(open));
  toggle.closest(".topbar").classList.toggle("open", open);
});

// --- The config page: the custom base URL field only with "自定义地址"; a kept secret stays marked ------------
function syncEnvironmentField(root) {
  const env = root.querySelector("#environment");
  const custom = root.querySelector("#field-custom_base_url");
  if (env && custom) custom.hidden = env.value !== "custom";
}

function syncPreservedFields(root) {
  root.querySelectorAll(".field [hx-preserve]").forEach((input) => {
    input.setAttribute("aria-invalid", String(input.closest(".field").classList.contains("has-error")));
  });
}

function settle() {
  syncEnvironmentField(document);
  syncPreservedFields(document);
  scheduleLeaving(document);
}

document.addEventListener("htmx:afterSettle", settle);
document.addEventListener("htmx:oobAfterSwap", () => scheduleLeaving(document));
document.addEventListener("DOMContentLoaded", () => { settle(); startFrame(); });
