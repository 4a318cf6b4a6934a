// admeter viewability tag (first party, no dependencies, ES2017).
// <script async src="https://HOST/v.js" data-k="CAMPAIGN" data-p="PLACEMENT"
//   data-target="AD-ELEMENT-ID" data-video="0"></script>
// Optional: data-vh (viewable area %, 1-100), data-vi (viewable seconds, 1-120).
(function () {
  "use strict";
  var s = document.currentScript;
  if (!s || !s.dataset.k || !s.dataset.p) return;
  var d = s.dataset, base = new URL(s.src, location.href).origin;
  var video = d.video === "1";
  var area = clamp(d.vh, 1, 100), secs = clamp(d.vi, 1, 120);
  var need = (secs || (video ? 2 : 1)) * 1000, ratio = (area || 50) / 100;
  var vf = id(), sent = 0; // sent: 0 none, 4 not viewable, 1 viewable (final)
  var since = -1, timer = 0, visible = false, obs = null, done = false, held = [];

  function clamp(v, lo, hi) {
    var n = parseInt(v, 10);
    return n >= lo && n <= hi ? n : 0;
  }
  function id() {
    var b = new Uint8Array(16), h = "";
    crypto.getRandomValues(b);
    for (var i = 0; i < b.length; i++) h += (b[i] + 256).toString(16).slice(1);
    return h;
  }
  function url(vx) {
    var q = "k=" + encodeURIComponent(d.k) + "&p=" + encodeURIComponent(d.p) +
      "&vf=" + vf + "&vx=" + vx + "&mt=" + Date.now();
    if (area) q += "&vh=" + area;
    if (secs) q += "&vi=" + secs;
    return base + "/x?" + q;
  }
  function ping(vx, leaving) {
    var u = url(vx);
    if (leaving && navigator.sendBeacon && navigator.sendBeacon(u)) return;
    var img = new Image();
    held.push(img); // keep the request alive until it is answered
    img.onload = img.onerror = function () { held.splice(held.indexOf(img), 1); };
    img.src = u;
  }
  function result(vx, leaving) {
    if (done || sent === vx) return;
    sent = vx;
    ping(vx, leaving);
    if (vx !== 4) stop();
  }
  function stop() {
    done = true;
    clearTimeout(timer);
    if (obs) obs.disconnect();
    document.removeEventListener("visibilitychange", onVisibility);
    removeEventListener("pagehide", onHide);
  }
  // check starts or stops the continuous-view clock.
  function check() {
    var on = visible && document.visibilityState === "visible";
    if (on && since < 0) {
      since = performance.now();
      timer = setTimeout(tick, need);
    } else if (!on && since >= 0) {
      since = -1;
      clearTimeout(timer);
    }
  }
  // tick fires when the clock should have run for need ms: viewable only
  // if it has (a timer may fire a little early), else wait for the rest.
  function tick() {
    if (since < 0) return;
    var left = need - (performance.now() - since);
    if (left <= 0) result(1);
    else timer = setTimeout(tick, Math.ceil(left));
  }
  function onVisibility() {
    if (document.visibilityState === "hidden") result(4, true);
    check();
  }
  function onHide() {
    result(4, true);
  }
  function start() {
    var el = d.target ? document.getElementById(d.target) : s.previousElementSibling;
    if (!el || !("IntersectionObserver" in window)) {
      result(2);
      return;
    }
    obs = new IntersectionObserver(function (entries) {
      var e = entries[entries.length - 1];
      visible = e.isIntersecting && e.intersectionRatio >= ratio - 0.005;
      check();
    }, {threshold: [0, ratio, 1]});
    obs.observe(el);
    document.addEventListener("visibilitychange", onVisibility);
    addEventListener("pagehide", onHide);
    setTimeout(function () { result(4); stop(); }, 120000);
  }

  ping(0);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
