/* Printable pick list and waybill (surat jalan) for one shipment. */
"use strict";

(() => {
  const { t, api, el, fmt, itemName, qty, unitName } = Siaga;
  const KIND = {
    id: { shelter: "pengungsian", kitchen: "dapur umum" },
    en: { shelter: "shelter", kitchen: "public kitchen" },
  };

  async function main() {
    Siaga.applyI18n();
    await Siaga.whoami();
    await Siaga.loadItems();
    const id = new URL(location.href).searchParams.get("id");
    const data = await api(`/api/v1/shipments/${encodeURIComponent(id)}/waybill`);
    const s = data.shipment;
    const place = (p) => (p && p.location ? `${fmt(p.location.lat, 4)}, ${fmt(p.location.lon, 4)}` : "");
    // a shelter or a public kitchen (its ingredients), with its name and address
    const dest = data.destination || { kind: "shelter", id: s.shelter_id, ...data.shelter };
    const L = Siaga.lang === "en" ? "en" : "id";
    const address = (a) => (a ? ` · ${a.kabupaten_name}, ${a.province_name}` : "");
    document.title = `${t("waybill")} ${s.shipment_id}`;
    // replaceChildren would print a null child as the text "null": optional parts are filtered
    document.getElementById("waybill").replaceChildren(...[
      el("h1", {}, `${t("waybill")} / ${t("pickList")}`),
      el("div", {}, el("b", {}, s.shipment_id), ` · ${t(s.status)} · ${new Date().toLocaleString(Siaga.lang === "id" ? "id-ID" : "en-GB")}`),
      el("div", { class: "meta" },
        el("div", { id: "waybill-origin" }, el("b", {}, `${t("origin")}: `),
          `${data.warehouse.name || s.warehouse_id} (${s.warehouse_id})`, address(data.warehouse.address), ` ${place(data.warehouse)}`),
        el("div", { id: "waybill-destination" }, el("b", {}, `${t("destination")}: `),
          `${dest.name || dest.id || "–"} (${KIND[L][dest.kind] || KIND[L].shelter}${dest.id ? `, ${dest.id}` : ""})`,
          address(dest.address), ` ${place(dest)}`),
        el("div", {}, el("b", {}, `${t("item")}: `), `${itemName(s.item)} · ${qty(s.quantity, s.unit)}`),
        el("div", {}, el("b", {}, `${t("eta")}: `), fmt(s.eta_hours))),
      data.batches_are_suggested ? el("p", { class: "hint" }, t("pickSuggested")) : null,
      el("table", {},
        el("tr", {}, el("th", {}, t("item")), el("th", {}, t("batch")), el("th", {}, t("expires")), el("th", {}, t("quantity")), el("th", {}, t("unit")), el("th", {}, "✓")),
        ...data.lines.map((l) => el("tr", {}, el("td", {}, itemName(l.item)), el("td", {}, l.batch_id), el("td", {}, l.expires_on || "–"),
          el("td", {}, fmt(l.quantity)), el("td", {}, unitName(l.unit)), el("td", {}, "☐")))),
      (() => {
        const why = Siaga.explain(s.why || s.explanation, Siaga.lang, { shelter: dest.name, warehouse: data.warehouse.name });
        return why ? el("p", { class: "hint" }, why) : null;
      })(),
      el("div", { class: "signatures" },
        el("div", {}, t("packedBy")), el("div", {}, t("driver")), el("div", {}, t("receivedBy"))),
    ].filter(Boolean));
    document.body.dataset.ready = "1";
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("print").addEventListener("click", () => window.print());
    main().catch((err) => {
      document.getElementById("waybill").append(el("p", { class: "error" }, `${t("error")}: ${Siaga.describeDetail(err.detail || err.message)}`));
    });
  });
})();
