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
  });
})();
