/* G-News service worker (served at /sw.js, so its scope is the whole site).
   It shows a Web Push notification (title, body; the notification id as its tag, so a message
   sent twice replaces the first) and opens the item's page when the notification is clicked.
   The push payload is the JSON the `web` transport encrypts (workers/push/webpush.py):
   {notification_id, title, body, lang, url?, deep_link?, data?}. */
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

/* The page to open: the message's https item URL (or one of this site), else the item page of
   this site for its news item, else the home page. Never another scheme (no javascript:). */
function pageOf(message) {
  const origin = self.location.origin;
  if (typeof message.url === "string") {
    try {
      const url = new URL(message.url, origin);
      if (url.protocol === "https:" || url.origin === origin) return url.href;
    } catch (error) { /* not a URL: fall through */ }
  }
  const item = message.data && message.data.news_item_id;
  if (item) return new URL("/news/" + encodeURIComponent(item), origin).href;
  return new URL("/", origin).href;
}

function messageOf(event) {
  if (!event.data) return {};
  try {
    const value = event.data.json();
    return value && typeof value === "object" ? value : {};
  } catch (error) {
    return { body: event.data.text() };
  }
}

self.addEventListener("push", (event) => {
  const message = messageOf(event);
  const options = {
    body: message.body || "",
    lang: message.lang === "en" ? "en" : "th",
    icon: "/static/favicon.svg",
    data: { url: pageOf(message), notification_id: message.notification_id || null },
  };
  if (message.notification_id) {
    options.tag = String(message.notification_id);
    options.renotify = false;
  }
  event.waitUntil(self.registration.showNotification(message.title || "G-News", options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || "/";
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const client of windows) {
      if (client.url === url && "focus" in client) return client.focus();
    }
    return self.clients.openWindow(url);
  })());
});
