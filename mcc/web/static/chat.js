// Chat page behaviour (no inline scripts: the CSP forbids them).
(function () {
  "use strict";
  // After a message was accepted: clear the box and keep the keyboard focus in it.
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.detail.elt;
    if (form && form.classList && form.classList.contains("composer") && e.detail.successful) {
      form.reset();
      var box = form.querySelector("textarea");
      if (box) box.focus();
    }
  });
  // A failed send (e.g. the thread waits on an approval) shows the server's reason next to the form.
  document.addEventListener("htmx:responseError", function (e) {
    var form = e.detail.elt && e.detail.elt.closest ? e.detail.elt.closest("form") : null;
    if (!form) return;
    var note = form.querySelector(".send-error");
    if (!note) {
      note = document.createElement("p");
      note.className = "send-error error";
      note.setAttribute("role", "alert");
      form.appendChild(note);
    }
    note.textContent = e.detail.xhr.responseText || "The message was not sent.";
  });
  // The first streamed token replaces the "Working…" placeholder.
  document.addEventListener("htmx:sseBeforeMessage", function (e) {
    var elt = e.detail.elt || e.target;
    if (elt && elt.classList && elt.classList.contains("streaming")) {
      var wait = elt.querySelector(".thinking");
      if (wait) wait.remove();
    }
  });
  // New content (a streamed turn) scrolls into view.
  document.addEventListener("htmx:afterSwap", function (e) {
    var turn = e.target && e.target.closest ? e.target.closest(".turn") : null;
    if (turn) turn.scrollIntoView({ block: "nearest" });
  });
})();
