/* Service worker for the TAGANA team page (only registered in a secure context: https or
   localhost). Keeps the page and its scripts so it opens with no signal; API calls are not
   cached: the page keeps the last assignment it saw and its outbox retries the reports. */
"use strict";
const CACHE = "siaga-tim-v2";
const SHELL = ["/tim", "/static/common.js", "/static/api-errors.js", "/static/tim.js", "/static/siaga.css"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((k) => k.startsWith("siaga-tim-") && k !== CACHE).map((k) => caches.delete(k)))));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || !SHELL.includes(url.pathname)) return;
  // network first (fresh when online), cache when offline
  event.respondWith(
    fetch(event.request).then((response) => {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(event.request, copy));
      return response;
    }).catch(() => caches.match(event.request))
  );
});
