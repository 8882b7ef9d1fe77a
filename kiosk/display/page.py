"""The calling display's page: large type for a TV, Vietnamese and English side by side.

Served as three files (``/``, ``/display.css``, ``/display.js``) so the page runs under a
strict Content-Security-Policy (``script-src 'self'``, nothing inline). The script opens
``/events`` (server-sent events; the browser reconnects by itself), renders each board with
``textContent`` only (nothing from the server is ever parsed as HTML) and, when the board
says voice is on and the TV has allowed sound, plays ``/api/announce/<n>.wav`` once for each
new announcement, one after the other.
"""

from __future__ import annotations

HTML = """<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mời bệnh nhân / Now serving</title>
<link rel="stylesheet" href="/display.css">
<script src="/display.js" defer></script>
</head>
<body>
<header>
  <h1><span lang="vi">Mời bệnh nhân</span> <span class="en" lang="en">Now serving</span></h1>
  <div id="clock"></div>
</header>
<main id="departments" aria-live="polite"></main>
<footer>
  <span id="status" data-state="connecting">Đang kết nối… / Connecting…</span>
  <button id="sound" type="button" hidden>Bật âm thanh / Sound on</button>
</footer>
</body>
</html>
"""

CSS = """
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; background: #0b2540; color: #fff;
  font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; }
header { display: flex; justify-content: space-between; align-items: baseline;
  padding: 1vh 3vw; background: #06182b; }
h1 { font-size: 5vh; margin: 0; }
.en { color: #9cc3e6; font-weight: normal; }
#clock { font-size: 5vh; font-variant-numeric: tabular-nums; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(32vw, 1fr));
  gap: 2vh 2vw; padding: 2vh 3vw; }
.dept { background: #123a63; border-radius: 1.5vh; padding: 2vh 2vw; }
.dept h2 { font-size: 4.5vh; margin: 0; }
.dept .room { font-size: 4vh; color: #ffd54f; margin: .5vh 0 1vh; }
.serving { display: flex; flex-wrap: wrap; gap: 0 3vw; align-items: baseline; }
.number { font-size: 16vh; font-weight: bold; line-height: 1.05;
  font-variant-numeric: tabular-nums; }
.number.fresh { animation: flash 1s ease-in-out 3; }
.desk { font-size: 3vh; color: #9cc3e6; display: block; }
.none { font-size: 5vh; color: #9cc3e6; }
.next { font-size: 4vh; margin-top: 1.5vh; }
.next .label { color: #9cc3e6; }
.next .n { margin-right: 2vw; font-variant-numeric: tabular-nums; }
footer { position: fixed; bottom: 0; left: 0; right: 0; display: flex;
  justify-content: space-between; padding: 1vh 3vw; font-size: 2.2vh; color: #9cc3e6; }
#status[data-state="offline"] { color: #ff8a80; }
button { font-size: 2.5vh; }
@keyframes flash { 50% { color: #ffd54f; } }
"""

JS = r"""
"use strict";
(function () {
  var lastSeq = null;
  var board = null;
  var soundOn = false;
  var playing = false;
  var queue = [];

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function render(doc, fresh) {
    var main = document.getElementById("departments");
    main.replaceChildren();
    doc.departments.forEach(function (d) {
      var card = el("section", "dept");
      card.dataset.department = d.code;
      card.dataset.room = d.room;
      var title = el("h2", "", d.name_vi);
      if (d.name_en && d.name_en !== d.name_vi) {
        title.append(" ", el("span", "en", "/ " + d.name_en));
      }
      card.append(title);
      if (d.room) {
        card.append(el("div", "room", "Phòng " + d.room + " / Room " + d.room));
      }
      var serving = el("div", "serving");
      if (d.serving.length === 0) {
        serving.append(el("span", "none", "— Chưa gọi / Not called yet"));
      }
      d.serving.forEach(function (c) {
        var box = el("div", "call");
        var num = el("span", "number", String(c.number));
        num.dataset.number = String(c.number);
        if (fresh.has(c.seq)) { num.classList.add("fresh"); }
        box.append(num, el("span", "desk", c.desk));
        serving.append(box);
      });
      card.append(serving);
      var next = el("div", "next");
      next.append(el("span", "label", "Tiếp theo / Next: "));
      var numbers = el("span", "numbers");
      if (d.next.length === 0) { numbers.textContent = "—"; }
      d.next.forEach(function (n) { numbers.append(el("span", "n", String(n))); });
      next.append(numbers);
      if (d.waiting > d.next.length) {
        next.append(el("span", "label", "  (+" + (d.waiting - d.next.length) + ")"));
      }
      card.append(next);
      main.append(card);
    });
  }

  function playNext() {
    if (playing || queue.length === 0) { return; }
    var c = queue.shift();
    var audio = new Audio("/api/announce/" + encodeURIComponent(c.number) +
      ".wav?department=" + encodeURIComponent(c.department));
    playing = true;
    var done = function () { playing = false; playNext(); };
    audio.onended = done;
    audio.onerror = done;
    audio.play().catch(done);
  }

  function onBoard(doc) {
    var fresh = new Set();
    var newest = lastSeq;
    doc.announcements.slice().reverse().forEach(function (c) {
      if (lastSeq !== null && c.seq > lastSeq) {
        fresh.add(c.seq);
        if (doc.voice && soundOn) { queue.push(c); }
      }
      if (newest === null || c.seq > newest) { newest = c.seq; }
    });
    lastSeq = newest === null ? 0 : newest;
    board = doc;
    document.body.dataset.version = doc.version;
    document.getElementById("sound").hidden = !doc.voice || soundOn;
    render(doc, fresh);
    playNext();
  }

  function status(state, text) {
    var s = document.getElementById("status");
    s.dataset.state = state;
    s.textContent = text;
  }

  function connect() {
    var source = new EventSource("/events");
    source.addEventListener("board", function (ev) {
      status("live", "Trực tiếp / Live");
      onBoard(JSON.parse(ev.data));
    });
    source.onerror = function () {
      status("offline", "Mất kết nối, đang thử lại… / Connection lost, retrying…");
    };
  }

  function tick() {
    var now = new Date();
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    document.getElementById("clock").textContent =
      pad(now.getHours()) + ":" + pad(now.getMinutes());
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.getElementById("sound").addEventListener("click", function () {
      soundOn = true;
      document.getElementById("sound").hidden = true;
    });
    if (new URLSearchParams(location.search).get("sound") === "on") { soundOn = true; }
    tick();
    setInterval(tick, 10000);
    connect();
  });
  window.displayBoard = function () { return board; };
})();
"""
