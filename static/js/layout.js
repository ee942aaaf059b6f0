// Phone layout helpers (issue #12, "Phones and paper"). No inline scripts (CSP script-src 'self').
// 1. The confirmation after an action stays on screen (see keepFlashInView).
// 2. The bench board's column jump bar:
// The bench board's 13 columns: a jump bar of the column names (with their counts) above the board; a tap
// scrolls that column into view and moves focus to its heading, so a phone (390 px shows one column) and a
// keyboard reach any column in one action instead of swiping or tabbing across the others.
(function () {
  "use strict";
  const script = document.currentScript;
  const label = (script && script.dataset.jumpLabel) || "Jump to column";

  function boardJump(board) {
    if (!board || board.dataset.jumpBar) return;
    const columns = Array.from(board.querySelectorAll(":scope > section"));
    if (columns.length < 2) return;
    board.dataset.jumpBar = "1";
    const nav = document.createElement("nav");
    nav.className = "board-jump";
    nav.setAttribute("aria-label", label);
    columns.forEach((column) => {
      const heading = column.querySelector("[id^='h-']") || column.firstElementChild;
      const count = column.querySelector("[id^='count-']");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-sm board-jump-btn";
      button.textContent = heading ? heading.textContent.trim() : "";
      if (count) {
        const badge = document.createElement("span");
        badge.className = "board-jump-count";
        badge.textContent = count.textContent.trim();
        button.appendChild(document.createTextNode(" "));
        button.appendChild(badge);
      }
      button.addEventListener("click", () => {
        column.scrollIntoView({ behavior: "smooth", block: "nearest", inline: "start" });
        const head = column.querySelector(".rma-col-head") || column;
        if (!head.hasAttribute("tabindex")) head.setAttribute("tabindex", "-1");
        head.focus({ preventScroll: true });
        nav.querySelectorAll("[aria-current]").forEach((b) => b.removeAttribute("aria-current"));
        button.setAttribute("aria-current", "true");
      });
      nav.appendChild(button);
    });
    board.parentNode.insertBefore(nav, board);
  }

  // The confirmation after an action (the flash) must be seen: when the next page moves the focus to a field
  // further down (autofocus), a phone scrolls the flash out of view. Then it floats at the top of the screen
  // until closed, or for a few seconds; it stays in #flash-area (aria-live) for screen readers either way.
  function keepFlashInView() {
    const area = document.getElementById("flash-area");
    if (!area || !area.querySelector(".alert")) return;
    const started = Date.now();
    let floated = false;
    const check = () => {
      if (floated) return;
      const box = area.getBoundingClientRect();
      if (box.bottom > 0 && box.top < window.innerHeight) return;
      floated = true;
      area.classList.add("flash-floating");
      setTimeout(() => area.classList.remove("flash-floating"), 8000);
    };
    // autofocus scrolls during the first renderings (later on a slow phone): look when the page has loaded,
    // and at every scroll of the first few seconds
    const onScroll = () => {
      if (Date.now() - started > 4000) { window.removeEventListener("scroll", onScroll); return; }
      check();
    };
    window.addEventListener("scroll", onScroll, { passive: true });
    if (document.readyState === "complete") setTimeout(check, 150);
    else window.addEventListener("load", () => setTimeout(check, 150), { once: true });
  }

  function ready() {
    document.querySelectorAll(".rma-board").forEach(boardJump);
    keepFlashInView();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready); else ready();
})();
