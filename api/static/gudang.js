/* Warehouse desk: the warehouse's stock and its shipments.
   Stock: receive goods (procurement, donation, transfer, return), count a batch, write off
   expired/damaged/lost stock; the stock by item and, per item, its stock card (every
   movement — receipts, counts, write-offs, dispatches — with who and why, paged); a printable goods-received note, and for a donation
   the receipt for the donor.
   Shipments by state: confirm with picked batches (first expiry first suggested), mark
   dispatched, cancel with a reason; print the waybill.
   Refreshes itself when the live feed reports a change to its warehouse or shipments.
   Names, never codes: items, units and shelters by name (GET /api/v1/items). */
"use strict";

(() => {
  const { t, api, el, fmt, itemName, unitName, qty } = Siaga;
  const COLUMNS = ["proposed", "confirmed", "dispatched", "delivered", "cancelled"];
  const SOURCES = ["procurement", "donation", "transfer", "return"];
  const WRITE_OFF_REASONS = ["expired", "damaged", "lost", "other"];
  let warehouseId = "";
  let warehouse = null;
  let items = [];
  let tab = "receive";
  let cardItem = null;
  let source = null;

  function message(text, isError) {
    const node = el("div", { class: isError ? "toast error-toast" : "toast" }, text);
    document.body.append(node);
    setTimeout(() => node.remove(), 5000);
  }

  /** A refused request said in the page's language, naming the field (api-errors.js). */
  function problem(err) {
    return SiagaErrors.describe(err);
  }

  // ------------------------------------------------------------ stock movements

  function stockOf(item) {
    return ((warehouse && warehouse.stock) || []).find((s) => s.item === item) || null;
  }

  function field(key, control) {
    return [el("label", {}, t(key)), control];
  }

  function itemSelect(onlyHeld) {
    const held = new Set(((warehouse && warehouse.stock) || []).map((s) => s.item));
    const choices = items.filter((i) => !onlyHeld || held.has(i.id));
    return el("select", { name: "item", required: true },
      el("option", { value: "" }, t("pickItem")),
      ...choices.map((i) => el("option", { value: i.id }, `${itemName(i.id)} (${unitName(i.unit)})`)));
  }

  function batchSelect(form) {
    const select = el("select", { name: "batch_id", required: true });
    const fill = () => {
      const stock = stockOf(form.querySelector("[name=item]").value);
      select.replaceChildren(...((stock && stock.batches) || []).map((b) =>
        el("option", { value: b.batch_id }, `${b.batch_id} · ${qty(b.quantity, stock.unit)}${b.expires_on ? ` · ${t("expires")} ${b.expires_on}` : ""}`)));
    };
    form.addEventListener("change", (e) => { if (e.target.name === "item") fill(); });
    return select;
  }

  function receiveForm() {
    const form = el("form", { id: "form-receive" });
    const donor = el("div", { class: "donor", hidden: true }, ...field("donor", el("input", { name: "donor", maxlength: "200" })));
    const sourceSelect = el("select", { name: "source", required: true },
      ...SOURCES.map((s) => el("option", { value: s }, t(`source_${s}`))));
    sourceSelect.addEventListener("change", () => {
      donor.hidden = sourceSelect.value !== "donation";
      donor.querySelector("input").required = sourceSelect.value === "donation";
    });
    form.append(
      ...field("item", itemSelect(false)),
      ...field("batch", el("input", { name: "batch_id", required: true, maxlength: "128", pattern: "[A-Za-z0-9][A-Za-z0-9_.:\\-]*" })),
      el("div", { class: "grid2" },
        el("div", {}, ...field("quantity", el("input", { name: "quantity", type: "number", step: "any", min: "0", required: true }))),
        el("div", {}, ...field("expires", el("input", { name: "expires_on", type: "date" })))),
      ...field("source", sourceSelect), donor,
      ...field("documentNumber", el("input", { name: "document_number", required: true, maxlength: "100" })),
      ...field("receivedByName", el("input", { name: "received_by", required: true, maxlength: "200" })),
      ...field("note", el("input", { name: "note", maxlength: "1000" })),
      el("button", { type: "submit" }, t("receive")), el("div", { class: "result" }));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const data = new FormData(form);
      const item = items.find((i) => i.id === data.get("item"));
      const body = {
        event_id: Siaga.uuid4(), item: data.get("item"), batch_id: data.get("batch_id").trim(),
        quantity: Number(data.get("quantity")), unit: item ? item.unit : "", source: data.get("source"),
        document_number: data.get("document_number").trim(), received_by: data.get("received_by").trim(),
      };
      if (data.get("expires_on")) body.expires_on = data.get("expires_on");
      if (body.source === "donation") body.donor = data.get("donor").trim();
      if (data.get("note")) body.note = data.get("note").trim();
      await post("receipts", body, form, (accepted) => {
        const print = el("button", { type: "button", id: "print-note", dataset: { receipt: accepted.event_id } },
          body.source === "donation" ? `${t("printGrn")} / ${t("donorReceipt")}` : t("printGrn"));
        print.addEventListener("click", () => showNote(accepted.event_id));
        form.querySelector(".result").replaceChildren(print);
      });
    });
    return form;
  }

  function countForm() {
    const form = el("form", { id: "form-count" });
    form.append(
      ...field("item", itemSelect(true)), ...field("batch", batchSelect(form)),
      ...field("counted", el("input", { name: "counted", type: "number", step: "any", min: "0", required: true })),
      ...field("reason", el("input", { name: "reason", required: true, maxlength: "1000" })),
      ...field("countedBy", el("input", { name: "counted_by", required: true, maxlength: "200" })),
      el("button", { type: "submit" }, t("count")), el("div", { class: "result" }));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const data = new FormData(form);
      await post("stock-counts", {
        event_id: Siaga.uuid4(), item: data.get("item"), batch_id: data.get("batch_id"),
        counted: Number(data.get("counted")), reason: data.get("reason").trim(), counted_by: data.get("counted_by").trim(),
      }, form);
    });
    return form;
  }

  function writeOffForm() {
    const form = el("form", { id: "form-write_off" });
    form.append(
      ...field("item", itemSelect(true)), ...field("batch", batchSelect(form)),
      ...field("quantity", el("input", { name: "quantity", type: "number", step: "any", min: "0", required: true })),
      ...field("reasonCode", el("select", { name: "reason_code" }, ...WRITE_OFF_REASONS.map((r) => el("option", { value: r }, t(`reason_${r}`))))),
      ...field("reason", el("input", { name: "reason", required: true, maxlength: "1000" })),
      ...field("writtenOffBy", el("input", { name: "written_off_by", required: true, maxlength: "200" })),
      ...field("documentNumber", el("input", { name: "document_number", maxlength: "100" })),
      el("button", { type: "submit", class: "danger" }, t("writeOff")), el("div", { class: "result" }));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const data = new FormData(form);
      const body = {
        event_id: Siaga.uuid4(), item: data.get("item"), batch_id: data.get("batch_id"),
        quantity: Number(data.get("quantity")), reason_code: data.get("reason_code"),
        reason: data.get("reason").trim(), written_off_by: data.get("written_off_by").trim(),
      };
      if (data.get("document_number")) body.document_number = data.get("document_number").trim();
      await post("write-offs", body, form);
    });
    return form;
  }

  async function post(kind, body, form, then) {
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const accepted = await api(`/api/v1/warehouses/${encodeURIComponent(warehouseId)}/${kind}`, { method: "POST", body });
      message(t("accepted"));
      form.reset();
      form.querySelectorAll(".donor").forEach((d) => { d.hidden = true; });
      if (then) then(accepted);
    } catch (err) {
      message(problem(err), true);
      form.querySelector(".result").replaceChildren(el("p", { class: "error" }, problem(err)));
    } finally {
      button.disabled = false;
    }
  }

  function showForm() {
    document.querySelectorAll("#tabs button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.tab === tab)));
    const make = { receive: receiveForm, count: countForm, write_off: writeOffForm }[tab];
    document.getElementById("movement-form").replaceChildren(make());
  }

  function stockTable() {
    const stock = (warehouse && warehouse.stock) || [];
    const node = document.getElementById("stock-table");
    if (!stock.length) { node.replaceChildren(el("p", { class: "hint" }, t("noPicture"))); return; }
    node.replaceChildren(el("table", { class: "card-lines" },
      el("tr", {}, el("th", {}, t("item")), el("th", { class: "num" }, t("onHand")), el("th", { class: "num" }, t("confirmed")),
        el("th", { class: "num" }, t("dispatched")), el("th", {}, t("batch")), el("th", {}, "")),
      ...stock.map((s) => el("tr", { dataset: { item: s.item } },
        el("td", {}, itemName(s.item)), el("td", { class: "num" }, qty(s.on_hand, s.unit)),
        el("td", { class: "num" }, qty(s.reserved, s.unit)), el("td", { class: "num" }, qty(s.in_transit, s.unit)),
        el("td", {}, (s.batches || []).map((b) => `${b.batch_id} (${fmt(b.quantity, 0)}${b.expires_on ? `, ${b.expires_on}` : ""})`).join("; ")),
        el("td", {}, el("button", { type: "button", class: "secondary", onclick: () => { cardItem = s.item; loadCard(); } }, t("stockCard")))))));
  }

  function movementText(m) {
    if (m.kind === "receipt") {
      const from = `${t(`source_${m.origin}`)}${m.donor ? `: ${m.donor}` : ""}`;
      return [from, m.document_number ? `${t("documentNumber")} ${m.document_number}` : null, m.reason].filter(Boolean).join(" · ");
    }
    if (m.kind === "dispatch") return `${m.shipment_id} → ${m.shelter_name || m.shelter_id || "–"}`;
    if (m.kind === "write_off") return [t(`reason_${m.reason_code}`), m.reason, m.document_number].filter(Boolean).join(" · ");
    if (m.kind === "level_reported") return `${t("counted")}: ${qty(m.counted, m.unit)} · ${m.recorded_by}`;
    return `${m.reason} (${t("counted")}: ${qty(m.counted, m.unit)})`;
  }

  async function loadCard(cursor) {
    if (!cardItem) return;
    const node = document.getElementById("stock-card");
    try {
      const params = new URLSearchParams({ item: cardItem, limit: "50" });
      if (cursor) params.set("cursor", cursor);
      const data = await api(`/api/v1/warehouses/${encodeURIComponent(warehouseId)}/stock-card?${params}`);
      const rows = data.items.map((m) => el("tr", { dataset: { kind: m.kind, id: m.movement_id } },
        el("td", {}, new Date(m.at).toLocaleString(Siaga.lang === "en" ? "en-GB" : "id-ID")),
        el("td", {}, t(`kind_${m.kind}`)), el("td", {}, m.batch_id),
        el("td", { class: `num ${m.change < 0 ? "minus" : "plus"}` }, `${m.change > 0 ? "+" : ""}${qty(m.change, m.unit)}`),
        el("td", { class: "num" }, qty(m.balance, m.unit)), el("td", {}, m.by), el("td", {}, movementText(m)),
        el("td", {}, m.kind === "receipt" ? el("button", { type: "button", class: "secondary", onclick: () => showNote(m.movement_id) }, t("print")) : "")));
      let table = cursor ? node.querySelector("table") : null;
      if (!table) {
        table = el("table", { class: "card-lines" }, el("tr", {},
          el("th", {}, t("when")), el("th", {}, ""), el("th", {}, t("batch")), el("th", { class: "num" }, t("change")),
          el("th", { class: "num" }, t("balance")), el("th", {}, t("who")), el("th", {}, t("why")), el("th", {}, "")));
        node.replaceChildren(el("h3", {}, `${t("stockCard")}: ${itemName(cardItem)}`), table);
      }
      table.append(...rows);
      node.querySelectorAll(".more").forEach((b) => b.remove());
      if (!cursor && !rows.length) node.append(el("p", { class: "hint" }, t("noMovements")));
      if (data.next_cursor) node.append(el("button", { type: "button", class: "secondary more", onclick: () => loadCard(data.next_cursor) }, t("more")));
    } catch (err) {
      node.replaceChildren(el("p", { class: "error" }, problem(err)));
    }
  }

  // ------------------------------------------------------------ goods-received note

  async function fetchNote(receiptId) {
    const path = `/api/v1/warehouses/${encodeURIComponent(warehouseId)}/receipts/${encodeURIComponent(receiptId)}`;
    for (let attempt = 0; attempt < 60; attempt += 1) {
      try { return await api(path); } catch (err) { if (err.status !== 404) throw err; }
      await new Promise((resolve) => setTimeout(resolve, 500)); // the worker records it in a moment
    }
    return api(path);
  }

  async function showNote(receiptId) {
    const note = document.getElementById("note");
    note.dataset.ready = "";
    try {
      const data = await fetchNote(receiptId);
      const r = data.receipt;
      const w = data.warehouse;
      const name = data.item ? (Siaga.lang === "en" ? data.item.name_en : data.item.name_id) : itemName(r.item);
      const donation = r.origin === "donation";
      note.replaceChildren(...[
        el("div", { class: "noprint actions" },
          el("button", { type: "button", onclick: () => window.print() }, t("print")),
          el("button", { type: "button", class: "secondary", onclick: closeNote }, t("cancel"))),
        el("h1", {}, donation ? `${t("donorReceipt")} / ${t("grn")}` : t("grn")),
        el("div", {}, el("b", {}, `${t("documentNumber")}: `), r.document_number),
        el("div", {}, el("b", {}, `${t("warehouse")}: `), `${w.name || ""} · ${t(`kind_${w.kind}`)}`),
        el("div", {}, el("b", {}, `${t("when")}: `), new Date(r.at).toLocaleString(Siaga.lang === "en" ? "en-GB" : "id-ID")),
        el("div", {}, el("b", {}, `${t("source")}: `), t(`source_${r.origin}`)),
        donation ? el("div", {}, el("b", {}, `${t("donor")}: `), r.donor) : null,
        donation ? el("p", {}, t("donorThanks")) : null,
        el("table", { class: "card-lines" },
          el("tr", {}, el("th", {}, t("item")), el("th", {}, t("batch")), el("th", {}, t("expires")), el("th", { class: "num" }, t("quantity"))),
          el("tr", {}, el("td", {}, name), el("td", {}, r.batch_id), el("td", {}, r.expires_on || "–"), el("td", { class: "num" }, qty(r.change, r.unit)))),
        r.reason ? el("p", {}, `${t("note")}: ${r.reason}`) : null,
        el("div", { class: "signatures" },
          el("div", {}, `${t("receivedBy")}: ${r.by}`), el("div", {}, donation ? t("donor") : t("driver"))),
        el("p", { class: "hint" }, `Siaga · ${r.movement_id}`),
      ].filter(Boolean));
      note.hidden = false;
      document.body.classList.add("note-open");
      note.dataset.ready = "1";
    } catch (err) {
      message(problem(err), true);
    }
  }

  function closeNote() {
    document.getElementById("note").hidden = true;
    document.body.classList.remove("note-open");
  }

  // ------------------------------------------------------------ shipments

  async function act(shipment, action, body) {
    try {
      await api(`/api/v1/shipments/${encodeURIComponent(shipment.shipment_id)}/${action}`, {
        method: "POST", body: Object.assign({ event_id: Siaga.uuid4() }, body) });
      message(t("accepted"));
    } catch (err) {
      message(problem(err), true);
    }
  }

  async function confirmForm(shipment, card) {
    const suggestion = await api(`/api/v1/shipments/${encodeURIComponent(shipment.shipment_id)}/pick-suggestion`);
    const rows = (suggestion.batches.length ? suggestion.batches : [{ batch_id: "", quantity: shipment.quantity }]).map((b) =>
      el("tr", {}, el("td", {}, el("input", { name: "batch_id", value: b.batch_id, required: true })),
        el("td", {}, el("input", { name: "quantity", type: "number", step: "any", min: "0", value: b.quantity, required: true })),
        el("td", {}, b.expires_on || "–")));
    const form = el("form", { class: "picks" },
      el("p", { class: "hint" }, t("pickSuggested"), suggestion.short > 0 ? ` · ${t("short")}: ${qty(suggestion.short, shipment.unit)}` : ""),
      el("table", {}, el("tr", {}, el("th", {}, t("batch")), el("th", {}, t("quantity")), el("th", {}, t("expires"))), ...rows),
      el("button", { type: "submit" }, t("confirm")));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const ids = [...form.querySelectorAll("[name=batch_id]")].map((i) => i.value.trim());
      const amounts = [...form.querySelectorAll("[name=quantity]")].map((i) => Number(i.value));
      const batches = ids.map((batch_id, i) => ({ batch_id, quantity: amounts[i] })).filter((b) => b.batch_id && b.quantity > 0);
      act(shipment, "confirm", { batches }).then(load);
    });
    card.append(form);
  }

  function card(shipment) {
    const actions = el("div", { class: "actions" });
    const why = Siaga.explain(shipment.why || shipment.explanation, Siaga.lang,
      { shelter: shipment.shelter_name, warehouse: shipment.warehouse_name });
    const node = el("div", { class: "shipment-card", dataset: { id: shipment.shipment_id } },
      el("b", {}, shipment.shipment_id), shipment.held ? el("span", { class: "pill held" }, ` ${t("held")}`) : null,
      el("div", {}, `${itemName(shipment.item)} · ${qty(shipment.quantity, shipment.unit)}`),
      el("div", { class: "hint" }, `${t("destination")}: ${shipment.shelter_name || shipment.shelter_id || "–"} · ${t("eta")}: ${fmt(shipment.eta_hours)}`),
      why ? el("div", { class: "hint why" }, why) : null,
      shipment.reason ? el("div", { class: "hint" }, `${t("reason")}: ${shipment.reason}`) : null,
      actions);
    const status = shipment.status;
    if (status === "proposed" && !shipment.held) {
      actions.append(el("button", { type: "button", onclick: (e) => { e.target.disabled = true; confirmForm(shipment, node); } }, t("confirm")));
    }
    if (status === "confirmed") {
      actions.append(el("button", { type: "button", onclick: () => act(shipment, "dispatch", {}).then(load) }, t("dispatch")));
    }
    if (status === "proposed" || status === "confirmed") {
      actions.append(el("button", { type: "button", class: "danger", onclick: () => {
        const reason = window.prompt(t("reason"));
        if (reason) act(shipment, "cancel", { reason }).then(load);
      } }, t("cancel")));
    }
    actions.append(el("a", { href: `/gudang/surat-jalan?id=${encodeURIComponent(shipment.shipment_id)}`, target: "_blank" }, t("printWaybill")));
    return node;
  }

  async function loadWarehouse() {
    try {
      warehouse = await api(`/api/v1/warehouses/${encodeURIComponent(warehouseId)}`);
      document.getElementById("warehouse-name").textContent = `${warehouse.name} (${t(`kind_${warehouse.kind}`)})`;
    } catch (err) {
      warehouse = null;
      document.getElementById("warehouse-name").textContent = err.status === 404 ? warehouseId : problem(err);
    }
    stockTable();
  }

  async function load() {
    if (!warehouseId) return;
    const desk = document.getElementById("desk");
    try {
      const data = await api(`/api/v1/warehouses/${encodeURIComponent(warehouseId)}/shipments`);
      desk.replaceChildren(...COLUMNS.map((status) => el("section", { class: "card", dataset: { status } },
        el("h2", {}, `${t(status)} (${(data.by_status[status] || []).length})`),
        ...(data.by_status[status] || []).map(card))));
    } catch (err) {
      desk.replaceChildren(el("p", { class: "error" }, problem(err)));
    }
    await loadWarehouse();
  }

  function follow() {
    if (source) source.close();
    source = new EventSource("/api/v1/live"); // the session cookie authenticates it
    let pending = null;
    let cardPending = null;
    source.addEventListener("change", (e) => {
      const msg = JSON.parse(e.data);
      const ours = (msg.entity === "shipment" && msg.data && msg.data.warehouse_id === warehouseId)
        || (msg.entity === "warehouse" && msg.id === warehouseId);
      if (ours && !pending) pending = setTimeout(() => { pending = null; load(); }, 300);
      if (cardItem && msg.entity === `stockcard:${warehouseId}:${cardItem}` && !cardPending) {
        cardPending = setTimeout(() => { cardPending = null; loadCard(); }, 300);
      }
    });
  }

  async function main() {
    document.body.prepend(Siaga.header("desk"));
    Siaga.applyI18n();
    const me = await Siaga.whoami();
    items = await Siaga.loadItems();
    document.getElementById("app").hidden = false;
    const input = document.getElementById("warehouse-id");
    warehouseId = (me.scope && me.scope.warehouse_id) || new URL(location.href).searchParams.get("warehouse") || localStorage.getItem("siaga.warehouse") || "";
    input.value = warehouseId;
    input.readOnly = me.role === "warehouse_staff";
    // only the warehouse's staff (and admins) record stock; coordinators read the desk
    document.getElementById("movement-form").closest(".card").hidden = !["warehouse_staff", "admin"].includes(me.role);
    document.getElementById("reload").addEventListener("click", () => {
      warehouseId = input.value.trim();
      localStorage.setItem("siaga.warehouse", warehouseId);
      cardItem = null;
      document.getElementById("stock-card").replaceChildren();
      load();
    });
    document.getElementById("tabs").addEventListener("click", (e) => {
      if (e.target.dataset.tab) { tab = e.target.dataset.tab; showForm(); }
    });
    document.addEventListener("siaga:lang", () => { showForm(); load(); loadCard(); });
    showForm();
    await load();
    follow();
    document.body.dataset.ready = "1";
  }

  document.addEventListener("DOMContentLoaded", () => { main(); });
})();
