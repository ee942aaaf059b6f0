// Bench board: scan box, technician filter, inline card forms. No inline scripts (CSP).
(function () {
  "use strict";

  // "/" focuses the scan box; a barcode scanner types the serial and presses Enter.
  document.addEventListener("keydown", (event) => {
    const box = document.getElementById("rma-scan");
    if (!box || event.key !== "/" || event.target.closest("input, textarea, select")) return;
    event.preventDefault();
    box.focus();
    box.select();
  });

  // The technician filter applies on change.
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });

  // A card's inline form: focus its first field; Escape cancels.
  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (!target) return;
    const first = target.querySelector("[autofocus], .rma-inline-form input:not([type=hidden]), .rma-inline-form textarea");
    if (first) first.focus();
  });
  // A column's "more" slice: focus moves to the first new card (its number link).
  document.addEventListener("htmx:afterSwap", () => {
    const marker = document.querySelector("[data-slice-start]");
    if (!marker) return;
    const first = marker.nextElementSibling;
    marker.remove();
    const link = first && first.querySelector && first.querySelector("a.rma-num");
    if (link) link.focus();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const form = event.target.closest && event.target.closest(".rma-inline-form");
    if (!form) return;
    const cancel = form.querySelector("button[type=button]");
    if (cancel) cancel.click();
  });

  // Opened by a scan (/bench?open=ID): bring the card into view and ask its inputs at once.
  // (htmx initialises on DOMContentLoaded too, and its listener was registered first.)
  document.addEventListener("DOMContentLoaded", () => {
    const opened = document.querySelector(".rma-card.is-open");
    if (!opened) return;
    opened.scrollIntoView({ block: "center", inline: "center" });
    const button = opened.querySelector("button[hx-get]");
    if (button) setTimeout(() => button.click(), 0);
  });
})();
