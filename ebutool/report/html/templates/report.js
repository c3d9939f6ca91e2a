"use strict";
(function () {
  const D = JSON.parse(document.getElementById("ebutool-data").textContent);
  const COL = {};
  D.columns.forEach(function (c, i) { COL[c] = i; });
  const TEXT = new Set(D.text);
  const SHOWN = ["episode", "source", "mn", "cn", "kind", "mode", "quality", "rtt_ro_ms",
    "send_latency_ms", "predicted_send_ms", "recv_latency_ms", "predicted_recv_ms", "auth",
    "diagnosis"];
  const FILTERS = [["mn", "text"], ["cn", "text"], ["kind", "select"], ["mode", "select"],
    ["quality", "select"], ["source", "select"]];
  const SVGNS = "http://www.w3.org/2000/svg";
  const state = { sortCol: "episode", sortDir: 1, page: 0, rows: [], open: null };

  function value(row, name) {
    const v = row[COL[name]];
    if (v === null || v === undefined) return null;
    return TEXT.has(COL[name]) ? D.strings[v] : v;
  }
  function shown(v) {
    if (v === null) return "\u2013";
    return String(v);
  }
  function el(tag, text, attrs) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (attrs) Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }

  function buildFilters() {
    const box = document.getElementById("filters");
    FILTERS.forEach(function (f) {
      const name = f[0];
      const label = el("label", name + " ");
      let input;
      if (f[1] === "text") {
        input = el("input", null, { type: "search", id: "f-" + name, placeholder: "contains" });
        input.addEventListener("input", refresh);
      } else {
        input = el("select", null, { id: "f-" + name });
        input.appendChild(el("option", "(all)", { value: "" }));
        const seen = new Set();
        D.rows.forEach(function (r) { seen.add(shown(value(r, name))); });
        Array.from(seen).sort().forEach(function (v) { input.appendChild(el("option", v, { value: v })); });
        input.addEventListener("change", refresh);
      }
      label.appendChild(input);
      box.appendChild(label);
    });
  }

  function matches(row) {
    for (const f of FILTERS) {
      const input = document.getElementById("f-" + f[0]);
      const want = input.value;
      if (!want) continue;
      const have = shown(value(row, f[0]));
      if (f[1] === "text") {
        if (have.toLowerCase().indexOf(want.toLowerCase()) < 0) return false;
      } else if (have !== want) {
        return false;
      }
    }
    return true;
  }

  function compare(a, b) {
    const x = value(a, state.sortCol), y = value(b, state.sortCol);
    if (x === null && y === null) return value(a, "episode") - value(b, "episode");
    if (x === null) return 1;
    if (y === null) return -1;
    const c = (typeof x === "number" && typeof y === "number") ? x - y : String(x).localeCompare(String(y));
    return c !== 0 ? c * state.sortDir : value(a, "episode") - value(b, "episode");
  }

  function refresh() {
    state.page = 0;
    state.rows = D.rows.filter(matches).sort(compare);
    render();
  }

  function buildHead() {
    const tr = document.querySelector("#episode-table thead tr");
    SHOWN.forEach(function (name) {
      const th = el("th", name, { "data-col": name });
      th.addEventListener("click", function () {
        state.sortDir = state.sortCol === name ? -state.sortDir : 1;
        state.sortCol = name;
        refresh();
      });
      tr.appendChild(th);
    });
  }

  function render() {
    document.querySelectorAll("#episode-table th").forEach(function (th) {
      th.className = th.getAttribute("data-col") === state.sortCol ? (state.sortDir > 0 ? "asc" : "desc") : "";
    });
    const size = D.page_size;
    const pages = Math.max(1, Math.ceil(state.rows.length / size));
    state.page = Math.min(state.page, pages - 1);
    const body = document.querySelector("#episode-table tbody");
    body.textContent = "";
    state.rows.slice(state.page * size, (state.page + 1) * size).forEach(function (row) {
      const ep = value(row, "episode");
      const tr = el("tr", null, { "data-episode": String(ep), tabindex: "0",
        title: "draw the ladder diagram of episode " + ep });
      if (state.open === ep) tr.className = "open";
      SHOWN.forEach(function (name) {
        const v = value(row, name);
        tr.appendChild(el("td", shown(v), typeof v === "number" ? { class: "num" } : null));
      });
      tr.addEventListener("click", function () { openLadder(row); });
      tr.addEventListener("keydown", function (ev) { if (ev.key === "Enter") openLadder(row); });
      body.appendChild(tr);
    });
    document.getElementById("count").textContent =
      state.rows.length + " of " + D.rows.length + " episodes; page " + (state.page + 1) + " of " + pages;
    document.getElementById("prev").disabled = state.page === 0;
    document.getElementById("next").disabled = state.page >= pages - 1;
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVGNS, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function decode(ladder) {
    const steps = [];
    for (let i = 2; i + 2 < ladder.length; i += 3) {
      const code = ladder[i + 2];
      const receiver = code % 4, sender = Math.floor(code / 4) % 4;
      const via = Math.floor(code / 16) % 2, msg = Math.floor(code / 32);
      steps.push({ t: ladder[i] / 1000, frame: ladder[1] + ladder[i + 1], msg: D.messages[msg],
        sender: D.lanes[sender], receiver: D.lanes[receiver], via: via === 1 });
    }
    return steps;
  }

  function openLadder(row) {
    const ep = value(row, "episode");
    state.open = ep;
    render();
    const box = document.getElementById("ladder");
    box.textContent = "";
    const cn = value(row, "cn");
    box.appendChild(el("h3", "episode " + ep + ": MN " + value(row, "mn") + ", " +
      (cn ? "CN " + cn : "HA only") + " | " + shown(value(row, "kind")) + ", " + shown(value(row, "mode"))));
    const ladder = D.ladders[String(ep)];
    if (!ladder) {
      box.appendChild(el("p", "No message sequence for this episode (see the diagnostics).", { class: "note" }));
      return;
    }
    const prev = value(row, "prev_coa");
    const moved = prev ? "care-of address " + prev + " -> " + value(row, "coa") : "care-of address " + shown(value(row, "coa"));
    const th = value(row, "t_handover");
    const t0 = ladder[0] === 1 ? "t0 = " + (th === null ? "\u2013" : th.toFixed(6)) + " s (" + shown(value(row, "t0_source")) + ")"
      : "t0 unknown (capture began inside the episode): offsets from the first message";
    box.appendChild(el("p", t0 + "; " + moved + "; times in ms from t0, as captured", { class: "note" }));
    box.appendChild(drawLadder(decode(ladder), ladder[0] === 1, row));
    box.scrollIntoView({ block: "nearest" });
  }

  function drawLadder(steps, handover, row) {
    const used = new Set(["MN", "HA"]);
    steps.forEach(function (s) { used.add(s.sender); used.add(s.receiver); });
    const lanes = D.lanes.filter(function (l) { return used.has(l); });
    const left = 150, gap = 230, top = 58, dy = 30;
    const x = {};
    lanes.forEach(function (l, i) { x[l] = left + i * gap; });
    const rows = steps.slice();
    let marker = -1;
    if (handover) {
      marker = rows.findIndex(function (s) { return s.t >= 0; });
      if (marker < 0) marker = rows.length;
    }
    const n = rows.length + (handover ? 1 : 0);
    const width = left + (lanes.length - 1) * gap + 120, height = top + n * dy + 20;
    const s = svg("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height, class: "ladder" });
    const defs = svg("defs");
    const head = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
    head.appendChild(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#222" }));
    defs.appendChild(head);
    s.appendChild(defs);
    s.appendChild(svg("text", { x: 8, y: 20, class: "lt", "font-weight": "bold" }, "t-t0 (ms)  frame"));
    const addr = { MN: value(row, "mn"), HA: value(row, "ha"), CN: value(row, "cn") };
    lanes.forEach(function (l) {
      s.appendChild(svg("text", { x: x[l], y: 18, "text-anchor": "middle", "font-weight": "bold", class: "lt" }, D.lane_names[l]));
      s.appendChild(svg("text", { x: x[l], y: 32, "text-anchor": "middle", class: "lt", fill: "#555" }, addr[l] || ""));
      s.appendChild(svg("line", { x1: x[l], y1: top - 16, x2: x[l], y2: height - 8, stroke: "#888", "stroke-width": 1.5 }));
    });
    let y = top;
    for (let i = 0; i <= rows.length; i++) {
      if (handover && i === marker) {
        s.appendChild(svg("line", { x1: left - 20, y1: y, x2: width - 20, y2: y, stroke: "#c00", "stroke-dasharray": "6 4" }));
        s.appendChild(svg("text", { x: width - 22, y: y - 4, "text-anchor": "end", fill: "#c00", class: "lt" }, "handover (t0)"));
        y += dy;
      }
      if (i === rows.length) break;
      const st = rows[i];
      s.appendChild(svg("text", { x: 8, y: y + 4, class: "lt" }, st.t.toFixed(3) + "  " + st.frame));
      const path = [st.sender].concat(st.via ? ["HA"] : []).concat([st.receiver]);
      const pts = path.map(function (l) { return x[l] + "," + y; }).join(" ");
      const attrs = { points: pts, fill: "none", stroke: st.msg === "data" ? "#2a7" : "#222", "stroke-width": 1.4, "marker-end": "url(#arrow)" };
      if (st.msg === "data") attrs["stroke-dasharray"] = "2 3";
      s.appendChild(svg("polyline", attrs));
      const mid = (x[path[0]] + x[path[1]]) / 2;
      s.appendChild(svg("text", { x: mid, y: y - 5, "text-anchor": "middle", class: "lt" }, st.msg === "data" ? "first data" : st.msg));
      y += dy;
    }
    return s;
  }

  function init() {
    buildHead();
    buildFilters();
    document.getElementById("prev").addEventListener("click", function () { state.page--; render(); });
    document.getElementById("next").addEventListener("click", function () { state.page++; render(); });
    refresh();
    const m = /^#episode-(\d+)$/.exec(window.location.hash);
    if (m) {
      const row = D.rows.find(function (r) { return value(r, "episode") === Number(m[1]); });
      if (row) openLadder(row);
    }
  }
  init();
})();
