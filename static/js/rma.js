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
  // A card advanced on the board (#12): the answer says so in the polite live region (#rma-live, out of band,
  // after the destination column) — focus moves to the moved card's next action in its new column, else its
  // number, else the column, so the keyboard goes on from where the card went (never lost to <body>).
  document.addEventListener("htmx:oobAfterSwap", () => {
    const said = document.querySelector("#rma-live [data-moved]");
    if (!said) return;
    const id = said.dataset.moved;
    const column = document.getElementById("col-" + said.dataset.movedTo);
    said.removeAttribute("data-moved");
    const card = column && column.querySelector("#rma-" + id);
    const next = card && (card.querySelector("#act-" + id + " button:not([disabled])") || card.querySelector("a.rma-num"));
    if (next) { next.focus(); return; }
    const fallback = column || document.getElementById("rma-scan");
    if (!fallback) return;
    if (fallback === column && !column.hasAttribute("tabindex")) column.setAttribute("tabindex", "-1");
    fallback.focus();
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
    if (button) { setTimeout(() => button.click(), 0); return; }
    // a one-click action: the keyboard lands on it, so scan + Enter + Enter advances the card (#12)
    const action = opened.querySelector("[id^='act-'] button:not([disabled])") || opened.querySelector("a.rma-num");
    if (!action) return;
    // (the browser's jump to the #rma-ID fragment on load would leave the focus on <body>: focus once loaded)
    const land = () => { if (document.activeElement === document.body || !document.activeElement) action.focus({ preventScroll: true }); };
    action.focus({ preventScroll: true });
    window.addEventListener("load", () => setTimeout(land, 0), { once: true });
  });
})();
