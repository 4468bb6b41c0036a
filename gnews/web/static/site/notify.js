/* "Notify me" on a province page (templates/site/_notify.html): Web Push in this browser.
   Subscribing registers the service worker (/sw.js), asks permission, subscribes with the
   server's VAPID key (GET /api/v1/push/web/key) and registers the PushSubscription as a device of
   platform "web" following the province (POST /api/v1/devices, the same API the app uses). The
   device's id, secret and provinces stay in localStorage, so a second province or "stop" updates
   that device (PATCH / DELETE with "Authorization: Device <secret>"). */
(function () {
  "use strict";
  const STORE = "gnews.webpush.device";

  function load() {
    try {
      const value = JSON.parse(localStorage.getItem(STORE) || "null");
      return value && value.id && value.secret ? value : null;
    } catch (error) {
      return null;
    }
  }

  function save(device) {
    if (device) localStorage.setItem(STORE, JSON.stringify(device));
    else localStorage.removeItem(STORE);
  }

  function keyBytes(base64url) {
    const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  /* The push token: the subscription's endpoint and keys as JSON, always in this order, so the
     same subscription is the same token (the server keeps one device per token). */
  function tokenOf(subscription) {
    const json = subscription.toJSON();
    return JSON.stringify({
      endpoint: json.endpoint || subscription.endpoint,
      keys: { p256dh: json.keys.p256dh, auth: json.keys.auth },
    });
  }

  class Failure extends Error {
    constructor(kind, detail) {
      super(detail || kind);
      this.kind = kind;
    }
  }

  async function api(url, method, body, secret) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (secret) headers.Authorization = "Device " + secret;
    const response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
    });
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    return { status: response.status, data };
  }

  async function subscription(root) {
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
      throw new Failure("unsupported");
    }
    const permission = await Notification.requestPermission();
    if (permission !== "granted") throw new Failure("denied");
    const key = await api(root.dataset.keyUrl, "GET");
    if (key.status !== 200 || !key.data || !key.data.public_key) throw new Failure("unavailable");
    await navigator.serviceWorker.register("/sw.js", { scope: "/" });
    const registration = await navigator.serviceWorker.ready;
    const existing = await registration.pushManager.getSubscription();
    if (existing) return existing;
    return registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(key.data.public_key),
    });
  }

  async function follow(root, province) {
    const token = tokenOf(await subscription(root));
    const devices = root.dataset.devicesUrl;
    const stored = load();
    const provinces = Array.from(new Set([...(stored ? stored.provinces : []), province]));
    const language = root.dataset.lang === "en" ? "en" : "th";
    if (stored && stored.token === token) {
      const changed = await api(devices + "/" + stored.id, "PATCH", { provinces, language }, stored.secret);
      if (changed.status === 200) {
        save({ ...stored, provinces: changed.data.provinces });
        return;
      }
    }
    if (stored && stored.token !== token) {
      // The browser's subscription changed: the old one will never be delivered to again.
      await api(devices + "/" + stored.id, "DELETE", undefined, stored.secret).catch(() => null);
    }
    // New, or the stored device is gone: registering the token again updates its device.
    const body = { platform: "web", push_token: token, provinces, language };
    const created = await api(devices, "POST", body);
    if (created.status !== 201) throw new Failure("failed", JSON.stringify(created.data));
    save({ id: created.data.id, secret: created.data.secret, token, provinces: created.data.provinces });
  }

  async function unfollow(root, province) {
    const stored = load();
    if (!stored) return;
    const devices = root.dataset.devicesUrl + "/" + stored.id;
    const provinces = stored.provinces.filter((code) => code !== province);
    if (provinces.length) {
      const changed = await api(devices, "PATCH", { provinces }, stored.secret);
      if (changed.status !== 200 && changed.status !== 404) throw new Failure("failed");
      save({ ...stored, provinces });
      return;
    }
    // No province left: deactivate the device and drop the browser's subscription.
    await api(devices, "DELETE", undefined, stored.secret);
    save(null);
    const registration = await navigator.serviceWorker.getRegistration("/");
    const subscribed = registration && (await registration.pushManager.getSubscription());
    if (subscribed) await subscribed.unsubscribe();
  }

  function following(province) {
    const stored = load();
    return Boolean(
      stored && stored.provinces.includes(province) &&
      "Notification" in window && Notification.permission === "granted"
    );
  }

  function init(root) {
    const button = root.querySelector(".notify-button");
    const status = root.querySelector(".notify-status");
    const province = root.dataset.province;
    const text = root.dataset;
    const show = (on) => {
      button.textContent = on ? text.textOff : text.textOn;
      button.setAttribute("aria-pressed", on ? "true" : "false");
      root.dataset.state = on ? "subscribed" : "off";
    };
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
      status.textContent = text.textUnsupported;
      return;
    }
    show(following(province));
    button.hidden = false;
    button.addEventListener("click", async () => {
      const on = following(province);
      button.disabled = true;
      status.textContent = text.textWorking;
      root.dataset.state = "working";
      try {
        if (on) await unfollow(root, province);
        else await follow(root, province);
        show(!on);
        status.textContent = on ? text.textUnsubscribed : text.textSubscribed;
      } catch (error) {
        const kind = error instanceof Failure ? error.kind : "failed";
        show(on);
        root.dataset.state = "error";
        root.dataset.error = String(error && error.message);
        status.textContent = text["text" + kind[0].toUpperCase() + kind.slice(1)] || text.textFailed;
      } finally {
        button.disabled = false;
      }
    });
  }

  document.querySelectorAll("[data-gnews-notify]").forEach(init);
})();
