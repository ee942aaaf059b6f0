// Shouhou shell behaviour. No inline scripts (CSP script-src 'self').
(function () {
  "use strict";

  // HTMX answers 4xx/5xx: show the server's readable message instead of doing nothing.
  function showError(html, fallback) {
    const area = document.getElementById("htmx-error");
    if (!area) return;
    const box = document.createElement("div");
    if (html && html.trim().startsWith("<div")) {
      box.innerHTML = html;
    } else {
      box.className = "alert alert-danger";
      box.setAttribute("role", "alert");
      box.textContent = fallback;
    }
    area.appendChild(box);
    setTimeout(() => box.remove(), 8000);
  }

  document.addEventListener("htmx:responseError", (event) => {
    const xhr = event.detail.xhr;
    const title = document.body.dataset.errorTitle || "Error";
    showError(xhr && xhr.responseText, `${title} (${xhr ? xhr.status : "?"})`);
  });
  document.addEventListener("htmx:sendError", () => {
    showError(null, document.body.dataset.networkError || "Network error");
  });

  // Form errors (400/409/422) re-render the form: let htmx swap them in.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const status = event.detail.xhr.status;
    if ((status === 400 || status === 409 || status === 422) && event.detail.target && event.detail.target.dataset.swapErrors !== undefined) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("click", (event) => {
    const close = event.target.closest("[data-dismiss-alert]");
    if (close) close.closest(".alert").remove();
    const toggle = event.target.closest(".nav-toggle");
    if (toggle) {
      const nav = document.getElementById(toggle.getAttribute("aria-controls"));
      const open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
  });

  // Keyboard focus after an HTMX swap (issue #12): the first invalid field, else what the fragment marks
  // with data-focus / autofocus, else the swapped region itself — never lost to <body>. A polite live
  // region reads out what happened (elements carrying data-announce).
  function announce(text) {
    const live = document.getElementById("live");
    if (!live || !text) return;
    live.textContent = "";
    setTimeout(() => { live.textContent = text; }, 50);
  }
  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (!target || !document.body.contains(target)) return;
    const said = target.querySelector("[data-announce]") || (target.dataset && target.dataset.announce ? target : null);
    if (said) announce(said.dataset.announce || said.textContent.trim());
    const focusable = target.querySelector("[aria-invalid=true]") || target.querySelector("[data-focus], [autofocus]");
    if (focusable) { focusable.focus(); return; }
    const active = document.activeElement;
    if (!active || active === document.body || !document.body.contains(active)) {
      if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
      target.focus({ preventScroll: true });
    }
  });
  // On a full page load with a form error, start at the first invalid field.
  document.addEventListener("DOMContentLoaded", () => {
    const invalid = document.querySelector("main [aria-invalid=true], main .is-invalid");
    if (invalid && typeof invalid.focus === "function") invalid.focus();
  });
})();
