/* Siaga pages: language (Bahasa Indonesia by default, English toggle), sign-in, API calls.
   The token is typed into the sign-in form once and exchanged for an HttpOnly session
   cookie (POST /api/v1/session); the page never keeps it, and never puts it in a URL. */
"use strict";

const Siaga = (() => {
  const T = {
    id: {
      app: "Siaga", tagline: "Logistik tanggap bencana Kemensos",
      dashboard: "Dasbor koordinator", fieldForm: "Formulir posko", desk: "Meja gudang",
      login: "Masuk", logout: "Keluar", tokenLabel: "Token akses", tokenHint: "Tempel token dari `siaga tokens create` (atau demo-tokens.json).",
      badToken: "Token tidak dikenal, sudah kedaluwarsa, atau sudah dicabut.", tooMany: "Terlalu banyak percobaan gagal; coba lagi dalam", seconds: "detik",
      forbiddenHere: "Tidak diizinkan", fix: "Ubah", retry: "Kirim ulang", discard: "Hapus", fixHint: "Ditolak server: perbaiki lalu kirim ulang, atau hapus.",
      live: "Langsung", reconnecting: "Menyambung ulang…", offline: "Luring", online: "Daring",
      incidents: "Kejadian", shelters: "Pengungsian", warehouses: "Gudang", teams: "Tim TAGANA",
      shipments: "Pengiriman", shortfalls: "Kekurangan yang perlu keputusan", inFlight: "Pengiriman dalam perjalanan",
      proposed: "Usulan", confirmed: "Dikonfirmasi", dispatched: "Dikirim", delivered: "Diterima",
      cancelled: "Dibatalkan", rejected: "Ditolak", held: "Ditahan",
      summary: "Ringkasan", displaced: "Pengungsi", severity: "Tingkat", affected: "Terdampak",
      unmet: "Kebutuhan belum terpenuhi", stock: "Stok", missing: "Kurang", escalated: "Dieskalasi",
      hold: "Tahan", release: "Lepas tahanan", reason: "Alasan", override: "Ubah penugasan",
      assign: "Tugaskan", unassign: "Lepaskan", task: "Tugas", team: "Tim", send: "Kirim",
      none: "Tidak ada", legend: "Keterangan", noPicture: "Belum ada data.",
      incidentType: "Jenis kejadian", location: "Lokasi", lat: "Lintang", lon: "Bujur",
      useMyLocation: "Pakai lokasi saya", poskoId: "ID posko", description: "Keterangan",
      dead: "Meninggal", injured: "Luka-luka", needs: "Kebutuhan yang terlihat", needsHint: "Satu per baris: barang jumlah satuan, mis. drinking_water 500 liter",
      report: "Laporkan", shelterId: "ID pengungsian", shelterName: "Nama lokasi pengungsian", capacity: "Kapasitas",
      headcount: "Jumlah pengungsi", total: "Total", infants: "Bayi (<2 th)", children: "Anak (2–17 th)",
      elderly: "Lansia (60+)", pregnant: "Ibu hamil/menyusui", disabled: "Penyandang disabilitas",
      receipt: "Penerimaan barang", shipmentId: "ID pengiriman", quantityReceived: "Jumlah diterima", note: "Catatan",
      queue: "Antrean kiriman", queued: "Dalam antrean", sent: "Terkirim", rejectedBy: "Ditolak server",
      queueEmpty: "Antrean kosong.", queuedOffline: "Disimpan; akan dikirim saat sinyal kembali.",
      warehouse: "Gudang", item: "Barang", quantity: "Jumlah", unit: "Satuan", batch: "Batch", expires: "Kedaluwarsa",
      confirm: "Konfirmasi", dispatch: "Tandai dikirim", cancel: "Batalkan", printWaybill: "Cetak surat jalan",
      pickSuggested: "Usulan pengambilan (kedaluwarsa pertama keluar pertama)", short: "Kurang",
      destination: "Tujuan", origin: "Asal", eta: "Perkiraan tiba (jam)", waybill: "Surat jalan",
      pickList: "Daftar ambil", signature: "Tanda tangan", packedBy: "Disiapkan oleh", driver: "Pengemudi", receivedBy: "Diterima oleh",
      print: "Cetak", refresh: "Muat ulang", error: "Galat", saved: "Tersimpan", accepted: "Diterima server",
      exportCsv: "Unduh CSV (HXL)", language: "English", province: "Provinsi", updated: "Diperbarui",
      kind_regional: "regional", kind_provincial: "provinsi", kind_kabupaten: "kabupaten", kind_lumbung_sosial: "Lumbung Sosial",
      type_earthquake: "Gempa bumi", type_tsunami: "Tsunami", type_flood: "Banjir", type_flash_flood: "Banjir bandang",
      type_lahar_flood: "Banjir lahar", type_landslide: "Tanah longsor", type_eruption: "Erupsi gunung api",
      type_tornado: "Puting beliung", type_forest_fire: "Kebakaran hutan", type_drought: "Kekeringan", type_other: "Lainnya",
      receive: "Terima barang", count: "Hitung stok (opname)", writeOff: "Hapus buku (write-off)", stockCard: "Kartu stok",
      source: "Asal barang", source_procurement: "Pengadaan", source_donation: "Donasi", source_transfer: "Pindahan gudang lain", source_return: "Pengembalian",
      donor: "Donatur", documentNumber: "Nomor dokumen", receivedByName: "Diterima oleh (nama)", countedBy: "Dihitung oleh (nama)",
      writtenOffBy: "Dihapus oleh (nama)", counted: "Jumlah terhitung", reasonCode: "Sebab",
      reason_expired: "Kedaluwarsa", reason_damaged: "Rusak", reason_lost: "Hilang", reason_other: "Lainnya",
      kind_receipt: "Penerimaan", kind_count: "Opname (selisih)", kind_write_off: "Hapus buku", kind_dispatch: "Pengiriman keluar", kind_level_reported: "Laporan stok sistem gudang",
      when: "Waktu", change: "Perubahan", balance: "Saldo batch", who: "Oleh", why: "Keterangan", more: "Lebih banyak",
      grn: "Bukti penerimaan barang", donorReceipt: "Tanda terima donasi", printGrn: "Cetak bukti penerimaan",
      donorThanks: "Kementerian Sosial RI menerima dengan terima kasih bantuan berikut untuk penanganan bencana:",
      onHand: "Stok ada", pickItem: "Pilih barang", addNeed: "Tambah kebutuhan", remove: "Hapus", stockBy: "Stok per barang",
      noMovements: "Belum ada mutasi.",
    },
    en: {
      app: "Siaga", tagline: "Kemensos disaster-response logistics",
      dashboard: "Coordinators' dashboard", fieldForm: "Command post form", desk: "Warehouse desk",
      login: "Sign in", logout: "Sign out", tokenLabel: "Access token", tokenHint: "Paste a token from `siaga tokens create` (or demo-tokens.json).",
      badToken: "Unknown, expired or revoked token.", tooMany: "Too many failed attempts; retry in", seconds: "seconds",
      forbiddenHere: "Not allowed", fix: "Edit", retry: "Send again", discard: "Delete", fixHint: "Refused by the server: fix and send again, or delete.",
      live: "Live", reconnecting: "Reconnecting…", offline: "Offline", online: "Online",
      incidents: "Incidents", shelters: "Shelters", warehouses: "Warehouses", teams: "TAGANA teams",
      shipments: "Shipments", shortfalls: "Shortfalls needing a decision", inFlight: "Shipments in flight",
      proposed: "Proposed", confirmed: "Confirmed", dispatched: "Dispatched", delivered: "Delivered",
      cancelled: "Cancelled", rejected: "Rejected", held: "Held",
      summary: "Summary", displaced: "Displaced", severity: "Severity", affected: "Affected",
      unmet: "Unmet need", stock: "Stock", missing: "Missing", escalated: "Escalated",
      hold: "Hold", release: "Release hold", reason: "Reason", override: "Override dispatch",
      assign: "Assign", unassign: "Release", task: "Task", team: "Team", send: "Send",
      none: "None", legend: "Legend", noPicture: "No data yet.",
      incidentType: "Incident type", location: "Location", lat: "Latitude", lon: "Longitude",
      useMyLocation: "Use my location", poskoId: "Posko id", description: "Description",
      dead: "Dead", injured: "Injured", needs: "Needs seen", needsHint: "One per line: item quantity unit, e.g. drinking_water 500 litre",
      report: "Report", shelterId: "Shelter id", shelterName: "Shelter site name", capacity: "Capacity",
      headcount: "Headcount", total: "Total", infants: "Infants (<2 y)", children: "Children (2–17 y)",
      elderly: "Elderly (60+)", pregnant: "Pregnant/lactating", disabled: "People with disabilities",
      receipt: "Delivery receipt", shipmentId: "Shipment id", quantityReceived: "Quantity received", note: "Note",
      queue: "Outbox", queued: "Queued", sent: "Sent", rejectedBy: "Rejected by server",
      queueEmpty: "Outbox empty.", queuedOffline: "Saved; will be sent when the connection returns.",
      warehouse: "Warehouse", item: "Item", quantity: "Quantity", unit: "Unit", batch: "Batch", expires: "Expires",
      confirm: "Confirm", dispatch: "Mark dispatched", cancel: "Cancel", printWaybill: "Print waybill",
      pickSuggested: "Suggested picks (first expiry, first out)", short: "Short",
      destination: "Destination", origin: "Origin", eta: "ETA (hours)", waybill: "Waybill",
      pickList: "Pick list", signature: "Signature", packedBy: "Packed by", driver: "Driver", receivedBy: "Received by",
      print: "Print", refresh: "Reload", error: "Error", saved: "Saved", accepted: "Accepted by server",
      exportCsv: "Download CSV (HXL)", language: "Bahasa Indonesia", province: "Province", updated: "Updated",
      kind_regional: "regional", kind_provincial: "provincial", kind_kabupaten: "kabupaten", kind_lumbung_sosial: "Lumbung Sosial",
      type_earthquake: "Earthquake", type_tsunami: "Tsunami", type_flood: "Flood", type_flash_flood: "Flash flood",
      type_lahar_flood: "Lahar flood", type_landslide: "Landslide", type_eruption: "Volcanic eruption",
      type_tornado: "Tornado", type_forest_fire: "Forest fire", type_drought: "Drought", type_other: "Other",
      receive: "Receive goods", count: "Count stock", writeOff: "Write off", stockCard: "Stock card",
      source: "Source", source_procurement: "Procurement", source_donation: "Donation", source_transfer: "Transfer from another warehouse", source_return: "Return",
      donor: "Donor", documentNumber: "Document number", receivedByName: "Received by (name)", countedBy: "Counted by (name)",
      writtenOffBy: "Written off by (name)", counted: "Quantity counted", reasonCode: "Cause",
      reason_expired: "Expired", reason_damaged: "Damaged", reason_lost: "Lost", reason_other: "Other",
      kind_receipt: "Receipt", kind_count: "Count (difference)", kind_write_off: "Write-off", kind_dispatch: "Dispatched", kind_level_reported: "Stock level from the warehouse system",
      when: "When", change: "Change", balance: "Batch balance", who: "By", why: "Why", more: "More",
      grn: "Goods received note", donorReceipt: "Donation receipt", printGrn: "Print goods received note",
      donorThanks: "The Ministry of Social Affairs of the Republic of Indonesia gratefully acknowledges the following donation for disaster response:",
      onHand: "On hand", pickItem: "Choose an item", addNeed: "Add a need", remove: "Remove", stockBy: "Stock by item",
      noMovements: "No movements yet.",
    },
  };
  let lang = localStorage.getItem("siaga.lang") || "id";

  function t(key) {
    return (T[lang] && T[lang][key]) || T.id[key] || key;
  }

  function applyI18n(root) {
    const scope = root || document;
    scope.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n); });
    scope.querySelectorAll("[data-i18n-placeholder]").forEach((node) => { node.placeholder = t(node.dataset.i18nPlaceholder); });
    scope.querySelectorAll("[data-i18n-title]").forEach((node) => { node.title = t(node.dataset.i18nTitle); });
    document.documentElement.lang = lang;
  }

  function toggleLang() {
    lang = lang === "id" ? "en" : "id";
    localStorage.setItem("siaga.lang", lang);
    applyI18n();
    document.dispatchEvent(new Event("siaga:lang"));
  }

  // Older pages kept the token in localStorage: forget it.
  localStorage.removeItem("siaga.token");

  /** Exchange a token for the session cookie; resolves with {role, scope, label}. */
  async function signIn(tokenValue) {
    const response = await fetch("/api/v1/session", {
      method: "POST", credentials: "same-origin",
      headers: { Accept: "application/json", Authorization: `Bearer ${tokenValue}` },
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, data && data.detail !== undefined ? data.detail : data, response.headers.get("Retry-After"));
    return data;
  }

  async function signOut() {
    await fetch("/api/v1/session", { method: "DELETE", credentials: "same-origin" }).catch(() => {});
  }

  class ApiError extends Error {
    constructor(status, detail, retryAfter) {
      super(typeof detail === "string" ? detail : JSON.stringify(detail));
      this.status = status;
      this.detail = detail;
      this.retryAfter = retryAfter || null;
    }
  }

  /** What to tell a person about a refused sign-in, in their language. */
  function signInError(err) {
    if (err.status === 401) return t("badToken");
    if (err.status === 429) return `${t("tooMany")} ${err.retryAfter || 60} ${t("seconds")}.`;
    return `${t("error")}: ${describeDetail(err.detail || err.message)}`;
  }

  function describeDetail(detail) {
    if (Array.isArray(detail)) {
      return detail.map((d) => `${(d.loc || []).filter((p) => p !== "body").join(".")}: ${d.msg}`).join("; ");
    }
    return String(detail);
  }

  async function api(path, options) {
    const opts = options || {};
    const headers = Object.assign({ Accept: "application/json" }, opts.headers || {});
    let body = opts.body;
    if (body !== undefined && typeof body !== "string") {
      body = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
    const response = await fetch(path, { method: opts.method || "GET", headers, body, credentials: "same-origin" });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = text; }
    if (!response.ok) {
      if (response.status === 401) document.dispatchEvent(new Event("siaga:unauthorized"));
      throw new ApiError(response.status, data && data.detail !== undefined ? data.detail : data, response.headers.get("Retry-After"));
    }
    return data;
  }

  function uuid4() {
    // crypto.randomUUID needs a secure context; a LAN page over http is not one.
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function fmt(n, digits, language) {
    if (n === null || n === undefined || n === "") return "–";
    return Number(n).toLocaleString((language || lang) === "en" ? "en-GB" : "id-ID", { maximumFractionDigits: digits === undefined ? 1 : digits });
  }

  /** The header bar every page shares: title, language toggle, sign-in/out. */
  function header(titleKey, extra) {
    const langBtn = el("button", { type: "button", class: "lang", onclick: toggleLang, "data-i18n": "language" }, t("language"));
    const out = el("button", { type: "button", class: "logout", onclick: async () => { await signOut(); location.reload(); }, "data-i18n": "logout" }, t("logout"));
    return el("header", { class: "bar" },
      el("a", { href: "/", class: "brand" }, "Siaga"),
      el("h1", { "data-i18n": titleKey }, t(titleKey)),
      el("span", { class: "spacer" }), extra || null, langBtn, out);
  }

  /** A sign-in box; resolves once a token that the API accepts was entered. */
  function login() {
    return new Promise((resolve) => {
      const input = el("input", { type: "password", id: "token-input", autocomplete: "off", size: "50" });
      const msg = el("p", { class: "error" });
      const box = el("form", { class: "login card", id: "login" },
        el("label", { for: "token-input", "data-i18n": "tokenLabel" }, t("tokenLabel")), input,
        el("p", { class: "hint", "data-i18n": "tokenHint" }, t("tokenHint")),
        el("button", { type: "submit", "data-i18n": "login" }, t("login")), msg);
      box.addEventListener("submit", async (e) => {
        e.preventDefault();
        try {
          const me = await signIn(input.value.trim());
          input.value = "";
          box.remove();
          resolve(me);
        } catch (err) {
          msg.textContent = signInError(err);
        }
      });
      document.body.append(box);
      input.focus();
    });
  }

  /** Who the session belongs to, asking for a token when there is no session (or it ended). */
  async function whoami() {
    try { return await api("/api/v1/me"); } catch (err) { if (err.status !== 401) throw err; }
    return login();
  }


  // ---------------------------------------------------------------- the item catalogue
  // GET /api/v1/items once per page (kept in localStorage, so the offline posko form has
  // names too). Pages show names, never codes.
  let catalogue = null;
  try { catalogue = JSON.parse(localStorage.getItem("siaga.items") || "null"); } catch (_) { catalogue = null; }

  async function loadItems() {
    try {
      const response = await fetch("/api/v1/items", { headers: { Accept: "application/json" } });
      if (response.ok) {
        catalogue = await response.json();
        localStorage.setItem("siaga.items", JSON.stringify(catalogue));
      }
    } catch (_) { /* offline: the kept copy serves */ }
    return catalogue ? catalogue.items : [];
  }

  function itemOf(code) {
    return ((catalogue && catalogue.items) || []).find((i) => i.id === code) || null;
  }

  /** The item's name in the page's language ("Beras" / "Rice"). */
  function itemName(code, language) {
    const item = itemOf(code);
    if (!item) return code === null || code === undefined ? "–" : String(code);
    return (language || lang) === "en" ? item.name_en : item.name_id;
  }

  /** A unit's name in the page's language ("bungkus" / "pack"). */
  // units the planner uses beyond the catalogue's (a kitchen's portions a day)
  const EXTRA_UNITS = { "porsi/hari": { id: "porsi/hari", en: "portions/day" }, porsi: { id: "porsi", en: "portions" } };

  function unitName(code, language) {
    if (EXTRA_UNITS[code]) return EXTRA_UNITS[code][(language || lang) === "en" ? "en" : "id"];
    for (const item of (catalogue && catalogue.items) || []) {
      if (item.unit === code) return (language || lang) === "en" ? item.unit_en : item.unit_id;
    }
    return code === null || code === undefined ? "" : String(code);
  }

  /** A quantity with its unit's name: "1.200 bungkus". */
  function qty(n, unit) {
    return `${fmt(n, 0)} ${unitName(unit)}`.trim();
  }

  // ---------------------------------------------------------------- explanations
  // The planner sends explanations as data: {rule, figures, text}. One renderer for every
  // page: the sentence for the rule, in the page's language, with names instead of ids
  // (names: {shelter, warehouse, team, task} from the entity that carries the explanation).
  const BLOCKED = {
    id: { expired: "kedaluwarsa", near_expiry: "kurang dari 75 hari sebelum kedaluwarsa", lumbung_not_released: "di Lumbung Sosial yang belum dibuka (belum ada status tanggap darurat)" },
    en: { expired: "expired", near_expiry: "within 75 days of expiry", lumbung_not_released: "in Lumbung Sosial stores not yet released (no emergency declared)" },
  };
  const SHORT_RULE = {
    id: {
      no_eligible_stock_reachable: "tidak ada stok yang boleh dipakai dalam jangkauan",
      reachable_stock_shared_to_least_deprivation: "stok yang terjangkau dibagi agar kekurangan paling ringan di semua lokasi",
      stock_used_for_higher_priority_or_cheaper_needs: "stok yang ada dipakai untuk kebutuhan berprioritas lebih tinggi atau lebih dekat",
    },
    en: {
      no_eligible_stock_reachable: "no eligible stock within reach",
      reachable_stock_shared_to_least_deprivation: "the stock within reach is shared so that deprivation is least everywhere",
      stock_used_for_higher_priority_or_cheaper_needs: "the stock there is used for higher-priority or closer needs",
    },
  };
  const fmtIn = (x, d, L) => fmt(x, d, L);
  // a need's lines: who (the profile's groups), and the standards profiles by name
  const NEED_GROUP = {
    id: { all: "orang", infants: "bayi", children: "anak", elderly: "lansia", pregnant: "ibu hamil", lactating: "ibu menyusui", disabled: "penyandang disabilitas" },
    en: { all: "people", infants: "infants", children: "children", elderly: "elderly people", pregnant: "pregnant women", lactating: "lactating women", disabled: "people with disabilities" },
  };
  const PROFILE_NAME = { "bnpb-perka-7-2008": "Perka BNPB 7/2008", "sphere-2018": "Sphere 2018" };

  function needText(f, L) {
    const fmt = (x, d) => fmtIn(x, d, L);
    const u = unitName(f.unit, L);
    const item = itemName(f.item, L);
    const terms = (f.lines || []).map((ln) => {
      const who = (NEED_GROUP[L] || NEED_GROUP.id)[ln.group] || NEED_GROUP[L].all;
      const daily = ln.per === "person_day";
      const rate = L === "en" ? `${fmt(ln.rate, 3)} ${u} per person${daily ? " a day" : ""}` : `${fmt(ln.rate, 3)} ${u}/orang${daily ? "/hari" : ""}`;
      const days = daily ? (L === "en" ? ` × ${fmt(f.days)} day(s)` : ` × ${fmt(f.days)} hari`) : "";
      return `${fmt(ln.people, 0)} ${who} × ${rate}${days} = ${fmt(ln.amount, 2)}${ln.sourced ? "" : "*"}`;
    });
    const profile = PROFILE_NAME[f.profile_id] || "";
    const assumed = (f.lines || []).some((ln) => !ln.sourced);
    const sources = L === "en" ? (f.lines || []).map((ln) => ln.source).filter(Boolean) : [];
    return L === "en"
      ? `Need ${fmt(f.need, 2)} ${u} of ${item}: ${terms.join(" + ") || "no rate applies"}${profile ? ` (${profile})` : ""}; ${fmt(f.on_hand, 0)} already there, ${fmt(f.in_transit, 0)} on the way: ${fmt(f.quantity, 0)} still to cover.${assumed ? " * an assumption, not a sourced figure." : ""}${sources.length ? ` Sources: ${[...new Set(sources)].join("; ")}.` : ""}`
      : `Kebutuhan ${fmt(f.need, 2)} ${u} ${item}: ${terms.join(" + ") || "tidak ada takaran"}${profile ? ` (${profile})` : ""}; ${fmt(f.on_hand, 0)} sudah ada, ${fmt(f.in_transit, 0)} dalam perjalanan: masih perlu ${fmt(f.quantity, 0)}.${assumed ? " * angka asumsi, belum bersumber." : ""}`;
  }

  function needPart(f, L) {
    const fmt = (x, d) => fmtIn(x, d, L);
    const u = unitName(f.unit, L);
    return L === "en"
      ? `need ${fmt(f.need, 0)} ${u} (${fmt(f.headcount, 0)} people, ${fmt(f.days)} day(s) of cover; ${fmt(f.on_hand, 0)} already there, ${fmt(f.in_transit, 0)} on the way)`
      : `kebutuhan ${fmt(f.need, 0)} ${u} (${fmt(f.headcount, 0)} orang, ${fmt(f.days)} hari; ${fmt(f.on_hand, 0)} sudah ada, ${fmt(f.in_transit, 0)} dalam perjalanan)`;
  }

  function explain(explanation, language, names) {
    const L = (language || lang) === "en" ? "en" : "id";
    const n = names || {};
    if (!explanation) return "";
    if (typeof explanation === "string") return L === "en" ? explanation : "";
    const f = explanation.figures || {};
    const fmt = (x, d) => fmtIn(x, d, L);
    const pct = (x) => `${fmt(100 * Number(x || 0), 0)}%`;
    const u = unitName(f.unit, L);
    const item = itemName(f.item, L);
    const shelter = n.shelter || f.shelter_name || f.shelter_id || "";
    const warehouse = n.warehouse || f.warehouse_name || f.warehouse_id || "";
    if (explanation.rule === "shipment_planned") {
      const batches = (f.batches || []).map((b) => `${b.batch_id} ${fmt(b.quantity, 0)}${b.expires_on ? (L === "en" ? `, expires ${b.expires_on}` : `, kedaluwarsa ${b.expires_on}`) : ""}`).join("; ");
      return L === "en"
        ? `${fmt(f.quantity, 0)} ${u} of ${item} to ${shelter}: ${needPart(f, L)}; from ${warehouse} (batch ${batches}), ${fmt(f.travel_hours)} h travel; priority ${fmt(f.priority, 2)} (${pct(f.vulnerable_share)} vulnerable, severity ${f.severity}).`
        : `${fmt(f.quantity, 0)} ${u} ${item} ke ${shelter}: ${needPart(f, L)}; dari ${warehouse} (batch ${batches}), ${fmt(f.travel_hours)} jam perjalanan; prioritas ${fmt(f.priority, 2)} (${pct(f.vulnerable_share)} kelompok rentan, tingkat ${f.severity}).`;
    }
    if (SHORT_RULE.id[explanation.rule]) {
      const blocked = Object.entries(f.blocked || {}).filter(([, v]) => v > 0)
        .map(([k, v]) => `${fmt(v, 0)} ${u} ${BLOCKED[L][k] || k.replace(/_/g, " ")}`).join(", ");
      return L === "en"
        ? `${fmt(f.missing, 0)} ${u} of ${item} missing at ${shelter}: ${SHORT_RULE.en[explanation.rule]}; ${needPart(f, L)}, ${fmt(f.covered, 0)} planned, ${fmt(f.eligible_reachable_stock, 0)} eligible within reach${blocked ? `; held back by rules: ${blocked}` : ""}.`
        : `Kurang ${fmt(f.missing, 0)} ${u} ${item} di ${shelter}: ${SHORT_RULE.id[explanation.rule]}; ${needPart(f, L)}, ${fmt(f.covered, 0)} direncanakan, ${fmt(f.eligible_reachable_stock, 0)} tersedia dalam jangkauan${blocked ? `; tertahan aturan: ${blocked}` : ""}.`;
    }
    if (explanation.rule === "need_from_headcount") return needText(f, L);
    if (explanation.rule === "team_assigned") {
      const team = n.team || f.team_name || f.team_id || "";
      const task = n.task || f.task_name || f.task_id || "";
      return L === "en"
        ? `${team} to ${task}: ${fmt(f.travel_hours)} h travel, ${fmt(f.hours_on_duty)} h on duty + ${fmt(f.task_hours)} h task within the ${fmt(f.fatigue_limit_hours)} h limit; tier: ${nameOf("tier", f.tier, L)}.`
        : `${team} ke ${task}: ${fmt(f.travel_hours)} jam perjalanan, ${fmt(f.hours_on_duty)} jam bertugas + ${fmt(f.task_hours)} jam tugas, dalam batas ${fmt(f.fatigue_limit_hours)} jam; tingkat ${nameOf("tier", f.tier, L)}.`;
    }
    if (explanation.rule === "kitchen_capacity_below_portions_needed") {
      const kitchen = n.kitchen || f.kitchen_name || "";
      return L === "en"
        ? `${kitchen} cooks ${fmt(f.capacity_per_day, 0)} portions a day (${fmt(f.units, 0)} field-kitchen unit(s) × ${fmt(f.portions_per_cooking, 0)} portions × ${fmt(f.cookings_per_day, 0)} cookings); the ${fmt(f.people_served, 0)} people it serves need ${fmt(f.portions_needed_per_day, 0)} a day (${fmt(f.meals_per_person_per_day, 0)} meals each): ${fmt(f.portions_missing_per_day, 0)} portions a day short, ${fmt(f.units_missing, 0)} more unit(s) needed. The uncooked share goes to the shelters as rice.`
        : `${kitchen} memasak ${fmt(f.capacity_per_day, 0)} porsi sehari (${fmt(f.units, 0)} unit Dumlap × ${fmt(f.portions_per_cooking, 0)} porsi × ${fmt(f.cookings_per_day, 0)} kali masak); ${fmt(f.people_served, 0)} orang yang dilayaninya butuh ${fmt(f.portions_needed_per_day, 0)} porsi sehari (${fmt(f.meals_per_person_per_day, 0)} kali makan): kurang ${fmt(f.portions_missing_per_day, 0)} porsi sehari, perlu ${fmt(f.units_missing, 0)} unit Dumlap lagi. Bagian yang tidak dimasak dikirim ke pengungsian sebagai beras.`;
    }
    if (explanation.rule === "open_kitchen_max_coverage") {
      const site = n.site || f.site_name || "";
      const runner = n.runnerUp || f.runner_up_site_id || "";
      return L === "en"
        ? `A kitchen at ${site} would cook ${fmt(f.portions_covered_per_day, 0)} of the ${fmt(f.portions_unfed_per_day, 0)} portions a day now unfed (about ${fmt(f.people_covered_about, 0)} people, ${fmt(f.shelters_covered, 0)} shelter(s) within ${fmt(f.reach_hours)} h): the most any ${fmt(f.kitchens_openable, 0)} kitchen(s) that can open could cover, among ${fmt(f.sites_considered, 0)} sites${runner ? `; next best ${runner} alone: ${fmt(f.runner_up_portions_alone, 0)}` : ""}.${f.unit_travel_hours != null ? ` The field-kitchen unit is ${fmt(f.unit_travel_hours)} h away` : ""}${f.team_travel_hours != null ? `, the team ${fmt(f.team_travel_hours)} h.` : ""}`
        : `Dapur umum di ${site} akan memasak ${fmt(f.portions_covered_per_day, 0)} dari ${fmt(f.portions_unfed_per_day, 0)} porsi sehari yang kini belum terlayani (sekitar ${fmt(f.people_covered_about, 0)} orang, ${fmt(f.shelters_covered, 0)} pengungsian dalam ${fmt(f.reach_hours)} jam): cakupan terbesar dari ${fmt(f.kitchens_openable, 0)} dapur yang dapat dibuka, di antara ${fmt(f.sites_considered, 0)} lokasi${runner ? `; terbaik berikutnya ${runner} saja: ${fmt(f.runner_up_portions_alone, 0)}` : ""}.${f.unit_travel_hours != null ? ` Unit Dumlap ${fmt(f.unit_travel_hours)} jam perjalanan` : ""}${f.team_travel_hours != null ? `, tim ${fmt(f.team_travel_hours)} jam.` : ""}`;
    }
    if (explanation.rule === "no_kitchen_can_open") {
      return L === "en"
        ? `${fmt(f.portions_unfed_per_day, 0)} portions a day are unfed, but no kitchen can open: ${fmt(f.dumlap_units_in_stock, 0)} field-kitchen unit(s) in stock, ${fmt(f.kitchen_teams_free, 0)} free team(s) with the public-kitchen skill.`
        : `${fmt(f.portions_unfed_per_day, 0)} porsi sehari belum terlayani, tetapi tidak ada dapur yang dapat dibuka: ${fmt(f.dumlap_units_in_stock, 0)} unit Dumlap di gudang, ${fmt(f.kitchen_teams_free, 0)} tim dapur umum yang bebas.`;
    }
    return L === "en" ? (explanation.text || "") : "";
  }

  // ---------------------------------------------------------------- names of codes
  // Team skills, task kinds, ranks, availability and the task loop's steps: names in the
  // page's language, never the code (a code nobody named shows as "–", not raw).
  const NAMES = {
    id: {
      skill: { evacuation: "Evakuasi", public_kitchen: "Dapur umum", shelter_setup: "Pendirian tempat pengungsian",
        psychosocial: "Layanan psikososial", psychosocial_support: "Dukungan psikososial", logistics: "Logistik",
        search_rescue: "Pencarian dan pertolongan", distribution: "Distribusi" },
      rank: { muda: "Muda", madya: "Madya", utama: "Utama" },
      availability: { available: "siap", assigned: "bertugas", resting: "istirahat", off_duty: "lepas tugas", unavailable: "tidak tersedia" },
      loop: { dispatched: "ditugaskan, menunggu jawaban", acknowledged: "diterima tim", en_route: "dalam perjalanan",
        arrived: "tiba di lokasi", done: "selesai", declined: "ditolak", timed_out: "tidak dijawab", unassigned: "belum ada tim" },
      tier: { kabupaten: "kabupaten/kota", province: "provinsi", national: "nasional (mobilisasi antarprovinsi)" },
      kitchenStatus: { preparing: "persiapan", open: "buka", closed: "tutup" },
      meal: { pagi: "pagi", siang: "siang", malam: "malam" },
    },
    en: {
      skill: { evacuation: "Evacuation", public_kitchen: "Public kitchen", shelter_setup: "Shelter set-up",
        psychosocial: "Psychosocial support", psychosocial_support: "Psychosocial support", logistics: "Logistics",
        search_rescue: "Search and rescue", distribution: "Distribution" },
      rank: { muda: "Junior", madya: "Intermediate", utama: "Senior" },
      availability: { available: "available", assigned: "assigned", resting: "resting", off_duty: "off duty", unavailable: "unavailable" },
      loop: { dispatched: "dispatched, awaiting reply", acknowledged: "acknowledged", en_route: "on the way",
        arrived: "arrived", done: "done", declined: "declined", timed_out: "not answered", unassigned: "no team yet" },
      tier: { kabupaten: "kabupaten/city", province: "province", national: "national (mobilised from another province)" },
      kitchenStatus: { preparing: "preparing", open: "open", closed: "closed" },
      meal: { pagi: "breakfast", siang: "lunch", malam: "dinner" },
    },
  };

  /** The name of a code in one of the tables above ("skill", "rank", "loop"…). */
  function nameOf(table, code, language) {
    const L = (language || lang) === "en" ? "en" : "id";
    if (code === null || code === undefined || code === "") return "–";
    return (NAMES[L][table] || {})[code] || (NAMES.id[table] || {})[code] || "–";
  }

  return { t, nameOf, applyI18n, toggleLang, signIn, signOut, api, ApiError, describeDetail, uuid4, el, fmt, header, whoami, loadItems, itemName, unitName, qty, explain, get lang() { return lang; } };
})();
