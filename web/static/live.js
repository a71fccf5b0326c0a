// Live updates for this page. Events from /inbox/live arrive as names ("queue", "ticket-12",
// "presence-12", "notifications"); each is fired on <body> as "live-<name>", and htmx elements
// refresh with hx-trigger="live-ticket-12 from:body". One connection for all tabs through a
// SharedWorker (live-worker.js); where there is none, one EventSource for this tab. Either way the
// page listens only while it is visible and not left, and catches up ("live-resync") when it is
// shown again, since it missed what happened meanwhile.
(function () {
  "use strict";
  const body = document.body;
  const url = body.dataset.liveUrl;
  if (!url) return;
  const key = url + "#" + (body.dataset.liveKey || "");
  let worker = null;
  let source = null;
  let listening = false;
  let missed = false;

  function state(value) { body.dataset.live = value; }
  function emit(name) {
    if (window.htmx) window.htmx.trigger(body, "live-" + name);
    else body.dispatchEvent(new CustomEvent("live-" + name));
  }
  // Queue events come in bursts at peak (one per inbound message). Each list refreshes at most once
  // per QUIET ms, and always once more after the last event of a burst: htmx's own "throttle"
  // drops what arrives inside its window, which left the list stale after a burst.
  const QUIET = 2000;
  const coalesced = new Set(["queue"]);
  const windows = new Map();
  function fire(name) {
    if (!coalesced.has(name)) { emit(name); return; }
    const open = windows.get(name);
    if (open) { open.pending = true; return; }
    emit(name);
    const entry = { pending: false };
    windows.set(name, entry);
    const close = () => {
      if (entry.pending) { entry.pending = false; emit(name); setTimeout(close, QUIET); }
      else windows.delete(name);
    };
    setTimeout(close, QUIET);
  }
  function onMessage(message) {
    if (message.type === "open") {
      state("open");
      if (missed) { missed = false; fire("resync"); }
    } else if (message.type === "retrying") {
      state("retrying");
      missed = true;
    } else if (message.type === "event") {
      fire(message.name);
    }
  }

  function listen() {
    if (listening) return;
    listening = true;
    if (window.SharedWorker) {
      if (!worker) {
        worker = new SharedWorker("/static/live-worker.js", { name: "relaydesk-live" });
        worker.port.onmessage = (event) => { if (listening) onMessage(event.data); };
        worker.port.start();
      }
      worker.port.postMessage({ type: "subscribe", url: url, key: key });
    } else {
      source = new EventSource(url);
      source.onopen = () => onMessage({ type: "open" });
      source.onmessage = (event) => onMessage({ type: "event", name: event.data });
      source.onerror = () => onMessage({ type: "retrying" });
    }
  }

  function stop() {
    if (!listening) return;
    listening = false;
    missed = true;
    state("paused");
    if (worker) worker.port.postMessage({ type: "unsubscribe" });
    if (source) { source.close(); source = null; }
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") stop(); else listen();
  });
  window.addEventListener("pagehide", stop);
  window.addEventListener("pageshow", () => { if (document.visibilityState !== "hidden") listen(); });
  missed = false;
  if (document.visibilityState !== "hidden") listen(); else missed = true;
})();
