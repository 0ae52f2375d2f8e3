/* Coordinators' live dashboard on Leaflet (vendored, see api/vendor.py): a base map from
   Siaga's own geo data (no tiles), clustered shelters coloured by unmet share, warehouses
   with their stock, teams, public kitchens and proposals to open one, shipments as lines on
   a canvas, a panel per shelter/warehouse/team/kitchen, decisions on shortfalls grouped by
   item or kabupaten (with the holds, overrides and declarations that act on them), the
   TAGANA tasks' loop, and a timeline of changes served by the API. Live through SSE.
   Entities are keyed `province_code/id` (ids are unique only within a province). */
"use strict";

(() => {
  const { t, api, el, fmt } = Siaga;
  const ENTITIES = ["incident", "shelter", "warehouse", "team", "shipment", "shortfall", "task", "kitchen", "kitchen_proposal"];
  // first paint: what the map and the province's picture need; shipments and shortfalls
  // (the bulk of a national operation) follow in a second request
  const FIRST = ["incident", "shelter", "warehouse", "team", "task", "kitchen", "kitchen_proposal"];
  const REST = ["shipment", "shortfall"];
  const state = Object.fromEntries(ENTITIES.map((e) => [e, new Map()]));
  const IN_FLIGHT = new Set(["confirmed", "dispatched"]);
  const OPEN_SHIPMENTS = new Set(["proposed", "confirmed", "dispatched"]);
  // delivered shipments are history (listed in the shelter's panel), not lines on the map
  const DRAWN_SHIPMENTS = OPEN_SHIPMENTS;
  const SHIPMENT_COLOURS = { proposed: "#6b7a90", confirmed: "#e08a00", dispatched: "#00838f", delivered: "#2e7d32", held: "#c62828" };
  const INDONESIA = [[-11.5, 94], [6.5, 142]];
  const TIMELINE_MAX = 1000;
  const TIMELINE_PAGE = 100;
  const DECISION_BATCH = 500; // POST /shortfalls/decisions takes at most 500 shelters
  const KITCHEN_ITEM = "portions"; // a kitchen's capacity shortfall (streams/kitchen_planning.py)
  const LOOP_STEPS = ["dispatched", "acknowledged", "en_route", "arrived", "done"];
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
      entity_decision: "Keputusan", entity_incident: "Kejadian", entity_shelter: "Pengungsian", entity_warehouse: "Gudang", entity_team: "Tim",
      entity_shipment: "Pengiriman", entity_shortfall: "Kekurangan", entity_task: "Tugas", entity_kitchen: "Dapur umum",
      entity_kitchen_proposal: "Usulan dapur", noExplanation: "",
      withStock: "(arahkan penunjuk: stok)", kitchens: "Dapur umum", byLoad: "(warna: beban)", kitchenProposals: "Usulan dapur umum baru",
      findShelter: "Cari pengungsian menurut nama", noMatch: "Tidak ada pengungsian dengan nama itu.",
      loadingRest: "Memuat pengiriman dan kekurangan…", tasksTitle: "Tugas TAGANA",
      tasksHint: "Setiap langkah yang dilaporkan tim: diterima → berangkat → tiba → selesai (atau ditolak dengan alasan, atau tidak dijawab).",
      allProvinces: "Semua provinsi", allKabupaten: "Semua kabupaten/kota", from: "Dari", to: "Sampai", more: "Lebih banyak",
      reachesBack: "Linimasa dari server; mencakup perubahan sejak", timelineError: "Linimasa tidak dapat dimuat",
      kitchenCapacity: "Kapasitas dapur umum", portionsPerDay: "porsi/hari", capacity: "Kapasitas", portionsNeeded: "Dibutuhkan",
      cooked: "Dimasak", load: "Beban", peopleServed: "orang dilayani", sheltersServed: "Pengungsian yang dilayani",
      servedTitle: "Porsi tersaji", ingredients: "Bahan masakan", missingShort: "Kurang", source: "Sumber angka",
      runBy: "Dijalankan oleh", units: "Unit Dumlap", addUnits: "Tambah unit Dumlap", approve: "Setujui", approved: "Disetujui, menunggu rencana berikutnya",
      proposalCovers: "akan memasak", dumlapFrom: "Unit Dumlap dari", teamToRun: "Tim pelaksana", noProposal: "Belum ada usulan dapur umum baru.",
      noKitchenShort: "Tidak ada usulan: tambah unit Dumlap pada dapur yang ada, atau siapkan unit Dumlap dan tim dapur umum.",
      cookedBy: "dimasak oleh", kitchenAddUnitsWhat: "Koreksi dapur: jumlah unit Dumlap",
      holdAll: "Tahan usulan pengiriman", releaseAll: "Lepas tahanan", shipmentsForThis: "Pengiriman untuk kekurangan ini",
      tasksHere: "Tim dan tugas di lokasi ini", override: "Ubah penugasan", task: "Tugas", team: "Tim", reason: "Alasan",
      assign: "Tugaskan", unassign: "Lepaskan", actionLabel: "Tindakan", tierNational: "tingkat nasional", tierProvince: "tingkat provinsi",
      escalationSummary: "Dieskalasi ke tingkat nasional", nationalProposed: "usulan tingkat nasional",
      escalationNoGate: "Tingkat nasional merencanakan otomatis dari gudang regional dan tim provinsi lain; tahan usulannya atau ubah penugasan bila tidak disetujui.",
      declaredBy: "Ditetapkan oleh (mis. Bupati Cianjur)", reference: "Nomor surat keputusan", area: "Wilayah", wholeProvince: "Seluruh provinsi",
      lumbungLocked: "Stok Lumbung Sosial di sini baru dapat dipakai setelah status tanggap darurat ditetapkan untuk",
      blockedHere: "tertahan aturan", expiresSoon: "kedaluwarsa < 75 hari", batches: "batch", nearestExpiry: "kedaluwarsa terdekat",
      outgoing: "Pengiriman keluar", hoursOnDuty: "Jam bertugas", present: "hadir", rank: "Tingkat", history: "Riwayat tugas",
      eta: "perkiraan tiba", hours: "jam", stepAt: "pukul", tier: "Tingkat penugasan", why: "Keterangan",
      noTasks: "Belum ada tugas.", status: "Status", served: "dilayani dapur umum", site: "Lokasi",
      proposalShelters: "Pengungsian yang akan dilayani", teams: "Tim TAGANA", kitchenLabel: "Dapur umum",
      needNoShipment: "belum ada pengiriman yang direncanakan", plannedFrom: "direncanakan dari",
      area_kab: "Kabupaten/kota", timedOutReason: "tidak menjawab dalam 15 menit; ditugaskan ulang",
      removedTask: "tugas ditutup", mobilised: "dimobilisasi dari provinsi lain", decisionsSplit: "permintaan",
      awaitingApproval: "menunggu persetujuan", awaitingTitle: "Menunggu persetujuan", approveAll: "Setujui semua", declineAll: "Tolak semua", decline: "Tolak",
      gate_approved: "disetujui", gate_declined: "ditolak", gate_awaiting: "menunggu persetujuan",
      gateHint: "Tingkat nasional mengusulkan kiriman dari gudang regional dan tim dari provinsi lain; keduanya baru berjalan setelah disetujui koordinator provinsi ini.",
      approveGate: "Setujui kiriman tingkat nasional", declineGate: "Tolak kiriman tingkat nasional",
      gateNote: "Catatan (tidak wajib)", gateReason: "Alasan menolak (tingkat nasional tidak mengusulkannya lagi sampai kebutuhan naik seperempat)",
      gateReasonRequired: "Tulis alasan menolak.", decidedPending: "terkirim, menunggu rencana berikutnya",
      nationalDeclined: "Bantuan tingkat nasional ditolak", nationalTeams: "Tim dimobilisasi tingkat nasional",
      shipmentsWord: "pengiriman", teamsWord: "tim", mobilisationAwaiting: "Diusulkan tingkat nasional untuk", awaitsProvince: "menunggu persetujuan provinsi tujuan" },
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
      entity_decision: "Decision", entity_incident: "Incident", entity_shelter: "Shelter", entity_warehouse: "Warehouse", entity_team: "Team",
      entity_shipment: "Shipment", entity_shortfall: "Shortfall", entity_task: "Task", entity_kitchen: "Public kitchen",
      entity_kitchen_proposal: "Kitchen proposal", noExplanation: "",
      withStock: "(hover: stock)", kitchens: "Public kitchens", byLoad: "(colour: load)", kitchenProposals: "Proposed new kitchens",
      findShelter: "Find a shelter by name", noMatch: "No shelter by that name.",
      loadingRest: "Loading shipments and shortfalls…", tasksTitle: "TAGANA tasks",
      tasksHint: "Each step a team reports: acknowledged → on the way → arrived → done (or declined with a reason, or not answered).",
      allProvinces: "All provinces", allKabupaten: "All kabupaten/cities", from: "From", to: "To", more: "More",
      reachesBack: "Timeline from the server; it reaches back to", timelineError: "The timeline could not be loaded",
      kitchenCapacity: "Public kitchen capacity", portionsPerDay: "portions/day", capacity: "Capacity", portionsNeeded: "Needed",
      cooked: "Cooked", load: "Load", peopleServed: "people served", sheltersServed: "Shelters served",
      servedTitle: "Portions served", ingredients: "Ingredients", missingShort: "Missing", source: "Source of the figure",
      runBy: "Run by", units: "Field-kitchen units", addUnits: "Add field-kitchen units", approve: "Approve", approved: "Approved, awaiting the next plan",
      proposalCovers: "would cook", dumlapFrom: "Field-kitchen unit from", teamToRun: "Team to run it", noProposal: "No proposal to open a kitchen.",
      noKitchenShort: "No proposal: add units to the running kitchens, or make a field-kitchen unit and a kitchen team available.",
      cookedBy: "cooked by", kitchenAddUnitsWhat: "Correct the kitchen: field-kitchen units",
      holdAll: "Hold the proposed shipments", releaseAll: "Release the holds", shipmentsForThis: "Shipments for this shortfall",
      tasksHere: "Teams and tasks here", override: "Override dispatch", task: "Task", team: "Team", reason: "Reason",
      assign: "Assign", unassign: "Release", actionLabel: "Action", tierNational: "national tier", tierProvince: "province tier",
      escalationSummary: "Escalated to the national tier", nationalProposed: "national tier proposal",
      escalationNoGate: "The national tier plans by itself from regional warehouses and other provinces' teams; hold its proposals or override a dispatch if you do not approve.",
      declaredBy: "Declared by (e.g. Bupati Cianjur)", reference: "Decree number", area: "Area", wholeProvince: "Whole province",
      lumbungLocked: "Lumbung Sosial stock here can be used once an emergency is declared for",
      blockedHere: "held back by rules", expiresSoon: "expires within 75 days", batches: "batches", nearestExpiry: "nearest expiry",
      outgoing: "Outgoing shipments", hoursOnDuty: "Hours on duty", present: "present", rank: "Rank", history: "Task history",
      eta: "ETA", hours: "h", stepAt: "at", tier: "Tier", why: "Why",
      noTasks: "No tasks yet.", status: "Status", served: "served by a public kitchen", site: "Site",
      proposalShelters: "Shelters it would serve", teams: "TAGANA teams", kitchenLabel: "Public kitchen",
      needNoShipment: "no shipment planned yet", plannedFrom: "planned from",
      area_kab: "Kabupaten/city", timedOutReason: "no answer within 15 minutes; dispatched again",
      removedTask: "task closed", mobilised: "mobilised from another province", decisionsSplit: "requests",
      awaitingApproval: "awaiting approval", awaitingTitle: "Awaiting approval", approveAll: "Approve all", declineAll: "Decline all", decline: "Decline",
      gate_approved: "approved", gate_declined: "declined", gate_awaiting: "awaiting approval",
      gateHint: "The national tier proposes shipments from regional warehouses and teams from other provinces; they go only once a coordinator of this province approves them.",
      approveGate: "Approve what the national tier sends", declineGate: "Decline what the national tier sends",
      gateNote: "Note (optional)", gateReason: "Why you decline (the national tier does not propose it again until the need grows by a quarter)",
      gateReasonRequired: "Write why you decline.", decidedPending: "sent, awaiting the next plan",
      nationalDeclined: "National help declined", nationalTeams: "Teams mobilised by the national tier",
      shipmentsWord: "shipments", teamsWord: "teams", mobilisationAwaiting: "Proposed by the national tier for", awaitsProvince: "awaiting the receiving province's approval" },
  };
  const w = (key) => (WORDS[Siaga.lang] || WORDS.id)[key] ?? WORDS.id[key] ?? t(key);
  const nm = (table, code) => Siaga.nameOf(table, code);
  const TASK_KIND = {
    id: { evacuation: "Evakuasi", public_kitchen: "Dapur umum", shelter_setup: "Pendirian tempat pengungsian", psychosocial_support: "Dukungan psikososial" },
    en: { evacuation: "Evacuation", public_kitchen: "Public kitchen", shelter_setup: "Shelter set-up", psychosocial_support: "Psychosocial support" },
  };
  const taskKind = (kind) => ((TASK_KIND[Siaga.lang] || TASK_KIND.id)[kind]) || TASK_KIND.id[kind] || nm("skill", kind);
  const loop = (status) => el("span", { class: `pill loop loop-${status || "none"}`, dataset: { loop: status || "" } }, nm("loop", status));
  let kabupaten = {}; // kabupaten code -> name (from the base map)
  let provinces = {};
  const provinceName = (code) => provinces[code] || "";
  // item and unit names come from common.js (GET /api/v1/items): names, never codes
  const itemName = (code) => (code === KITCHEN_ITEM ? w("kitchenCapacity") : Siaga.itemName(code));
  const qty = (n, unit) => Siaga.qty(n, unit);
  const explain = (x, names) => Siaga.explain(x, Siaga.lang, names);
  const clock = (iso) => { const d = new Date(iso); return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString(Siaga.lang === "en" ? "en-GB" : "id-ID", { hour: "2-digit", minute: "2-digit" }); };

  let cursor = "0-0";
  let source = null;
  let map = null;
  const layers = {};
  const markers = { incident: new Map(), shelter: new Map(), warehouse: new Map(), team: new Map(), kitchen: new Map(), kitchen_proposal: new Map() };
  let timeline = []; // rows, newest first: from the server on load, live changes on top
  const timelineSeqs = new Set();
  let timelineCursor = null;
  let timelineShown = 100; // rows shown; "more" shows (and if needed loads) another page
  let selected = null; // {entity, key}
  const live = { received: 0, applied: 0, connected: false };
  const pending = new Map(); // key "entity|key" -> change, applied once per frame
  let frameQueued = false;
  let holdChanges = false; // while the second half of the snapshot loads
  let panelsDue = 0;
  const versions = Object.fromEntries(ENTITIES.map((e) => [e, 0])); // changes applied per entity
  const endedTasks = new Map(); // tasks whose read model went away: their last state stays listed
  const approvedProposals = new Set();
  const gateSent = new Map(); // "province/shipment" or "province/task|team" -> decision sent, until the read model says so
  const prof = {}; // ms spent per step (the browser test prints it)
  const took = (name, t0) => { const p = prof[name] || (prof[name] = { n: 0, ms: 0, max: 0 }); const d = performance.now() - t0; p.n += 1; p.ms = Math.round(p.ms + d); p.max = Math.max(p.max, Math.round(d)); };
  const timings = {}; // ms since navigation: when the base map, the first picture, everything and the live feed were up
  const posted = []; // requests this page sent (the browser tests read them)
  window.siagaDashboard = { state, live, markers, get timeline() { return timeline; }, timings, prof, posted, get map() { return map; }, get shipmentLines() { return layers.shipment; }, layers, keyOf, unmetBucket, findShelter };

  function idOf(entity, item) {
    if (entity === "kitchen_proposal") return (item.site && item.site.site_id) || (item.proposal_id ? String(item.proposal_id).split(":").pop() : "blocked");
    return item[`${entity}_id`] || item.id;
  }
  function keyOf(entity, item) { return `${item.province_code || ""}/${idOf(entity, item)}`; }
  const ref = (entity, province, id) => state[entity].get(`${province || ""}/${id}`);
  function nameOf(entity, province, id) {
    if (!id) return "–";
    let x = ref(entity, province, id);
    if (!x && entity === "warehouse") {
      // a national-tier shipment comes from another province's warehouse
      for (const v of state.warehouse.values()) if (v.warehouse_id === id) { x = v; break; }
    }
    if (!x && entity === "shelter") x = ref("kitchen", province, id); // a kitchen receives ingredients
    return (x && x.name) || "–";
  }
  // what a task or an assignment is about: a shelter, a kitchen or an incident
  function targetOf(province, id) {
    const shelter = ref("shelter", province, id);
    if (shelter) return { entity: "shelter", item: shelter, name: shelter.name || "–" };
    const kitchen = ref("kitchen", province, id);
    if (kitchen) return { entity: "kitchen", item: kitchen, name: kitchen.name || "–" };
    const incident = ref("incident", province, id);
    if (incident) return { entity: "incident", item: incident, name: incidentLabel(incident) };
    return { entity: null, item: null, name: "–" };
  }
  const targetLabel = (province, id) => { const x = targetOf(province, id); return x.entity && x.entity !== "incident" ? linkTo(x.entity, x.item, x.name) : x.name; };
  const latlng = (loc) => loc && Number.isFinite(loc.lat) && Number.isFinite(loc.lon) ? [loc.lat, loc.lon] : null;
  function unmetBucket(share) {
    const s = Math.max(0, Math.min(1, Number(share) || 0));
    return s <= 0.05 ? 0 : s < 0.25 ? 1 : s < 0.5 ? 2 : s < 0.75 ? 3 : 4;
  }
  const kitchenBucket = (k) => { const s = Number(k.load_share); return !Number.isFinite(s) ? 0 : s <= 0.9 ? 0 : s <= 1 ? 2 : 4; };

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
    layers.kitchen = L.layerGroup();
    layers.kitchen_proposal = L.layerGroup();
    layers.shelter = L.markerClusterGroup({
      maxClusterRadius: 45, chunkedLoading: true, chunkInterval: 100, showCoverageOnHover: false,
      spiderfyOnMaxZoom: true, disableClusteringAtZoom: 13, animate: false,
      iconCreateFunction: clusterIcon,
    });
    layers.incident = L.layerGroup();
    for (const name of ["shipment", "team", "warehouse", "kitchen_proposal", "kitchen", "shelter", "incident"]) layers[name].addTo(map);
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
    world(at) { const p = L.CRS.EPSG3857.projection.project(L.latLng(at)); return [p.x, p.y]; },
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
      const wd = size.x, ht = size.y;
      const byStyle = { proposed: [], confirmed: [], dispatched: [], held: [] };
      for (const line of this.lines.values()) {
        const x1 = X(line.a[0]), y1 = Y(line.a[1]), x2 = X(line.b[0]), y2 = Y(line.b[1]);
        if ((x1 < 0 && x2 < 0) || (x1 > wd && x2 > wd) || (y1 < 0 && y2 < 0) || (y1 > ht && y2 > ht)) continue;
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
    marker.node.className = `shelter-dot u${bucket}${marker.node.classList.contains("found") ? " found" : ""}`;
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
    // warehouses, teams, kitchens and incidents stay above the shelters' clusters
    const marker = L.marker(at, { icon: L.divIcon({ html: node, className: "mk", iconSize: [size, size] }), title: item.name || "", zIndexOffset: 1000 });
    marker.node = node;
    return marker;
  }

  /** A warehouse's stock in a few words: "Beras 25.000 kg · Tenda keluarga 120 buah". */
  function stockLine(item, max) {
    const rows = (item.stock || []).filter((s) => (s.on_hand || 0) > 0).sort((a, b) => (b.on_hand || 0) - (a.on_hand || 0));
    const shown = rows.slice(0, max || 4).map((s) => `${itemName(s.item)} ${qty(s.on_hand, s.unit)}`);
    if (rows.length > shown.length) shown.push(`+${rows.length - shown.length}`);
    return shown.length ? shown.join(" · ") : t("none");
  }
  const kitchenLine = (k) => `${fmt(k.capacity_per_day, 0)} ${w("portionsPerDay")} · ${w("portionsNeeded").toLowerCase()} ${fmt(k.portions_needed_per_day, 0)}${k.load_share != null ? ` · ${w("load").toLowerCase()} ${fmt(k.load_share * 100, 0)}%` : ""}`;

  function markerFor(entity, item, key) {
    if (entity === "shelter") return shelterMarker(item, key);
    if (entity === "incident") {
      const m = pointMarker(entity, item, key, `incident-dot s${Math.max(1, Math.min(5, item.severity || 1))}`, 22);
      if (m) m.bindTooltip(() => `${t(`type_${item.incident_type}`)} · ${t("severity")} ${item.severity} · ${t("displaced")} ${fmt(item.displaced, 0)}`);
      return m;
    }
    if (entity === "warehouse") {
      const m = pointMarker(entity, item, key, `warehouse-sq${item.released === false ? " locked" : ""}`, 16);
      if (!m) return null;
      m.on("click", () => openPanel("warehouse", key));
      // its stock where the coordinator looks: on the marker's tooltip
      m.bindTooltip(() => { const x = state.warehouse.get(key) || item; return `<b>${escapeHtml(x.name || "–")}</b><br>${escapeHtml(stockLine(x))}`; }, { className: "stock-tip" });
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
    if (entity === "kitchen") {
      const m = pointMarker(entity, item, key, `kitchen-mk u${kitchenBucket(item)}${item.status === "closed" ? " closed" : ""}`, 20);
      if (!m) return null;
      m.on("click", () => openPanel("kitchen", key));
      m.bindTooltip(() => { const x = state.kitchen.get(key) || item; return `<b>${escapeHtml(x.name || "–")}</b><br>${escapeHtml(kitchenLine(x))}`; });
      return m;
    }
    if (entity === "kitchen_proposal") {
      if (!item.site) return null;
      const m = pointMarker(entity, item, key, "proposal-mk", 22);
      if (!m) return null;
      m.on("click", () => openPanel("kitchen_proposal", key));
      m.bindTooltip(() => `${w("kitchenProposals")}: ${escapeHtml(item.site.name || "")} · ${fmt(item.portions_covered_per_day, 0)} ${w("portionsPerDay")}`);
      return m;
    }
    return null;
  }
  function escapeHtml(text) { return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c])); }

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
    versions[entity] += 1;
    if (deleted) {
      const before = state[entity].get(key);
      if (entity === "task" && before && (before.teams || []).length) endedTasks.set(key, before);
      state[entity].delete(key);
    } else {
      state[entity].set(key, data);
      if (entity === "task") endedTasks.delete(key);
    }
    draw(entity, key);
  }

  function enqueue(msg) {
    const entity = msg.entity;
    if (!state[entity]) return;
    const province = msg.province_code || (msg.data && msg.data.province_code) || "";
    const key = `${province}/${msg.id}`;
    const queued = pending.get(`${entity}|${key}`);
    // a change that stays queued keeps the state before the first of them (for the timeline)
    pending.set(`${entity}|${key}`, { entity, key, data: msg.data, deleted: msg.deleted, seq: msg.seq, first: queued ? queued.first : msg.seq });
    if (!frameQueued && !holdChanges) { frameQueued = true; requestAnimationFrame(flush); }
  }

  function flush() {
    frameQueued = false;
    if (holdChanges) return;
    const batch = [...pending.values()];
    pending.clear();
    let t0 = performance.now();
    for (const c of batch) {
      const before = state[c.entity].get(c.key);
      apply(c.entity, c.key, c.data, c.deleted);
      note(c.entity, c.key, c.data || before, c.deleted, before, c.seq);
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

  // ---- the timeline: rows from the server (GET /api/v1/timeline) and live changes on top,
  // described the same way (what changed between the entity's state before and after)
  function kabupatenOf(entity, item) {
    if (!item) return null;
    if (item.kabupaten_code) return item.kabupaten_code;
    const province = item.province_code;
    const ids = entity === "task" ? [item.target_id] : entity === "kitchen_proposal" ? [(item.site || {}).site_id] : [item.shelter_id, item.kitchen_id];
    for (const id of ids) {
      if (!id) continue;
      const x = ref("shelter", province, id) || ref("kitchen", province, id) || ref("incident", province, id);
      if (x && x.kabupaten_code) return x.kabupaten_code;
    }
    return null;
  }

  function taskWhat(item) {
    const teams = (item.teams || []).map((x) => `${x.name || "–"}: ${nm("loop", x.status)}${x.status === "declined" && x.reason ? ` (${x.reason})` : ""}`);
    return [nm("loop", item.status), ...teams].join(" · ");
  }

  /** {kind, what} of a change of ``entity`` from ``before`` to ``item``. */
  function describe(entity, item, before, deleted) {
    let what = deleted ? w("removed") : w("changed");
    let kind = entity;
    if (deleted) return { kind, what };
    const h = (x) => ((x && x.headcount) || {}).total;
    if (entity === "shelter") {
      if (before && item.unmet_share !== before.unmet_share) what = `${t("unmet")} ${fmt((item.unmet_share || 0) * 100, 0)}%`;
      if (!before || h(before) !== h(item)) what = `${t("displaced")} ${fmt(h(item) || 0, 0)}`;
    } else if (entity === "shipment") {
      what = `${qty(item.quantity, item.unit)} · ${item.held ? t("held") : t(item.status)}`;
    } else if (entity === "shortfall") {
      what = `${itemName(item.item)} ${t("missing")} ${qty(item.missing, item.unit)}`;
      if (item.decision && (!before || !before.decision || before.decision.version !== item.decision.version)) {
        kind = "decision"; what = `${w(`decision_${item.decision.decision}`)} · ${itemName(item.item)} · ${item.decision.note || ""}`;
      }
    } else if (entity === "task") {
      what = taskWhat(item);
    } else if (entity === "team") {
      const a = item.assignment;
      what = a ? `${taskKind(a.kind)} · ${nm("loop", a.status)}` : nm("availability", item.availability);
    } else if (entity === "kitchen") {
      what = kitchenLine(item);
    } else if (entity === "kitchen_proposal") {
      what = item.site ? `${w("proposalCovers")} ${fmt(item.portions_covered_per_day, 0)} ${w("portionsPerDay")}` : explain(item.blocked);
    } else if (entity === "incident") {
      what = `${t("severity")} ${item.severity || "–"} · ${t("displaced")} ${fmt(item.displaced, 0)}`;
    } else if (entity === "warehouse") {
      what = stockLine(item, 2);
    }
    return { kind, what };
  }

  function displayName(entity, item) {
    if (!item) return "–";
    if (entity === "incident") return t(`type_${item.incident_type}`);
    if (entity === "shipment") return `${itemName(item.item)} → ${item.shelter_name || nameOf("shelter", item.province_code, item.shelter_id)}`;
    if (entity === "shortfall") return item.shelter_name || nameOf("shelter", item.province_code, item.shelter_id);
    if (entity === "task") return `${taskKind(item.kind)} · ${targetOf(item.province_code, item.target_id).name}`;
    if (entity === "kitchen_proposal") return item.site ? item.site.name : w("kitchenProposals");
    return item.name || "–";
  }

  function timelineRow(r) {
    // a server row: {seq, at, entity, kind, id, province_code, kabupaten_code, deleted, data, before}
    const item = r.data ? { province_code: r.province_code, ...r.data } : null;
    const before = r.before ? { province_code: r.province_code, ...r.before } : null;
    const described = describe(r.entity, item || before || {}, before, r.deleted);
    return { seq: r.seq, at: new Date(r.at), entity: r.kind || described.kind, key: `${r.province_code}/${r.id}`,
      province: r.province_code, kabupaten: r.kabupaten_code || kabupatenOf(r.entity, item || before),
      name: displayName(r.entity, item || before), what: described.what };
  }

  function note(entity, key, item, deleted, before, seq) {
    if (!item) return;
    if (seq && timelineSeqs.has(seq)) return;
    const { kind, what } = describe(entity, item, before, deleted);
    const row = { seq, at: new Date(), entity: kind, key, province: item.province_code,
      kabupaten: kabupatenOf(entity, item), name: displayName(entity, item), what };
    if (!matchesFilters(row)) return;
    if (seq) timelineSeqs.add(seq);
    timeline.unshift(row);
    if (timeline.length > TIMELINE_MAX) timeline.length = TIMELINE_MAX;
  }

  function timelineFilters() {
    const value = (id) => document.getElementById(id).value;
    const local = (id) => { const v = value(id); if (!v) return null; const d = new Date(v); return Number.isNaN(d.getTime()) ? null : d; };
    return { kind: value("timeline-entity"), province: value("timeline-province"), kabupaten: value("timeline-kabupaten"),
      since: local("timeline-since"), until: local("timeline-until") };
  }
  function matchesFilters(row) {
    const f = timelineFilters();
    if (f.kind && row.entity !== f.kind) return false;
    if (f.kabupaten && row.kabupaten !== f.kabupaten) return false;
    if (f.province && row.province !== f.province && !(f.kabupaten && row.kabupaten === f.kabupaten)) return false;
    if (f.since && row.at < f.since) return false;
    if (f.until && row.at > f.until) return false;
    return true;
  }

  let timelineRequest = 0;
  async function loadTimeline(more) {
    const f = timelineFilters();
    const params = new URLSearchParams({ limit: String(TIMELINE_PAGE) });
    if (f.kind) params.set("kind", f.kind);
    if (f.kabupaten) params.set("kabupaten_code", f.kabupaten);
    else if (f.province) params.set("province_code", f.province);
    if (f.since) params.set("since", f.since.toISOString());
    if (f.until) params.set("until", f.until.toISOString());
    if (more && timelineCursor) params.set("cursor", timelineCursor);
    if (!more) timelineShown = TIMELINE_PAGE;
    const mine = ++timelineRequest;
    const reach = document.getElementById("timeline-reach");
    try {
      const page = await api(`/api/v1/timeline?${params}`);
      if (mine !== timelineRequest) return; // the filters changed meanwhile
      const rows = page.items.map(timelineRow);
      if (!more) { timeline = []; timelineSeqs.clear(); }
      for (const row of rows) { if (!timelineSeqs.has(row.seq)) { timelineSeqs.add(row.seq); timeline.push(row); } }
      timeline.sort((a, b) => compareSeq(b.seq, a.seq));
      timelineCursor = page.next_cursor;
      showMore();
      reach.textContent = page.reaches_back_to ? `${w("reachesBack")} ${new Date(page.reaches_back_to).toLocaleString(Siaga.lang === "en" ? "en-GB" : "id-ID")}` : "";
      // which filters the shown page answers (the browser tests wait for it)
      document.getElementById("timeline").dataset.loaded = [f.kind || "all", f.province, f.kabupaten].filter(Boolean).join("|");
    } catch (err) {
      reach.textContent = `${w("timelineError")}: ${Siaga.describeDetail(err.detail || err.message)}`;
    }
    renderTimeline();
  }
  function showMore() { document.getElementById("timeline-more").hidden = !(timelineCursor || timeline.length > timelineShown); }
  function compareSeq(a, b) {
    const [am, as] = String(a || "0-0").split("-").map(Number), [bm, bs] = String(b || "0-0").split("-").map(Number);
    return am - bm || as - bs;
  }

  function renderTimeline() {
    const text = document.getElementById("timeline-text").value.trim().toLowerCase();
    const rows = timeline.filter((r) => !text || String(r.name).toLowerCase().includes(text) || String(r.what).toLowerCase().includes(text));
    list("panel-timeline", rows.slice(0, timelineShown), (r) => el("li", { "data-entity": r.entity, "data-seq": r.seq || "" },
      el("small", {}, r.at.toLocaleString(Siaga.lang === "en" ? "en-GB" : "id-ID", { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", second: "2-digit" })), " ",
      el("span", { class: "pill" }, w(`entity_${r.entity}`)), " ", el("b", {}, r.name), ` · ${r.what}`,
      r.kabupaten && kabupaten[r.kabupaten] ? el("span", { class: "hint" }, ` · ${kabupaten[r.kabupaten]}`) : null));
  }

  let placesSeen = "";
  function fillTimelinePlaces() {
    const provinceSelect = document.getElementById("timeline-province");
    const kabSelect = document.getElementById("timeline-kabupaten");
    const seenProvinces = new Set(), seenKab = new Set();
    for (const entity of ["shelter", "incident", "warehouse", "kitchen"]) {
      for (const x of state[entity].values()) {
        if (x.province_code) seenProvinces.add(x.province_code);
        if (x.kabupaten_code) seenKab.add(x.kabupaten_code);
      }
    }
    const seen = `${[...seenProvinces].sort()}|${[...seenKab].sort()}|${Siaga.lang}`;
    if (seen === placesSeen) return; // the options only change with the places
    placesSeen = seen;
    const fill = (select, codes, names) => {
      const current = select.value;
      const first = select.options[0];
      const options = [...codes].filter((c) => names[c]).sort((a, b) => names[a].localeCompare(names[b])).map((c) => el("option", { value: c }, names[c]));
      if (current && !codes.has(current) && names[current]) options.push(el("option", { value: current }, names[current]));
      select.replaceChildren(first, ...options);
      select.value = current;
    };
    fill(provinceSelect, seenProvinces, provinces);
    fill(kabSelect, seenKab, kabupaten);
  }

  // ---- panels
  function li(...children) { return el("li", {}, ...children); }
  function list(id, rows, render) {
    const ul = document.getElementById(id);
    ul.replaceChildren(...(rows.length ? rows.map(render) : [li(el("span", { class: "hint" }, t("none")))]));
  }
  const linkTo = (entity, item, label) => el("a", { href: "#", class: "open", "data-key": keyOf(entity, item), "data-entity": entity,
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
      stat(shortfalls.length, w("shortfallsShort")), stat(inFlight.length, t("inFlight")), stat(state.team.size, t("teams")),
      stat(state.kitchen.size, w("kitchens")));
    renderDecisions(shortfalls);
    renderTasks();
    renderKitchens();
    list("panel-inflight", inFlight.slice(0, 50), (s) => li(
      `${itemName(s.item)} ${qty(s.quantity, s.unit)} · `,
      `${s.warehouse_name || nameOf("warehouse", s.province_code, s.warehouse_id)} → ${s.shelter_name || nameOf("shelter", s.province_code, s.shelter_id)} `,
      el("span", { class: "pill" }, t(s.status)), s.eta_hours != null ? ` · ${t("eta")} ${fmt(s.eta_hours)}` : ""));
    const proposed = shipments.filter((s) => s.status === "proposed");
    list("panel-proposed", proposed.slice(0, 50), (s) => li(
      el("div", { class: "row" },
        el("span", {}, `${itemName(s.item)} ${qty(s.quantity, s.unit)} → ${s.shelter_name || nameOf("shelter", s.province_code, s.shelter_id)} `,
          s.tier === "national" ? el("span", { class: "pill tier-national" }, w("tierNational")) : null,
          s.held ? el("span", { class: "pill held" }, t("held")) : null),
        holdButton(s))));
    const incidents = [...state.incident.values()].sort((a, b) => String(b.reported_at || "").localeCompare(String(a.reported_at || "")));
    list("panel-incidents", incidents.slice(0, 50), (i) => li(
      el("b", {}, t(`type_${i.incident_type}`)), ` · ${t("severity")} ${i.severity} · ${t("displaced")} ${fmt(i.displaced, 0)} · ${kabupaten[i.kabupaten_code] || ""}`,
      el("div", { class: "hint" }, i.description || "")));
    fillTimelinePlaces();
    renderTimeline();
    if (selected) renderDetail();
  }

  // ---- decisions on shortfalls: grouped by item or kabupaten, per province; a kitchen's
  // capacity shortfall is a group of its own (its actions open or enlarge kitchens)
  // open shipments by "province/shelter|item" and tasks by "province/shelter": built once
  // per render (a national operation has thousands of both, and dozens of groups)
  let byShelterItem = new Map(), tasksByTarget = new Map(), indexedAt = "";
  function indexForGroups() {
    const now = `${versions.shipment},${versions.task}`;
    if (now === indexedAt) return;
    indexedAt = now;
    byShelterItem = new Map(); tasksByTarget = new Map();
    for (const x of state.shipment.values()) {
      if (!OPEN_SHIPMENTS.has(x.status)) continue;
      const k = `${x.province_code}/${x.shelter_id}|${x.item}`;
      if (!byShelterItem.has(k)) byShelterItem.set(k, []);
      byShelterItem.get(k).push(x);
    }
    for (const x of state.task.values()) {
      const k = `${x.province_code}/${x.target_id}`;
      if (!tasksByTarget.has(k)) tasksByTarget.set(k, []);
      tasksByTarget.get(k).push(x);
    }
  }
  function shelterShipments(rows) {
    const wanted = new Set(rows.map(({ s }) => `${s.province_code}/${s.shelter_id}|${s.item}`));
    return [...wanted].flatMap((k) => byShelterItem.get(k) || []);
  }
  function shelterTasks(rows) {
    const wanted = new Set(rows.map(({ s }) => `${s.province_code}/${s.shelter_id}`));
    return [...wanted].flatMap((k) => tasksByTarget.get(k) || []);
  }

  let decisionsShown = "";
  function renderDecisions(shortfalls) {
    const by = document.getElementById("group-by").value;
    // a group shows shortfalls, their shipments, tasks, kitchens and stores: re-rendered when
    // one of those changed (shelters change several times a second in a national operation)
    const shown = ["shortfall", "shipment", "task", "kitchen", "kitchen_proposal", "warehouse", "team"].map((e) => versions[e]).join(",") + `|${by}|${Siaga.lang}|${gateSent.size}`;
    if (shown === decisionsShown) return;
    decisionsShown = shown;
    const groups = new Map();
    for (const s of shortfalls) {
      const kitchen = s.item === KITCHEN_ITEM || !s.shelter_id;
      const shelter = kitchen ? (ref("kitchen", s.province_code, s.kitchen_id) || {}) : (ref("shelter", s.province_code, s.shelter_id) || {});
      const kab = shelter.kabupaten_code || "";
      let gkey, group;
      if (kitchen) { gkey = `${s.province_code}|${KITCHEN_ITEM}`; group = { kind: "kitchen", item: KITCHEN_ITEM, kab: null }; }
      else if (by === "item") { gkey = `${s.province_code}|${s.item}`; group = { kind: "shelter", item: s.item, kab: null }; }
      else { gkey = `${s.province_code}|${kab}`; group = { kind: "shelter", item: null, kab }; }
      if (!groups.has(gkey)) groups.set(gkey, { key: gkey, province: s.province_code, ...group, rows: [], missing: 0 });
      const g = groups.get(gkey);
      g.rows.push({ s, shelter });
      g.missing += s.missing || 0;
    }
    const manyProvinces = new Set([...groups.values()].map((g) => g.province)).size > 1;
    if ([...groups.keys()].some((k) => openGroups.has(k))) indexForGroups();
    indexAwaiting();
    const sorted = [...groups.values()].sort((a, b) => (a.kind === "kitchen") - (b.kind === "kitchen") || b.rows.length - a.rows.length || b.missing - a.missing);
    list("panel-shortfalls", sorted.slice(0, 40), (g) => {
      const details = g.kind === "kitchen" ? kitchenGroup(g, manyProvinces) : shelterGroup(g, manyProvinces);
      // a closed group is its summary: its rows, shipments and tasks are drawn when opened
      let filled = false;
      const fill = () => { if (!filled) { filled = true; indexForGroups(); details.fill(); } };
      if (openGroups.has(g.key)) { fill(); details.open = true; }
      details.querySelector("summary").addEventListener("click", fill);
      details.addEventListener("toggle", () => { if (details.open) { fill(); openGroups.add(g.key); } else openGroups.delete(g.key); });
      return li(details);
    });
  }
  const openGroups = new Set(); // group keys "province|item" or "province|kabupaten"

  function groupSummary(g, label, manyProvinces) {
    const units = new Set(g.rows.map((r) => r.s.unit));
    const total = units.size === 1 ? ` · ${t("missing")} ${qty(g.missing, [...units][0])}` : "";
    const decided = g.rows.filter((r) => r.s.decision).length;
    const awaiting = g.kind === "kitchen" ? 0 : groupAwaiting(g);
    return el("summary", {}, el("b", {}, label), manyProvinces && provinceName(g.province) ? el("span", { class: "hint" }, ` · ${provinceName(g.province)}`) : null,
      ` · ${g.rows.length} ${g.kind === "kitchen" ? w("kitchens").toLowerCase() : w("shelterCount")}${total}`,
      decided ? el("span", { class: "pill decided" }, `${decided}/${g.rows.length} ${w("decisions").toLowerCase()}`) : null,
      awaiting ? [" ", el("span", { class: "pill gate-awaiting", "data-awaiting": String(awaiting) }, `${w("awaitingApproval")} (${fmt(awaiting, 0)})`)] : null);
  }

  // ---- the approval gate: what the national tier sends (shipments from regional warehouses,
  // teams from other provinces) waits for a coordinator of the receiving province
  let awaitingByPair = new Map(), awaitingByTarget = new Map(), awaitingAt = "";
  const teamKey = (task, teamId) => `${task.province_code}/${task.task_id}|${teamId}`;
  const awaitingShipment = (x) => x.tier === "national" && x.status === "proposed" && x.approval === "awaiting" && !gateSent.has(keyOf("shipment", x));
  const awaitingTeams = (task) => (task.national_teams || []).filter((m) => m.approval === "awaiting" && !gateSent.has(teamKey(task, m.team_id)));
  function indexAwaiting() {
    const now = `${versions.shipment},${versions.task},${gateSent.size}`;
    if (now === awaitingAt) return;
    awaitingAt = now;
    awaitingByPair = new Map(); awaitingByTarget = new Map();
    for (const x of state.shipment.values()) {
      if (!awaitingShipment(x)) continue;
      const k = `${x.province_code}/${x.shelter_id}|${x.item}`;
      awaitingByPair.set(k, (awaitingByPair.get(k) || 0) + 1);
    }
    for (const x of state.task.values()) {
      const n = awaitingTeams(x).length;
      if (n) awaitingByTarget.set(`${x.province_code}/${x.target_id}`, (awaitingByTarget.get(`${x.province_code}/${x.target_id}`) || 0) + n);
    }
  }
  function groupAwaiting(g) {
    let n = 0;
    const targets = new Set();
    for (const { s } of g.rows) {
      n += awaitingByPair.get(`${s.province_code}/${s.shelter_id}|${s.item}`) || 0;
      targets.add(`${s.province_code}/${s.shelter_id}`);
    }
    for (const k of targets) n += awaitingByTarget.get(k) || 0;
    return n;
  }
  function gatePill(approval, sent) {
    if (!approval || approval === "not_required") return null;
    return el("span", { class: `pill gate-${approval}`, "data-approval": approval }, sent && approval === "awaiting" ? w("decidedPending") : w(`gate_${approval}`));
  }
  /** Approve / Decline buttons for some shipments and mobilised teams ({task, team}) of one province. */
  function gateButtons(province, shipments, teams, what, all) {
    const n = shipments.length + teams.length;
    const count = all ? ` (${fmt(n, 0)})` : "";
    return el("span", { class: "gate-actions" },
      el("button", { type: "button", "data-action": all ? "gate-approve-all" : "gate-approve", onclick: () => gateDecide("approved", province, shipments, teams, what) }, `${w(all ? "approveAll" : "approve")}${count}`), " ",
      el("button", { type: "button", class: "danger", "data-action": all ? "gate-decline-all" : "gate-decline", onclick: () => gateDecide("declined", province, shipments, teams, what) }, `${w(all ? "declineAll" : "decline")}${count}`));
  }
  function gateDecide(decision, province, shipments, teams, what) {
    const approve = decision === "approved";
    ask({
      title: w(approve ? "approveGate" : "declineGate"),
      what: `${what} · ${fmt(shipments.length, 0)} ${w("shipmentsWord")}, ${fmt(teams.length, 0)} ${w("teamsWord")}`,
      fields: [{ name: "reason", label: w(approve ? "gateNote" : "gateReason"), type: "textarea", required: !approve, message: w("gateReasonRequired") }],
      submit: async ({ reason }) => {
        const all = [...shipments.map((x) => ({ shipment: x })), ...teams.map((p) => ({ team: p }))];
        for (let i = 0; i < all.length; i += DECISION_BATCH) {
          const part = all.slice(i, i + DECISION_BATCH);
          await post("/api/v1/escalations/decisions", { event_id: Siaga.uuid4(), province_code: province, decision, ...(reason ? { reason } : {}),
            shipment_ids: part.filter((p) => p.shipment).map((p) => p.shipment.shipment_id),
            mobilisations: part.filter((p) => p.team).map((p) => ({ task_id: p.team.task.task_id, team_id: p.team.team.team_id })) });
        }
        for (const x of shipments) gateSent.set(keyOf("shipment", x), decision);
        for (const p of teams) gateSent.set(teamKey(p.task, p.team.team_id), decision);
      },
    });
  }

  function shelterGroup(g, manyProvinces) {
    const label = g.item ? itemName(g.item) : (kabupaten[g.kab] || t("none"));
    const details = el("details", { class: "group", "data-group": g.key, "data-item": g.item || "", "data-kabupaten": g.kab || "", "data-province": g.province },
      groupSummary(g, label, manyProvinces));
    details.fill = () => details.append(...shelterGroupBody(g, label));
    return details;
  }

  function shelterGroupBody(g, label) {
    const ships = shelterShipments(g.rows);
    const proposed = ships.filter((x) => x.status === "proposed");
    const toHold = proposed.filter((x) => !x.held), held = proposed.filter((x) => x.held);
    const national = ships.filter((x) => x.tier === "national");
    const escalated = g.rows.filter((r) => r.s.escalated).length;
    const locked = g.rows.some((r) => ((((r.s.why || {}).figures || {}).blocked) || {}).lumbung_not_released > 0)
      || [...state.warehouse.values()].some((x) => x.province_code === g.province && x.released === false);
    const tasks = shelterTasks(g.rows);
    // the gate: on when what the national tier sent asks for an approval (off: not_required)
    const gated = national.some((x) => x.approval && x.approval !== "not_required")
      || tasks.some((x) => (x.national_teams || []).some((m) => m.approval && m.approval !== "not_required"));
    const ungated = national.some((x) => !x.approval || x.approval === "not_required");
    const stateOf = (x) => (x.held ? t("held") : x.approval === "awaiting" ? w("gate_awaiting") : t(x.status));
    const escalation = escalated ? el("p", { class: "hint escalation" },
      `${w("escalationSummary")}: ${escalated}/${g.rows.length} ${w("shelterCount")}`,
      national.length ? ` · ${w("nationalProposed")}: ${national.slice(0, 3).map((x) => `${qty(x.quantity, x.unit)} ${itemName(x.item)} ${t("origin").toLowerCase()} ${x.warehouse_name || nameOf("warehouse", x.province_code, x.warehouse_id)} (${stateOf(x)})`).join("; ")}` : "",
      gated || ungated ? [el("br"), w(gated ? "gateHint" : "escalationNoGate")] : null) : null;
    // awaiting approval: for the whole group, per item (a group by kabupaten holds several), one by one below
    const gateShips = ships.filter(awaitingShipment);
    const gateTeams = tasks.flatMap((x) => awaitingTeams(x).map((m) => ({ task: x, team: m })));
    const perItem = new Map();
    for (const x of gateShips) { if (!perItem.has(x.item)) perItem.set(x.item, []); perItem.get(x.item).push(x); }
    const gate = gateShips.length || gateTeams.length ? el("div", { class: "gate", "data-awaiting": String(gateShips.length + gateTeams.length) },
      el("b", {}, `${w("awaitingTitle")}: `), `${fmt(gateShips.length, 0)} ${w("shipmentsWord")}, ${fmt(gateTeams.length, 0)} ${w("teamsWord")} `,
      gateButtons(g.province, gateShips, gateTeams, label, true),
      !g.item && perItem.size ? el("ul", { class: "gate-items" }, ...[...perItem].map(([item, list]) => el("li", { "data-item": item },
        `${itemName(item)}: ${fmt(list.length, 0)} ${w("shipmentsWord")} `, gateButtons(g.province, list, [], `${label} · ${itemName(item)}`, false)))) : null) : null;
    const declined = g.rows.filter((r) => r.s.national_decline);
    const declines = declined.length ? el("p", { class: "hint declined" }, `${w("nationalDeclined")}: `,
      [...new Set(declined.map((r) => r.s.national_decline.reason))].slice(0, 3).join("; "), ` (${fmt(declined.length, 0)} ${w("shelterCount")})`) : null;
    return [
      escalation,
      gate,
      declines,
      el("div", { class: "actions" },
        decisionButton("procurement_request", "requestProcurement", g),
        decisionButton("donor_request", "requestDonors", g),
        decisionButton("risk_accepted", "acceptRisk", g),
        g.kab || locked ? el("button", { type: "button", class: "secondary", "data-action": "declare", onclick: () => declare(g) }, w("declareEmergency")) : null,
        toHold.length ? el("button", { type: "button", class: "danger", "data-action": "hold-all", onclick: () => holdMany(toHold, true, label) }, `${w("holdAll")} (${toHold.length})`) : null,
        held.length ? el("button", { type: "button", class: "secondary", "data-action": "release-all", onclick: () => holdMany(held, false, label) }, `${w("releaseAll")} (${held.length})`) : null),
      ships.length ? el("div", { class: "sub" }, el("h4", {}, w("shipmentsForThis")),
        el("ul", { class: "shipments" }, ...ships.slice(0, 12).map((x) => el("li", { "data-shipment": keyOf("shipment", x) },
          `${itemName(x.item)} ${qty(x.quantity, x.unit)} · ${x.warehouse_name || nameOf("warehouse", x.province_code, x.warehouse_id)} → ${x.shelter_name || nameOf("shelter", x.province_code, x.shelter_id)} `,
          x.tier === "national" ? el("span", { class: "pill tier-national" }, w("tierNational")) : null, " ",
          el("span", { class: "pill" }, x.held ? t("held") : t(x.status)), " ",
          x.tier === "national" && x.status === "proposed" ? [gatePill(x.approval, gateSent.has(keyOf("shipment", x))), " "] : null,
          x.status === "proposed" ? holdButton(x) : null,
          awaitingShipment(x) ? [" ", gateButtons(x.province_code, [x], [], `${itemName(x.item)} ${qty(x.quantity, x.unit)} → ${x.shelter_name || nameOf("shelter", x.province_code, x.shelter_id)}`, false)] : null)))) : null,
      tasks.length ? el("div", { class: "sub" }, el("h4", {}, w("tasksHere")),
        el("ul", { class: "tasks" }, ...tasks.slice(0, 12).map((x) => taskItem(keyOf("task", x), x, true)))) : null,
      el("ul", { class: "rows" }, ...g.rows.sort((a, b) => (b.s.missing || 0) - (a.s.missing || 0)).slice(0, 30).map(({ s, shelter }) => li(
        shelter.name ? linkTo("shelter", shelter, shelter.name) : (s.shelter_name || "–"),
        ` · ${g.item ? "" : `${itemName(s.item)} `}${t("missing")} `, el("b", {}, `${qty(s.missing, s.unit)}`), " ",
        s.escalated ? el("span", { class: "pill escalated" }, w("escalatedNational")) : null,
        s.decision ? el("span", { class: "pill decided" }, w(`decision_${s.decision.decision}`)) : null,
        s.national_decline ? el("span", { class: "pill gate-declined" }, w("nationalDeclined")) : null,
        (s.why || s.explanation) ? el("div", { class: "hint" }, explain(s.why || s.explanation, { shelter: shelter.name })) : null)))].filter(Boolean);
  }

  function kitchenGroup(g, manyProvinces) {
    const details = el("details", { class: "group kitchen-group", "data-group": g.key, "data-item": KITCHEN_ITEM, "data-province": g.province },
      groupSummary(g, w("kitchenCapacity"), manyProvinces));
    details.fill = () => details.append(...kitchenGroupBody(g));
    return details;
  }

  function kitchenGroupBody(g) {
    const proposals = [...state.kitchen_proposal.values()].filter((p) => p.province_code === g.province);
    const open = proposals.filter((p) => p.site);
    const blocked = proposals.find((p) => !p.site && p.blocked);
    return [
      el("ul", { class: "rows" }, ...g.rows.sort((a, b) => (b.s.missing || 0) - (a.s.missing || 0)).map(({ s, shelter }) => {
        const kitchen = shelter && shelter.kitchen_id ? shelter : null;
        // its rule and figures: ``why``, like every shortfall (``reason`` in read models of before)
        const rule = s.why || s.reason;
        const figures = ((rule || {}).figures) || {};
        return el("li", { "data-kitchen": kitchen ? keyOf("kitchen", kitchen) : "" },
          kitchen ? linkTo("kitchen", kitchen, kitchen.name || s.shelter_name || "–") : (s.shelter_name || "–"),
          ` · ${t("missing")} `, el("b", {}, qty(s.missing, s.unit)), " ",
          el("div", { class: "hint" }, explain(rule, { kitchen: (kitchen && kitchen.name) || s.shelter_name })),
          kitchen && figures.units_missing ? el("div", { class: "actions" }, el("button", { type: "button", class: "secondary", "data-action": "add-units",
            onclick: () => addUnits(kitchen, figures.units_missing) }, `${w("addUnits")} (+${fmt(figures.units_missing, 0)})`)) : null);
      })),
      el("div", { class: "sub" }, el("h4", {}, w("kitchenProposals")),
        open.length ? el("ul", {}, ...open.map((p) => proposalItem(keyOf("kitchen_proposal", p), p)))
          : el("p", { class: "hint" }, blocked ? explain(blocked.blocked) : w("noKitchenShort")))];
  }

  function decisionButton(decision, labelKey, group) {
    return el("button", { type: "button", class: "secondary", "data-decision": decision, onclick: () => decide(decision, labelKey, group) }, w(labelKey));
  }

  // ---- one dialog for every action that needs a few words from the coordinator
  function ask({ title, what, fields, submit }) {
    const dialog = document.getElementById("decision-dialog");
    const form = document.getElementById("decision-form");
    const error = document.getElementById("decision-error");
    document.getElementById("decision-title").textContent = title;
    document.getElementById("decision-what").textContent = what || "";
    error.textContent = "";
    form.dataset.action = fields.map((f) => f.name).join(",");
    document.getElementById("decision-fields").replaceChildren(...fields.map((f) => {
      let input;
      if (f.type === "textarea") input = el("textarea", { name: f.name, required: f.required !== false, maxlength: "1000", rows: "3" });
      else if (f.type === "select") {
        input = el("select", { name: f.name }, ...f.options.map(([value, label]) => el("option", { value }, label)));
        if (f.value !== undefined) input.value = f.value;
      } else input = el("input", { name: f.name, required: f.required !== false, maxlength: String(f.max || 200) });
      if (f.value !== undefined && f.type !== "select") input.value = f.value;
      return el("label", {}, el("span", {}, f.label), input);
    }));
    form.onsubmit = async (e) => {
      e.preventDefault();
      const values = Object.fromEntries([...new FormData(form).entries()].map(([k, v]) => [k, String(v).trim()]));
      const missing = fields.find((f) => f.required !== false && !values[f.name]);
      if (missing) { error.textContent = missing.message || `${missing.label}?`; return; }
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        await submit(values);
        dialog.close();
        toast(t("accepted"));
        panelsDue = 0; flushSoon();
      } catch (err) { error.textContent = `${t("error")}: ${Siaga.describeDetail(err.detail || err.message)}`; }
      finally { button.disabled = false; }
    };
    document.getElementById("decision-cancel").onclick = () => dialog.close();
    dialog.showModal();
  }
  function flushSoon() { if (!frameQueued && !holdChanges) { frameQueued = true; requestAnimationFrame(flush); } }

  async function post(path, body) {
    posted.push({ path, body });
    return api(path, { method: "POST", body });
  }

  function decide(decision, labelKey, group) {
    const label = group.item ? itemName(group.item) : (kabupaten[group.kab] || "");
    ask({
      title: w(labelKey), what: `${label} · ${group.rows.length} ${w("shelterCount")}`,
      fields: [{ name: "note", label: t("note"), type: "textarea", message: w("noteRequired") }],
      submit: async ({ note }) => {
        // one request per item (a group by kabupaten holds several), at most 500 shelters
        // each (the route's limit); shelters only: a kitchen's capacity is no shelter's
        const byItem = new Map();
        for (const { s } of group.rows) {
          if (!s.shelter_id || s.item === KITCHEN_ITEM) continue;
          const k = `${s.province_code}|${s.item}`;
          if (!byItem.has(k)) byItem.set(k, { province_code: s.province_code, item: s.item, shelter_ids: [] });
          const ids = byItem.get(k).shelter_ids;
          if (!ids.includes(s.shelter_id)) ids.push(s.shelter_id);
        }
        for (const body of byItem.values()) {
          for (let i = 0; i < body.shelter_ids.length; i += DECISION_BATCH) {
            await post("/api/v1/shortfalls/decisions", { event_id: Siaga.uuid4(), decision, note, province_code: body.province_code,
              item: body.item, shelter_ids: body.shelter_ids.slice(i, i + DECISION_BATCH) });
          }
        }
      },
    });
  }

  function declare(group) {
    // the areas: the group's kabupaten, those of locked Lumbung Sosial stores, or the province
    const areas = new Map();
    if (group.kab) areas.set(group.kab, kabupaten[group.kab] || group.kab);
    for (const x of state.warehouse.values()) if (x.province_code === group.province && x.released === false && x.kabupaten_code) areas.set(x.kabupaten_code, kabupaten[x.kabupaten_code] || "–");
    for (const { shelter } of group.rows) if (shelter && shelter.kabupaten_code) areas.set(shelter.kabupaten_code, kabupaten[shelter.kabupaten_code] || "–");
    const options = [...areas].map(([code, name]) => [code, name]);
    options.push(["", `${w("wholeProvince")} ${provinceName(group.province)}`.trim()]);
    ask({
      title: w("declareEmergency"), what: group.kab ? kabupaten[group.kab] || "" : provinceName(group.province),
      fields: [{ name: "area", label: w("area"), type: "select", options, value: group.kab || options[0][0] },
        { name: "declared_by", label: w("declaredBy") }, { name: "reference", label: w("reference"), required: false }],
      submit: ({ area, declared_by: declaredBy, reference }) => post("/api/v1/emergencies", {
        event_id: Siaga.uuid4(), declaration_id: `darurat-${area || group.province}-${Date.now()}`.replace(/\./g, "-"),
        province_code: group.province, kabupaten_code: area || null, declared_by: declaredBy, reference: reference || null }),
    });
  }

  function holdButton(shipment) {
    return el("button", { type: "button", class: shipment.held ? "secondary" : "danger", "data-action": shipment.held ? "release" : "hold",
      onclick: () => holdMany([shipment], !shipment.held, `${itemName(shipment.item)} ${qty(shipment.quantity, shipment.unit)} → ${shipment.shelter_name || nameOf("shelter", shipment.province_code, shipment.shelter_id)}`) }, t(shipment.held ? "release" : "hold"));
  }

  function holdMany(shipments, held, what) {
    ask({
      title: held ? w("holdAll") : w("releaseAll"), what: `${what} · ${shipments.length} ${t("shipments").toLowerCase()}`,
      fields: [{ name: "reason", label: w("reason"), type: "textarea" }],
      submit: async ({ reason }) => {
        for (const x of shipments) {
          await post(`/api/v1/shipments/${encodeURIComponent(x.shipment_id)}/hold`, { event_id: Siaga.uuid4(), held, reason });
        }
      },
    });
  }

  function override(task, team) {
    const tasks = [...state.task.values()].filter((x) => !task || x.province_code === task.province_code);
    const teams = [...state.team.values()].sort((a, b) => (a.province_code !== (task || {}).province_code) - (b.province_code !== (task || {}).province_code) || String(a.name).localeCompare(String(b.name)));
    ask({
      title: w("override"), what: task ? `${taskKind(task.kind)} · ${targetOf(task.province_code, task.target_id).name}` : (team ? team.name : ""),
      fields: [
        { name: "task_id", label: w("task"), type: "select", value: task ? task.task_id : undefined,
          options: tasks.map((x) => [x.task_id, `${taskKind(x.kind)} · ${targetOf(x.province_code, x.target_id).name} (${nm("loop", x.status)})`]) },
        { name: "team_id", label: w("team"), type: "select", value: team ? team.team_id : undefined,
          options: teams.map((x) => [x.team_id, `${x.name || "–"} · ${provinceName(x.province_code)} (${nm("availability", x.availability)})`]) },
        { name: "action", label: w("actionLabel"), type: "select", options: [["assign", w("assign")], ["release", w("unassign")]] },
        { name: "reason", label: w("reason"), type: "textarea" }],
      submit: ({ task_id: taskId, team_id: teamId, action, reason }) => post("/api/v1/dispatch/overrides", {
        event_id: Siaga.uuid4(), task_id: taskId, team_id: teamId, action, reason }),
    });
  }

  // ---- the TAGANA task loop: each task's status and each team's steps, kept when it ends
  function stepTrail(team) {
    const times = team.times || {};
    const steps = LOOP_STEPS.filter((s) => times[s]).map((s) => el("span", { class: "step", "data-step": s }, `${nm("loop", s)} ${clock(times[s])}`));
    if (team.status === "declined" || team.status === "timed_out") steps.push(el("span", { class: "step", "data-step": team.status }, nm("loop", team.status)));
    return el("span", { class: "trail" }, ...steps.flatMap((x, i) => (i ? [" → ", x] : [x])));
  }

  function taskItem(key, x, compact) {
    const ended = !state.task.has(key);
    const teams = x.teams || [];
    return el("li", { class: "task", "data-task": key, "data-status": ended && x.status !== "done" ? "closed" : x.status || "" },
      el("b", {}, taskKind(x.kind)), " → ", targetLabel(x.province_code, x.target_id), " ", loop(x.status),
      x.tier === "national" ? [" ", el("span", { class: "pill tier-national" }, w("mobilised"))] : null,
      ended ? el("span", { class: "hint" }, ` · ${w("removedTask")}`) : null,
      x.uncovered ? [" ", el("span", { class: "pill held" }, `${t("missing")} ${fmt(x.uncovered, 0)} ${w("team").toLowerCase()}`)] : null,
      teams.length ? el("ul", { class: "loop-teams" }, ...teams.map((m) => el("li", { "data-team": m.team_id, "data-step": m.status },
        ref("team", x.province_code, m.team_id) ? linkTo("team", ref("team", x.province_code, m.team_id), m.name || "–") : (m.name || "–"), " ", loop(m.status),
        m.status === "declined" && m.reason ? el("span", { class: "reason" }, ` ${w("reason").toLowerCase()}: ${m.reason}`) : null,
        m.status === "timed_out" ? el("span", { class: "reason" }, ` ${w("timedOutReason")}`) : null,
        compact ? null : el("div", { class: "hint" }, stepTrail(m))))) : null,
      nationalTeams(key, x, ended, compact),
      x.national_decline ? el("div", { class: "hint declined" }, `${w("nationalDeclined")}: ${x.national_decline.reason || ""}`) : null,
      ended ? null : el("div", { class: "actions" }, el("button", { type: "button", class: "secondary", "data-action": "override", onclick: () => override(x) }, w("override"))));
  }

  /** The teams the national tier mobilised to a task here: their home province, whether the
   * coordinators here approved them (Approve / Decline while awaiting) and why each was chosen. */
  function nationalTeams(key, x, ended, compact) {
    const teams = x.national_teams || [];
    if (!teams.length) return null;
    const what = `${taskKind(x.kind)} · ${targetOf(x.province_code, x.target_id).name}`;
    return el("ul", { class: "national-teams" }, ...teams.map((m) => {
      const sent = gateSent.has(teamKey(x, m.team_id));
      return el("li", { "data-team": m.team_id, "data-approval": m.approval || "" },
        `${m.name || "–"}${provinceName(m.province_code) ? ` · ${provinceName(m.province_code)}` : ""} `,
        el("span", { class: "pill tier-national" }, w("mobilised")), " ", gatePill(m.approval, sent),
        m.approval === "awaiting" && !sent && !ended ? [" ", gateButtons(x.province_code, [], [{ task: x, team: m }], `${what} · ${m.name || "–"}`, false)] : null,
        !compact && m.why ? el("div", { class: "hint why" }, explain(m.why, { team: m.name, task: what })) : null);
    }));
  }

  const TASK_ORDER = { arrived: 0, en_route: 1, acknowledged: 2, dispatched: 3, unassigned: 4, done: 5 };
  function renderTasks() {
    const rows = [...state.task.entries(), ...[...endedTasks.entries()].filter(([k]) => !state.task.has(k))];
    rows.sort(([, a], [, b]) => (TASK_ORDER[a.status] ?? 6) - (TASK_ORDER[b.status] ?? 6) || String(a.task_id).localeCompare(String(b.task_id)));
    list("panel-tasks", rows.slice(0, 60), ([key, x]) => taskItem(key, x, false));
  }

  // ---- public kitchens and the proposals to open one
  function proposalItem(key, p) {
    const team = p.team_id ? ref("team", p.province_code, p.team_id) : null;
    const done = approvedProposals.has(key);
    return el("li", { class: "proposal", "data-proposal": key },
      el("b", {}, p.site.name || "–"), ` · ${w("proposalCovers")} ${fmt(p.portions_covered_per_day, 0)} ${w("portionsPerDay")}`,
      p.warehouse_id ? el("div", { class: "hint" }, `${w("dumlapFrom")} ${nameOf("warehouse", p.province_code, p.warehouse_id)}${team ? ` · ${w("teamToRun")}: ${team.name}` : ""}`) : null,
      el("div", { class: "hint" }, explain(p.explanation, { site: p.site.name, runnerUp: nameOf("shelter", p.province_code, (p.explanation && p.explanation.figures || {}).runner_up_site_id) })),
      el("div", { class: "actions" }, done ? el("span", { class: "pill decided" }, w("approved"))
        : el("button", { type: "button", "data-action": "approve", onclick: () => approveProposal(key, p) }, w("approve"))));
  }

  function approveProposal(key, p) {
    ask({
      title: `${w("approve")}: ${w("kitchenProposals").toLowerCase()}`, what: `${p.site.name} · ${fmt(p.portions_covered_per_day, 0)} ${w("portionsPerDay")}`,
      fields: [{ name: "name", label: w("kitchenLabel"), value: `Dapur Umum ${p.site.name}`.slice(0, 200) }],
      submit: async ({ name }) => {
        await post(`/api/v1/kitchen-proposals/${encodeURIComponent(p.site.site_id)}/approve?province_code=${encodeURIComponent(p.province_code)}`,
          { event_id: Siaga.uuid4(), name });
        approvedProposals.add(key);
        versions.kitchen_proposal += 1; // the groups show it approved
      },
    });
  }

  function addUnits(kitchen, more) {
    const units = (kitchen.units || 1) + (more || 1);
    ask({
      title: w("addUnits"), what: `${kitchen.name} · ${w("kitchenAddUnitsWhat")} ${fmt(kitchen.units || 1, 0)} → ${fmt(units, 0)}`,
      fields: [{ name: "units", label: w("units"), value: String(units), max: 2 }],
      submit: ({ units: value }) => {
        const body = { event_id: Siaga.uuid4(), kitchen_id: kitchen.kitchen_id, name: kitchen.name, location: kitchen.location,
          province_code: kitchen.province_code, units: Number(value), team_ids: kitchen.team_ids || [], status: kitchen.status || "open" };
        for (const k of ["kabupaten_code", "portions_per_cooking", "cookings_per_day", "warehouse_id", "proposal_id"]) if (kitchen[k] != null) body[k] = kitchen[k];
        if ((kitchen.assigned_shelter_ids || []).length) body.assigned_shelter_ids = kitchen.assigned_shelter_ids;
        return post("/api/v1/kitchens", body);
      },
    });
  }

  function renderKitchens() {
    const kitchens = [...state.kitchen.values()].sort((a, b) => (b.load_share || 0) - (a.load_share || 0));
    list("panel-kitchens", kitchens.slice(0, 40), (k) => el("li", { "data-kitchen": keyOf("kitchen", k) },
      linkTo("kitchen", k, k.name || "–"), " ", el("span", { class: `pill load u${kitchenBucket(k)}` }, `${w("load")} ${k.load_share != null ? `${fmt(k.load_share * 100, 0)}%` : "–"}`),
      el("div", { class: "hint" }, `${w("capacity")} ${fmt(k.capacity_per_day, 0)} · ${w("portionsNeeded")} ${fmt(k.portions_needed_per_day, 0)} ${w("portionsPerDay")} · ${fmt(k.people_served, 0)} ${w("peopleServed")}`)));
    const proposals = [...state.kitchen_proposal.entries()];
    const ul = document.getElementById("panel-kitchen-proposals");
    const rows = proposals.map(([key, p]) => (p.site ? proposalItem(key, p) : el("li", { class: "hint blocked" }, explain(p.blocked))));
    ul.replaceChildren(...(rows.length ? rows : [li(el("span", { class: "hint" }, w("noProposal")))]));
  }

  // ---- the panel of one shelter, warehouse, team, kitchen or proposal
  function openPanel(entity, key) {
    selected = { entity, key };
    renderDetail();
    document.getElementById("detail").hidden = false;
    document.getElementById("detail").scrollIntoView({ block: "nearest" });
  }

  function table(headers, rows) {
    return el("table", {}, el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", {}, h)))),
      el("tbody", {}, ...rows.map((r) => (r instanceof Node ? r : el("tr", {}, ...r.map((c) => el("td", {}, c)))))));
  }

  /** Why a shelter needs what it needs, from what the read models carry. */
  function needWhy(item, n, lacks, ships) {
    const short = lacks.find((s) => s.item === n.item);
    if (short && (short.why || short.explanation)) return explain(short.why || short.explanation, { shelter: item.name });
    const mine = ships.filter((s) => s.item === n.item && s.why);
    if (mine.length) return mine.slice(0, 2).map((s) => explain(s.why, { shelter: item.name, warehouse: s.warehouse_name })).join(" ");
    if (item.kitchen_id && (n.item === "rice" || n.item === "side_dish")) {
      return `${w("cookedBy")} ${nameOf("kitchen", item.province_code, item.kitchen_id)}`;
    }
    return Number(n.need) > 0 && !Number(n.planned) ? w("needNoShipment") : "";
  }

  function renderDetail() {
    const { entity, key } = selected;
    const item = state[entity].get(key);
    const body = document.getElementById("detail-body");
    const section = document.getElementById("detail");
    section.dataset.entity = entity;
    section.dataset.key = key;
    if (!item) { document.getElementById("detail-title").textContent = t("none"); body.replaceChildren(); return; }
    document.getElementById("detail-title").textContent = entity === "kitchen_proposal" ? `${w("kitchenProposals")}: ${(item.site || {}).name || ""}` : item.name || "–";
    const parts = [];
    const where = [kabupaten[item.kabupaten_code || kabupatenOf(entity, item)], provinceName(item.province_code)].filter(Boolean).join(", ");
    if (where) parts.push(el("p", { class: "hint" }, where));
    if (entity === "shelter") shelterPanel(item, parts);
    else if (entity === "warehouse") warehousePanel(item, parts);
    else if (entity === "team") teamPanel(item, parts);
    else if (entity === "kitchen") kitchenPanel(item, parts);
    else if (entity === "kitchen_proposal") { if (item.site) parts.push(el("ul", { class: "proposal-detail" }, proposalItem(key, item)), el("h3", {}, w("proposalShelters")), el("p", {}, (item.shelter_ids || []).map((id) => nameOf("shelter", item.province_code, id)).join(", "))); }
    body.replaceChildren(...parts);
  }

  function shelterPanel(item, parts) {
    const h = item.headcount || {};
    parts.push(el("p", { class: "headcount" }, el("b", {}, `${t("displaced")}: ${fmt(h.total || 0, 0)}`),
      ` · ${t("unmet")} ${fmt((item.unmet_share || 0) * 100, 0)}%`));
    parts.push(el("p", { class: "hint" }, `${w("groups")}: ${t("infants")} ${fmt(h.infants || 0, 0)} · ${t("children")} ${fmt(h.children || 0, 0)} · ${t("elderly")} ${fmt(h.elderly || 0, 0)} · ${t("pregnant")} ${fmt(h.pregnant_lactating || 0, 0)} · ${t("disabled")} ${fmt(h.disabled || 0, 0)}`));
    if (item.kitchen_id) {
      const k = ref("kitchen", item.province_code, item.kitchen_id);
      parts.push(el("p", { class: "hint" }, `${w("served")}: `, k ? linkTo("kitchen", k, k.name || "–") : "–"));
    }
    const id = item.shelter_id;
    const lacks = [...state.shortfall.values()].filter((s) => s.shelter_id === id && s.province_code === item.province_code);
    const mine = [...state.shipment.values()].filter((s) => s.shelter_id === id && s.province_code === item.province_code);
    const rows = [];
    for (const n of item.needs || []) {
      rows.push(el("tr", { "data-item": n.item }, ...[itemName(n.item), qty(n.need, n.unit), fmt(n.planned), fmt(n.in_transit), fmt(n.delivered),
        n.shortfall ? el("b", { class: "short" }, fmt(n.shortfall)) : "0"].map((c) => el("td", {}, c))));
      // how the need was worked out (rate × people × days, the profile), then why it is
      // short or where it comes from
      if (n.why) rows.push(el("tr", { class: "why need-why" }, el("td", { colspan: "6", class: "hint" }, explain(n.why, { shelter: item.name }))));
      const why = needWhy(item, n, lacks, mine);
      if (why) rows.push(el("tr", { class: "why" }, el("td", { colspan: "6", class: "hint" }, why)));
    }
    parts.push(table([t("item"), w("need"), w("planned"), w("inTransit"), w("deliveredShort"), w("shortfall")], rows));
    for (const s of lacks.filter((x) => x.decision)) {
      parts.push(el("div", { class: "explain" }, el("b", {}, `${itemName(s.item)}: ${t("missing")} ${qty(s.missing, s.unit)}`),
        el("span", { class: "pill decided" }, ` ${w(`decision_${s.decision.decision}`)} · ${s.decision.note || ""}`)));
    }
    parts.push(el("h3", {}, t("shipments")));
    parts.push(mine.length ? el("ul", {}, ...mine.slice(0, 40).map((s) => li(`${itemName(s.item)} ${qty(s.quantity, s.unit)} · ${s.warehouse_name || nameOf("warehouse", s.province_code, s.warehouse_id)} `,
      el("span", { class: "pill" }, s.held ? t("held") : t(s.status)),
      s.tier === "national" && s.status === "proposed" ? [" ", gatePill(s.approval, gateSent.has(keyOf("shipment", s)))] : null,
      s.status === "proposed" ? [" ", holdButton(s)] : null,
      awaitingShipment(s) ? [" ", gateButtons(s.province_code, [s], [], `${itemName(s.item)} ${qty(s.quantity, s.unit)} → ${item.name || "–"}`, false)] : null))) : el("p", { class: "hint" }, t("none")));
    const tasks = [...state.task.entries(), ...endedTasks.entries()].filter(([, x]) => x.target_id === id && x.province_code === item.province_code);
    parts.push(el("h3", {}, w("tasksHere")));
    parts.push(tasks.length ? el("ul", { class: "tasks" }, ...tasks.map(([k, x]) => taskItem(k, x, false))) : el("p", { class: "hint" }, w("noTasks")));
  }

  function warehousePanel(item, parts) {
    parts.push(el("p", {}, `${t(`kind_${item.kind}`)}${item.released === false ? ` · ${w("locked")}` : ""}`));
    if (item.released === false) {
      parts.push(el("p", { class: "hint" }, `${w("lumbungLocked")} ${kabupaten[item.kabupaten_code] || provinceName(item.province_code)}. `,
        el("button", { type: "button", class: "secondary", "data-action": "declare", onclick: () => declare({ province: item.province_code, kab: item.kabupaten_code, rows: [] }) }, w("declareEmergency"))));
    }
    const soon = Date.now() + 75 * 86400000;
    parts.push(table([t("item"), w("onHand"), w("reserved"), w("inTransit"), w("nearestExpiry")],
      (item.stock || []).map((s) => {
        const expiries = (s.batches || []).map((b) => b.expires_on).filter(Boolean).sort();
        const first = expiries[0];
        const near = first && new Date(first).getTime() < soon;
        return [itemName(s.item), qty(s.on_hand, s.unit), fmt(s.reserved), fmt(s.in_transit),
          first ? el("span", { class: near ? "short" : "" }, `${first}${near ? ` (${w("expiresSoon")})` : ""} · ${fmt((s.batches || []).length, 0)} ${w("batches")}`) : "–"];
      })));
    const out = [...state.shipment.values()].filter((s) => s.warehouse_id === item.warehouse_id && OPEN_SHIPMENTS.has(s.status));
    parts.push(el("h3", {}, w("outgoing")));
    parts.push(out.length ? el("ul", {}, ...out.slice(0, 40).map((s) => li(`${itemName(s.item)} ${qty(s.quantity, s.unit)} → ${s.shelter_name || nameOf("shelter", s.province_code, s.shelter_id)} `,
      el("span", { class: "pill" }, s.held ? t("held") : t(s.status)), s.tier === "national" ? el("span", { class: "pill tier-national" }, w("tierNational")) : null,
      s.why ? el("div", { class: "hint" }, explain(s.why, { shelter: s.shelter_name, warehouse: item.name })) : null))) : el("p", { class: "hint" }, t("none")));
  }

  function teamPanel(item, parts) {
    const roster = (item.roster || []).map((m) => (typeof m === "string" ? m : m.name)).filter(Boolean);
    parts.push(el("p", {}, `${w("members")}: ${fmt(item.members, 0)}${item.members_present != null ? ` (${fmt(item.members_present, 0)} ${w("present")})` : ""}`,
      ` · ${w("availability")}: ${nm("availability", item.availability)}`, item.rank ? ` · ${w("rank")}: ${nm("rank", item.rank)}` : ""));
    if (roster.length) parts.push(el("p", { class: "hint" }, roster.join(", ")));
    if (item.skills && item.skills.length) parts.push(el("p", { class: "hint skills" }, `${w("skills")}: ${item.skills.map((s) => nm("skill", s)).join(", ")}`));
    if (item.hours_on_duty != null) parts.push(el("p", { class: "hint" }, `${w("hoursOnDuty")}: ${fmt(item.hours_on_duty)} ${w("hours")}`));
    const a = item.assignment;
    if (a) {
      parts.push(el("p", { class: "assignment" }, `${w("assignment")}: ${taskKind(a.kind)} → `, targetLabel(item.province_code, a.target_id), " ", loop(a.status),
        el("div", { class: "hint" }, `${w("tier")}: ${nm("tier", a.tier)}${a.eta_hours != null ? ` · ${w("eta")} ${fmt(a.eta_hours)} ${w("hours")}` : ""}`, " · ", stepTrail(a)),
        a.why ? el("div", { class: "hint why" }, explain(a.why, { team: item.name, task: `${taskKind(a.kind)} · ${targetOf(item.province_code, a.target_id).name}` })) : null));
    }
    const m = !a && item.mobilisation;
    if (m) {
      parts.push(el("p", { class: "assignment mobilisation", "data-approval": m.approval || "" },
        `${w("mobilisationAwaiting")}: ${taskKind(m.kind)}${provinceName(m.task_province) ? ` · ${provinceName(m.task_province)}` : ""} `,
        gatePill(m.approval, false), el("div", { class: "hint" }, w("awaitsProvince"),
          m.eta_hours != null ? ` · ${w("eta")} ${fmt(m.eta_hours)} ${w("hours")}` : ""),
        m.why ? el("div", { class: "hint why" }, explain(m.why, { team: item.name, task: taskKind(m.kind) })) : null));
    }
    const mine = [...state.task.entries(), ...endedTasks.entries()].filter(([, x]) => (x.teams || []).some((m) => m.team_id === item.team_id) && x.province_code === item.province_code);
    parts.push(el("h3", {}, w("history")));
    parts.push(mine.length ? el("ul", { class: "tasks" }, ...mine.map(([k, x]) => {
      const me = (x.teams || []).find((m) => m.team_id === item.team_id);
      return el("li", { "data-task": k, "data-step": me.status }, el("b", {}, taskKind(x.kind)), " → ", targetLabel(x.province_code, x.target_id), " ", loop(me.status),
        me.status === "declined" && me.reason ? ` · ${me.reason}` : "", el("div", { class: "hint" }, stepTrail(me)));
    })) : el("p", { class: "hint" }, w("noTasks")));
    parts.push(el("div", { class: "actions" }, el("button", { type: "button", class: "secondary", "data-action": "override", onclick: () => override(null, item) }, w("override"))));
  }

  function kitchenPanel(k, parts) {
    parts.push(el("p", {}, `${w("status")}: ${nm("kitchenStatus", k.status)} · ${w("units")}: ${fmt(k.units || 1, 0)} × ${fmt(k.portions_per_cooking, 0)} × ${fmt(k.cookings_per_day, 0)}`));
    parts.push(el("p", { class: "kitchen-load" }, el("b", {}, `${w("capacity")}: ${fmt(k.capacity_per_day, 0)} ${w("portionsPerDay")}`),
      ` · ${w("portionsNeeded")}: ${fmt(k.portions_needed_per_day, 0)} · ${w("cooked")}: ${fmt(k.portions_cooked_per_day, 0)}`,
      " ", el("span", { class: `pill load u${kitchenBucket(k)}` }, `${w("load")} ${k.load_share != null ? `${fmt(k.load_share * 100, 0)}%` : "–"}`)));
    if (k.shortfall) parts.push(el("div", { class: "explain short" }, explain(k.shortfall, { kitchen: k.name }),
      ((k.shortfall.figures || {}).units_missing) ? el("div", { class: "actions" }, el("button", { type: "button", class: "secondary", "data-action": "add-units", onclick: () => addUnits(k, k.shortfall.figures.units_missing) }, `${w("addUnits")} (+${fmt(k.shortfall.figures.units_missing, 0)})`)) : null));
    const teams = (k.team_ids || []).map((id) => ref("team", k.province_code, id)).filter(Boolean);
    if (teams.length) parts.push(el("p", {}, `${w("runBy")}: `, ...teams.flatMap((x, i) => [i ? ", " : "", linkTo("team", x, x.name || "–")])));
    parts.push(el("h3", {}, `${w("sheltersServed")} (${fmt(k.shelters_served, 0)} · ${fmt(k.people_served, 0)} ${w("peopleServed")})`));
    const served = (k.shelter_ids || []).map((id) => ref("shelter", k.province_code, id)).filter(Boolean);
    parts.push(served.length ? el("p", {}, ...served.flatMap((x, i) => [i ? ", " : "", linkTo("shelter", x, x.name || "–")])) : el("p", { class: "hint" }, t("none")));
    const days = Object.entries(k.served || {}).sort(([a], [b]) => b.localeCompare(a)).slice(0, 3);
    if (days.length) {
      parts.push(el("h3", {}, w("servedTitle")));
      parts.push(table([t("when"), nm("meal", "pagi"), nm("meal", "siang"), nm("meal", "malam")],
        days.map(([day, meals]) => [day, fmt(meals.pagi ?? null, 0), fmt(meals.siang ?? null, 0), fmt(meals.malam ?? null, 0)])));
    }
    if ((k.ingredients || []).length) {
      parts.push(el("h3", {}, w("ingredients")));
      const rows = [];
      for (const g of k.ingredients) {
        rows.push(el("tr", { "data-item": g.item }, ...[itemName(g.item), fmt(g.need, 0), fmt(g.planned, 0), g.missing ? el("b", { class: "short" }, fmt(g.missing, 0)) : "0"].map((c) => el("td", {}, c))));
        // the figures' sources are written in English (logistics/data/kitchens): shown
        // in the English page only
        const source = Siaga.lang === "en" ? g.source : g.source_id;
        if (source) rows.push(el("tr", { class: "why" }, el("td", { colspan: "4", class: "hint" }, `${w("source")}: ${source}`)));
      }
      parts.push(table([t("item"), w("need"), w("planned"), w("missingShort")], rows));
    }
  }

  const incidentLabel = (i) => (i ? `${t(`type_${i.incident_type}`)}${kabupaten[i.kabupaten_code] ? ` · ${kabupaten[i.kabupaten_code]}` : ""}` : "–");

  function toast(text) {
    const node = el("div", { class: "toast" }, text);
    document.body.append(node);
    setTimeout(() => node.remove(), 4000);
  }

  function setStatus(kind) {
    const node = document.getElementById("live-status");
    node.className = `status ${kind}`;
    node.textContent = t(kind);
    live.connected = kind === "live";
  }

  // ---- finding a shelter by its name: the map zooms to it and opens its panel
  const fold = (s) => String(s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  function findShelter(text) {
    const q = fold(text).trim();
    if (!q) return [];
    const words = q.split(/\s+/);
    const found = [];
    for (const [key, x] of state.shelter) {
      const name = fold(x.name);
      if (words.every((part) => name.includes(part))) found.push({ key, item: x, rank: name === q ? 0 : name.startsWith(q) ? 1 : 2 });
    }
    return found.sort((a, b) => a.rank - b.rank || String(a.item.name).localeCompare(String(b.item.name))).slice(0, 8);
  }
  function showShelter(key) {
    const marker = markers.shelter.get(key);
    document.getElementById("search-results").hidden = true;
    for (const node of document.querySelectorAll(".shelter-dot.found")) node.classList.remove("found");
    if (!marker) { openPanel("shelter", key); return; }
    const done = () => { marker.node.classList.add("found"); openPanel("shelter", key); };
    map.setView(marker.getLatLng(), Math.max(map.getZoom(), 13), { animate: false });
    layers.shelter.zoomToShowLayer(marker, done);
  }
  function wireSearch() {
    const input = document.getElementById("shelter-search");
    const results = document.getElementById("search-results");
    const render = () => {
      const found = findShelter(input.value);
      results.hidden = !input.value.trim();
      results.replaceChildren(...(found.length ? found.map(({ key, item }) => el("li", {}, el("a", { href: "#", "data-key": key,
        onclick: (e) => { e.preventDefault(); showShelter(key); } }, item.name || "–", el("small", { class: "hint" }, ` · ${kabupaten[item.kabupaten_code] || provinceName(item.province_code)}`))))
        : [el("li", { class: "hint" }, w("noMatch"))]));
    };
    input.addEventListener("input", render);
    document.getElementById("search-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const [first] = findShelter(input.value);
      if (first) showShelter(first.key); else render();
    });
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

  function situation(entities) {
    const params = new URLSearchParams({ limit: "20000" });
    for (const e of entities) params.append("include", e);
    return api(`/api/v1/situation?${params}`);
  }

  function load(snapshot, entities) {
    for (const entity of entities) {
      versions[entity] += 1;
      state[entity].clear();
      if (markers[entity]) { layers[entity].clearLayers(); markers[entity].clear(); }
      if (entity === "shipment") layers.shipment.clear();
      for (const item of snapshot[`${entity}s`] || []) state[entity].set(keyOf(entity, item), item);
    }
    if (entities.includes("shelter")) {
      // shelters go into the cluster group in one call (chunked: the page stays responsive)
      const shelters = [];
      for (const [key, item] of state.shelter) { const m = shelterMarker(item, key); if (m) { markers.shelter.set(key, m); shelters.push(m); } }
      layers.shelter.addLayers(shelters);
    }
    for (const entity of entities) if (entity !== "shelter" && entity !== "shortfall" && entity !== "task") for (const key of state[entity].keys()) draw(entity, key);
  }

  /** The snapshot in two parts: the map's own picture first, then the shipments and
   *  shortfalls. The live feed resumes from the first part's cursor (changes in between
   *  are applied again, in order, so each entity ends at its newest state). */
  async function loadSnapshot(first, rest, onFirst) {
    holdChanges = true;
    document.getElementById("loading-rest").hidden = false;
    const restLoaded = rest || situation(REST);
    const head = await (first || situation(FIRST));
    timings.snapshotFirstFetched = Math.round(performance.now());
    load(head, FIRST);
    cursor = head.cursor;
    timings.firstPicture = Math.round(performance.now());
    // painted: the frame after the one these markers were laid out in
    requestAnimationFrame(() => requestAnimationFrame(() => { timings.firstPaint = timings.firstPaint || Math.round(performance.now()); }));
    renderPanels();
    if (onFirst) onFirst();
    const tail = await restLoaded;
    timings.snapshotFetched = Math.round(performance.now());
    load(tail, REST);
    holdChanges = false;
    document.getElementById("loading-rest").hidden = true;
    renderPanels();
    flushSoon();
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
    source.addEventListener("reset", () => { source.close(); loadSnapshot(null, null, connect); });
    source.addEventListener("error", () => {
      setStatus("reconnecting");
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 3000);
    });
  }

  function wireForms() {
    document.getElementById("csv-shelters").href = "/api/v1/export/shelters.csv";
    document.getElementById("csv-needs").href = "/api/v1/export/needs.csv";
    document.getElementById("csv-stock").href = "/api/v1/export/stock.csv";
    document.getElementById("json-situation").href = "/api/v1/situation";
    document.getElementById("detail-close").addEventListener("click", () => { selected = null; document.getElementById("detail").hidden = true; });
    document.getElementById("group-by").addEventListener("change", () => renderPanels());
    for (const id of ["timeline-entity", "timeline-province", "timeline-kabupaten", "timeline-since", "timeline-until"]) {
      document.getElementById(id).addEventListener("change", () => loadTimeline(false));
    }
    document.getElementById("timeline-text").addEventListener("input", renderTimeline);
    document.getElementById("timeline-more").addEventListener("click", () => {
      timelineShown += TIMELINE_PAGE;
      if (timeline.length < timelineShown && timelineCursor) loadTimeline(true); else { renderTimeline(); showMore(); }
    });
    document.getElementById("fit-operation").addEventListener("click", fitOperation);
    for (const box of document.querySelectorAll("#legend input[data-layer]")) {
      box.addEventListener("change", () => toggle(layers[box.dataset.layer], box.checked));
    }
    wireSearch();
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
    const me = await Siaga.whoami();
    const signedIn = performance.now();
    // a provincial coordinator's picture and timeline are its province's: no province to pick
    if (me && me.role === "coordinator" && (me.scope || {}).province_code) document.getElementById("timeline-province").hidden = true;
    timings.signedIn = Math.round(signedIn);
    // everything the first paint needs is asked for at once: the base map (preloaded by the
    // page), the item names and the map's own picture
    const first = situation(FIRST);
    // the shipments are asked for once the first part is answered: asked together, the two
    // share the API's CPU and the first part (what the map paints first) comes later
    const rest = first.then(() => situation(REST));
    rest.catch(() => {}); // awaited after the first part; a failure is reported there
    const basemapLoaded = fetch("/static/basemap/indonesia.json").then((r) => r.json());
    const itemsLoaded = Siaga.loadItems();
    document.getElementById("app").hidden = false;
    wireForms();
    document.addEventListener("siaga:lang", () => { applyWords(); loadTimeline(false); renderPanels(); setStatus(live.connected ? "live" : "reconnecting"); });
    const basemap = await basemapLoaded;
    for (const f of basemap.features) {
      if (f.properties.layer === "province") provinces[f.properties.code] = f.properties.name;
      if (f.properties.layer === "kabupaten") kabupaten[f.properties.code] = f.properties.name;
    }
    buildMap(basemap);
    timings.baseMap = Math.round(performance.now());
    await itemsLoaded;
    await loadSnapshot(first, rest, () => { fitOperation(); connect(); loadTimeline(false); });
    timings.snapshot = Math.round(performance.now());
    document.body.dataset.ready = "1";
  }

  document.addEventListener("DOMContentLoaded", () => {
    main().catch((err) => { document.body.append(el("p", { class: "error" }, `${t("error")}: ${err.message}`)); });
  });
})();
