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
  function click(key) {
    const button = document.querySelector(`[data-key="${key}"]`);
    if (button) button.click();
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

  document.addEventListener("input", (e) => {
    if (e.target.matches("#reply textarea")) {
      const counter = document.querySelector("[data-counter]");
      if (counter) counter.textContent = `${e.target.value.length} / ${counter.dataset.max}`;
    }
  });

  // live indicator (and a hook for tests): htmx's SSE extension reports the stream's state
  document.addEventListener("htmx:sseOpen", () => { body.dataset.live = "open"; });
  document.addEventListener("htmx:sseError", () => { body.dataset.live = "retrying"; });

  document.addEventListener("change", (e) => {
    if (e.target.matches("#reply input[name=kind]")) {
      document.getElementById("reply").classList.toggle("note-mode", e.target.value === "note");
    }
    if (e.target.matches(".bulkbar select[name=action]")) {
      const bar = e.target.closest(".bulkbar");
      bar.querySelector("[data-for=assign]").hidden = e.target.value !== "assign";
      bar.querySelector("[data-for=tag]").hidden = e.target.value !== "tag";
    }
  });
})();
