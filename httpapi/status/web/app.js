// maskstream status page: polls status.json and updates the page in
// place. The DOM is built with createElement and textContent only (no
// HTML parsing), so no name from the server can become markup; there is
// no inline script or style, so the page runs under default-src 'self'.
// Rates are the server's (each route measures its own); the page only
// keeps a short history of them for the trend line.
(function () {
  "use strict";

  var body = document.body;
  var refreshMs = Math.max(500, parseInt(body.getAttribute("data-refresh-ms"), 10) || 2000);
  var statusUrl = body.getAttribute("data-status-url") || "status.json";
  var historyLen = Math.max(2, Math.round(120000 / refreshMs));
  var SVG = "http://www.w3.org/2000/svg";

  var numFmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  var rateFmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1, minimumFractionDigits: 1 });
  var timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  var dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

  var rows = new Map();     // route name -> row parts
  var rsRows = new Map();   // ruleset name -> row parts
  var history = new Map();  // route name -> out rates, oldest first
  var timer = 0;
  var inFlight = false;
  var connState = "";
  var lastOk = null;

  function $(id) { return document.getElementById(id); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function setText(e, text) {
    text = String(text);
    if (e.textContent !== text) { e.textContent = text; }
  }

  function setNum(e, value, fmt) {
    var v = Number(value) || 0;
    e.setAttribute("data-value", String(v));
    setText(e, fmt.format(v));
  }

  function clear(e) {
    while (e.firstChild) { e.removeChild(e.firstChild); }
  }

  function duration(secs) {
    secs = Math.max(0, Math.floor(secs));
    var d = Math.floor(secs / 86400), h = Math.floor(secs % 86400 / 3600),
        m = Math.floor(secs % 3600 / 60), s = secs % 60;
    if (d > 0) { return d + "d " + h + "h"; }
    if (h > 0) { return h + "h " + m + "m"; }
    if (m > 0) { return m + "m " + s + "s"; }
    return s + "s";
  }

  function ago(iso, now) {
    if (!iso) { return "never"; }
    var t = Date.parse(iso);
    if (isNaN(t)) { return "unknown"; }
    if (now - t < 2000) { return "just now"; }
    return duration((now - t) / 1000) + " ago";
  }

  function timeEl(iso, now) {
    var t = el("time", null, ago(iso, now));
    if (iso) {
      t.setAttribute("datetime", iso);
      var d = new Date(iso);
      if (!isNaN(d.getTime())) { t.title = dateTimeFmt.format(d); }
    }
    return t;
  }

  var stateClass = {
    running: "badge-ok",
    starting: "badge-warn", draining: "badge-warn", reconnecting: "badge-warn",
    failed: "badge-bad",
    stopped: "badge-idle"
  };

  function badge(text, cls) {
    return el("span", "badge " + cls, text);
  }

  // ------------------------------------------------------------ routes

  function newRouteRow(name) {
    var r = { tr: el("tr") };
    r.tr.setAttribute("data-route", name);
    var th = el("th", null, name);
    th.setAttribute("scope", "row");
    r.tr.appendChild(th);

    r.state = el("td");
    r.badge = el("span", "badge");
    r.err = el("span", "err");
    r.state.appendChild(r.badge);
    r.state.appendChild(r.err);

    r.flow = el("td", "flow");
    r.src = el("span", "src");
    r.sink = el("span", "sink");
    r.dlq = el("span", "sub");
    r.flow.appendChild(r.src);
    r.flow.appendChild(el("span", "arrow", " \u2192 "));
    r.flow.appendChild(r.sink);
    r.flow.appendChild(r.dlq);

    r.ruleset = el("td", "rs");
    r.rsName = el("span");
    r.rsSerial = el("span", "sub");
    r.ruleset.appendChild(r.rsName);
    r.ruleset.appendChild(r.rsSerial);

    r.inRate = el("td", "num"); r.inRate.setAttribute("data-field", "in_rate");
    r.outRate = el("td", "num"); r.outRate.setAttribute("data-field", "out_rate");
    r.recIn = el("td", "num"); r.recIn.setAttribute("data-field", "records_in");
    r.recOut = el("td", "num"); r.recOut.setAttribute("data-field", "records_out");

    r.dead = el("td", "num");
    r.deadNum = el("span"); r.deadNum.setAttribute("data-field", "dead_letters");
    r.reasons = el("ul", "reasons");
    r.reasons.setAttribute("aria-label", "Dead letters by reason");
    r.dead.appendChild(r.deadNum);
    r.dead.appendChild(r.reasons);

    r.lag = el("td", "num");
    r.lagNum = el("span"); r.lagNum.setAttribute("data-field", "lag");
    r.lagDetails = el("details");
    var sum = el("summary", null, "partitions");
    r.lagDetails.appendChild(sum);
    var pt = el("table");
    var cap = el("caption", "visually-hidden", "Lag of route " + name + " per topic and partition");
    pt.appendChild(cap);
    var ph = el("thead"), phr = el("tr");
    ["Topic", "Partition", "Lag"].forEach(function (h, i) {
      var c = el("th", i > 0 ? "num" : null, h);
      c.setAttribute("scope", "col");
      phr.appendChild(c);
    });
    ph.appendChild(phr);
    pt.appendChild(ph);
    r.partsBody = el("tbody");
    pt.appendChild(r.partsBody);
    r.lagDetails.appendChild(pt);
    r.lagTime = el("span", "sub");
    r.lag.appendChild(r.lagNum);
    r.lag.appendChild(r.lagTime);
    r.lag.appendChild(r.lagDetails);

    r.trend = el("td");
    r.svg = document.createElementNS(SVG, "svg");
    r.svg.setAttribute("class", "spark");
    r.svg.setAttribute("viewBox", "0 0 120 28");
    r.svg.setAttribute("preserveAspectRatio", "none");
    r.svg.setAttribute("role", "img");
    r.base = document.createElementNS(SVG, "path");
    r.base.setAttribute("class", "base");
    r.base.setAttribute("d", "M0 27.5 H120");
    r.area = document.createElementNS(SVG, "path");
    r.area.setAttribute("class", "area");
    r.line = document.createElementNS(SVG, "path");
    r.svg.appendChild(r.base);
    r.svg.appendChild(r.area);
    r.svg.appendChild(r.line);
    r.trend.appendChild(r.svg);

    [r.state, r.flow, r.ruleset, r.inRate, r.outRate, r.recIn, r.recOut, r.dead, r.lag, r.trend]
      .forEach(function (c) { r.tr.appendChild(c); });
    return r;
  }

  function updateSpark(r, name, rate) {
    var h = history.get(name);
    if (!h) { h = []; history.set(name, h); }
    h.push(rate);
    while (h.length > historyLen) { h.shift(); }
    var peak = Math.max.apply(null, h.concat([1e-9]));
    // The newest sample is at the right edge; a steady rate draws at 80%
    // of the height, so it reads as a line, not as the frame.
    var step = 120 / (historyLen - 1);
    var x0 = 120 - step * (h.length - 1);
    var d = "";
    for (var i = 0; i < h.length; i++) {
      var x = (x0 + step * i).toFixed(1);
      var y = (27.5 - 22 * h[i] / peak).toFixed(1);
      d += (i === 0 ? "M" : " L") + x + " " + y;
    }
    r.line.setAttribute("d", h.length > 1 ? d : "");
    r.area.setAttribute("d", h.length > 1 ? d + " L120 27.5 L" + x0.toFixed(1) + " 27.5 Z" : "");
    r.svg.setAttribute("aria-label", "Out rate over the last 2 minutes, peak " + rateFmt.format(peak < 1e-6 ? 0 : peak) + " records per second");
  }

  function updateRoute(r, rt, now) {
    var state = rt.state || "unknown";
    setText(r.badge, state);
    r.badge.className = "badge " + (stateClass[state] || "badge-warn");
    setText(r.err, rt.error || "");
    r.err.hidden = !rt.error;

    setText(r.src, rt.source || "?");
    setText(r.sink, rt.sink || "?");
    setText(r.dlq, rt.dead_letter ? "dead letters \u2192 " + rt.dead_letter : "");

    setText(r.rsName, rt.ruleset || "");
    setText(r.rsSerial, rt.ruleset_serial ? "serial " + rt.ruleset_serial : "not loaded");

    setNum(r.inRate, rt.in_rate, rateFmt);
    setNum(r.outRate, rt.out_rate, rateFmt);
    setNum(r.recIn, rt.records_in, numFmt);
    setNum(r.recOut, rt.records_out, numFmt);
    setNum(r.deadNum, rt.dead_letters, numFmt);
    r.dead.classList.toggle("has-dead", (rt.dead_letters || 0) > 0);

    clear(r.reasons);
    var reasons = rt.dead_letters_by_reason || {};
    Object.keys(reasons).sort().forEach(function (k) {
      r.reasons.appendChild(el("li", null, k + ": " + numFmt.format(reasons[k])));
    });
    r.reasons.hidden = r.reasons.childNodes.length === 0;

    setNum(r.lagNum, rt.lag, numFmt);
    setText(r.lagTime, rt.lag_time ? "measured " + ago(rt.lag_time, now) : "not reported");
    var parts = rt.partitions || [];
    clear(r.partsBody);
    parts.forEach(function (p) {
      var tr = el("tr");
      tr.appendChild(el("td", null, p.topic));
      tr.appendChild(el("td", "num", p.partition));
      tr.appendChild(el("td", "num", numFmt.format(p.lag)));
      r.partsBody.appendChild(tr);
    });
    r.lagDetails.hidden = parts.length === 0;
    setText(r.lagDetails.firstChild, parts.length + (parts.length === 1 ? " partition" : " partitions"));

    updateSpark(r, rt.name, Number(rt.out_rate) || 0);
  }

  function renderRoutes(routes, now) {
    var tbody = $("routes-body");
    var seen = new Set();
    var totIn = 0, totOut = 0, totDead = 0, totLag = 0;
    routes.forEach(function (rt, i) {
      seen.add(rt.name);
      var r = rows.get(rt.name);
      if (!r) { r = newRouteRow(rt.name); rows.set(rt.name, r); }
      updateRoute(r, rt, now);
      if (tbody.children[i] !== r.tr) { tbody.insertBefore(r.tr, tbody.children[i] || null); }
      totIn += Number(rt.in_rate) || 0;
      totOut += Number(rt.out_rate) || 0;
      totDead += Number(rt.dead_letters) || 0;
      totLag += Number(rt.lag) || 0;
    });
    rows.forEach(function (r, name) {
      if (!seen.has(name)) { r.tr.remove(); rows.delete(name); history.delete(name); }
    });
    $("routes-empty").hidden = routes.length > 0;
    $("routes-table").parentNode.hidden = routes.length === 0;
    setNum($("total-in-rate"), totIn, rateFmt);
    setNum($("total-out-rate"), totOut, rateFmt);
    setNum($("total-dead"), totDead, numFmt);
    setNum($("total-lag"), totLag, numFmt);
  }

  // ---------------------------------------------------------- rulesets

  function newRulesetRow(name) {
    var r = { tr: el("tr") };
    r.tr.setAttribute("data-ruleset", name);
    var th = el("th", null, name);
    th.setAttribute("scope", "row");
    r.tr.appendChild(th);
    r.serial = el("td", "num");
    r.source = el("td");
    r.rules = el("td", "num");
    r.reload = el("td");
    r.result = el("td");
    r.problems = el("td");
    [r.serial, r.source, r.rules, r.reload, r.result, r.problems].forEach(function (c) { r.tr.appendChild(c); });
    return r;
  }

  function updateRuleset(r, rs, now) {
    setText(r.serial, rs.serial);
    setText(r.source, (rs.source || "?") + (rs.enabled === false ? " (disabled)" : ""));
    setText(r.rules, rs.rules);
    clear(r.reload);
    r.reload.appendChild(timeEl(rs.last_reload, now));
    clear(r.result);
    var failed = rs.last_result === "failed";
    r.result.appendChild(badge(failed ? "failed, serial " + rs.serial + " still serving" : "ok", failed ? "badge-bad" : "badge-ok"));
    clear(r.problems);
    var probs = rs.problems || [];
    if (probs.length === 0) {
      r.problems.appendChild(el("span", "sub", "none"));
      return;
    }
    var ul = el("ul", "problems");
    probs.forEach(function (p) {
      var li = el("li");
      if (p.line) { li.appendChild(el("span", "pos", "line " + p.line + ", col " + (p.col || 1) + ": ")); }
      li.appendChild(document.createTextNode(p.message));
      ul.appendChild(li);
    });
    r.problems.appendChild(ul);
  }

  function renderRulesets(list, now) {
    var tbody = $("rulesets-body");
    var seen = new Set();
    list.forEach(function (rs, i) {
      seen.add(rs.name);
      var r = rsRows.get(rs.name);
      if (!r) { r = newRulesetRow(rs.name); rsRows.set(rs.name, r); }
      updateRuleset(r, rs, now);
      if (tbody.children[i] !== r.tr) { tbody.insertBefore(r.tr, tbody.children[i] || null); }
    });
    rsRows.forEach(function (r, name) {
      if (!seen.has(name)) { r.tr.remove(); rsRows.delete(name); }
    });
    $("rulesets-empty").hidden = list.length > 0;
    $("rulesets-table").parentNode.hidden = list.length === 0;
  }

  // -------------------------------------------------------------- poll

  function setConn(state, text) {
    var c = $("conn");
    // The live region changes only when the state does, so a screen
    // reader hears "connection lost" once, not every two seconds.
    if (state !== connState) {
      connState = state;
      c.className = "conn conn-" + state;
      setText(c, text);
    }
    $("main").classList.toggle("stale", state === "lost");
  }

  function render(s) {
    var now = s.generated_at ? Date.parse(s.generated_at) : Date.now();
    if (isNaN(now)) { now = Date.now(); }
    setText($("version"), s.version || "unknown");
    setText($("mode"), s.mode || "\u2013");
    setText($("uptime"), s.uptime_seconds ? duration(s.uptime_seconds) : "\u2013");
    renderRoutes(s.routes || [], now);
    renderRulesets(s.rulesets || [], now);
    lastOk = new Date();
    setText($("updated"), timeFmt.format(lastOk));
    body.setAttribute("data-loaded", "true");
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(poll, ms);
  }

  function poll() {
    if (inFlight) { return; }
    if (document.hidden) { return; } // resumed by visibilitychange
    inFlight = true;
    var ctl = typeof AbortController === "function" ? new AbortController() : null;
    var abort = ctl ? setTimeout(function () { ctl.abort(); }, Math.max(refreshMs * 2, 5000)) : 0;
    fetch(statusUrl, {
      cache: "no-store",
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
      signal: ctl ? ctl.signal : undefined
    }).then(function (resp) {
      if (resp.status === 401 || resp.status === 403) {
        // protect_read is on: a browser cannot send the bearer token.
        var e = new Error("HTTP " + resp.status);
        e.auth = true;
        throw e;
      }
      if (!resp.ok) { throw new Error("HTTP " + resp.status); }
      return resp.json();
    }).then(function (s) {
      render(s);
      setConn("live", "Live");
    }).catch(function (err) {
      var since = lastOk ? " since " + timeFmt.format(lastOk) : "";
      if (err && err.auth) {
        setConn("lost", "Not authorized: status.json needs a token with scope read (http.protect_read)");
      } else {
        setConn("lost", "Connection lost" + since + ", retrying");
      }
      body.setAttribute("data-error", String(err && err.message || err));
    }).then(function () {
      clearTimeout(abort);
      inFlight = false;
      schedule(refreshMs);
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { schedule(0); }
  });
  poll();
}());
