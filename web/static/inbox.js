// Relaydesk inbox: keyboard shortcuts and a few small touches. htmx does every request and swap.
(function () {
  "use strict";
  const body = document.body;
  const typingIn = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

  function rows() { return Array.from(document.querySelectorAll(".ticket-row")); }
  function move(step) {
    if (body.dataset.page === "ticket") {
      const url = `/inbox/t/${body.dataset.ticket}/next?queue=${encodeURIComponent(body.dataset.queue || "open")}&step=${step}`;
      window.location.href = url;
      return;
    }
    const list = rows();
    if (!list.length) return;
    let i = list.findIndex((r) => r.classList.contains("selected"));
    list.forEach((r) => r.classList.remove("selected"));
    i = Math.max(0, Math.min(list.length - 1, i + step));
    list[i].classList.add("selected");
    list[i].scrollIntoView({ block: "nearest" });
  }
  function focusReply(kind) {
    const form = document.getElementById("reply");
    if (!form) return;
    const radio = form.querySelector(`input[name=kind][value=${kind}]`);
    if (radio) { radio.checked = true; radio.dispatchEvent(new Event("change", { bubbles: true })); }
    form.querySelector("textarea").focus();
  }
  // A live refresh may have just swapped in the button, and htmx wires new content up only after
  // its settle delay; a key pressed in that moment must still act, so wire it up first (idempotent).
  function click(key) {
    const button = document.querySelector(`[data-key="${key}"]`);
    if (!button) return;
    if (window.htmx) window.htmx.process(button);
    button.click();
  }

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Escape" && typingIn(document.activeElement)) { document.activeElement.blur(); return; }
    if (typingIn(document.activeElement)) return;
    const help = document.getElementById("help");
    switch (e.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "Enter": {
        const sel = document.querySelector(".ticket-row.selected a");
        if (sel) sel.click(); else return;
        break;
      }
      case "r": focusReply("reply"); break;
      case "n": focusReply("note"); break;
      case "a": click("a"); break;
      case "c": click("c"); break;
      case "/": { const s = document.querySelector(".search input"); if (s) s.focus(); break; }
      case "?": if (help) help.showModal(); break;
      default: return;
    }
    e.preventDefault();
  });

  document.addEventListener("click", (e) => {
    const target = e.target.closest("[data-help]");
    if (target) { document.getElementById("help").showModal(); return; }
    const insert = e.target.closest("[data-insert]");
    if (insert) {
      const text = insert.closest(".preview").querySelector(".preview-text").textContent;
      const area = document.querySelector("#reply textarea");
      area.value = area.value ? area.value + "\n" + text : text;
      area.dispatchEvent(new Event("input", { bubbles: true }));
      insert.closest(".preview").remove();
      area.focus();
    }
  });

  function updateCounter() {
    const area = document.querySelector("#reply textarea");
    const counter = document.querySelector("[data-counter]");
    if (area && counter) counter.textContent = `${area.value.length} / ${counter.dataset.max}`;
  }
  // The draft is also kept in this browser (per agent and ticket) until it is sent, so a reload, a
  // closed tab or a crash does not lose it.
  const draftKey = body.dataset.page === "ticket" ? `relaydesk:draft:${body.dataset.liveKey || ""}:${body.dataset.ticket}` : null;
  function keepDraft(text) {
    if (!draftKey) return;
    try { if (text) localStorage.setItem(draftKey, text); else localStorage.removeItem(draftKey); } catch (err) { /* storage full or off */ }
  }
  (function restoreDraft() {
    const area = document.querySelector("#reply textarea");
    if (!draftKey || !area || area.value) return;
    let saved = null;
    try { saved = localStorage.getItem(draftKey); } catch (err) { return; }
    if (saved) { area.value = saved; updateCounter(); }
  })();
  document.addEventListener("input", (e) => {
    if (e.target.matches("#reply textarea")) { updateCounter(); keepDraft(e.target.value); }
  });

  // The reply form empties itself only after ITS OWN request succeeded (the send). Requests of
  // elements inside it (the typing-presence post of the textarea, "Check draft", the template
  // search) bubble their events up to the form too, and must never touch the draft.
  document.addEventListener("htmx:afterRequest", (e) => {
    const form = document.getElementById("reply");
    if (!form || e.detail.elt !== form) return;
    if (e.detail.successful) {
      form.reset();
      keepDraft("");
      form.classList.remove("note-mode");
      const problems = document.getElementById("draft-problems");
      if (problems) problems.innerHTML = "";
      const collision = document.getElementById("reply-collision");
      if (collision) collision.innerHTML = "";
      updateCounter();
    }
  });

  // The template list is a dropdown: shown while the agent searches, closed once a template is
  // picked, on Escape, and when the focus goes anywhere outside the search. An answer to a search
  // that arrives after the agent moved on does not open it again.
  let listWanted = false;
  function templateList(show) {
    listWanted = show;
    const list = document.getElementById("macro-results");
    if (list) list.hidden = !show;
  }
  document.addEventListener("htmx:afterSwap", (e) => {
    const id = e.detail.target && e.detail.target.id;
    if (id === "macro-results") templateList(listWanted);
    if (id === "macro-preview") templateList(false);
  });
  document.addEventListener("focusin", (e) => {
    if (e.target.matches(".macro-search input")) templateList(true);
    else if (!e.target.closest(".macro-search")) templateList(false);
  });
  document.addEventListener("input", (e) => {
    if (e.target.matches(".macro-search input")) templateList(true);
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && e.target.closest && e.target.closest(".macro-search")) templateList(false);
  }, true);

  // A ticket opens at its newest message with the reply box in view; a live refresh of the
  // timeline keeps the newest message in view when the agent was reading the end of it.
  function atEnd() { return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 40; }
  function toEnd() { window.scrollTo(0, document.documentElement.scrollHeight); }
  if (body.dataset.page === "ticket") toEnd();
  let wasAtEnd = false;
  document.addEventListener("htmx:beforeSwap", (e) => {
    if (e.detail.target && e.detail.target.id === "timeline") wasAtEnd = atEnd();
  });
  document.addEventListener("htmx:afterSettle", (e) => {
    if (e.detail.target && e.detail.target.id === "timeline" && wasAtEnd) toEnd();
  });

  document.addEventListener("change", (e) => {
    if (e.target.matches("#reply input[name=kind]")) {
      document.getElementById("reply").classList.toggle("note-mode", e.target.value === "note");
    }
    if (e.target.matches(".bulkbar select[name=action]")) {
      // show only the field the chosen action needs (data-for lists the actions it serves)
      const bar = e.target.closest(".bulkbar");
      bar.querySelectorAll("[data-for]").forEach((field) => {
        field.hidden = !field.dataset.for.split(" ").includes(e.target.value);
      });
    }
  });
})();
