// Camera scanning for every scan box (issue #12, "Phones and paper"). No inline scripts (CSP script-src 'self').
//
// A scan box is an <input data-scan>, or one of the scan boxes the pages already have (SCAN_BOXES). Next to
// each, a camera button appears — only where the browser can decode: the built-in BarcodeDetector, or, when a
// camera exists, the vendored ZXing decoder (static/vendor/zxing-library-<ver>.min.js, loaded on demand, never
// from a CDN). A decoded code fills the field and is submitted as if the keeper had pressed Enter, so each page
// keeps its own Enter behaviour (the loaner form's look-up, the board's open-card, the stocktake's +1).
// Keyboard and screen reader: the button is a real <button> with a label; the camera panel is a labelled
// dialog, Escape or its Close button ends it, focus returns to the field; what happened is said in #live.
// The decoder: `npm pack @zxing/library@0.23.0` → package/umd/index.min.js, unchanged (Apache-2.0, licence beside
// it; sha256 3ede94153fb0c5b67a12d7adff6decd827c2b22714fdc6faecf27a8f20937ea6); it loads nothing from the network.
(function () {
  "use strict";

  const SCAN_BOXES = [
    "input[data-scan]",
    "#loaner-scan",                          // loaners: the keeper's scan box
    "#f-serial[placeholder]",                // loaner check-out / check-in, part movement (issue) serial, devices
    "#rma-scan",                             // the bench board
    "form[action='/bench/scan'] input[name='q']",
    "#scan-serial",                          // bench: receive a unit
    "#scan-form #f-code",                    // stocktake by scanning
  ].join(", ");
  const ZXING = "/static/vendor/zxing-library-0.23.0.min.js";
  const script = document.currentScript;
  const text = (name, fallback) => (script && script.dataset[name]) || fallback;

  let support = null;  // Promise<"native" | "zxing" | null>

  function announce(message) {
    const live = document.getElementById("live");
    if (!live) return;
    live.textContent = "";
    setTimeout(() => { live.textContent = message; }, 50);
  }

  function loadZxing() {
    if (window.ZXing) return Promise.resolve(true);
    return new Promise((resolve) => {
      const tag = document.createElement("script");
      tag.src = ZXING;
      tag.onload = () => resolve(Boolean(window.ZXing));
      tag.onerror = () => resolve(false);
      document.head.appendChild(tag);
    });
  }

  async function hasCamera() {
    const media = navigator.mediaDevices;
    if (!media || !media.getUserMedia) return false;
    if (!media.enumerateDevices) return true;
    try {
      return (await media.enumerateDevices()).some((d) => d.kind === "videoinput");
    } catch (_error) {
      return false;
    }
  }

  function detectSupport() {
    if (!support) {
      support = (async () => {
        if (!(await hasCamera())) return null;
        if ("BarcodeDetector" in window) return "native";
        return (await loadZxing()) ? "zxing" : null;
      })();
    }
    return support;
  }

  // ---- the camera panel
  let panel = null;
  let session = null;

  function buildPanel() {
    panel = document.createElement("div");
    panel.className = "scan-camera-panel";
    panel.id = "scan-camera-panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-modal", "true");
    panel.setAttribute("aria-labelledby", "scan-camera-title");
    panel.hidden = true;
    panel.innerHTML =
      '<div class="scan-camera-box">' +
      '<h2 id="scan-camera-title" class="scan-camera-title"></h2>' +
      '<video class="scan-camera-video" muted playsinline autoplay aria-hidden="true"></video>' +
      '<p class="scan-camera-status" role="status" aria-live="polite"></p>' +
      '<button type="button" class="btn btn-lg w-100 scan-camera-close"></button>' +
      "</div>";
    panel.querySelector(".scan-camera-title").textContent = text("titleText", "Scan with the camera");
    panel.querySelector(".scan-camera-close").textContent = text("closeText", "Close");
    panel.querySelector(".scan-camera-close").addEventListener("click", () => stop(true));
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.preventDefault(); stop(true); }
      if (event.key === "Tab") { event.preventDefault(); panel.querySelector(".scan-camera-close").focus(); }
    });
    document.body.appendChild(panel);
  }

  function status(message) {
    panel.querySelector(".scan-camera-status").textContent = message;
  }

  function stop(cancelled) {
    if (!session) return;
    const { input, stream, timer, reader } = session;
    session = null;
    if (timer) clearTimeout(timer);
    if (reader && reader.reset) { try { reader.reset(); } catch (_e) { /* already stopped */ } }
    if (stream) stream.getTracks().forEach((track) => track.stop());
    const video = panel.querySelector("video");
    video.srcObject = null;
    panel.hidden = true;
    document.body.classList.remove("scan-camera-open");
    input.focus();
    if (cancelled) announce(text("cancelledText", "Camera closed."));
  }

  // Submit as Enter would: the page's own keydown handlers first; if none took it, the form's implicit submission.
  function submitLikeEnter(input) {
    const event = new KeyboardEvent("keydown", { key: "Enter", code: "Enter", keyCode: 13, which: 13, bubbles: true, cancelable: true });
    const proceed = input.dispatchEvent(event);
    if (proceed && input.form) {
      if (input.form.requestSubmit) input.form.requestSubmit(); else input.form.submit();
    }
  }

  function found(code) {
    if (!session) return;
    const input = session.input;
    stop(false);
    input.value = code;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
    announce(text("foundText", "Scanned: %s").replace("%s", code));
    submitLikeEnter(input);
  }

  async function start(input) {
    if (session) return;
    if (!panel) buildPanel();
    const kind = await detectSupport();
    if (!kind) return;
    panel.hidden = false;
    document.body.classList.add("scan-camera-open");
    status(text("aimText", "Point the camera at the barcode or QR code."));
    panel.querySelector(".scan-camera-close").focus();
    const video = panel.querySelector("video");
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
    } catch (_error) {
      status(text("deniedText", "The camera could not be opened. Allow camera access, or type the code."));
      announce(text("deniedText", "The camera could not be opened. Allow camera access, or type the code."));
      session = { input, stream: null, timer: null, reader: null };
      return;
    }
    session = { input, stream, timer: null, reader: null };
    video.srcObject = stream;
    try { await video.play(); } catch (_e) { /* autoplay is muted: play() may still reject harmlessly */ }
    if (kind === "native") {
      let detector;
      try {
        detector = new window.BarcodeDetector();
      } catch (_e) {
        detector = null;
      }
      const tick = async () => {
        if (!session || session.stream !== stream) return;
        try {
          const codes = detector ? await detector.detect(video) : [];
          const hit = codes.find((c) => c && c.rawValue);
          if (hit) { found(String(hit.rawValue).trim()); return; }
        } catch (_e) { /* a frame that could not be read: try the next */ }
        if (session && session.stream === stream) session.timer = setTimeout(tick, 200);
      };
      tick();
    } else {
      const reader = new window.ZXing.BrowserMultiFormatReader();
      session.reader = reader;
      reader.decodeFromStream(stream, video, (result) => {
        if (result && session && session.stream === stream) found(String(result.getText()).trim());
      }).catch(() => { /* stopped */ });
    }
  }

  // ---- the buttons
  function enhance(root) {
    const boxes = Array.from((root || document).querySelectorAll(SCAN_BOXES))
      .filter((input) => input.tagName === "INPUT" && !input.dataset.scanEnhanced);
    if (!boxes.length) return;
    detectSupport().then((kind) => {
      if (!kind) return;
      boxes.forEach((input) => {
        if (input.dataset.scanEnhanced) return;
        input.dataset.scanEnhanced = "1";
        const button = document.createElement("button");
        button.type = "button";
        button.className = "btn scan-camera-button";
        const label = text("buttonText", "Scan with the camera");
        button.setAttribute("aria-label", label);
        button.title = label;
        button.innerHTML = '<svg aria-hidden="true" focusable="false" width="20" height="20" viewBox="0 0 24 24" fill="none" ' +
          'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M4 7V5a1 1 0 0 1 1-1h2"/>' +
          '<path d="M17 4h2a1 1 0 0 1 1 1v2"/><path d="M20 17v2a1 1 0 0 1-1 1h-2"/><path d="M7 20H5a1 1 0 0 1-1-1v-2"/>' +
          '<path d="M7 12h10"/></svg><span class="scan-camera-text"></span>';
        button.querySelector(".scan-camera-text").textContent = text("shortText", "Camera");
        button.addEventListener("click", () => start(input));
        const hadFocus = document.activeElement === input;
        const wrap = document.createElement("span");
        wrap.className = "scan-camera-wrap";
        input.parentNode.insertBefore(wrap, input);
        wrap.appendChild(input);
        wrap.appendChild(button);
        if (hadFocus) input.focus();
      });
    });
  }

  function ready() {
    enhance(document);
    document.addEventListener("htmx:afterSettle", (event) => enhance(event.detail && event.detail.elt));
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready); else ready();
})();
