// Loaners: the counter check-out form. Keyboard-first: scan the loaner, type the customer / RMA /
// device serial and press Enter (the first match is taken), Enter again confirms. No inline scripts (CSP).
(function () {
  "use strict";

  const input = document.getElementById("pick-q");
  const results = document.getElementById("pick-results");
  const confirm = document.getElementById("checkout-confirm");
  let pickOnLoad = false;

  function set(id, value) {
    const el = document.getElementById(id);
    if (el && value !== undefined && value !== null && value !== "") el.value = value;
  }

  function choose(button) {
    const d = button.dataset;
    set("f-customer_id", d.customerId);
    const name = document.getElementById("picked-name");
    if (name) name.textContent = d.customerName || button.textContent.trim();
    const picked = document.getElementById("picked");
    if (picked) picked.classList.remove("text-secondary");
    if (d.caseType) {
      const radio = document.getElementById("f-case_type-" + d.caseType);
      if (radio) radio.checked = true;
      const caseId = document.getElementById("f-case_id");
      if (caseId) caseId.value = d.caseId || "";
      set("f-case_ref", d.caseRef);
    }
    set("f-device_serial", d.deviceSerial);
    // the fit warning (loaner vs the customer's device) follows the picked unit; it never blocks
    if (window.htmx && document.getElementById("loaner-fit")) window.htmx.trigger(document.body, "fit-refresh");
    if (results) results.innerHTML = "";
    if (input) input.classList.remove("is-invalid");
    if (confirm) confirm.focus();
  }

  function first() {
    const list = document.getElementById("pick-list");
    if (!list || !input || list.dataset.q !== input.value) return null;
    return list.querySelector("[data-pick]");
  }

  if (results) {
    results.addEventListener("click", (event) => {
      const button = event.target.closest("[data-pick]");
      if (button) choose(button);
    });
    document.body.addEventListener("htmx:afterSwap", (event) => {
      if (event.detail.target !== results || !pickOnLoad) return;
      const button = first();
      if (button) {
        pickOnLoad = false;
        choose(button);
      }
    });
  }

  if (input) {
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      const button = first();
      if (button) {
        choose(button);
      } else if (input.value.trim() && window.htmx) {
        pickOnLoad = true;
        window.htmx.trigger(input, "search");
      }
    });
  }

  // Typing a new RMA / ticket number by hand unlinks a previously picked RMA.
  const ref = document.getElementById("f-case_ref");
  if (ref) ref.addEventListener("input", () => {
    const caseId = document.getElementById("f-case_id");
    if (caseId) caseId.value = "";
  });

  // Check-in: a failed test shows where the unit goes.
  const form = document.getElementById("checkin-fields");
  if (form) {
    const apply = () => {
      const fail = form.querySelector('input[name="test_result"][value="fail"]');
      form.querySelectorAll("[data-when-fail]").forEach((el) => { el.hidden = !(fail && fail.checked); });
    };
    form.addEventListener("change", apply);
    apply();
  }
})();
