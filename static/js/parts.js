// Parts pages: keyboard-first movement form and search box. No inline scripts (CSP).
(function () {
  "use strict";

  // "/" focuses the search box (like many web apps); barcode scanners type into it and press Enter.
  document.addEventListener("keydown", (event) => {
    const box = document.getElementById("parts-q");
    if (!box || event.key !== "/") return;
    // in the (empty) search box itself "/" is the shortcut, not text; elsewhere in a field it is text
    if (event.target === box ? box.value !== "" : event.target.closest("input, textarea, select")) return;
    event.preventDefault();
    box.focus();
    box.select();
  });

  // Movement form: show only the fields the chosen movement uses; Alt+1..5 chooses the movement.
  const form = document.getElementById("move-form");
  if (!form) return;
  const radios = Array.from(form.querySelectorAll('input[name="kind"]'));
  function apply() {
    const checked = radios.find((r) => r.checked);
    const kind = checked ? checked.value : "issue";
    form.querySelectorAll("[data-kinds]").forEach((el) => {
      el.hidden = !el.dataset.kinds.split(" ").includes(kind);
    });
  }
  radios.forEach((r) => r.addEventListener("change", apply));
  document.addEventListener("keydown", (event) => {
    if (!event.altKey) return;
    const n = parseInt(event.key, 10);
    if (n >= 1 && n <= radios.length) {
      event.preventDefault();
      radios[n - 1].checked = true;
      apply();
      const first = form.querySelector("#f-serial:not([hidden]), #f-qty");
      if (first) first.focus();
    }
  });
  if (!radios.some((r) => r.checked) && radios.length) radios[0].checked = true;
  apply();
})();
