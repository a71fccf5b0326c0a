// The chat frame (served by the desk, same-origin): search the help center, then write; live replies
// over server-sent events. The conversation key lives in sessionStorage for this tab only.
(function () {
  "use strict";
  var body = document.body, account = body.dataset.account, lang = body.dataset.language;
  var api = "/webchat/" + account, storeKey = "relaydesk-chat-" + account;
  function $(id) { return document.getElementById(id); }
  function show(step) {
    ["search-step", "write-step", "chat-step"].forEach(function (id) { $(id).hidden = id !== step; });
  }
  function post(path, data) {
    return fetch(api + path, {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify(data)})
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error((j.error || {}).message || r.status); return j; }); });
  }
  function zeroBits(buffer) {
    var bytes = new Uint8Array(buffer), n = 0;
    for (var i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) { n += 8; continue; }
      return n + Math.clz32(bytes[i]) - 24;
    }
    return n;
  }
  async function work(challenge, bits) {  // the proof of work the desk asks for
    var encoder = new TextEncoder();
    for (var nonce = 0; ; nonce++) {
      var digest = await crypto.subtle.digest("SHA-256", encoder.encode(challenge + ":" + nonce));
      if (zeroBits(digest) >= bits) return String(nonce);
    }
  }
  var seen = {};
  function listen(key) {
    show("chat-step");
    var source = new EventSource(api + "/events?key=" + encodeURIComponent(key));
    source.addEventListener("message", function (e) {
      var m = JSON.parse(e.data);
      if (seen[m.id]) return;
      seen[m.id] = true;
      var div = document.createElement("div");
      div.className = "msg " + m.from;
      div.textContent = m.text;
      $("log").appendChild(div);
      $("log").scrollTop = $("log").scrollHeight;
    });
  }
  if (body.dataset.brand) {
    $("search").addEventListener("submit", function (e) {
      e.preventDefault();
      var q = e.target.q.value;
      fetch("/help/" + encodeURIComponent(body.dataset.brand) + "/" + encodeURIComponent(lang) + "/search.json?source=widget&q=" + encodeURIComponent(q))
        .then(function (r) { return r.ok ? r.json() : {results: []}; })
        .then(function (found) {
          var list = $("results");
          list.textContent = "";
          (found.results || []).forEach(function (a) {
            var li = document.createElement("li"), link = document.createElement("a");
            link.href = a.url; link.target = "_blank"; link.rel = "noopener"; link.textContent = a.title;
            li.appendChild(link); list.appendChild(li);
          });
          if (!(found.results || []).length) { var li = document.createElement("li"); li.textContent = body.dataset.none; list.appendChild(li); }
        });
    });
    $("to-write").addEventListener("click", function () { show("write-step"); });
  }
  $("start").addEventListener("submit", async function (e) {
    e.preventDefault();
    var form = e.target, status = $("start-status");
    form.querySelector("button").disabled = true;
    status.textContent = body.dataset.working;
    try {
      var ch = await fetch(api + "/challenge").then(function (r) { return r.json(); });
      var nonce = await work(ch.challenge, ch.bits);
      var started = await post("/start", {challenge: ch.challenge, nonce: nonce, text: form.text.value, name: form.name.value,
        email: form.email.value, order: form.order.value, language: lang, website: form.website.value});
      sessionStorage.setItem(storeKey, started.key);
      listen(started.key);
    } catch (err) {
      status.textContent = body.dataset.failed + " " + err.message;
      form.querySelector("button").disabled = false;
    }
  });
  $("more").addEventListener("submit", function (e) {
    e.preventDefault();
    var form = e.target, key = sessionStorage.getItem(storeKey);
    post("/messages", {key: key, text: form.text.value}).then(function () { form.text.value = ""; })
      .catch(function (err) { window.alert(body.dataset.failed + " " + err.message); });
  });
  var existing = sessionStorage.getItem(storeKey);
  if (existing) listen(existing);
})();
