// Customer sign-off: a finger signature on a canvas, sent as a PNG data URL (R-TKT-06).
(function () {
  "use strict";
  var canvas = document.getElementById("signature-pad");
  if (!canvas) return;
  var field = document.getElementById("f-signature");
  var ctx = canvas.getContext("2d");
  var drawing = false, drawn = false;
  function fit() {
    var w = canvas.clientWidth || 300;
    if (canvas.width !== w) { canvas.width = w; }
    ctx.lineWidth = 2; ctx.lineCap = "round"; ctx.strokeStyle = "#000";
  }
  fit();
  function pos(e) {
    var r = canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }
  canvas.addEventListener("pointerdown", function (e) {
    drawing = true; canvas.setPointerCapture(e.pointerId);
    var p = pos(e); ctx.beginPath(); ctx.moveTo(p[0], p[1]);
  });
  canvas.addEventListener("pointermove", function (e) {
    if (!drawing) return;
    var p = pos(e); ctx.lineTo(p[0], p[1]); ctx.stroke(); drawn = true;
  });
  function end() {
    if (!drawing) return;
    drawing = false;
    if (drawn) field.value = canvas.toDataURL("image/png");
  }
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  document.getElementById("signature-clear").addEventListener("click", function () {
    ctx.clearRect(0, 0, canvas.width, canvas.height); drawn = false; field.value = "";
  });
})();
