/* Command post field form. Every post gets a client UUID (event_id) and goes into an
   outbox in localStorage first; the outbox is sent in order when the phone is online
   (on `online`, every 15 s, and at once after a post). A retry resends the same
   event_id, so a post that reached the server before the connection dropped counts
   once. A post the server refuses (4xx other than 401/408/429) stays in the outbox, set
   aside with the server's reason, until the user fixes it (the form is filled in again),
   sends it again as it is (e.g. once a coordinator transferred the shelter) or deletes it;
   the posts behind it keep flowing. */
"use strict";

(() => {
  const { t, api, el } = Siaga;
  let catalogue = [];
  const KEY = "siaga.outbox";
  const DONE_KEY = "siaga.outbox.done";
  let me = null;
  let flushing = false;
  const KIND_LABEL = { incident: "incidents", shelter: "shelters", headcount: "headcount", receipt: "receipt" };

  const load = (key) => { try { return JSON.parse(localStorage.getItem(key) || "[]"); } catch (_) { return []; } };
  const save = (key, value) => localStorage.setItem(key, JSON.stringify(value));

  function int(form, name) { const v = form.get(name); return v === null || v === "" ? 0 : parseInt(v, 10); }
  function num(form, name) { const v = form.get(name); return v === null || v === "" ? null : Number(v); }

  /** The picked needs (the picker keeps them as JSON in the hidden "needs" field; posts
      queued by an older page carry free text, one "item quantity unit" per line). */
  function parseNeeds(text) {
    let picked = null;
    try { picked = JSON.parse(text || "[]"); } catch (_) { picked = null; }
    if (Array.isArray(picked)) {
      return picked.filter((n) => n && n.item).map((n) => {
        const need = { item: n.item };
        if (n.quantity !== undefined && n.quantity !== null && n.quantity !== "" && !Number.isNaN(Number(n.quantity))) {
          need.quantity = Number(n.quantity);
          const item = (catalogue || []).find((i) => i.id === n.item);
          if (item) need.unit = item.unit;
        }
        return need;
      });
    }
    return (text || "").split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
      const [item, quantity, ...unit] = line.split(/\s+/);
      const need = { item: item.toLowerCase() };
      if (quantity && !Number.isNaN(Number(quantity))) need.quantity = Number(quantity);
      if (unit.length) need.unit = unit.join(" ");
      return need;
    });
  }

  const builders = {
    incident(form, posko) {
      const body = {
        incident_type: form.get("incident_type"), location: { lat: num(form, "lat"), lon: num(form, "lon") },
        severity: int(form, "severity"), affected: int(form, "affected"), displaced: int(form, "displaced"),
        injured: int(form, "injured"), dead: int(form, "dead"), observed_needs: parseNeeds(form.get("needs")),
        posko_id: posko, occurred_at: new Date().toISOString(),
      };
      if (form.get("description")) body.description = form.get("description");
      return ["/api/v1/incidents", body];
    },
    shelter(form, posko) {
      const body = { shelter_id: form.get("shelter_id"), name: form.get("name"),
        location: { lat: num(form, "lat"), lon: num(form, "lon") }, posko_id: posko, occurred_at: new Date().toISOString() };
      if (form.get("capacity")) body.capacity = int(form, "capacity");
      rememberShelter(body.shelter_id, body.name);
      return ["/api/v1/shelters", body];
    },
    headcount(form, posko) {
      const body = { total: int(form, "total"), infants: int(form, "infants"), children: int(form, "children"),
        elderly: int(form, "elderly"), pregnant_lactating: int(form, "pregnant_lactating"), disabled: int(form, "disabled"),
        posko_id: posko, occurred_at: new Date().toISOString() };
      if (form.get("province_code")) body.province_code = form.get("province_code");
      return [`/api/v1/shelters/${encodeURIComponent(form.get("shelter_id"))}/headcounts`, body];
    },
    receipt(form, posko) {
      const body = { posko_id: posko, quantity_received: num(form, "quantity_received"), occurred_at: new Date().toISOString() };
      if (form.get("note")) body.note = form.get("note");
      return [`/api/v1/shipments/${encodeURIComponent(form.get("shipment_id"))}/receipt`, body];
    },
  };

  function enqueue(kind, path, body, fields) {
    const outbox = load(KEY);
    body.event_id = Siaga.uuid4();
    outbox.push({ kind, path, body, fields, queued_at: new Date().toISOString(), tries: 0 });
    save(KEY, outbox);
    render();
    flush();
  }

  function update(eventId, change) {
    const outbox = load(KEY).map((p) => (p.body.event_id === eventId ? Object.assign(p, change) : p));
    save(KEY, outbox);
  }

  function remove(eventId) {
    save(KEY, load(KEY).filter((p) => p.body.event_id !== eventId));
  }

  /** Put a refused post back into its form for the user to fix; it leaves the outbox and
      gets a new event id when submitted again. */
  function fix(post) {
    showTab(post.kind);
    const form = document.getElementById(`form-${post.kind}`);
    for (const [name, value] of Object.entries(post.fields || {})) {
      if (form.elements[name]) form.elements[name].value = value;
    }
    if (form.querySelector(".needs-picker")) {
      // a post from an older page has free-text needs: the picker takes what it can read
      form.elements.needs.value = JSON.stringify(parseNeeds(form.elements.needs.value));
      renderNeeds(form);
    }
    remove(post.body.event_id);
    render();
    form.scrollIntoView();
  }

  function retry(post) {
    update(post.body.event_id, { rejected: null, last_error: null });
    render();
    flush();
  }

  async function flush() {
    if (flushing) return;
    flushing = true;
    try {
      for (;;) {
        const post = load(KEY).find((p) => !p.rejected); // refused posts wait for the user
        if (!post) break;
        try {
          await api(post.path, { method: "POST", body: post.body });
        } catch (err) {
          if (!(err instanceof Siaga.ApiError)) break; // network down: keep it, try later
          const retryable = err.status === 401 || err.status === 408 || err.status === 429 || err.status >= 500;
          if (retryable) {
            update(post.body.event_id, { tries: post.tries + 1, last_error: `${err.status}` });
            if (err.status === 401 && !document.getElementById("login")) Siaga.whoami().then((who) => { me = who; flush(); });
            break;
          }
          // the API's detail is kept as it came; the page says it in its language
          update(post.body.event_id, { rejected: { status: err.status, detail: err.detail, error: Siaga.describeDetail(err.detail), at: new Date().toISOString() } });
          render();
          continue;
        }
        remove(post.body.event_id);
        const done = load(DONE_KEY);
        done.unshift({ kind: post.kind, event_id: post.body.event_id, at: new Date().toISOString(), state: "sent" });
        save(DONE_KEY, done.slice(0, 30));
        render();
      }
    } finally {
      flushing = false;
      render();
    }
  }

  /** Why the server refused a post, in the page's language (an outbox entry kept by an
      older page has only the English text). */
  function refusal(rejected) {
    return rejected.detail !== undefined ? SiagaErrors.describe(rejected) : rejected.error;
  }

  function render() {
    const outbox = load(KEY);
    const done = load(DONE_KEY);
    const status = document.getElementById("net-status");
    if (status) {
      status.className = `status ${navigator.onLine ? "online" : "offline"}`;
      status.textContent = t(navigator.onLine ? "online" : "offline");
    }
    const waiting = outbox.filter((p) => !p.rejected).length;
    const refused = outbox.length - waiting;
    document.getElementById("queue-msg").textContent = outbox.length
      ? [waiting ? `${waiting} ${t("queued").toLowerCase()}` : "", refused ? `${refused} ${t("rejectedBy").toLowerCase()}` : ""].filter(Boolean).join(" · ")
      : t("queueEmpty");
    // what each post was, by name ("Kejadian", "Jumlah pengungsi"), never its code
    const kindName = (kind) => (KIND_LABEL[kind] ? t(KIND_LABEL[kind]) : "–");
    const rows = [
      ...outbox.map((p) => (p.rejected
        ? el("li", { dataset: { eventId: p.body.event_id, state: "rejected" } },
          el("span", { class: "state" }, t("rejectedBy")), ` · ${kindName(p.kind)} · ${p.queued_at.slice(11, 19)} · ${p.rejected.status}`,
          el("div", { class: "error" }, refusal(p.rejected)),
          el("div", { class: "hint" }, t("fixHint")),
          el("div", { class: "actions" },
            el("button", { type: "button", class: "fix", onclick: () => fix(p) }, t("fix")),
            el("button", { type: "button", class: "secondary retry", onclick: () => retry(p) }, t("retry")),
            el("button", { type: "button", class: "danger discard", onclick: () => { remove(p.body.event_id); render(); } }, t("discard"))))
        : el("li", { dataset: { eventId: p.body.event_id, state: "queued" } },
          el("span", { class: "state" }, t("queued")), ` · ${kindName(p.kind)} · ${p.queued_at.slice(11, 19)}`,
          p.last_error ? ` · ${p.last_error}` : ""))),
      ...done.map((d) => el("li", { dataset: { eventId: d.event_id, state: d.state } },
        el("span", { class: "state" }, t(d.state === "sent" ? "sent" : "rejectedBy")), ` · ${kindName(d.kind)} · ${d.at.slice(11, 19)}`,
        d.error ? el("div", { class: "error" }, d.error) : null)),
    ];
    document.getElementById("queue").replaceChildren(...rows);
  }

  // ---- shelters by name: the ones registered from this phone are offered by name
  const SHELTERS_KEY = "siaga.shelters";
  function knownShelters() {
    try { return JSON.parse(localStorage.getItem(SHELTERS_KEY) || "{}"); } catch (_) { return {}; }
  }
  function rememberShelter(id, name) {
    if (!id) return;
    const known = knownShelters();
    known[id] = name || id;
    localStorage.setItem(SHELTERS_KEY, JSON.stringify(known));
    renderShelters();
  }
  function renderShelters() {
    const list = document.getElementById("known-shelters");
    if (!list) return;
    list.replaceChildren(...Object.entries(knownShelters()).map(([id, name]) => el("option", { value: id, label: name }, name)));
    const input = document.querySelector("#form-headcount [name=shelter_id]");
    const label = document.getElementById("headcount-shelter-name");
    if (input && label) label.textContent = knownShelters()[input.value] || "";
  }

  // ---- the observed-needs picker: items from the catalogue by name, with a quantity
  function renderNeeds(form) {
    const hidden = form.elements.needs;
    const box = form.querySelector(".needs-picker");
    let picked = [];
    try { picked = JSON.parse(hidden.value || "[]"); } catch (_) { picked = []; }
    if (!Array.isArray(picked)) picked = [];
    const store = () => {
      hidden.value = JSON.stringify([...box.querySelectorAll(".need-row")].map((row) => ({
        item: row.querySelector(".need-item").value, quantity: row.querySelector(".need-quantity").value,
      })).filter((n) => n.item));
    };
    const row = (need) => {
      const select = el("select", { class: "need-item", "aria-label": t("item") },
        el("option", { value: "" }, t("pickItem")),
        ...catalogue.map((i) => el("option", { value: i.id, selected: i.id === need.item }, Siaga.itemName(i.id))));
      const unit = el("span", { class: "need-unit hint" });
      const showUnit = () => { const i = catalogue.find((c) => c.id === select.value); unit.textContent = i ? Siaga.unitName(i.unit) : ""; };
      const quantity = el("input", { class: "need-quantity", type: "number", min: "0", step: "any", value: need.quantity || "", "aria-label": t("quantity") });
      const node = el("div", { class: "need-row grid2" }, select,
        el("div", {}, quantity, " ", unit, " ",
          el("button", { type: "button", class: "secondary remove-need", onclick: () => { node.remove(); store(); } }, t("remove"))));
      select.addEventListener("change", () => { showUnit(); store(); });
      quantity.addEventListener("input", store);
      showUnit();
      return node;
    };
    box.replaceChildren(...picked.map(row));
    const add = form.querySelector("#add-need");
    add.onclick = () => { box.append(row({})); };
  }

  function showTab(name) {
    document.querySelectorAll("[data-tab]").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
    document.querySelectorAll("form.card").forEach((f) => { f.hidden = f.id !== `form-${name}`; });
  }

  function wire() {
    renderShelters();
    const headcountShelter = document.querySelector("#form-headcount [name=shelter_id]");
    if (headcountShelter) headcountShelter.addEventListener("input", renderShelters);
    document.querySelectorAll("form .needs-picker").forEach((box) => {
      const form = box.closest("form");
      renderNeeds(form);
      // reset() empties the hidden field after the event: draw the empty picker after it
      form.addEventListener("reset", () => setTimeout(() => { form.elements.needs.value = "[]"; renderNeeds(form); }, 0));
      document.addEventListener("siaga:lang", () => renderNeeds(form));
    });
    document.querySelectorAll("[data-tab]").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
    document.querySelectorAll("button.locate").forEach((b) => b.addEventListener("click", () => {
      const form = b.closest("form");
      navigator.geolocation.getCurrentPosition((pos) => {
        form.elements.lat.value = pos.coords.latitude.toFixed(5);
        form.elements.lon.value = pos.coords.longitude.toFixed(5);
      }, (err) => window.alert(err.message), { enableHighAccuracy: true, timeout: 15000 });
    }));
    for (const kind of Object.keys(builders)) {
      document.getElementById(`form-${kind}`).addEventListener("submit", (e) => {
        e.preventDefault();
        // a command post's posko comes from its token (the server fills it in when absent)
        let posko = (me && me.scope && me.scope.posko_id) || null;
        if (!posko && me && me.role !== "command_post") posko = window.prompt(t("poskoId")) || null;
        const data = new FormData(e.target);
        const [path, body] = builders[kind](data, posko);
        if (!body.posko_id) delete body.posko_id;
        enqueue(kind, path, body, Object.fromEntries(data.entries()));
        e.target.reset();
        document.getElementById("queue-msg").textContent = t("queuedOffline");
      });
    }
    window.addEventListener("online", () => { render(); flush(); });
    window.addEventListener("offline", render);
    document.addEventListener("siaga:lang", render);
    setInterval(flush, 15000);
  }

  async function main() {
    document.body.prepend(Siaga.header("fieldForm", el("span", { id: "net-status", class: "status" }, "…")));
    Siaga.applyI18n();
    try { me = await Siaga.whoami(); } catch (_) { me = null; } // offline: use the stored token
    catalogue = await Siaga.loadItems(); // kept in localStorage: names offline too
    document.getElementById("app").hidden = false;
    wire();
    render();
    flush();
    if ("serviceWorker" in navigator && window.isSecureContext) {
      navigator.serviceWorker.register("/posko/sw.js").catch(() => {});
    }
    document.body.dataset.ready = "1";
  }

  document.addEventListener("DOMContentLoaded", () => { main(); });
})();
