/* TAGANA team page (/tim), for the team leader's phone. Shows the team's current
   assignment (what, where, how far along) and moves it along: terima (acknowledged) →
   berangkat (en_route) → tiba (arrived) → selesai (done), or tolak (declined, with a
   reason); reports the team's availability, members present and position.

   Works with no signal, like /posko: every report gets a client UUID (event_id) and goes
   into an outbox in localStorage first, sent in order when online (on `online`, every
   10 s, and at once after a report); a retry resends the same event_id, so it counts once.
   A report the server refuses (4xx other than 401/408/429) is set aside with the server's
   reason until the leader sends it again or deletes it. The last assignment seen is kept,
   so the page shows it offline; the step buttons follow what is queued as well as what
   the server has.

   A team running a public kitchen (dapur umum) sees each kitchen's shifts (cookings a day,
   portions per cooking, capacity), the shelters it cooks for with the portions each needs a
   day, what it served per meal, and reports the kitchen's status and the portions served
   after a meal through the same outbox (with the time of the meal, so a report sent late
   counts on the right day). It also sees the ingredients on their way to each kitchen (item,
   quantity, from which warehouse; GET /api/v1/teams/{id} lists the shipments in flight) and
   confirms one on arrival with *Terima*: the quantity actually received goes to
   POST /api/v1/shipments/{id}/receipt through the same outbox, so it works with no signal. */
"use strict";

(() => {
  const { api, el } = Siaga;
  const KEY = "siaga.tim.outbox";
  const DONE_KEY = "siaga.tim.outbox.done";
  const LAST_KEY = "siaga.tim.last";
  const STEPS = ["acknowledged", "en_route", "arrived", "done"];
  const T = {
    id: {
      availability: "Ketersediaan", hoursOnDuty: "Jam bertugas", lastSeen: "Data per", teamId: "ID tim",
      assignment: "Tugas saat ini", noAssignment: "Belum ada tugas.", teamStatus: "Status tim",
      membersPresent: "Anggota yang hadir", sendStatus: "Kirim status",
      av_available: "Siap ditugaskan", av_assigned: "Sedang bertugas", av_resting: "Istirahat", av_off_duty: "Lepas tugas",
      kind_evacuation: "Evakuasi", kind_public_kitchen: "Dapur umum", kind_shelter_setup: "Pendirian tempat pengungsian",
      kind_psychosocial_support: "Dukungan psikososial",
      st_dispatched: "Ditugaskan, menunggu jawaban tim", st_acknowledged: "Tugas diterima", st_en_route: "Dalam perjalanan",
      st_arrived: "Tiba di lokasi", st_done: "Selesai", st_declined: "Ditolak", st_timed_out: "Tidak dijawab tepat waktu",
      do_acknowledged: "Terima tugas", do_en_route: "Berangkat", do_arrived: "Tiba di lokasi", do_done: "Tugas selesai",
      do_declined: "Tolak tugas", declineReason: "Alasan menolak", declineNeedsReason: "Tulis alasan menolak.",
      target: "Lokasi tugas", eta: "Perkiraan perjalanan", hours: "jam", tier_kabupaten: "tingkat kabupaten/kota",
      tier_province: "tingkat provinsi", tier_national: "tingkat nasional", waiting: "menunggu sinyal",
      kind_status: "Status tim", kind_progress: "Kemajuan tugas", members: "anggota", askTeam: "ID tim TAGANA",
      lastKnown: "Data terakhir yang tersimpan (luring)", at: "di",
      kitchenTitle: "Dapur umum yang dijalankan tim", ks_open: "Buka", ks_preparing: "Persiapan", ks_closed: "Tutup",
      shifts: "Jadwal masak", timesADay: "kali sehari", perCooking: "porsi per masak", dumlapUnits: "unit Dumlap",
      capacity: "Kapasitas", portionsDay: "porsi/hari", needed: "Dibutuhkan", forPeople: "orang",
      cookFor: "Memasak untuk", shelter: "Pengungsian", portionsNeeded: "Porsi/hari", andMore: "dan lainnya",
      noShelters: "Belum ada pengungsian yang dilayani.", servedOn: "Tersaji", nothingServed: "Belum ada laporan makan.",
      shortBy: "Kurang", unitsMore: "unit Dumlap lagi",
      meal_pagi: "Pagi", meal_siang: "Siang", meal_malam: "Malam", meal_none: "Tanpa laporan makan",
      kitchenStatus: "Status dapur", meal: "Waktu makan", portionsServed: "Porsi tersaji", sendKitchen: "Kirim laporan dapur",
      kind_kitchen: "Laporan dapur", mealNeedsPortions: "Isi jumlah porsi tersaji untuk waktu makan ini.",
      portionsNeedMeal: "Pilih waktu makan untuk porsi tersaji.",
      incomingTitle: "Kiriman bahan masakan", noIncoming: "Tidak ada kiriman bahan dalam perjalanan.",
      from: "dari", in_dispatched: "Dalam perjalanan", in_confirmed: "Disiapkan gudang",
      quantityReceived: "Jumlah diterima", note: "Catatan (mis. rusak, kurang)", doReceive: "Terima",
      kind_receipt: "Penerimaan bahan", receiveNeedsQuantity: "Isi jumlah yang diterima.",
      receipt_queued: "Penerimaan menunggu sinyal", receipt_sent: "Penerimaan terkirim",
      receipt_rejected: "Penerimaan ditolak server (lihat antrean kiriman)",
    },
    en: {
      availability: "Availability", hoursOnDuty: "Hours on duty", lastSeen: "As of", teamId: "Team id",
      assignment: "Current assignment", noAssignment: "No assignment yet.", teamStatus: "Team status",
      membersPresent: "Members present", sendStatus: "Send status",
      av_available: "Available", av_assigned: "On assignment", av_resting: "Resting", av_off_duty: "Off duty",
      kind_evacuation: "Evacuation", kind_public_kitchen: "Public kitchen", kind_shelter_setup: "Shelter set-up",
      kind_psychosocial_support: "Psychosocial support",
      st_dispatched: "Dispatched, waiting for the team", st_acknowledged: "Acknowledged", st_en_route: "On the way",
      st_arrived: "Arrived on site", st_done: "Done", st_declined: "Declined", st_timed_out: "Not answered in time",
      do_acknowledged: "Accept", do_en_route: "Leaving now", do_arrived: "Arrived", do_done: "Task done",
      do_declined: "Decline", declineReason: "Reason for declining", declineNeedsReason: "Write why you decline.",
      target: "Where", eta: "Travel estimate", hours: "h", tier_kabupaten: "kabupaten/kota tier",
      tier_province: "province tier", tier_national: "national tier", waiting: "waiting for signal",
      kind_status: "Team status", kind_progress: "Task progress", members: "members", askTeam: "TAGANA team id",
      lastKnown: "Last saved data (offline)", at: "at",
      kitchenTitle: "Public kitchens the team runs", ks_open: "Open", ks_preparing: "Preparing", ks_closed: "Closed",
      shifts: "Cooking shifts", timesADay: "times a day", perCooking: "portions per cooking", dumlapUnits: "Dumlap units",
      capacity: "Capacity", portionsDay: "portions/day", needed: "Needed", forPeople: "people",
      cookFor: "Cooks for", shelter: "Shelter", portionsNeeded: "Portions/day", andMore: "and more",
      noShelters: "No shelters served yet.", servedOn: "Served", nothingServed: "No meals reported yet.",
      shortBy: "Short by", unitsMore: "more Dumlap units",
      meal_pagi: "Breakfast", meal_siang: "Lunch", meal_malam: "Dinner", meal_none: "No meal report",
      kitchenStatus: "Kitchen status", meal: "Meal", portionsServed: "Portions served", sendKitchen: "Send kitchen report",
      kind_kitchen: "Kitchen report", mealNeedsPortions: "Enter the portions served for this meal.",
      portionsNeedMeal: "Choose the meal the portions were for.",
      incomingTitle: "Ingredient deliveries", noIncoming: "No ingredients on the way.",
      from: "from", in_dispatched: "On the way", in_confirmed: "Being packed at the warehouse",
      quantityReceived: "Quantity received", note: "Note (e.g. damaged, short)", doReceive: "Receive",
      kind_receipt: "Ingredients received", receiveNeedsQuantity: "Enter the quantity received.",
      receipt_queued: "Receipt waiting for signal", receipt_sent: "Receipt sent",
      receipt_rejected: "Receipt refused by the server (see the outbox)",
    },
  };
  const tt = (key) => (T[Siaga.lang] && T[Siaga.lang][key]) || T.id[key] || Siaga.t(key);

  let me = null;
  let teamId = null;
  let flushing = false;
  let view = null; // {team, assignment, task, target, kitchens} from GET /api/v1/teams/{id}
  const kitchenForms = new Map(); // kitchen id -> its report form (kept, so typing survives a refresh)
  const receiptForms = new Map(); // shipment id -> its receipt form (the same)
  const MEALS = ["pagi", "siang", "malam"];
  let offlineView = false;
  let loadError = null; // the API refused to show the team (e.g. not registered): said on the page

  const load = (key, fallback) => { try { return JSON.parse(localStorage.getItem(key) || "null") ?? fallback; } catch (_) { return fallback; } };
  const save = (key, value) => localStorage.setItem(key, JSON.stringify(value));

  function enqueue(kind, path, body, label, taskId, ref) {
    const outbox = load(KEY, []);
    body.event_id = Siaga.uuid4();
    outbox.push({ kind, path, body, label, task_id: taskId || null, ref: ref || null, queued_at: new Date().toISOString(), tries: 0 });
    save(KEY, outbox);
    render();
    flush();
  }

  function update(eventId, change) {
    save(KEY, load(KEY, []).map((p) => (p.body.event_id === eventId ? Object.assign(p, change) : p)));
  }

  function remove(eventId) {
    save(KEY, load(KEY, []).filter((p) => p.body.event_id !== eventId));
  }

  async function flush() {
    if (flushing) return;
    flushing = true;
    let sent = false;
    try {
      for (;;) {
        const post = load(KEY, []).find((p) => !p.rejected);
        if (!post) break;
        try {
          await api(post.path, { method: "POST", body: post.body });
        } catch (err) {
          if (!(err instanceof Siaga.ApiError)) break; // no signal: keep it, try later
          const retryable = err.status === 401 || err.status === 408 || err.status === 429 || err.status >= 500;
          if (retryable) {
            update(post.body.event_id, { tries: post.tries + 1, last_error: `${err.status}` });
            if (err.status === 401 && !document.getElementById("login")) Siaga.whoami().then((who) => { me = who; flush(); });
            break;
          }
          // the API's detail is kept as it came; the page says it in its language
          update(post.body.event_id, { rejected: { status: err.status, detail: err.detail, error: Siaga.describeDetail(err.detail) } });
          render();
          continue;
        }
        remove(post.body.event_id);
        const done = load(DONE_KEY, []);
        done.unshift({ kind: post.kind, label: post.label, event_id: post.body.event_id, at: new Date().toISOString(),
          task_id: post.task_id, ref: post.ref || null, status: post.body.status || null });
        save(DONE_KEY, done.slice(0, 30));
        sent = true;
        render();
      }
    } finally {
      flushing = false;
      render();
    }
    if (sent) setTimeout(refresh, 1500);
  }

  async function refresh() {
    if (!teamId) return;
    try {
      view = await api(`/api/v1/teams/${encodeURIComponent(teamId)}`);
      offlineView = false;
      loadError = null;
      save(LAST_KEY, { team_id: teamId, view, at: new Date().toISOString() });
    } catch (err) {
      if (err instanceof Siaga.ApiError && err.status !== 401) {
        view = null;
        loadError = err; // kept, so every render says it (until the team is found)
        render();
        return;
      }
      const last = load(LAST_KEY, null);
      if (last && last.team_id === teamId) { view = last.view; offlineView = true; }
    }
    render();
  }

  /** The furthest step of a task: what the server has, and what the outbox holds. */
  function stepOf(taskId, serverStatus) {
    const queued = [...load(KEY, []).filter((p) => !p.rejected), ...load(DONE_KEY, [])]
      .filter((p) => p.kind === "progress" && p.task_id === taskId)
      .map((p) => (p.body ? p.body.status : p.status));
    if (queued.includes("declined") || serverStatus === "declined") return "declined";
    let best = STEPS.indexOf(serverStatus);
    for (const s of queued) best = Math.max(best, STEPS.indexOf(s));
    return best < 0 ? "dispatched" : STEPS[best];
  }

  function progress(taskId, status, reason) {
    const body = { team_id: teamId, status, occurred_at: new Date().toISOString() };
    if (reason) body.reason = reason;
    enqueue("progress", `/api/v1/tasks/${encodeURIComponent(taskId)}/progress`, body, tt(`do_${status}`), taskId);
  }

  /** Why the team was sent (rule team_assigned and its figures), in the page's language. */
  function whyText(a, where) {
    if (!a.why) return "";
    const names = { team: (view.team && view.team.name) || teamId, task: `${tt(`kind_${a.kind}`)} ${tt("at")} ${where}` };
    let text = Siaga.explain(a.why, Siaga.lang, names);
    // an older common.js prints the tier's code ("tingkat province."): say it in the page's
    // language (a renderer that names the tier itself is left as it is)
    const tier = (a.why.figures || {}).tier;
    if (tier && Siaga.lang !== "en") text = text.replace(`tingkat ${tier}.`, `${tt(`tier_${tier}`)}.`);
    return text;
  }

  function assignmentCard() {
    if (loadError) return [el("p", { class: "error", id: "team-error" }, SiagaErrors.describe(loadError))];
    const a = view && view.assignment;
    if (!a) return [el("p", { class: "hint", "data-tim": "noAssignment" }, tt("noAssignment"))];
    const step = stepOf(a.task_id, a.status);
    const target = view.target || {};
    const where = target.name || a.target_id;
    const queuedSteps = load(KEY, []).filter((p) => !p.rejected && p.kind === "progress" && p.task_id === a.task_id);
    const card = [
      el("p", {}, el("b", { id: "task-kind" }, tt(`kind_${a.kind}`))),
      el("p", {}, `${tt("target")}: `, el("b", { id: "task-target" }, where)),
      el("p", { class: "hint" }, a.eta_hours != null ? `${tt("eta")}: ${Siaga.fmt(a.eta_hours, 1)} ${tt("hours")} · ` : "",
        a.tier ? tt(`tier_${a.tier}`) : ""),
      el("p", {}, el("span", { id: "task-status", class: "pill", dataset: { status: step } }, tt(`st_${step}`)),
        queuedSteps.length ? el("span", { class: "hint" }, ` · ${tt("waiting")}`) : ""),
      a.why ? el("p", { class: "hint", id: "task-why" }, whyText(a, where)) : null,
    ].filter(Boolean);
    if (step === "declined" || step === "done") return card;
    const next = step === "dispatched" ? "acknowledged" : STEPS[STEPS.indexOf(step) + 1];
    card.push(el("div", { class: "actions" },
      el("button", { type: "button", class: "step", dataset: { step: next }, onclick: () => progress(a.task_id, next) }, tt(`do_${next}`))));
    const reason = el("input", { name: "reason", maxlength: "1000", "aria-label": tt("declineReason"), placeholder: tt("declineReason") });
    const msg = el("p", { class: "error" });
    card.push(el("form", { class: "decline", onsubmit: (e) => {
      e.preventDefault();
      if (!reason.value.trim()) { msg.textContent = tt("declineNeedsReason"); return; }
      progress(a.task_id, "declined", reason.value.trim());
    } }, el("label", {}, tt("declineReason")), reason,
    el("button", { type: "submit", class: "danger decline-btn" }, tt("do_declined")), msg));
    return card;
  }

  /** The meal of the hour on the phone's clock: pagi before 10, siang before 15, else malam. */
  function mealNow() {
    const hour = new Date().getHours();
    return hour < 10 ? "pagi" : hour < 15 ? "siang" : "malam";
  }

  function kitchenForm(k) {
    if (kitchenForms.has(k.kitchen_id)) return kitchenForms.get(k.kitchen_id);
    const status = el("select", { name: "status" },
      ...["open", "preparing", "closed"].map((s) => el("option", { value: s, "data-tim": `ks_${s}` }, tt(`ks_${s}`))));
    status.value = k.status || "open";
    const meal = el("select", { name: "meal" },
      el("option", { value: "", "data-tim": "meal_none" }, tt("meal_none")),
      ...MEALS.map((m) => el("option", { value: m, "data-tim": `meal_${m}` }, tt(`meal_${m}`))));
    meal.value = mealNow();
    const portions = el("input", { name: "portions_served", type: "number", min: "0", max: "1000000", inputmode: "numeric" });
    const msg = el("p", { class: "error" });
    const form = el("form", { class: "kitchen-report", dataset: { kitchenId: k.kitchen_id }, onsubmit: (e) => {
      e.preventDefault();
      msg.textContent = "";
      const body = { team_id: teamId, status: status.value, occurred_at: new Date().toISOString() };
      const n = portions.value.trim();
      if (meal.value && !n) { msg.textContent = tt("mealNeedsPortions"); return; }
      if (n && !meal.value) { msg.textContent = tt("portionsNeedMeal"); return; }
      if (meal.value) { body.meal = meal.value; body.portions_served = parseInt(n, 10); }
      const what = meal.value ? `${tt(`meal_${meal.value}`)} ${Siaga.fmt(body.portions_served, 0)}` : tt(`ks_${status.value}`);
      enqueue("kitchen", `/api/v1/kitchens/${encodeURIComponent(k.kitchen_id)}/reports`, body,
        `${tt("kind_kitchen")} ${k.name}: ${what}`);
      portions.value = "";
    } },
    el("label", { "data-tim": "kitchenStatus" }, tt("kitchenStatus")), status,
    el("div", { class: "grid2" },
      el("div", {}, el("label", { "data-tim": "meal" }, tt("meal")), meal),
      el("div", {}, el("label", { "data-tim": "portionsServed" }, tt("portionsServed")), portions)),
    el("button", { type: "submit", "data-tim": "sendKitchen" }, tt("sendKitchen")), msg);
    kitchenForms.set(k.kitchen_id, form);
    return form;
  }

  /** Where a receipt for this shipment stands on this phone: queued, rejected, sent or null. */
  function receiptState(shipmentId) {
    const waiting = load(KEY, []).find((p) => p.kind === "receipt" && p.ref === shipmentId);
    if (waiting) return waiting.rejected ? "rejected" : "queued";
    return load(DONE_KEY, []).some((d) => d.kind === "receipt" && d.ref === shipmentId) ? "sent" : null;
  }

  /** A shipment on its way to the kitchen: what, how much, from where; Terima when it is on
      the road (the quantity actually received, and a note). */
  function incomingRow(k, s) {
    const what = `${Siaga.itemName(s.item)} ${Siaga.qty(s.quantity, s.unit)}`;
    const state = receiptState(s.shipment_id);
    const row = el("li", { class: "incoming", dataset: { shipmentId: s.shipment_id, status: s.status } },
      el("b", { class: "incoming-what" }, what), " ",
      el("span", { class: "pill incoming-status" }, tt(`in_${s.status}`)),
      el("div", { class: "hint incoming-from" }, `${tt("from")} ${s.warehouse_name || "–"}`,
        s.status === "dispatched" && s.eta_hours != null ? ` · ${tt("eta")} ${Siaga.fmt(s.eta_hours, 1)} ${tt("hours")}` : ""));
    if (s.status !== "dispatched") return row;
    if (state) {
      row.append(el("p", { class: state === "rejected" ? "error receipt-state" : "hint receipt-state", dataset: { state } }, tt(`receipt_${state}`)));
      return row;
    }
    row.append(receiptForm(k, s, what));
    return row;
  }

  function receiptForm(k, s, what) {
    if (receiptForms.has(s.shipment_id)) return receiptForms.get(s.shipment_id);
    const quantity = el("input", { name: "quantity_received", type: "number", min: "0", max: "1000000000", step: "any",
      inputmode: "decimal", value: String(s.quantity ?? "") });
    const note = el("input", { name: "note", maxlength: "1000" });
    const msg = el("p", { class: "error" });
    const form = el("form", { class: "receipt", dataset: { shipmentId: s.shipment_id }, onsubmit: (e) => {
      e.preventDefault();
      msg.textContent = "";
      const n = quantity.value.trim();
      if (!n || !(Number(n) >= 0)) { msg.textContent = tt("receiveNeedsQuantity"); return; }
      const body = { quantity_received: Number(n), occurred_at: new Date().toISOString() };
      if (note.value.trim()) body.note = note.value.trim();
      const unit = s.unit ? ` ${Siaga.unitName(s.unit)}` : "";
      enqueue("receipt", `/api/v1/shipments/${encodeURIComponent(s.shipment_id)}/receipt`, body,
        `${tt("kind_receipt")} ${k.name}: ${Siaga.itemName(s.item)} ${Siaga.fmt(body.quantity_received, 3)}${unit}`, null, s.shipment_id);
      receiptForms.delete(s.shipment_id);
    } },
    el("div", { class: "grid2" },
      el("div", {}, el("label", { "data-tim": "quantityReceived" }, tt("quantityReceived")), quantity),
      el("div", {}, el("label", { "data-tim": "note" }, tt("note")), note)),
    el("button", { type: "submit", class: "receive", "data-tim": "doReceive", "aria-label": `${tt("doReceive")}: ${what}` }, tt("doReceive")), msg);
    receiptForms.set(s.shipment_id, form);
    return form;
  }

  /** A local calendar day (ISO) as people write it: "7 Oktober 2018". */
  function dayName(iso) {
    const d = new Date(`${iso}T12:00:00`);
    if (Number.isNaN(d.getTime())) return iso;
    return d.toLocaleDateString(Siaga.lang === "en" ? "en-GB" : "id-ID", { day: "numeric", month: "long", year: "numeric" });
  }

  function kitchenCard(k) {
    const fmt0 = (n) => Siaga.fmt(n, 0);
    const perCooking = (k.units || 1) * (k.portions_per_cooking || 0);
    const meals = k.cookings_per_day === 3 ? ` (${MEALS.map((m) => tt(`meal_${m}`).toLowerCase()).join(", ")})` : "";
    const shelters = k.shelters || [];
    const rows = shelters.map((s) => el("tr", { dataset: { shelterId: s.shelter_id } },
      el("td", {}, s.name), el("td", { class: "num" }, fmt0(s.portions_per_day))));
    const last = k.served_last_day;
    const servedDay = last && (k.served || {})[last.day];
    const shortfall = k.shortfall && k.shortfall.figures;
    return el("article", { class: "kitchen", dataset: { kitchenId: k.kitchen_id } },
      el("h3", {}, el("span", { class: "kitchen-name" }, k.name || k.kitchen_id), " ",
        el("span", { class: "pill kitchen-status", dataset: { status: k.status } }, tt(`ks_${k.status || "open"}`))),
      el("p", { class: "kitchen-shifts" }, `${tt("shifts")}: ${fmt0(k.cookings_per_day)} ${tt("timesADay")}${meals} · `,
        `${fmt0(perCooking)} ${tt("perCooking")} (${fmt0(k.units)} ${tt("dumlapUnits")} × ${fmt0(k.portions_per_cooking)})`),
      el("p", { class: "kitchen-load" }, `${tt("capacity")} ${fmt0(k.capacity_per_day)} ${tt("portionsDay")} · `,
        `${tt("needed")} ${fmt0(k.portions_needed_per_day)} ${tt("portionsDay")} (${fmt0(k.people_served)} ${tt("forPeople")})`),
      shortfall ? el("p", { class: "error kitchen-short" },
        `${tt("shortBy")} ${fmt0(shortfall.portions_missing_per_day)} ${tt("portionsDay")} (${fmt0(shortfall.units_missing)} ${tt("unitsMore")})`) : null,
      el("h4", {}, tt("cookFor")),
      rows.length
        ? el("table", { class: "kitchen-shelters" },
          el("thead", {}, el("tr", {}, el("th", {}, tt("shelter")), el("th", {}, tt("portionsNeeded")))),
          el("tbody", {}, ...rows))
        : el("p", { class: "hint" }, tt("noShelters")),
      (k.shelters_served || 0) > shelters.length ? el("p", { class: "hint" }, `… ${tt("andMore")} ${fmt0(k.shelters_served - shelters.length)}`) : null,
      el("p", { class: "kitchen-served" }, servedDay
        ? `${tt("servedOn")} ${dayName(last.day)}: ${MEALS.filter((m) => servedDay[m] != null).map((m) => `${tt(`meal_${m}`)} ${fmt0(servedDay[m])}`).join(" · ")}`
        : tt("nothingServed")),
      el("h4", {}, tt("incomingTitle")),
      (k.incoming || []).length
        ? el("ul", { class: "kitchen-incoming" }, ...k.incoming.map((s) => incomingRow(k, s)))
        : el("p", { class: "hint kitchen-no-incoming" }, tt("noIncoming")),
      kitchenForm(k));
  }

  function renderKitchens() {
    const kitchens = (view && view.kitchens) || [];
    const section = document.getElementById("kitchens");
    section.hidden = kitchens.length === 0;
    document.getElementById("kitchens-body").replaceChildren(...kitchens.map(kitchenCard));
  }

  function render() {
    const status = document.getElementById("net-status");
    if (status) {
      status.className = `status ${navigator.onLine ? "online" : "offline"}`;
      status.textContent = Siaga.t(navigator.onLine ? "online" : "offline");
    }
    document.querySelectorAll("[data-tim]").forEach((node) => { node.textContent = tt(node.dataset.tim); });
    const team = view && view.team;
    document.getElementById("team-name").textContent = team ? team.name : (teamId || "…");
    document.getElementById("team-availability").textContent = team ? tt(`av_${team.availability}`) : "–";
    document.getElementById("team-hours").textContent = team && team.hours_on_duty != null ? `${Siaga.fmt(team.hours_on_duty, 1)} ${tt("hours")}` : "–";
    const last = load(LAST_KEY, null);
    document.getElementById("team-seen").textContent = last && last.at
      ? `${new Date(last.at).toLocaleTimeString(Siaga.lang === "id" ? "id-ID" : "en-GB")}${offlineView ? ` (${tt("lastKnown")})` : ""}` : "–";
    const form = document.getElementById("form-status");
    if (team && !form.elements.members_present.value) form.elements.members_present.value = team.members_present ?? team.members ?? "";
    document.getElementById("assignment-body").replaceChildren(...assignmentCard());
    renderKitchens();

    const outbox = load(KEY, []);
    const done = load(DONE_KEY, []);
    const waiting = outbox.filter((p) => !p.rejected).length;
    document.getElementById("queue-msg").textContent = outbox.length
      ? `${waiting} ${Siaga.t("queued").toLowerCase()}${outbox.length > waiting ? ` · ${outbox.length - waiting} ${Siaga.t("rejectedBy").toLowerCase()}` : ""}`
      : Siaga.t("queueEmpty");
    const rows = [
      ...outbox.map((p) => (p.rejected
        ? el("li", { dataset: { eventId: p.body.event_id, state: "rejected" } },
          el("span", { class: "state" }, Siaga.t("rejectedBy")), ` · ${p.label} · ${p.queued_at.slice(11, 19)} · ${p.rejected.status}`,
          el("div", { class: "error" }, p.rejected.detail !== undefined ? SiagaErrors.describe(p.rejected) : p.rejected.error),
          el("div", { class: "actions" },
            el("button", { type: "button", class: "secondary retry", onclick: () => { update(p.body.event_id, { rejected: null }); flush(); } }, Siaga.t("retry")),
            el("button", { type: "button", class: "danger discard", onclick: () => { remove(p.body.event_id); render(); } }, Siaga.t("discard"))))
        : el("li", { dataset: { eventId: p.body.event_id, state: "queued" } },
          el("span", { class: "state" }, Siaga.t("queued")), ` · ${p.label} · ${p.queued_at.slice(11, 19)}`,
          p.last_error ? ` · ${p.last_error}` : ""))),
      ...done.map((d) => el("li", { dataset: { eventId: d.event_id, state: "sent" } },
        el("span", { class: "state" }, Siaga.t("sent")), ` · ${d.label} · ${d.at.slice(11, 19)}`)),
    ];
    document.getElementById("queue").replaceChildren(...rows);
  }

  function wire() {
    const idInput = document.getElementById("team-id");
    idInput.value = teamId || "";
    if (me && me.role === "team") idInput.readOnly = true; // a team's phone: its own team only
    idInput.addEventListener("change", () => { teamId = idInput.value.trim() || null; view = null; loadError = null; kitchenForms.clear(); receiptForms.clear(); refresh(); });
    document.querySelector("button.locate").addEventListener("click", () => {
      const form = document.getElementById("form-status");
      navigator.geolocation.getCurrentPosition((pos) => {
        form.elements.lat.value = pos.coords.latitude.toFixed(5);
        form.elements.lon.value = pos.coords.longitude.toFixed(5);
      }, (err) => window.alert(err.message), { enableHighAccuracy: true, timeout: 15000 });
    });
    document.getElementById("form-status").addEventListener("submit", (e) => {
      e.preventDefault();
      if (!teamId) return;
      const data = new FormData(e.target);
      const body = { availability: data.get("availability"), members_present: parseInt(data.get("members_present"), 10),
        occurred_at: new Date().toISOString() };
      if (data.get("lat") && data.get("lon")) body.location = { lat: Number(data.get("lat")), lon: Number(data.get("lon")) };
      enqueue("status", `/api/v1/teams/${encodeURIComponent(teamId)}/status`, body,
        `${tt("kind_status")}: ${tt(`av_${body.availability}`)}, ${body.members_present} ${tt("members")}`);
    });
    window.addEventListener("online", () => { render(); flush(); refresh(); });
    window.addEventListener("offline", render);
    document.addEventListener("siaga:lang", render);
    setInterval(() => { flush(); refresh(); }, 10000);
  }

  async function main() {
    document.body.prepend(Siaga.header("teams", el("span", { id: "net-status", class: "status" }, "…")));
    Siaga.applyI18n();
    try { me = await Siaga.whoami(); } catch (_) { me = null; } // offline: the last team seen
    const last = load(LAST_KEY, null);
    teamId = (me && me.scope && me.scope.team_id) || (last && last.team_id) || null;
    if (!teamId && me && me.role !== "team") teamId = window.prompt(tt("askTeam")) || null;
    document.getElementById("app").hidden = false;
    await Siaga.loadItems(); // item and unit names (kept for offline use), never codes
    wire();
    await refresh();
    render();
    flush();
    if ("serviceWorker" in navigator && window.isSecureContext) {
      navigator.serviceWorker.register("/tim/sw.js").catch(() => {});
    }
    document.body.dataset.ready = "1";
  }

  document.addEventListener("DOMContentLoaded", () => { main(); });
})();
