/* Siaga: how old is the picture? A banner when it is older than the set limit, and each
   panel's age. Reads /healthz (no token needed) every few seconds; see docs/operations.md.
   Panels: an element with data-panel-entity="shipment" (comma-separated entity types) gets
   a line saying how old its newest figure is; the dashboard's known panels are mapped below. */
(function () {
  "use strict";
  var EVERY_MS = 3000;
  var PANELS = {
    "panel-shortfalls": "shortfall", "panel-inflight": "shipment", "panel-proposed": "shipment",
    "panel-incidents": "incident", "summary": "incident,shelter,warehouse,shipment,shortfall,team",
    "panel-tasks": "task", "panel-kitchens": "kitchen,kitchen_proposal",
    "desk": "shipment", "stock": "warehouse"
  };
  var T = {
    id: {
      stale: "Perhatian: gambaran ini mungkin sudah tertinggal.",
      caughtUp: "Terakhir terkini", never: "belum pernah terkini sejak dijalankan",
      behind: "antrean yang belum diolah", noWorker: "pengolah data tidak melapor",
      unreachable: "Server tidak dapat dihubungi",
      age: "Data", ago: "lalu", none: "belum ada data",
      s: "detik", m: "menit", h: "jam", limit: "batas"
    },
    en: {
      stale: "Warning: this picture may be out of date.",
      caughtUp: "Last up to date", never: "never up to date since start",
      behind: "records not yet processed", noWorker: "the stream workers are not reporting",
      unreachable: "Cannot reach the server",
      age: "Data", ago: "ago", none: "no data yet",
      s: "s", m: "min", h: "h", limit: "limit"
    }
  };
  function lang() { return (localStorage.getItem("siaga.lang") || "id") === "en" ? "en" : "id"; }
  function t(key) { return T[lang()][key]; }
  function duration(seconds) {
    if (seconds < 120) return Math.round(seconds) + " " + t("s");
    if (seconds < 7200) return Math.round(seconds / 60) + " " + t("m");
    return (seconds / 3600).toFixed(1) + " " + t("h");
  }
  var last = null;
  var lastError = false;
  function banner() {
    var node = document.getElementById("siaga-stale");
    if (!node) {
      node = document.createElement("div");
      node.id = "siaga-stale";
      node.className = "siaga-stale";
      node.setAttribute("role", "alert");
      node.hidden = true;
      document.body.insertBefore(node, document.body.firstChild);
    }
    return node;
  }
  function panelAge(picture, entities) {
    var best = null;
    entities.split(",").forEach(function (entity) {
      var panel = (picture.panels || {})[entity.trim()];
      if (panel && (best === null || panel.age_seconds < best)) best = panel.age_seconds;
    });
    // figures are no fresher than the picture itself
    if (best !== null && picture.stale && picture.age_seconds !== null) {
      best = Math.max(best, picture.age_seconds);
    }
    return best;
  }
  function panels(picture) {
    var nodes = Array.prototype.slice.call(document.querySelectorAll("[data-panel-entity]"));
    Object.keys(PANELS).forEach(function (id) {
      var node = document.getElementById(id);
      if (node && !node.hasAttribute("data-panel-entity")) {
        nodes.push({ el: node, entities: PANELS[id] });
      }
    });
    nodes.forEach(function (item) {
      var el = item.el || item;
      var entities = item.entities || el.getAttribute("data-panel-entity");
      var holder = el.closest("section") || el;
      var line = holder.querySelector(":scope > .siaga-age");
      if (!line) {
        line = document.createElement("p");
        line.className = "siaga-age";
        holder.appendChild(line);
      }
      var age = panelAge(picture, entities);
      line.textContent = t("age") + ": " + (age === null ? t("none") : duration(age) + " " + t("ago"));
      // red only while the picture is stale: an old figure of a current picture is simply
      // a figure nobody changed
      line.classList.toggle("siaga-age-old",
        Boolean(picture.stale) && age !== null && age > picture.stale_after_seconds);
    });
  }
  function render() {
    var node = banner();
    if (lastError && last === null) {
      node.textContent = t("stale") + " " + t("unreachable") + ".";
      node.hidden = false;
      return;
    }
    if (last === null) return;
    var p = last;
    if (p.stale || lastError) {
      var parts = [];
      parts.push(p.age_seconds === null || p.age_seconds === undefined ? t("never")
        : t("caughtUp") + " " + duration(p.age_seconds) + " " + t("ago"));
      if (lastError) parts.push(t("unreachable"));
      else if (!p.workers) parts.push(t("noWorker"));
      else if (p.lag) parts.push(p.lag.toLocaleString(lang() === "en" ? "en-GB" : "id-ID") + " " + t("behind"));
      node.textContent = t("stale") + " " + parts.join("; ") + " (" + t("limit") + " " +
        duration(p.stale_after_seconds) + ").";
      node.hidden = false;
    } else {
      node.hidden = true;
      node.textContent = "";
    }
    panels(p);
  }
  function poll() {
    fetch("/healthz", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        last = body.picture || null;
        lastError = false;
        render();
      })
      .catch(function () { lastError = true; render(); })
      .then(function () { setTimeout(poll, EVERY_MS); });
  }
  document.addEventListener("siaga:lang", render);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", poll);
  else poll();
})();
