// The article editor: Quill (npm, served by the desk) over the body textarea when the format is
// HTML. The textarea stays the form's field: Quill's HTML goes into it on submit, and the server
// sanitizes it (nh3) like any body. Without JavaScript the textarea works as it is.
(function () {
  "use strict";
  function start() {
    var area = document.querySelector("textarea[data-kb-editor]");
    var format = document.querySelector("select[name=format]");
    if (!area || !window.Quill || area.readOnly) return;
    var wrap = document.createElement("div");
    wrap.className = "kb-quill-wrap";
    var box = document.createElement("div");
    box.className = "kb-quill";
    wrap.appendChild(box);
    area.parentNode.insertBefore(wrap, area.nextSibling);
    var quill = new window.Quill(box, {
      theme: "snow",
      modules: {toolbar: {container: [[{header: [2, 3, false]}], ["bold", "italic", "underline", "strike"],
        ["link", "blockquote", "code-block"], [{list: "ordered"}, {list: "bullet"}], ["image"], ["clean"]],
        handlers: {image: upload}}}
    });
    var csrf = (document.querySelector("input[name=_csrf_token]") || {}).value || "";
    function upload() {
      var input = document.createElement("input");
      input.type = "file";
      input.accept = "image/png,image/jpeg,image/gif,image/webp";
      input.addEventListener("change", function () {
        if (!input.files || !input.files[0]) return;
        var body = new FormData();
        body.append("image", input.files[0]);
        fetch("/inbox/kb/images", {method: "POST", body: body, headers: {"x-csrftoken": csrf}, credentials: "same-origin"})
          .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
          .then(function (found) {
            var at = (quill.getSelection(true) || {index: quill.getLength()}).index;
            quill.insertEmbed(at, "image", found.url, "user");
          })
          .catch(function (status) { window.alert(area.dataset.uploadFailed + " (" + status + ")"); });
      });
      input.click();
    }
    // Quill 2.0.3's getSemanticHTML writes every space as &nbsp;: plain spaces back
    function html() { return quill.getSemanticHTML().replace(/&nbsp;/g, " "); }
    function show(rich) {
      wrap.hidden = !rich;
      area.hidden = rich;
    }
    // Markup Quill has no format for would be lost on save: such bodies stay in the HTML textarea
    var UNKEPT = /<(table|details|dl|figure|sub|sup|kbd|abbr|mark|small|ins|del|hr|h4|h5|h6)\b/i;
    var note = document.querySelector("[data-kb-plain-note]");
    function enter() {
      if (UNKEPT.test(area.value)) { show(false); if (note) note.hidden = false; return; }
      if (note) note.hidden = true;
      quill.setContents([]);
      quill.clipboard.dangerouslyPasteHTML(0, area.value);  // the stored body, already sanitized
      show(true);
    }
    if (!format || format.value === "html") enter(); else show(false);
    if (format) format.addEventListener("change", function () {
      if (format.value === "html") { enter(); } else { area.value = html(); show(false); }
    });
    area.form.addEventListener("submit", function () {
      if (!wrap.hidden) area.value = html();
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
