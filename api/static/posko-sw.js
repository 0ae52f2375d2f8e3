/* Service worker for the field form (only registered in a secure context: https or
   localhost). Keeps the page and its scripts so the form opens with no signal; API
   posts are not cached: the page's outbox retries them. */
"use strict";
const CACHE = "siaga-posko-v3";
const SHELL = ["/posko", "/static/common.js", "/static/api-errors.js", "/static/posko.js", "/static/siaga.css", "/api/v1/items"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  // only this page's older caches: /tim's worker keeps its own on the same origin
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((k) => k.startsWith("siaga-posko-") && k !== CACHE).map((k) => caches.delete(k)))));
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
