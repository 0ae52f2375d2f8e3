/* What to tell a person about a refused request, in the page's language.

   The API answers a refusal with an English detail naming the field ("shipment_id: no
   shipment 'x'", or FastAPI's [{loc: ["body", "quantity"], msg, type}]); API clients keep
   it as it is. The field pages (posko, tim, gudang) show people, who read Bahasa
   Indonesia, a sentence in Indonesian that names the field by its label on the form
   ("Jumlah diterima", not quantity_received); in English mode, the API's own detail. */
"use strict";

const SiagaErrors = (() => {
  const FIELDS = {
    id: {
      shipment_id: "ID pengiriman", posko_id: "Posko", province_code: "Provinsi",
      kabupaten_code: "Kabupaten/kota", shelter_id: "Pengungsian", incident_id: "Kejadian",
      team_id: "Tim", task_id: "Tugas", kitchen_id: "Dapur umum", warehouse_id: "Gudang",
      site_id: "Lokasi usulan", quantity_received: "Jumlah diterima", quantity: "Jumlah",
      batch_id: "Batch", batches: "Batch", item: "Barang", unit: "Satuan",
      expires_on: "Tanggal kedaluwarsa", counted: "Jumlah terhitung", reason: "Alasan",
      reason_code: "Sebab", donor: "Donatur", document_number: "Nomor dokumen",
      received_by: "Diterima oleh", counted_by: "Dihitung oleh", written_off_by: "Dihapus oleh",
      source: "Asal barang", status: "Status", held: "Penahanan", approval: "Persetujuan", meal: "Waktu makan",
      portions_served: "Porsi tersaji", members_present: "Anggota yang hadir",
      availability: "Ketersediaan", location: "Lokasi", lat: "Lintang", lon: "Bujur",
      total: "Total pengungsi", infants: "Bayi", children: "Anak", elderly: "Lansia",
      pregnant_lactating: "Ibu hamil/menyusui", disabled: "Penyandang disabilitas",
      occurred_at: "Waktu kejadian", role: "Peran token", origin: "Asal halaman",
      name: "Nama", capacity: "Kapasitas", severity: "Tingkat", incident_type: "Jenis kejadian",
      observed_needs: "Kebutuhan yang terlihat", affected: "Terdampak", displaced: "Pengungsi",
      injured: "Luka-luka", dead: "Meninggal", description: "Keterangan", note: "Catatan",
      event_id: "ID laporan", rate: "Batas kiriman", authorization: "Token", sender: "Pengirim",
    },
  };
  const ANY_FIELD = "Salah satu isian";
  // Indonesian sentences by status (and by field where the field says what went wrong)
  const FORBIDDEN = {
    posko_id: "token ini melapor untuk posko lain",
    province_code: "di luar wilayah kerja token ini",
    kabupaten_code: "di luar wilayah kerja token ini",
    warehouse_id: "token ini untuk gudang lain",
    team_id: "bukan untuk tim ini (token tim lain, atau tim ini tidak menjalankan dapur tersebut)",
    shipment_id: "pengiriman ini diterima oleh pihak lain (posko atau tim dapur umum yang dituju)",
    shelter_id: "pengungsian ini milik posko lain; minta koordinator memindahkannya",
    incident_id: "kejadian ini milik posko lain; minta koordinator memindahkannya",
    role: "peran token ini tidak boleh melakukan ini",
    origin: "kirim dari halaman Siaga",
  };
  // a 422 "value_error": what the field's rule is, said for people
  const VALUE = {
    quantity: "melebihi yang ada di batch, atau tidak sah",
    batch_id: "batch ini tidak ada di gudang ini, atau untuk barang lain",
    item: "barang ini tidak ada di katalog",
    donor: "donasi wajib mencantumkan donatur",
    team_id: "tim ini tidak terdaftar, atau tidak menjalankan dapur umum ini",
    kitchen_id: "ID ini sudah dipakai sebuah pengungsian; dapur umum perlu ID sendiri",
    province_code: "lokasi tidak berada di provinsi tersebut",
    members_present: "melebihi jumlah anggota tim",
    meal: "waktu makan dan porsi tersaji diisi bersama",
    reason: "alasan wajib diisi",
    posko_id: "isi ID posko (token koordinator atau admin)",
  };
  const CONFLICT = {
    status: "statusnya sudah berubah, langkah ini tidak bisa lagi (muat ulang halaman)",
    held: "pengiriman ini ditahan koordinator",
    approval: "pengiriman tingkat nasional ini menunggu persetujuan koordinator provinsi tujuan (atau ditolak olehnya)",
    task_id: "tim tidak sedang mengerjakan tugas ini",
  };

  /** {field, type} of an API detail: the field's last name in a 422's loc, or the word
      before the colon that starts a string detail. */
  function parse(detail) {
    if (Array.isArray(detail) && detail.length) {
      const loc = (detail[0].loc || []).filter((p) => !["body", "query", "path"].includes(p) && typeof p === "string");
      return { field: loc.length ? loc[loc.length - 1] : null, type: detail[0].type || "" };
    }
    const match = /^([a-z_]+(?:\.[a-z_0-9]+)*):\s/.exec(String(detail || ""));
    if (!match) return { field: null, type: "" };
    const parts = match[1].split(".");
    return { field: parts[parts.length - 1], type: "" };
  }

  function fieldName(field) {
    return (field && FIELDS.id[field]) || ANY_FIELD;
  }

  function invalid(type, name, field) {
    if (type === "value_error" && VALUE[field]) return `${name}: ${VALUE[field]}.`;
    if (type === "missing") return `${name} wajib diisi.`;
    if (type === "future_datetime") return `${name} ada di masa depan: periksa jam dan tanggal di ponsel.`;
    if (/^(greater|less)_than/.test(type)) return `${name} di luar batas yang diizinkan.`;
    if (/too_long/.test(type)) return `${name} terlalu panjang.`;
    if (/too_short/.test(type)) return `${name} terlalu pendek atau kosong.`;
    if (/pattern/.test(type)) return `${name} berisi karakter yang tidak diizinkan.`;
    return `${name} tidak dapat diterima; periksa isiannya.`;
  }

  /** The message for a refused request ({status, detail}: a Siaga.ApiError or the copy an
      outbox keeps), in ``lang`` (default: the page's). */
  function describe(err, lang) {
    const L = (lang || Siaga.lang) === "en" ? "en" : "id";
    const status = Number(err && err.status) || 0;
    const detail = err ? (err.detail !== undefined ? err.detail : err.message) : "";
    if (L === "en") return `${Siaga.t("error")}${status ? ` ${status}` : ""}: ${Siaga.describeDetail(detail)}`;
    const { field, type } = parse(detail);
    const name = fieldName(field);
    if (status === 422) return `Ditolak: ${invalid(type, name, field)}`;
    if (status === 403) return `Tidak diizinkan (${name}): ${FORBIDDEN[field] || "di luar kewenangan token ini"}.`;
    if (status === 404) return `${name} tidak ditemukan (belum terdaftar, atau salah ketik).`;
    if (status === 409) return `Tidak dapat diproses (${name}): ${CONFLICT[field] || "bertentangan dengan data terbaru; muat ulang halaman"}.`;
    if (status === 401) return "Sesi berakhir atau token dicabut: masuk lagi.";
    if (status === 413) return "Kiriman terlalu besar.";
    if (status === 415) return "Format kiriman tidak dikenal.";
    if (status === 429) return "Terlalu banyak kiriman dalam semenit: coba lagi sebentar lagi.";
    if (status >= 500) return "Server sedang bermasalah: coba lagi sebentar lagi.";
    if (status) return `Ditolak server (${status}): ${name}.`;
    return "Tidak ada sambungan: coba lagi saat sinyal kembali.";
  }

  return { describe, parse, fieldName };
})();
