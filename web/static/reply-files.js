// Relaydesk reply box: files with a reply. A file input (name "files") holds them; dropping files on
// the reply box or pasting an image adds to it. Each file is checked against the channel's rules
// (data-rules on [data-reply-files], from core.reply_files) as it is added: one that breaks them is
// refused here, with the reason, and never sent. The server checks again. The draft text is never
// touched; the files are cleared only when the form resets after its own successful send.
(function () {
  "use strict";

  function box() { return document.querySelector("#reply [data-reply-files]"); }
  function input(root) { return root.querySelector("input[type=file][name=files]"); }
  function rules(root) {
    try { return JSON.parse(root.dataset.rules || "{}"); } catch (err) { return { max_count: 0 }; }
  }
  function fill(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, (all, key) => (key in values ? String(values[key]) : all));
  }
  function size(bytes) {  // decimal units, as core.reply_files.human_size and the platforms say them
    if (bytes >= 1000000) return `${parseFloat((bytes / 1000000).toFixed(1))} MB`;
    return `${Math.max(1, Math.round(bytes / 1000))} KB`;
  }
  function typeOf(file) { return (file.type || "application/octet-stream").split(";")[0].trim().toLowerCase(); }
  function capFor(r, type) {
    const types = r.types || {};
    if (!Object.keys(types).length) return r.max_bytes;
    if (type in types) return types[type];
    const family = type.split("/")[0] + "/*";
    return family in types ? types[family] : null;
  }

  // Why this file may not join `kept` (null: it may).
  function refusal(root, r, file, kept) {
    const type = typeOf(file);
    if (kept.length >= r.max_count) return fill(root.dataset.msgCount, { count: r.max_count });
    if (!file.size) return fill(root.dataset.msgEmpty, { name: file.name });
    const cap = capFor(r, type);
    if (cap === null || cap === undefined) return fill(root.dataset.msgType, { name: file.name, type });
    if (file.size > cap) return fill(root.dataset.msgSize, { name: file.name, size: size(file.size), max: size(cap) });
    const total = kept.reduce((sum, f) => sum + f.size, 0) + file.size;
    if (total > r.total_bytes) return fill(root.dataset.msgTotal, { size: size(total), max: size(r.total_bytes) });
    return null;
  }

  let kept = [];  // the files the input holds, in the order they were added

  function render(root, problems) {
    const field = input(root);
    const transfer = new DataTransfer();
    kept.forEach((f) => transfer.items.add(f));
    field.files = transfer.files;
    const list = root.querySelector("[data-file-list]");
    list.replaceChildren(...kept.map((file, i) => {
      const item = document.createElement("li");
      item.textContent = `📎 ${file.name} · ${size(file.size)} `;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link";
      remove.dataset.removeFile = String(i);
      remove.textContent = root.dataset.msgRemove || "Remove";
      item.appendChild(remove);
      return item;
    }));
    const error = root.querySelector("[data-file-error]");
    error.textContent = problems.join(" ");
    error.hidden = !problems.length;
  }

  function add(files) {
    const root = box();
    if (!root) return;
    const r = rules(root);
    const problems = [];
    Array.from(files).forEach((file) => {
      const why = refusal(root, r, file, kept);
      if (why) problems.push(why); else kept.push(file);
    });
    render(root, problems);
  }

  // The picker replaces the input's files (some drivers append to them instead): what was picked
  // and is not kept yet is added to the kept ones.
  const same = (a, b) => a.name === b.name && a.size === b.size && a.lastModified === b.lastModified;
  document.addEventListener("change", (e) => {
    if (!e.target.matches("#reply input[type=file][name=files]")) return;
    add(Array.from(e.target.files).filter((f) => !kept.some((k) => same(k, f))));
  });
  document.addEventListener("click", (e) => {
    const button = e.target.closest("#reply [data-remove-file]");
    if (!button) return;
    kept.splice(Number(button.dataset.removeFile), 1);
    render(box(), []);
  });

  function carriesFiles(e) { return e.dataTransfer && Array.from(e.dataTransfer.types || []).includes("Files"); }
  document.addEventListener("dragover", (e) => {
    const form = e.target.closest && e.target.closest("#reply");
    if (!form || !box() || !carriesFiles(e)) return;
    e.preventDefault();
    form.classList.add("dropping");
  });
  document.addEventListener("dragleave", (e) => {
    const form = e.target.closest && e.target.closest("#reply");
    if (form && !form.contains(e.relatedTarget)) form.classList.remove("dropping");
  });
  document.addEventListener("drop", (e) => {
    const form = e.target.closest && e.target.closest("#reply");
    if (!form || !box() || !carriesFiles(e)) return;
    e.preventDefault();
    form.classList.remove("dropping");
    add(e.dataTransfer.files);
  });
  // A pasted image (a screenshot) becomes a file; pasted text stays ordinary text.
  document.addEventListener("paste", (e) => {
    if (!e.target.closest || !e.target.closest("#reply") || !box()) return;
    const images = Array.from((e.clipboardData && e.clipboardData.files) || []).filter((f) => f.type.startsWith("image/"));
    if (!images.length) return;
    e.preventDefault();
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
    add(images.map((f, i) => new File([f], `pasted-${stamp}${images.length > 1 ? "-" + (i + 1) : ""}.${(f.type.split("/")[1] || "png").split("+")[0]}`, { type: f.type })));
  });

  // htmx sends the enclosing form's values with the requests of its elements (the typing-presence
  // post, "Check draft"): only the send itself carries the files; the others have a small body limit.
  document.addEventListener("htmx:configRequest", (e) => {
    const form = document.getElementById("reply");
    if (!form || e.detail.elt === form || !form.contains(e.detail.elt)) return;
    delete e.detail.parameters.files;
  });

  // Last guard before a send: a file that slipped past (set by another script) keeps the request home.
  document.addEventListener("htmx:confirm", (e) => {
    const form = document.getElementById("reply");
    const root = box();
    if (!root || e.detail.elt !== form) return;
    const r = rules(root);
    const checked = [];
    const problems = [];
    Array.from(input(root).files).forEach((f) => {
      const why = refusal(root, r, f, checked);
      if (why) problems.push(why); else checked.push(f);
    });
    if (problems.length) {
      e.preventDefault();
      kept = checked;
      render(root, problems);
    }
  });
  // The form resets only after its own successful send (inbox.js): the files went with it.
  document.addEventListener("reset", (e) => {
    if (e.target.id !== "reply" || !box()) return;
    kept = [];
    setTimeout(() => render(box(), []), 0);
  });
})();
