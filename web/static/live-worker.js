// Relaydesk live updates, shared by every tab of the desk: ONE EventSource per signed-in agent for the
// whole browser, whatever the number of tabs. Over HTTP/1.1 a browser keeps at most six connections
// per host; an EventSource per tab (or per page kept in the back/forward cache) used them all up.
// Tabs subscribe while they are visible and unsubscribe when hidden or left (live.js); the stream
// closes when no tab listens.
"use strict";

const streams = new Map(); // key (stream URL + agent) -> {source, ports: Set, open}

function broadcast(stream, message) {
  for (const port of stream.ports) port.postMessage(message);
}

function start(key, url) {
  const stream = { source: null, ports: new Set(), open: false, retry: null };
  const connect = () => {
    const source = new EventSource(url);
    stream.source = source;
    source.onopen = () => { stream.open = true; broadcast(stream, { type: "open" }); };
    source.onmessage = (event) => broadcast(stream, { type: "event", name: event.data });
    source.onerror = () => {
      stream.open = false;
      broadcast(stream, { type: "retrying" });
      // EventSource retries by itself unless the server refused the stream (signed out, 4xx)
      if (source.readyState === EventSource.CLOSED && stream.ports.size && !stream.retry) {
        stream.retry = setTimeout(() => { stream.retry = null; if (stream.ports.size) connect(); }, 5000);
      }
    };
  };
  connect();
  streams.set(key, stream);
  return stream;
}

function stop(key) {
  const stream = streams.get(key);
  if (!stream) return;
  clearTimeout(stream.retry);
  if (stream.source) stream.source.close();
  streams.delete(key);
}

function unsubscribe(port) {
  for (const [key, stream] of streams) {
    if (stream.ports.delete(port) && stream.ports.size === 0) stop(key);
  }
}

self.onconnect = (connection) => {
  const port = connection.ports[0];
  port.onmessage = (event) => {
    const { type, url, key } = event.data || {};
    if (type === "subscribe") {
      unsubscribe(port);
      const stream = streams.get(key) || start(key, url);
      stream.ports.add(port);
      if (stream.open) port.postMessage({ type: "open" });
    } else if (type === "unsubscribe") {
      unsubscribe(port);
    }
  };
  port.start();
};
