// The VietQR page: copy buttons, a countdown to expiry, and a status poll that turns the page to "paid".
(function () {
  "use strict";
  var root = document.querySelector("[data-vietqr]");
  if (!root || root.dataset.state !== "open") { return; }
  var status = root.querySelector("[data-vietqr-status]");
  var countdown = root.querySelector("[data-vietqr-countdown]");
  var expiresAt = Date.parse(root.dataset.expiresAt);
  var live = root.dataset.liveStatuses.split(" ");  // the payment statuses still waiting (from the server)

  root.querySelectorAll("[data-copy]").forEach(function (node) {
    if (!navigator.clipboard) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button secondary small";
    button.textContent = document.documentElement.lang === "en" ? "Copy" : "Sao chép";
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(node.dataset.copyValue || node.textContent.trim());
      button.textContent = document.documentElement.lang === "en" ? "Copied" : "Đã chép";
    });
    node.after(" ", button);
  });

  function tick() {
    var left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
    var minutes = Math.floor(left / 60), seconds = left % 60;
    countdown.hidden = false;
    countdown.textContent = "(" + minutes + ":" + (seconds < 10 ? "0" : "") + seconds + ")";
  }

  function poll() {
    fetch(root.dataset.statusUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (found) {
        if (found && (found.bill_status !== "open" || live.indexOf(found.payment_status) < 0)) {
          window.location.reload();  // the server renders paid (or ended) in the page's language
          return;
        }
        window.setTimeout(poll, 3000);
      })
      .catch(function () { window.setTimeout(poll, 6000); });
  }

  if (countdown && !isNaN(expiresAt)) { tick(); window.setInterval(tick, 1000); }
  if (status) { window.setTimeout(poll, 3000); }
}());
