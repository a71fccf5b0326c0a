/* Relaydesk web chat loader: <script src="https://desk/webchat/ACCOUNT/widget.js" async></script>
   Optional data-lang, data-color, data-label. Adds one button; the chat runs in a desk-served frame. */
(function () {
  var s = document.currentScript; if (!s) return;
  var base = s.src.replace(/\/widget\.js(\?.*)?$/, "");
  var lang = (s.getAttribute("data-lang") || document.documentElement.lang || navigator.language || "en").toLowerCase();
  var color = s.getAttribute("data-color") || "#1f6feb", frame = null;
  var b = document.createElement("button");
  b.type = "button"; b.textContent = s.getAttribute("data-label") || "?"; b.setAttribute("aria-label", "Help");
  b.setAttribute("data-relaydesk-chat", "");
  b.style.cssText = "position:fixed;right:20px;bottom:20px;z-index:2147483000;width:56px;height:56px;border-radius:28px;" +
    "border:0;background:" + color + ";color:#fff;font:600 22px system-ui,sans-serif;cursor:pointer;box-shadow:0 4px 16px rgba(0,0,0,.25)";
  b.addEventListener("click", function () {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = base + "/frame?lang=" + encodeURIComponent(lang);
      frame.title = "Chat"; frame.setAttribute("data-relaydesk-chat", "");
      frame.style.cssText = "position:fixed;right:20px;bottom:88px;z-index:2147483000;width:360px;max-width:calc(100vw - 40px);" +
        "height:540px;max-height:calc(100vh - 110px);border:0;border-radius:12px;box-shadow:0 8px 32px rgba(0,0,0,.25);background:#fff";
      document.body.appendChild(frame);
    } else { frame.hidden = !frame.hidden; }
  });
  (document.body || document.documentElement).appendChild(b);
})();
