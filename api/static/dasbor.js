/* Coordinators' live dashboard on Leaflet (vendored, see api/vendor.py): a base map from
   Siaga's own geo data (no tiles), clustered shelters coloured by unmet share, warehouses,
   teams, shipments as lines on a canvas, a panel per shelter/warehouse/team, decisions on
   shortfalls grouped by item or kabupaten, and a timeline of changes. Live through SSE.
   Entities are keyed `province_code/id` (ids are unique only within a province). */
"use strict";

(() => {
  const { t, api, el, fmt } = Siaga;
  const ENTITIES = ["incident", "shelter", "warehouse", "team", "shipment", "shortfall", "task"];
  const state = Object.fromEntries(ENTITIES.map((e) => [e, new Map()]));
  const IN_FLIGHT = new Set(["confirmed", "dispatched"]);
  // delivered shipments are history (listed in the shelter's panel), not lines on the map
  const DRAWN_SHIPMENTS = new Set(["proposed", "confirmed", "dispatched"]);
  const SHIPMENT_COLOURS = { proposed: "#6b7a90", confirmed: "#e08a00", dispatched: "#00838f", delivered: "#2e7d32", held: "#c62828" };
  const INDONESIA = [[-11.5, 94], [6.5, 142]];
  const TIMELINE_MAX = 300;
  const L = window.L;

  // Words this page needs beyond common.js (Bahasa Indonesia first; English as a choice).
  const WORDS = {
    id: { byUnmet: "(warna: kebutuhan belum terpenuhi)", fitOperation: "Ke lokasi operasi", close: "Tutup",
      groupBy: "Kelompokkan menurut", kabupaten: "Kabupaten/kota", timeline: "Linimasa perubahan", all: "Semua",
      shortfallsShort: "Kekurangan", decisions: "Keputusan", search: "Cari nama", mapCredit: "Peta dasar dari data Siaga sendiri (Natural Earth, geografis); pustaka peta Leaflet.",
      need: "Kebutuhan", planned: "Direncanakan", inTransit: "Dalam perjalanan", deliveredShort: "Diterima", shortfall: "Kurang",
      groups: "Kelompok rentan", members: "Anggota", skills: "Keahlian", availability: "Ketersediaan", assignment: "Penugasan",
      onHand: "Tersedia", reserved: "Dipesan", shelterCount: "pengungsian", requestProcurement: "Minta pengadaan",
      requestDonors: "Minta donatur", acceptRisk: "Terima risiko", declareEmergency: "Tetapkan status darurat (lepas Lumbung Sosial)",
      decision_procurement_request: "Permintaan ke pengadaan dicatat", decision_donor_request: "Permintaan ke donatur dicatat",
      decision_risk_accepted: "Risiko diterima", noteRequired: "Tulis catatan untuk keputusan ini.", decidedBy: "oleh",
      changed: "berubah", removed: "dihapus", locked: "terkunci (belum ada status darurat)", escalatedNational: "Dieskalasi ke nasional",
      avail_available: "siap", avail_assigned: "bertugas", avail_resting: "istirahat", avail_unavailable: "tidak tersedia",
      task_evacuation: "evakuasi", task_distribution: "distribusi", task_kitchen: "dapur umum", task_public_kitchen: "dapur umum", task_psychosocial_support: "dukungan psikososial", avail_off_duty: "lepas tugas", task_search_rescue: "pencarian dan pertolongan",
      task_shelter_setup: "pendirian pengungsian", task_psychosocial: "layanan psikososial", entity_decision: "Keputusan",
      entity_incident: "Kejadian", entity_shelter: "Pengungsian", entity_warehouse: "Gudang", entity_team: "Tim", entity_shipment: "Pengiriman",
      entity_shortfall: "Kekurangan", entity_task: "Tugas", noExplanation: "" },
    en: { byUnmet: "(colour: unmet need)", fitOperation: "Go to the operation", close: "Close",
      groupBy: "Group by", kabupaten: "Kabupaten/kota", timeline: "Timeline of changes", all: "All",
      shortfallsShort: "Shortfalls", decisions: "Decisions", search: "Search name", mapCredit: "Base map from Siaga's own data (Natural Earth, geografis); map library Leaflet.",
      need: "Need", planned: "Planned", inTransit: "In transit", deliveredShort: "Delivered", shortfall: "Short",
      groups: "Vulnerable groups", members: "Members", skills: "Skills", availability: "Availability", assignment: "Assignment",
      onHand: "On hand", reserved: "Reserved", shelterCount: "shelters", requestProcurement: "Request procurement",
      requestDonors: "Request donors", acceptRisk: "Accept the risk", declareEmergency: "Declare an emergency (release Lumbung Sosial)",
      decision_procurement_request: "Procurement request recorded", decision_donor_request: "Donor request recorded",
      decision_risk_accepted: "Risk accepted", noteRequired: "Write a note for this decision.", decidedBy: "by",
      changed: "changed", removed: "removed", locked: "locked (no emergency declared)", escalatedNational: "Escalated to national",
      avail_available: "available", avail_assigned: "assigned", avail_resting: "resting", avail_unavailable: "unavailable",
      task_evacuation: "evacuation", task_distribution: "distribution", task_kitchen: "public kitchen", task_public_kitchen: "public kitchen", task_psychosocial_support: "psychosocial support", avail_off_duty: "off duty", task_search_rescue: "search and rescue",
      task_shelter_setup: "shelter set-up", task_psychosocial: "psychosocial support", entity_decision: "Decision",
      entity_incident: "Incident", entity_shelter: "Shelter", entity_warehouse: "Warehouse", entity_team: "Team", entity_shipment: "Shipment",
      entity_shortfall: "Shortfall", entity_task: "Task", noExplanation: "" },
  };
  const w = (key) => (WORDS[Siaga.lang] || WORDS.id)[key] ?? WORDS.id[key] ?? t(key);
  // the TAGANA task loop (team.assignment.status, task.status; see /tim)
  const LOOP = {
    id: { dispatched: "ditugaskan, menunggu jawaban", acknowledged: "diterima tim", en_route: "dalam perjalanan",
      arrived: "tiba di lokasi", done: "selesai", declined: "ditolak", timed_out: "tidak dijawab", unassigned: "belum ada tim" },
    en: { dispatched: "dispatched, awaiting reply", acknowledged: "acknowledged", en_route: "on the way",
      arrived: "arrived", done: "done", declined: "declined", timed_out: "not answered", unassigned: "no team yet" },
  };
  const loop = (status) => el("span", { class: "pill loop", dataset: { loop: status || "" } },
    ((LOOP[Siaga.lang] || LOOP.id)[status]) || LOOP.id[status] || "–");
  let kabupaten = {}; // kabupaten code -> name (from the base map)
  // item and unit names come from common.js (GET /api/v1/items): names, never codes
  const itemName = (code) => Siaga.itemName(code);
  const qty = (n, unit) => Siaga.qty(n, unit);
  const explain = (x, names) => Siaga.explain(x, Siaga.lang, names);

  let cursor = "0-0";
  let source = null;
  let map = null;
  const layers = {};
  const markers = { incident: new Map(), shelter: new Map(), warehouse: new Map(), team: new Map() };
  const timeline = [];
  let selected = null; // {entity, key}
  const live = { received: 0, applied: 0, connected: false };
  const pending = new Map(); // key "entity|key" -> change, applied once per frame
  let frameQueued = false;
  let panelsDue = 0;
  const prof = {}; // ms spent per step (the browser test prints it)
  const took = (name, t0) => { const p = prof[name] || (prof[name] = { n: 0, ms: 0, max: 0 }); const d = performance.now() - t0; p.n += 1; p.ms = Math.round(p.ms + d); p.max = Math.max(p.max, Math.round(d)); };
  const timings = {}; // ms since navigation: when the base map, the snapshot and the live feed were up
  window.siagaDashboard = { state, live, markers, timeline, timings, prof, get map() { return map; }, get shipmentLines() { return layers.shipment; }, layers, keyOf, unmetBucket };

  function keyOf(entity, item) {
    const id = item[`${entity}_id`] || item.id;
    return `${item.province_code || ""}/${id}`;
  }
  const ref = (entity, province, id) => state[entity].get(`${province || ""}/${id}`);
  function nameOf(entity, province, id) {
    if (!id) return "–";
    let x = ref(entity, province, id);
    if (!x && entity === "warehouse") {
      // a national-tier shipment comes from another province's warehouse
      for (const w of state.warehouse.values()) if (w.warehouse_id === id) { x = w; break; }
    }
    return (x && x.name) || "–";
  }
  const latlng = (loc) => loc && Number.isFinite(loc.lat) && Number.isFinite(loc.lon) ? [loc.lat, loc.lon] : null;
  function unmetBucket(share) {
    const s = Math.max(0, Math.min(1, Number(share) || 0));
    return s <= 0.05 ? 0 : s < 0.25 ? 1 : s < 0.5 ? 2 : s < 0.75 ? 3 : 4;
  }

  // ---- the map
  function buildMap(basemap) {
    map = L.map("map", { zoomSnap: 0.25, wheelPxPerZoomLevel: 90, minZoom: 4, maxZoom: 16, attributionControl: false,
      maxBounds: [[-20, 85], [15, 150]], worldCopyJump: false, preferCanvas: false });
    map.createPane("basePane").style.zIndex = 250;
    map.createPane("linesPane").style.zIndex = 420;
    const baseRenderer = L.canvas({ pane: "basePane", padding: 0.3 });
    const styleOf = (f) => {
      const layer = f.properties.layer;
      if (layer === "neighbour") return { renderer: baseRenderer, color: "#c9c3b3", weight: 0.5, fillColor: "#e4e1d8", fillOpacity: 1 };
      if (layer === "province") return { renderer: baseRenderer, color: "#8c8167", weight: 1, fillColor: "#f3efe4", fillOpacity: 1 };
      return { renderer: baseRenderer, color: "#b7ad95", weight: 0.6, dashArray: "2 3", fill: false };
    };
    const part = (name) => ({ type: "FeatureCollection", features: basemap.features.filter((f) => f.properties.layer === name) });
    layers.neighbours = L.geoJSON(part("neighbour"), { style: styleOf, interactive: false }).addTo(map);
    layers.provinces = L.geoJSON(part("province"), { style: styleOf, interactive: false }).addTo(map);
    layers.kabupaten = L.geoJSON(part("kabupaten"), { style: styleOf, interactive: false });
    for (const f of basemap.features) if (f.properties.layer === "kabupaten") kabupaten[f.properties.code] = f.properties.name;
    // kabupaten names: only those in view, rebuilt after each move (513 labels repositioned
    // on every zoom frame were a long task of their own)
    const labelSites = basemap.features.filter((f) => f.properties.layer === "kabupaten")
      .map((f) => ({ at: L.latLng(f.properties.lat, f.properties.lon), name: f.properties.name }));
    layers.kabupatenLabels = L.layerGroup();
    const detailLayers = () => {
      const z = map.getZoom();
      toggle(layers.kabupaten, z >= 7);
      layers.kabupatenLabels.clearLayers();
      if (z < 9) { toggle(layers.kabupatenLabels, false); return; }
      const view = map.getBounds();
      for (const site of labelSites) {
        if (!view.contains(site.at)) continue;
        layers.kabupatenLabels.addLayer(L.marker(site.at, { interactive: false, keyboard: false,
          icon: L.divIcon({ className: "kab-label", html: labelNode(site.name), iconSize: null }) }));
      }
      toggle(layers.kabupatenLabels, true);
    };
    map.on("moveend", detailLayers);

    layers.shipment = new ShipmentLines();
    layers.team = L.layerGroup();
    layers.warehouse = L.layerGroup();
    layers.shelter = L.markerClusterGroup({
      maxClusterRadius: 45, chunkedLoading: true, chunkInterval: 100, showCoverageOnHover: false,
      spiderfyOnMaxZoom: true, disableClusteringAtZoom: 13, animate: false,
      iconCreateFunction: clusterIcon,
    });
    layers.incident = L.layerGroup();
    for (const name of ["shipment", "team", "warehouse", "shelter", "incident"]) layers[name].addTo(map);
    map.fitBounds(INDONESIA);
    detailLayers();
    L.control.scale({ imperial: false, position: "bottomright" }).addTo(map);
  }

  // Shipments: thousands of straight lines, drawn on one canvas in one pass per colour
  // (Leaflet's own canvas paths redraw one by one: 16,000 of them stalled every pan).
  // Positions are kept in Web Mercator world units, so a redraw is a multiply and a subtract.
  const ShipmentLines = L.Layer.extend({
    initialize() { this.lines = new Map(); this.queued = false; },
    onAdd(m) {
      this.canvas = L.DomUtil.create("canvas", "shipment-lines leaflet-zoom-animated");
      m.getPane("linesPane").appendChild(this.canvas);
      m.on("moveend zoomend resize viewreset", this.redraw, this);
      m.on("move", this.redraw, this);
      m.on("zoomanim", this.animateZoom, this);
      this.reset();
    },
    onRemove(m) {
      m.off("moveend zoomend resize viewreset move", this.redraw, this);
      m.off("zoomanim", this.animateZoom, this);
      this.canvas.remove();
    },
    world(latlng) { const p = L.CRS.EPSG3857.projection.project(L.latLng(latlng)); return [p.x, p.y]; },
    set(key, item) {
      const from = latlng(item.origin), to = latlng(item.location);
      if (!from || !to || !DRAWN_SHIPMENTS.has(item.status)) { this.remove(key); return; }
      const style = item.held ? "held" : item.status;
      this.lines.set(key, { a: this.world(from), b: this.world(to), style });
      this.redraw();
    },
    remove(key) { if (this.lines.delete(key)) this.redraw(); },
    clear() { this.lines.clear(); this.redraw(); },
    animateZoom(e) {
      if (!this.bounds) return;
      const scale = this._map.getZoomScale(e.zoom), offset = this._map._latLngBoundsToNewLayerBounds(this.bounds, e.zoom, e.center).min;
      L.DomUtil.setTransform(this.canvas, offset, scale);
    },
    reset() {
      const size = this._map.getSize();
      const ratio = window.devicePixelRatio || 1;
      this.canvas.width = size.x * ratio; this.canvas.height = size.y * ratio;
      this.canvas.style.width = `${size.x}px`; this.canvas.style.height = `${size.y}px`;
    },
    redraw() { if (this._map && !this.queued) { this.queued = true; requestAnimationFrame(() => this.draw()); } },
    draw() {
      const t0 = performance.now();
      try { this.paint(); } finally { took("shipmentLines", t0); }
    },
    paint() {
      this.queued = false;
      const m = this._map;
      if (!m) return;
      const size = m.getSize();
      if (this.canvas.width !== size.x * (window.devicePixelRatio || 1)) this.reset();
      const topLeft = m.containerPointToLayerPoint([0, 0]);
      L.DomUtil.setTransform(this.canvas, topLeft, 1);
      this.bounds = m.getBounds();
      const ctx = this.canvas.getContext("2d");
      const ratio = window.devicePixelRatio || 1;
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, size.x, size.y);
      // world (metres) -> container pixels at this zoom
      const scale = m.options.crs.scale(m.getZoom()) / (2 * Math.PI * 6378137);
      const origin = m.project(m.containerPointToLatLng([0, 0]));
      const half = Math.PI * 6378137;
      const X = (x) => (x + half) * scale - origin.x, Y = (y) => (half - y) * scale - origin.y;
      const w = size.x, h = size.y;
      const byStyle = { proposed: [], confirmed: [], dispatched: [], held: [] };
      for (const line of this.lines.values()) {
        const x1 = X(line.a[0]), y1 = Y(line.a[1]), x2 = X(line.b[0]), y2 = Y(line.b[1]);
        if ((x1 < 0 && x2 < 0) || (x1 > w && x2 > w) || (y1 < 0 && y2 < 0) || (y1 > h && y2 > h)) continue;
        byStyle[line.style].push(x1, y1, x2, y2);
      }
      this.drawn = 0;
      for (const [style, xy] of Object.entries(byStyle)) {
        if (!xy.length) continue;
        ctx.beginPath();
        for (let i = 0; i < xy.length; i += 4) { ctx.moveTo(xy[i], xy[i + 1]); ctx.lineTo(xy[i + 2], xy[i + 3]); }
        // solid lines only: dashing thousands of long lines is what a software-rendered
        // canvas (no GPU in an operations room) spends seconds on
        ctx.strokeStyle = SHIPMENT_COLOURS[style];
        ctx.globalAlpha = style === "proposed" ? 0.55 : 0.8;
        ctx.lineWidth = style === "proposed" ? 1 : 1.5;
        ctx.stroke();
        this.drawn += xy.length / 4;
      }
      ctx.globalAlpha = 1;
    },
  });

  function labelNode(text) { const span = document.createElement("span"); span.textContent = text; return span; }
  function toggle(layer, on) { if (on && !map.hasLayer(layer)) layer.addTo(map); else if (!on && map.hasLayer(layer)) map.removeLayer(layer); }

  function clusterIcon(cluster) {
    const children = cluster.getAllChildMarkers();
    let worst = 0, people = 0;
    for (const m of children) { worst = Math.max(worst, m.options.bucket || 0); people += m.options.people || 0; }
    const n = children.length;
    const size = n < 10 ? 30 : n < 100 ? 36 : n < 1000 ? 42 : 48;
    const node = document.createElement("div");
    const count = document.createElement("span");
    count.textContent = String(n);
    node.append(count);
    node.title = `${n} ${w("shelterCount")} · ${t("displaced")} ${fmt(people, 0)}`;
    return L.divIcon({ html: node, className: `cluster u${worst}`, iconSize: [size, size] });
  }

  function iconNode(entity, key) {
    const node = document.createElement("div");
    node.dataset.entity = entity;
    node.dataset.key = key;
    return node;
  }

  function shelterMarker(item, key) {
    const at = latlng(item.location);
    if (!at) return null;
    const bucket = unmetBucket(item.unmet_share);
    const node = iconNode("shelter", key);
    node.className = `shelter-dot u${bucket}`;
    const marker = L.marker(at, { icon: L.divIcon({ html: node, className: "mk", iconSize: [16, 16] }), bucket,
      people: (item.headcount && item.headcount.total) || 0, keyboard: true, title: item.name || "" });
    marker.node = node;
    marker.on("click", () => openPanel("shelter", key));
    return marker;
  }

  function updateShelter(marker, item) {
    const at = latlng(item.location);
    const bucket = unmetBucket(item.unmet_share);
    const moved = at && !marker.getLatLng().equals(at);
    const changed = bucket !== marker.options.bucket;
    marker.options.bucket = bucket;
    marker.options.people = (item.headcount && item.headcount.total) || 0;
    marker.options.title = item.name || "";
    marker.node.className = `shelter-dot u${bucket}`;
    if (moved) { layers.shelter.removeLayer(marker); marker.setLatLng(at); layers.shelter.addLayer(marker); }
    else if (changed) clustersDirty.add(marker);
  }
  const clustersDirty = new Set();
  let clustersDue = 0;

  function pointMarker(entity, item, key, cls, size) {
    const at = latlng(item.location);
    if (!at) return null;
    const node = iconNode(entity, key);
    node.className = cls;
    // warehouses, teams and incidents stay above the shelters' clusters
    const marker = L.marker(at, { icon: L.divIcon({ html: node, className: "mk", iconSize: [size, size] }), title: item.name || "", zIndexOffset: 1000 });
    marker.node = node;
    return marker;
  }

  function markerFor(entity, item, key) {
    if (entity === "shelter") return shelterMarker(item, key);
    if (entity === "incident") {
      const m = pointMarker(entity, item, key, `incident-dot s${Math.max(1, Math.min(5, item.severity || 1))}`, 22);
      if (m) m.bindTooltip(() => `${t(`type_${item.incident_type}`)} · ${t("severity")} ${item.severity} · ${t("displaced")} ${fmt(item.displaced, 0)}`);
      return m;
    }
    if (entity === "warehouse") {
      const m = pointMarker(entity, item, key, `warehouse-sq${item.released === false ? " locked" : ""}`, 16);
      if (m) m.on("click", () => openPanel("warehouse", key));
      return m;
    }
    if (entity === "team") {
      const at = latlng(item.location);
      const m = pointMarker(entity, item, key, `team-dia ${item.availability || ""}`, 16);
      if (!m) return null;
      m.on("click", () => openPanel("team", key));
      const group = L.layerGroup([m]);
      const to = item.assignment && latlng(item.assignment.location);
      if (to) group.addLayer(L.polyline([at, to], { color: "#6a1b9a", weight: 2, dashArray: "4 4", interactive: false, className: "assignment" }));
      group.node = m.node;
      return group;
    }
    return null;
  }

  function draw(entity, key) {
    const item = state[entity].get(key);
    if (entity === "shipment") { if (item) layers.shipment.set(key, item); else layers.shipment.remove(key); return; }
    const known = markers[entity];
    if (!known) return;
    const old = known.get(key);
    if (old && item && entity === "shelter") { updateShelter(old, item); return; }
    if (old) { layers[entity].removeLayer(old); known.delete(key); }
    const made = item ? markerFor(entity, item, key) : null;
    if (made) { layers[entity].addLayer(made); known.set(key, made); }
  }

  // ---- changes: applied once per animation frame, panels at most once a second
  function apply(entity, key, data, deleted) {
    if (!state[entity]) return;
    if (deleted) state[entity].delete(key); else state[entity].set(key, data);
    draw(entity, key);
  }

  function enqueue(msg) {
    const entity = msg.entity;
    if (!state[entity]) return;
    const key = msg.data && msg.data.province_code ? keyOf(entity, msg.data) : `${msg.province_code || ""}/${msg.id}`;
    pending.set(`${entity}|${key}`, { entity, key, data: msg.data, deleted: msg.deleted });
    if (!frameQueued) { frameQueued = true; requestAnimationFrame(flush); }
  }

  function flush() {
    frameQueued = false;
    const batch = [...pending.values()];
    pending.clear();
    let t0 = performance.now();
    for (const c of batch) {
      const before = state[c.entity].get(c.key);
      apply(c.entity, c.key, c.data, c.deleted);
      note(c.entity, c.key, c.data || before, c.deleted, before);
      live.applied += 1;
    }
    took("apply", t0);
    t0 = performance.now();
    if (clustersDirty.size && t0 >= clustersDue) {
      clustersDue = t0 + 1000;
      layers.shelter.refreshClusters([...clustersDirty]);
      clustersDirty.clear();
    } else if (clustersDirty.size) setTimeout(() => { if (!frameQueued) { frameQueued = true; requestAnimationFrame(flush); } }, clustersDue - t0 + 5);
    took("refreshClusters", t0);
    const now = performance.now();
    if (now >= panelsDue) { panelsDue = now + 1000; renderPanelsTimed(); }
    else setTimeout(() => { if (performance.now() >= panelsDue) { panelsDue = performance.now() + 1000; renderPanelsTimed(); } }, panelsDue - now + 5);
  }

  function note(entity, key, item, deleted, before) {
    if (!item || entity === "task") return;
    let what = deleted ? w("removed") : w("changed");
    if (entity === "shelter" && before && item.unmet_share !== before.unmet_share) what = `${t("unmet")} ${fmt((item.unmet_share || 0) * 100, 0)}%`;
    if (entity === "shelter" && before && (before.headcount || {}).total !== (item.headcount || {}).total) what = `${t("displaced")} ${fmt((item.headcount || {}).total, 0)}`;
    if (entity === "shipment") what = t(item.status);
    if (entity === "shortfall" && !deleted) what = `${itemName(item.item)} ${t("missing")} ${qty(item.missing, item.unit)}`;
    let kind = entity;
    if (entity === "shortfall" && item.decision && (!before || !before.decision || before.decision.version !== item.decision.version)) {
      kind = "decision"; what = `${w(`decision_${item.decision.decision}`)} · ${itemName(item.item)} · ${item.decision.note || ""}`;
    }
    timeline.unshift({ at: new Date(), entity: kind, key, province: item.province_code,
      kabupaten: item.kabupaten_code || (entity === "shortfall" ? (ref("shelter", item.province_code, item.shelter_id) || {}).kabupaten_code : null),
      name: displayName(entity, item), what });
    if (timeline.length > TIMELINE_MAX) timeline.length = TIMELINE_MAX;
  }

  function displayName(entity, item) {
    if (entity === "incident") return t(`type_${item.incident_type}`);
    if (entity === "shipment") return `${itemName(item.item)} → ${item.shelter_name || nameOf("shelter", item.province_code, item.shelter_id)}`;
    if (entity === "shortfall") return item.shelter_name || nameOf("shelter", item.province_code, item.shelter_id);
    return item.name || item[`${entity}_id`] || "";
  }

  // ---- panels
  function li(...children) { return el("li", {}, ...children); }
  function list(id, rows, render) {
    const ul = document.getElementById(id);
    ul.replaceChildren(...(rows.length ? rows.map(render) : [li(el("span", { class: "hint" }, t("none")))]));
  }
  const linkTo = (entity, item, label) => el("a", { href: "#", class: "open", "data-key": keyOf(entity, item),
    onclick: (e) => { e.preventDefault(); openPanel(entity, keyOf(entity, item)); } }, label);

  function renderPanelsTimed() { const t0 = performance.now(); renderPanels(); took("panels", t0); }

  function renderPanels() {
    const shipments = [...state.shipment.values()];
    const shortfalls = [...state.shortfall.values()];
    let displaced = 0;
    for (const s of state.shelter.values()) displaced += (s.headcount && s.headcount.total) || 0;
    const inFlight = shipments.filter((s) => IN_FLIGHT.has(s.status));
    const stat = (value, label) => el("div", {}, el("b", {}, fmt(value, 0)), el("small", {}, label));
    document.getElementById("summary").replaceChildren(
      stat(state.incident.size, t("incidents")), stat(state.shelter.size, t("shelters")), stat(displaced, t("displaced")),
      stat(shortfalls.length, w("shortfallsShort")), stat(inFlight.length, t("inFlight")), stat(state.team.size, t("teams")));
    renderDecisions(shortfalls);
    list("panel-inflight", inFlight.slice(0, 50), (s) => li(
      `${itemName(s.item)} ${qty(s.quantity, s.unit)} · `,
      `${s.warehouse_name || nameOf("warehouse", s.province_code, s.warehouse_id)} → ${s.shelter_name || nameOf("shelter", s.province_code, s.shelter_id)} `,
      el("span", { class: "pill" }, t(s.status)), s.eta_hours != null ? ` · ${t("eta")} ${fmt(s.eta_hours)}` : ""));
    const proposed = shipments.filter((s) => s.status === "proposed");
    list("panel-proposed", proposed.slice(0, 50), (s) => li(
      el("div", { class: "row" },
        el("span", {}, `${itemName(s.item)} ${qty(s.quantity, s.unit)} → ${s.shelter_name || nameOf("shelter", s.province_code, s.shelter_id)} `,
          s.held ? el("span", { class: "pill held" }, t("held")) : null),
        el("button", { type: "button", class: s.held ? "secondary" : "danger", onclick: () => hold(s, !s.held) }, t(s.held ? "release" : "hold")))));
    const incidents = [...state.incident.values()].sort((a, b) => String(b.reported_at || "").localeCompare(String(a.reported_at || "")));
    list("panel-incidents", incidents.slice(0, 50), (i) => li(
      el("b", {}, t(`type_${i.incident_type}`)), ` · ${t("severity")} ${i.severity} · ${t("displaced")} ${fmt(i.displaced, 0)} · ${kabupaten[i.kabupaten_code] || ""}`,
      el("div", { class: "hint" }, i.description || "")));
    fillSelect("task_id", [...state.task.values()].map((x) => [`${x.task_id}`, `${w(`task_${x.kind}`)} · ${nameOf("shelter", x.province_code, x.target_id)}`]));
    fillSelect("team_id", [...state.team.values()].map((x) => [x.team_id, `${x.name || x.team_id} (${w(`avail_${x.availability}`)})`]));
    renderTimeline();
    if (selected) renderDetail();
  }

  function renderDecisions(shortfalls) {
    const by = document.getElementById("group-by").value;
    const groups = new Map();
    for (const s of shortfalls) {
      const shelter = ref("shelter", s.province_code, s.shelter_id) || {};
      const kab = shelter.kabupaten_code || "";
      const gkey = by === "item" ? `${s.province_code}|${s.item}` : `${s.province_code}|${kab}`;
      if (!groups.has(gkey)) groups.set(gkey, { province: s.province_code, item: by === "item" ? s.item : null, kab: by === "item" ? null : kab, rows: [], missing: 0 });
      const g = groups.get(gkey);
      g.rows.push({ s, shelter });
      g.missing += s.missing || 0;
    }
    const sorted = [...groups.values()].sort((a, b) => b.rows.length - a.rows.length || b.missing - a.missing);
    list("panel-shortfalls", sorted.slice(0, 40), (g) => {
      const label = g.item ? itemName(g.item) : (kabupaten[g.kab] || t("none"));
      const units = new Set(g.rows.map((r) => r.s.unit));
      const total = units.size === 1 ? ` · ${t("missing")} ${qty(g.missing, [...units][0])}` : "";
      const decided = g.rows.filter((r) => r.s.decision).length;
      const details = el("details", { class: "group", "data-group": g.item || g.kab },
        el("summary", {}, el("b", {}, label), ` · ${g.rows.length} ${w("shelterCount")}${total}`,
          decided ? el("span", { class: "pill decided" }, `${decided}/${g.rows.length} ${w("decisions").toLowerCase()}`) : null),
        el("div", { class: "actions" },
          decisionButton("procurement_request", "requestProcurement", g),
          decisionButton("donor_request", "requestDonors", g),
          decisionButton("risk_accepted", "acceptRisk", g),
          g.kab ? el("button", { type: "button", class: "secondary", onclick: () => declare(g) }, w("declareEmergency")) : null),
        el("ul", {}, ...g.rows.sort((a, b) => (b.s.missing || 0) - (a.s.missing || 0)).slice(0, 30).map(({ s, shelter }) => li(
          shelter.name ? linkTo("shelter", shelter, shelter.name) : (s.shelter_name || "–"),
          ` · ${g.item ? "" : `${itemName(s.item)} `}${t("missing")} `, el("b", {}, `${qty(s.missing, s.unit)}`), " ",
          s.escalated ? el("span", { class: "pill escalated" }, w("escalatedNational")) : null,
          s.decision ? el("span", { class: "pill decided" }, w(`decision_${s.decision.decision}`)) : null,
          (s.why || s.explanation) ? el("div", { class: "hint" }, explain(s.why || s.explanation, { shelter: shelter.name })) : null))));
      const open = openGroups.has(g.item || g.kab);
      if (open) details.open = true;
      details.addEventListener("toggle", () => { if (details.open) openGroups.add(g.item || g.kab); else openGroups.delete(g.item || g.kab); });
      return li(details);
    });
  }
  const openGroups = new Set();

  function decisionButton(decision, labelKey, group) {
    return el("button", { type: "button", class: "secondary", "data-decision": decision, onclick: () => decide(decision, labelKey, group) }, w(labelKey));
  }

  function decide(decision, labelKey, group) {
    const dialog = document.getElementById("decision-dialog");
    const form = document.getElementById("decision-form");
    document.getElementById("decision-title").textContent = w(labelKey);
    const label = group.item ? itemName(group.item) : (kabupaten[group.kab] || "");
    document.getElementById("decision-what").textContent = `${label} · ${group.rows.length} ${w("shelterCount")}`;
    document.getElementById("decision-error").textContent = "";
    form.reset();
    form.onsubmit = async (e) => {
      e.preventDefault();
      const note = new FormData(form).get("note").trim();
      if (!note) { document.getElementById("decision-error").textContent = w("noteRequired"); return; }
      // one request per item (a group by kabupaten can hold several items)
      const byItem = new Map();
      for (const { s } of group.rows) {
        const k = `${s.province_code}|${s.item}`;
        if (!byItem.has(k)) byItem.set(k, { province_code: s.province_code, item: s.item, shelter_ids: [] });
        byItem.get(k).shelter_ids.push(s.shelter_id);
      }
      try {
        for (const body of byItem.values()) {
          await api("/api/v1/shortfalls/decisions", { method: "POST", body: { event_id: Siaga.uuid4(), decision, note, ...body } });
        }
        dialog.close();
        toast(t("accepted"));
      } catch (err) { document.getElementById("decision-error").textContent = `${t("error")}: ${Siaga.describeDetail(err.detail || err.message)}`; }
    };
    document.getElementById("decision-cancel").onclick = () => dialog.close();
    dialog.showModal();
  }

  async function declare(group) {
    const declaredBy = window.prompt(`${w("declareEmergency")} · ${kabupaten[group.kab] || ""}`);
    if (!declaredBy) return;
    try {
      await api("/api/v1/emergencies", { method: "POST", body: { event_id: Siaga.uuid4(), declaration_id: `darurat-${group.kab}-${Date.now()}`,
        province_code: group.province, kabupaten_code: group.kab || null, declared_by: declaredBy } });
      toast(t("accepted"));
    } catch (err) { toast(`${t("error")}: ${Siaga.describeDetail(err.detail || err.message)}`); }
  }

  function renderTimeline() {
    const entity = document.getElementById("timeline-entity").value;
    const text = document.getElementById("timeline-text").value.trim().toLowerCase();
    const rows = timeline.filter((r) => (!entity || r.entity === entity) && (!text || String(r.name).toLowerCase().includes(text) || String(r.what).toLowerCase().includes(text)));
    list("panel-timeline", rows.slice(0, 60), (r) => el("li", { "data-entity": r.entity },
      el("small", {}, r.at.toLocaleTimeString(Siaga.lang === "en" ? "en-GB" : "id-ID")), " ",
      el("span", { class: "pill" }, w(`entity_${r.entity}`)), " ", el("b", {}, r.name), ` · ${r.what}`,
      r.kabupaten && kabupaten[r.kabupaten] ? el("span", { class: "hint" }, ` · ${kabupaten[r.kabupaten]}`) : null));
  }

  // ---- the panel of one shelter, warehouse or team
  function openPanel(entity, key) {
    selected = { entity, key };
    renderDetail();
    document.getElementById("detail").hidden = false;
    document.getElementById("detail").scrollIntoView({ block: "nearest" });
  }

  function table(headers, rows) {
    return el("table", {}, el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", {}, h)))),
      el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c))))));
  }

  function renderDetail() {
    const { entity, key } = selected;
    const item = state[entity].get(key);
    const body = document.getElementById("detail-body");
    const section = document.getElementById("detail");
    section.dataset.entity = entity;
    section.dataset.key = key;
    if (!item) { document.getElementById("detail-title").textContent = t("none"); body.replaceChildren(); return; }
    document.getElementById("detail-title").textContent = item.name || "–";
    const parts = [];
    const where = [kabupaten[item.kabupaten_code], provinceName(item.province_code)].filter(Boolean).join(", ");
    if (where) parts.push(el("p", { class: "hint" }, where));
    if (entity === "shelter") {
      const h = item.headcount || {};
      parts.push(el("p", { class: "headcount" }, el("b", {}, `${t("displaced")}: ${fmt(h.total || 0, 0)}`),
        ` · ${t("unmet")} ${fmt((item.unmet_share || 0) * 100, 0)}%`));
      parts.push(el("p", { class: "hint" }, `${w("groups")}: ${t("infants")} ${fmt(h.infants || 0, 0)} · ${t("children")} ${fmt(h.children || 0, 0)} · ${t("elderly")} ${fmt(h.elderly || 0, 0)} · ${t("pregnant")} ${fmt(h.pregnant_lactating || 0, 0)} · ${t("disabled")} ${fmt(h.disabled || 0, 0)}`));
      const needs = item.needs || [];
      parts.push(table([t("item"), w("need"), w("planned"), w("inTransit"), w("deliveredShort"), w("shortfall")],
        needs.map((n) => [itemName(n.item), qty(n.need, n.unit), fmt(n.planned), fmt(n.in_transit), fmt(n.delivered), n.shortfall ? el("b", { class: "short" }, fmt(n.shortfall)) : "0"])));
      const id = item.shelter_id;
      const lacks = [...state.shortfall.values()].filter((s) => s.shelter_id === id && s.province_code === item.province_code);
      for (const s of lacks) {
        parts.push(el("div", { class: "explain" }, el("b", {}, `${itemName(s.item)}: ${t("missing")} ${qty(s.missing, s.unit)}`),
          s.decision ? el("span", { class: "pill decided" }, ` ${w(`decision_${s.decision.decision}`)} · ${s.decision.note || ""}`) : null,
          (s.why || s.explanation) ? el("div", { class: "hint" }, explain(s.why || s.explanation, { shelter: item.name })) : null));
      }
      const mine = [...state.shipment.values()].filter((s) => s.shelter_id === id && s.province_code === item.province_code);
      parts.push(el("h3", {}, t("shipments")));
      parts.push(mine.length ? el("ul", {}, ...mine.slice(0, 40).map((s) => li(`${itemName(s.item)} ${qty(s.quantity, s.unit)} · ${s.warehouse_name || nameOf("warehouse", s.province_code, s.warehouse_id)} `,
        el("span", { class: "pill" }, t(s.status)), (s.why || s.explanation) ? el("div", { class: "hint" }, explain(s.why || s.explanation, { shelter: item.name, warehouse: s.warehouse_name })) : null))) : el("p", { class: "hint" }, t("none")));
      const teams = [...state.team.values()].filter((x) => x.assignment && x.assignment.target_id === id && x.province_code === item.province_code);
      parts.push(el("h3", {}, t("teams")));
      parts.push(teams.length ? el("ul", {}, ...teams.map((x) => li(linkTo("team", x, x.name || "–"), ` · ${w(`task_${x.assignment.kind}`)}`,
        x.assignment.eta_hours != null ? ` · ${t("eta")} ${fmt(x.assignment.eta_hours)}` : "", " ", loop(x.assignment.status)))) : el("p", { class: "hint" }, t("none")));
    } else if (entity === "warehouse") {
      parts.push(el("p", {}, `${t(`kind_${item.kind}`)}${item.released === false ? ` · ${w("locked")}` : ""}`));
      parts.push(table([t("item"), w("onHand"), w("reserved"), w("inTransit")],
        (item.stock || []).map((s) => [itemName(s.item), qty(s.on_hand, s.unit), fmt(s.reserved), fmt(s.in_transit)])));
      const out = [...state.shipment.values()].filter((s) => s.warehouse_id === item.warehouse_id && s.province_code === item.province_code && s.status !== "delivered");
      parts.push(el("h3", {}, t("shipments")));
      parts.push(out.length ? el("ul", {}, ...out.slice(0, 40).map((s) => li(`${itemName(s.item)} ${qty(s.quantity, s.unit)} → ${s.shelter_name || nameOf("shelter", s.province_code, s.shelter_id)} `,
        el("span", { class: "pill" }, t(s.status))))) : el("p", { class: "hint" }, t("none")));
    } else if (entity === "team") {
      parts.push(el("p", {}, `${w("members")}: ${fmt(item.members, 0)} · ${w("availability")}: ${w(`avail_${item.availability}`)}`));
      if (item.skills && item.skills.length) parts.push(el("p", { class: "hint" }, `${w("skills")}: ${item.skills.join(", ")}`));
      const a = item.assignment;
      if (a) {
        const target = ref("shelter", item.province_code, a.target_id);
        parts.push(el("p", {}, `${w("assignment")}: ${w(`task_${a.kind}`)} → `, target ? linkTo("shelter", target, target.name) : incidentLabel(ref("incident", item.province_code, a.target_id)),
          a.eta_hours != null ? ` · ${t("eta")} ${fmt(a.eta_hours)}` : "", " ", loop(a.status)));
      }
    }
    body.replaceChildren(...parts);
  }

  const incidentLabel = (i) => (i ? `${t(`type_${i.incident_type}`)}${kabupaten[i.kabupaten_code] ? ` · ${kabupaten[i.kabupaten_code]}` : ""}` : "–");

  let provinces = {};
  const provinceName = (code) => provinces[code] || "";

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

  // ---- the operation: where the incidents and shelters are
  function operationBounds() {
    const points = [];
    for (const entity of ["incident", "shelter"]) for (const x of state[entity].values()) { const at = latlng(x.location); if (at) points.push(at); }
    return points.length ? L.latLngBounds(points) : L.latLngBounds(INDONESIA);
  }
  function fitOperation() {
    const b = operationBounds();
    map.fitBounds(b.pad(0.15), { maxZoom: 11, animate: false });
  }

  async function loadSnapshot() {
    const snapshot = await api("/api/v1/situation?limit=20000");
    timings.snapshotFetched = Math.round(performance.now());
    for (const entity of ENTITIES) {
      state[entity].clear();
      if (markers[entity]) { layers[entity].clearLayers(); markers[entity].clear(); }
      if (entity === "shipment") layers.shipment.clear();
      for (const item of snapshot[`${entity}s`] || []) state[entity].set(keyOf(entity, item), item);
    }
    // shelters go into the cluster group in one call (chunked: the page stays responsive)
    const shelters = [];
    for (const [key, item] of state.shelter) { const m = shelterMarker(item, key); if (m) { markers.shelter.set(key, m); shelters.push(m); } }
    layers.shelter.addLayers(shelters);
    for (const entity of ["incident", "warehouse", "team", "shipment"]) for (const key of state[entity].keys()) draw(entity, key);
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
      enqueue(msg);
    });
    source.addEventListener("reset", async () => { source.close(); await loadSnapshot(); connect(); });
    source.addEventListener("error", () => {
      setStatus("reconnecting");
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 3000);
    });
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
    document.getElementById("csv-shelters").href = "/api/v1/export/shelters.csv";
    document.getElementById("csv-needs").href = "/api/v1/export/needs.csv";
    document.getElementById("csv-stock").href = "/api/v1/export/stock.csv";
    document.getElementById("json-situation").href = "/api/v1/situation";
    document.getElementById("detail-close").addEventListener("click", () => { selected = null; document.getElementById("detail").hidden = true; });
    document.getElementById("group-by").addEventListener("change", () => { openGroups.clear(); renderPanels(); });
    document.getElementById("timeline-entity").addEventListener("change", renderTimeline);
    document.getElementById("timeline-text").addEventListener("input", renderTimeline);
    document.getElementById("fit-operation").addEventListener("click", fitOperation);
    for (const box of document.querySelectorAll("#legend input[data-layer]")) {
      box.addEventListener("change", () => toggle(layers[box.dataset.layer], box.checked));
    }
  }

  function applyWords() {
    for (const node of document.querySelectorAll("[data-i18n]")) if (WORDS.id[node.dataset.i18n] !== undefined) node.textContent = w(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-placeholder]")) if (WORDS.id[node.dataset.i18nPlaceholder] !== undefined) node.placeholder = w(node.dataset.i18nPlaceholder);
  }

  async function main() {
    const status = el("span", { id: "live-status", class: "status" }, "…");
    document.body.prepend(Siaga.header("dashboard", status));
    Siaga.applyI18n();
    applyWords();
    await Siaga.whoami();
    const signedIn = performance.now();
    document.getElementById("app").hidden = false;
    wireForms();
    document.addEventListener("siaga:lang", () => { applyWords(); renderPanels(); setStatus(live.connected ? "live" : "reconnecting"); });
    const [basemap] = await Promise.all([
      fetch("/static/basemap/indonesia.json").then((r) => r.json()),
      Siaga.loadItems(),
    ]);
    for (const f of basemap.features) if (f.properties.layer === "province") provinces[f.properties.code] = f.properties.name;
    timings.signedIn = Math.round(signedIn);
    buildMap(basemap);
    timings.baseMap = Math.round(performance.now());
    await loadSnapshot();
    fitOperation();
    timings.snapshot = Math.round(performance.now());
    connect();
    document.body.dataset.ready = "1";
  }

  document.addEventListener("DOMContentLoaded", () => {
    main().catch((err) => { document.body.append(el("p", { class: "error" }, `${t("error")}: ${err.message}`)); });
  });
})();
