/* Coordinators' live dashboard: SVG map of Indonesia (no tiles), panels, live feed (SSE). */
"use strict";

(() => {
  const { t, api, el, fmt } = Siaga;
  const SVGNS = "http://www.w3.org/2000/svg";
  // Equirectangular projection over Indonesia's extent; at these latitudes (6.5° N to
  // 11.5° S) cos(lat) stays above 0.98, so shapes are barely distorted.
  const WEST = 94, EAST = 142, NORTH = 6.5, SOUTH = -11.5, K = 20;
  const FULL = [0, 0, (EAST - WEST) * K, (NORTH - SOUTH) * K];
  const project = (lon, lat) => [(lon - WEST) * K, (NORTH - lat) * K];
  const ENTITIES = ["incident", "shelter", "warehouse", "team", "shipment", "shortfall", "task"];
  const state = Object.fromEntries(ENTITIES.map((e) => [e, new Map()]));
  const IN_FLIGHT = new Set(["confirmed", "dispatched"]);
  let cursor = "0-0";
  let source = null;
  let panelsQueued = false;
  const live = { received: 0, connected: false };
  window.siagaDashboard = { state, live };

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) node.setAttribute(k, v);
    for (const c of children) if (c) node.append(c);
    return node;
  }
  const title = (text) => svg("title", {}, document.createTextNode(text));

  function ringPath(ring) {
    return ring.map(([lon, lat], i) => {
      const [x, y] = project(lon, lat);
      return `${i ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`;
    }).join("") + "Z";
  }

  function drawProvinces(collection) {
    const layer = document.getElementById("layer-provinces");
    layer.replaceChildren();
    for (const feature of collection.features || []) {
      const g = feature.geometry;
      if (!g) continue;
      const polygons = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
      const d = polygons.map((rings) => rings.map(ringPath).join("")).join("");
      const p = feature.properties || {};
      layer.append(svg("path", { d, class: "province", "fill-rule": "evenodd", "data-code": p.code },
        title(`${p.name || ""} (${p.code || ""})`)));
    }
  }

  function unmetColour(share) {
    const s = Math.max(0, Math.min(1, Number(share) || 0));
    const stops = [[46, 125, 50], [224, 138, 0], [198, 40, 40]];
    const [a, b, f] = s < 0.5 ? [stops[0], stops[1], s / 0.5] : [stops[1], stops[2], (s - 0.5) / 0.5];
    const c = a.map((v, i) => Math.round(v + (b[i] - v) * f));
    return `rgb(${c.join(",")})`;
  }

  const place = (item) => item && item.location && Number.isFinite(item.location.lon) ? project(item.location.lon, item.location.lat) : null;
  const nameOf = (entity, id) => {
    const item = id ? state[entity].get(id) : null;
    return (item && item.name) || id || "–";
  };

  function markerFor(entity, item) {
    const id = item[`${entity}_id`] || item.id;
    const at = place(item);
    const common = { "data-entity": entity, "data-id": id };
    if (entity === "incident" && at) {
      const r = 3 + (item.severity || 1) * 1.2;
      return svg("g", common,
        svg("circle", { cx: at[0], cy: at[1], r: r * 2, class: "incident-ring" }),
        svg("circle", { cx: at[0], cy: at[1], r, class: "incident" }),
        title(`${t(`type_${item.incident_type}`)} · ${t("severity")} ${item.severity} · ${t("displaced")} ${fmt(item.displaced, 0)}\n${item.description || ""}`));
    }
    if (entity === "shelter" && at) {
      const total = (item.headcount && item.headcount.total) || 0;
      const r = 2 + Math.min(6, Math.sqrt(total) / 12);
      return svg("circle", Object.assign({ cx: at[0], cy: at[1], r, class: "shelter", fill: unmetColour(item.unmet_share) }, common),
        title(`${item.name || id} · ${t("displaced")} ${fmt(total, 0)} · ${t("unmet")} ${fmt((item.unmet_share || 0) * 100, 0)}%`));
    }
    if (entity === "warehouse" && at) {
      const lines = (item.stock || []).map((s) => `${s.item}: ${fmt(s.on_hand)} ${s.unit || ""}`).join("\n");
      return svg("rect", Object.assign({ x: at[0] - 3.5, y: at[1] - 3.5, width: 7, height: 7, class: `warehouse${item.released === false ? " locked" : ""}` }, common),
        title(`${item.name || id} (${t(`kind_${item.kind}`)})\n${lines}`));
    }
    if (entity === "team" && at) {
      const g = svg("g", common);
      const a = item.assignment;
      if (a && a.location) {
        const to = project(a.location.lon, a.location.lat);
        g.append(svg("line", { x1: at[0], y1: at[1], x2: to[0], y2: to[1], class: "assignment" }));
      }
      g.append(svg("rect", { x: at[0] - 3, y: at[1] - 3, width: 6, height: 6, class: "team", transform: `rotate(45 ${at[0]} ${at[1]})` },
        title(`${item.name || id} · ${item.members || "?"} · ${item.availability || ""}${a ? ` → ${a.kind} ${a.target_id}` : ""}`)));
      return g;
    }
    if (entity === "shipment" && item.origin && item.location && ["proposed", "confirmed", "dispatched"].includes(item.status)) {
      const from = project(item.origin.lon, item.origin.lat);
      const to = project(item.location.lon, item.location.lat);
      return svg("line", Object.assign({ x1: from[0], y1: from[1], x2: to[0], y2: to[1], class: `shipment ${item.status}${item.held ? " held" : ""}` }, common),
        title(`${id} · ${item.item} ${fmt(item.quantity)} ${item.unit || ""} · ${t(item.status)}`));
    }
    return null;
  }

  const LAYERS = { incident: "layer-incidents", shelter: "layer-shelters", warehouse: "layer-warehouses", team: "layer-teams", shipment: "layer-shipments" };

  function draw(entity, id) {
    const layerId = LAYERS[entity];
    if (!layerId) return;
    const layer = document.getElementById(layerId);
    const old = layer.querySelector(`[data-id="${CSS.escape(id)}"]`);
    const item = state[entity].get(id);
    const node = item ? markerFor(entity, item) : null;
    if (old && node) old.replaceWith(node);
    else if (old) old.remove();
    else if (node) layer.append(node);
  }

  function apply(entity, id, data, deleted) {
    if (!state[entity]) return;
    if (deleted) state[entity].delete(id); else state[entity].set(id, data);
    draw(entity, id);
    queuePanels();
  }

  function queuePanels() {
    if (panelsQueued) return;
    panelsQueued = true;
    requestAnimationFrame(() => { panelsQueued = false; renderPanels(); });
  }

  function li(...children) { return el("li", {}, ...children); }
  function list(id, items, render) {
    const ul = document.getElementById(id);
    ul.replaceChildren(...(items.length ? items.map(render) : [li(el("span", { class: "hint" }, t("none")))]));
  }

  function renderPanels() {
    const shipments = [...state.shipment.values()];
    const shortfalls = [...state.shortfall.values()].sort((a, b) => (b.missing || 0) - (a.missing || 0));
    const displaced = [...state.shelter.values()].reduce((n, s) => n + ((s.headcount && s.headcount.total) || 0), 0);
    const inFlight = shipments.filter((s) => IN_FLIGHT.has(s.status));
    const stat = (value, key) => el("div", {}, el("b", {}, fmt(value, 0)), el("small", {}, t(key)));
    document.getElementById("summary").replaceChildren(
      stat(state.incident.size, "incidents"), stat(state.shelter.size, "shelters"), stat(displaced, "displaced"),
      stat(shortfalls.length, "shortfalls"), stat(inFlight.length, "inFlight"), stat(state.team.size, "teams"));
    list("panel-shortfalls", shortfalls.slice(0, 50), (s) => li(
      el("b", {}, nameOf("shelter", s.shelter_id)), ` · ${s.item}: `, el("b", {}, `${fmt(s.missing)} ${s.unit || ""}`), " ",
      s.escalated ? el("span", { class: "pill escalated" }, t("escalated")) : null,
      s.explanation ? el("div", { class: "hint" }, s.explanation) : null));
    list("panel-inflight", inFlight.slice(0, 50), (s) => li(
      el("b", {}, s.shipment_id), ` · ${s.item} ${fmt(s.quantity)} ${s.unit || ""} · `,
      `${nameOf("warehouse", s.warehouse_id)} → ${nameOf("shelter", s.shelter_id)} `,
      el("span", { class: "pill" }, t(s.status)), s.eta_hours != null ? ` · ${t("eta")} ${fmt(s.eta_hours)}` : ""));
    const proposed = shipments.filter((s) => s.status === "proposed");
    list("panel-proposed", proposed.slice(0, 50), (s) => li(
      el("div", { class: "row" },
        el("span", {}, el("b", {}, s.shipment_id), ` · ${s.item} ${fmt(s.quantity)} ${s.unit || ""} → ${nameOf("shelter", s.shelter_id)} `,
          s.held ? el("span", { class: "pill held" }, t("held")) : null),
        el("button", { type: "button", class: s.held ? "secondary" : "danger", onclick: () => hold(s, !s.held) }, t(s.held ? "release" : "hold")))));
    const incidents = [...state.incident.values()].sort((a, b) => String(b.reported_at || "").localeCompare(String(a.reported_at || "")));
    list("panel-incidents", incidents.slice(0, 50), (i) => li(
      el("b", {}, t(`type_${i.incident_type}`)), ` · ${t("severity")} ${i.severity} · ${t("displaced")} ${fmt(i.displaced, 0)} · ${i.kabupaten_code || i.province_code || ""}`,
      el("div", { class: "hint" }, i.description || i.incident_id)));
    fillSelect("task_id", [...state.task.values()].map((x) => [x.task_id, `${x.task_id} (${x.kind || ""})`]));
    fillSelect("team_id", [...state.team.values()].map((x) => [x.team_id, `${x.name || x.team_id} (${x.availability || ""})`]));
  }

  function fillSelect(name, options) {
    const select = document.querySelector(`#override-form [name=${name}]`);
    const current = select.value;
    select.replaceChildren(...options.map(([value, label]) => el("option", { value }, label)));
    if (current) select.value = current;
  }

  function toast(text) {
    const node = el("div", { class: "toast" }, text);
    document.body.append(node);
    setTimeout(() => node.remove(), 4000);
  }

  async function hold(shipment, held) {
    const reason = window.prompt(t("reason"));
    if (!reason) return;
    try {
      await api(`/api/v1/shipments/${encodeURIComponent(shipment.shipment_id)}/hold`, { method: "POST", body: { event_id: Siaga.uuid4(), held, reason } });
      toast(t("accepted"));
    } catch (err) { toast(`${t("error")}: ${Siaga.describeDetail(err.detail || err.message)}`); }
  }

  function setStatus(kind) {
    const node = document.getElementById("live-status");
    node.className = `status ${kind}`;
    node.textContent = t(kind);
    live.connected = kind === "live";
  }

  async function loadSnapshot() {
    const snapshot = await api("/api/v1/situation");
    for (const entity of ENTITIES) {
      state[entity].clear();
      document.getElementById(LAYERS[entity] || "none")?.replaceChildren();
      for (const item of snapshot[`${entity}s`] || []) state[entity].set(item[`${entity}_id`], item);
      for (const id of state[entity].keys()) draw(entity, id);
    }
    cursor = snapshot.cursor;
    renderPanels();
  }

  function connect() {
    if (source) source.close();
    // the session cookie authenticates the stream: no token in the URL
    source = new EventSource(`/api/v1/live?after=${encodeURIComponent(cursor)}`);
    source.addEventListener("open", () => setStatus("live"));
    source.addEventListener("change", (e) => {
      const msg = JSON.parse(e.data);
      cursor = e.lastEventId || msg.seq;
      live.received += 1;
      apply(msg.entity, msg.id, msg.data, msg.deleted);
    });
    source.addEventListener("reset", async () => { source.close(); await loadSnapshot(); connect(); });
    source.addEventListener("error", () => {
      setStatus("reconnecting");
      // The browser retries by itself (sending Last-Event-ID); if it gave up, start over.
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 3000);
    });
  }

  function enablePanZoom() {
    const map = document.getElementById("map");
    let view = FULL.slice();
    const set = () => map.setAttribute("viewBox", view.map((v) => v.toFixed(2)).join(" "));
    set();
    map.addEventListener("wheel", (e) => {
      e.preventDefault();
      const box = map.getBoundingClientRect();
      const fx = (e.clientX - box.left) / box.width, fy = (e.clientY - box.top) / box.height;
      const scale = e.deltaY < 0 ? 0.8 : 1.25;
      const w = Math.min(FULL[2] * 1.5, Math.max(20, view[2] * scale)), h = w * (FULL[3] / FULL[2]);
      view = [view[0] + (view[2] - w) * fx, view[1] + (view[3] - h) * fy, w, h];
      set();
    }, { passive: false });
    let drag = null;
    map.addEventListener("pointerdown", (e) => { drag = { x: e.clientX, y: e.clientY, view: view.slice() }; map.setPointerCapture(e.pointerId); });
    map.addEventListener("pointermove", (e) => {
      if (!drag) return;
      const box = map.getBoundingClientRect();
      const k = Math.max(view[2] / box.width, view[3] / box.height);
      view = [drag.view[0] - (e.clientX - drag.x) * k, drag.view[1] - (e.clientY - drag.y) * k, view[2], view[3]];
      set();
    });
    map.addEventListener("pointerup", () => { drag = null; });
    map.addEventListener("dblclick", () => { view = FULL.slice(); set(); });
  }

  function wireForms() {
    document.getElementById("override-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const form = new FormData(e.target);
      const msg = document.getElementById("override-msg");
      try {
        await api("/api/v1/dispatch/overrides", { method: "POST", body: {
          event_id: Siaga.uuid4(), task_id: form.get("task_id"), team_id: form.get("team_id"),
          action: form.get("action"), reason: form.get("reason") } });
        msg.textContent = t("accepted");
        e.target.reset();
      } catch (err) { msg.textContent = `${t("error")}: ${Siaga.describeDetail(err.detail || err.message)}`; }
    });
    // download links carry the session cookie, never a token
    document.getElementById("csv-shelters").href = "/api/v1/export/shelters.csv";
    document.getElementById("csv-needs").href = "/api/v1/export/needs.csv";
    document.getElementById("csv-stock").href = "/api/v1/export/stock.csv";
    document.getElementById("json-situation").href = "/api/v1/situation";
  }

  async function main() {
    const status = el("span", { id: "live-status", class: "status" }, "…");
    document.body.prepend(Siaga.header("dashboard", status));
    Siaga.applyI18n();
    await Siaga.whoami();
    document.getElementById("app").hidden = false;
    enablePanZoom();
    wireForms();
    document.addEventListener("siaga:lang", () => { renderPanels(); setStatus(live.connected ? "live" : "reconnecting"); });
    drawProvinces(await (await fetch("/api/v1/geo/provinces.geojson")).json());
    await loadSnapshot();
    connect();
    document.body.dataset.ready = "1";
  }

  document.addEventListener("DOMContentLoaded", () => {
    main().catch((err) => { document.body.append(el("p", { class: "error" }, `${t("error")}: ${err.message}`)); });
  });
})();
