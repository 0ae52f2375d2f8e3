/* Warehouse desk: the warehouse's shipments by state; confirm with picked batches (first
   expiry first suggested), mark dispatched, cancel with a reason; print the waybill.
   Refreshes itself when the live feed reports a change to one of its shipments. */
"use strict";

(() => {
  const { t, api, el, fmt } = Siaga;
  const COLUMNS = ["proposed", "confirmed", "dispatched", "delivered", "cancelled"];
  let warehouseId = "";
  let source = null;

  function message(text, isError) {
    const node = el("div", { class: isError ? "toast error-toast" : "toast" }, text);
    document.body.append(node);
    setTimeout(() => node.remove(), 5000);
  }

  async function act(shipment, action, body) {
    try {
      await api(`/api/v1/shipments/${encodeURIComponent(shipment.shipment_id)}/${action}`, {
        method: "POST", body: Object.assign({ event_id: Siaga.uuid4() }, body) });
      message(t("accepted"));
    } catch (err) {
      message(`${t("error")} ${err.status || ""}: ${Siaga.describeDetail(err.detail || err.message)}`, true);
    }
  }

  async function confirmForm(shipment, card) {
    const suggestion = await api(`/api/v1/shipments/${encodeURIComponent(shipment.shipment_id)}/pick-suggestion`);
    const rows = (suggestion.batches.length ? suggestion.batches : [{ batch_id: "", quantity: shipment.quantity }]).map((b) =>
      el("tr", {}, el("td", {}, el("input", { name: "batch_id", value: b.batch_id, required: true })),
        el("td", {}, el("input", { name: "quantity", type: "number", step: "any", min: "0", value: b.quantity, required: true })),
        el("td", {}, b.expires_on || "–")));
    const form = el("form", { class: "picks" },
      el("p", { class: "hint" }, t("pickSuggested"), suggestion.short > 0 ? ` · ${t("short")}: ${fmt(suggestion.short)}` : ""),
      el("table", {}, el("tr", {}, el("th", {}, t("batch")), el("th", {}, t("quantity")), el("th", {}, t("expires"))), ...rows),
      el("button", { type: "submit" }, t("confirm")));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const ids = [...form.querySelectorAll("[name=batch_id]")].map((i) => i.value.trim());
      const qty = [...form.querySelectorAll("[name=quantity]")].map((i) => Number(i.value));
      const batches = ids.map((batch_id, i) => ({ batch_id, quantity: qty[i] })).filter((b) => b.batch_id && b.quantity > 0);
      act(shipment, "confirm", { batches }).then(load);
    });
    card.append(form);
  }

  function card(shipment) {
    const actions = el("div", { class: "actions" });
    const node = el("div", { class: "shipment-card", dataset: { id: shipment.shipment_id } },
      el("b", {}, shipment.shipment_id), shipment.held ? el("span", { class: "pill held" }, ` ${t("held")}`) : null,
      el("div", {}, `${shipment.item} · ${fmt(shipment.quantity)} ${shipment.unit || ""}`),
      el("div", { class: "hint" }, `${t("destination")}: ${shipment.shelter_id || "–"} · ${t("eta")}: ${fmt(shipment.eta_hours)}`),
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

  async function load() {
    if (!warehouseId) return;
    const desk = document.getElementById("desk");
    try {
      const data = await api(`/api/v1/warehouses/${encodeURIComponent(warehouseId)}/shipments`);
      desk.replaceChildren(...COLUMNS.map((status) => el("section", { class: "card", dataset: { status } },
        el("h2", {}, `${t(status)} (${(data.by_status[status] || []).length})`),
        ...(data.by_status[status] || []).map(card))));
      api(`/api/v1/warehouses/${encodeURIComponent(warehouseId)}`).then((w) => {
        document.getElementById("warehouse-name").textContent = `${w.name} (${t(`kind_${w.kind}`)})`;
      }).catch(() => { document.getElementById("warehouse-name").textContent = warehouseId; });
    } catch (err) {
      desk.replaceChildren(el("p", { class: "error" }, `${t("error")} ${err.status || ""}: ${Siaga.describeDetail(err.detail || err.message)}`));
    }
  }

  function follow() {
    if (source) source.close();
    source = new EventSource("/api/v1/live"); // the session cookie authenticates it
    let pending = null;
    source.addEventListener("change", (e) => {
      const msg = JSON.parse(e.data);
      if (msg.entity === "shipment" && msg.data && msg.data.warehouse_id === warehouseId && !pending) {
        pending = setTimeout(() => { pending = null; load(); }, 300);
      }
    });
  }

  async function main() {
    document.body.prepend(Siaga.header("desk"));
    Siaga.applyI18n();
    const me = await Siaga.whoami();
    document.getElementById("app").hidden = false;
    const input = document.getElementById("warehouse-id");
    warehouseId = (me.scope && me.scope.warehouse_id) || new URL(location.href).searchParams.get("warehouse") || localStorage.getItem("siaga.warehouse") || "";
    input.value = warehouseId;
    input.readOnly = me.role === "warehouse_staff";
    document.getElementById("reload").addEventListener("click", () => {
      warehouseId = input.value.trim();
      localStorage.setItem("siaga.warehouse", warehouseId);
      load();
    });
    document.addEventListener("siaga:lang", load);
    await load();
    follow();
    document.body.dataset.ready = "1";
  }

  document.addEventListener("DOMContentLoaded", () => { main(); });
})();
