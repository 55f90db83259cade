// Progressive enhancement for the technicians' page: every form works without it.
"use strict";

// Searchable lists: <input data-filter="#list li"> hides items whose data-search lacks the text.
function setUpFilters() {
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    input.addEventListener("input", function () {
      var wanted = input.value.trim().toLowerCase();
      var shown = 0;
      document.querySelectorAll(input.dataset.filter).forEach(function (item) {
        var hit = (item.dataset.search || item.textContent).toLowerCase().indexOf(wanted) >= 0;
        item.hidden = !hit;
        if (hit) shown += 1;
      });
      var empty = document.querySelector(".empty");
      if (empty) empty.hidden = shown > 0;
    });
  });
}

// A MAC in any common notation -> twelve lower-case hex digits, or null.
function normalizeMac(text) {
  var compact = String(text).trim().toLowerCase().replace(/[\s:.\-]/g, "");
  return /^[0-9a-f]{12}$/.test(compact) ? compact : null;
}

function colonMac(mac) {
  return mac.match(/../g).join(":").toUpperCase();
}

function ouiLabels() {
  var data = document.getElementById("ouis");
  return data ? JSON.parse(data.textContent) : {};
}

// <input data-mac-check="#out">: says as one types whether it is a MAC, and whose.
function setUpMacChecks() {
  var ouis = ouiLabels();
  document.querySelectorAll("input[data-mac-check]").forEach(function (input) {
    var out = document.querySelector(input.dataset.macCheck);
    var check = function () {
      var mac = normalizeMac(input.value);
      var vendor = mac ? ouis[mac.slice(0, 6)] : null;
      // Green only for a MAC of a brand we provision; a valid MAC of another is a warning.
      out.classList.toggle("ok", !!vendor);
      out.classList.toggle("warn", !!mac && !vendor);
      out.classList.toggle("bad", !mac && input.value.trim() !== "");
      if (!mac) { out.textContent = input.value.trim() ? out.dataset.bad : ""; return; }
      out.textContent = out.dataset.ok.replace("{mac}", colonMac(mac)) + " · " +
        (vendor ? out.dataset.vendor.replace("{vendor}", vendor) : out.dataset.unknown);
      selectVendorModels(vendor);
    };
    input.addEventListener("input", check);
    input.addEventListener("change", check);
    check();
  });
}

// Put the OUI's vendor's models first in the model list (the choice stays the technician's).
function selectVendorModels(vendor) {
  var select = document.getElementById("model");
  if (!select || !vendor) return;
  select.querySelectorAll("optgroup").forEach(function (group) {
    if (vendor.indexOf(group.dataset.vendor) >= 0) select.insertBefore(group, select.children[1]);
  });
}

// Replace the part's HTML, keeping each <details id> open or closed as the technician left it.
function swapKeepingFolds(part, html) {
  var folds = {};
  part.querySelectorAll("details[id]").forEach(function (fold) { folds[fold.id] = fold.open; });
  part.innerHTML = html;
  part.querySelectorAll("details[id]").forEach(function (fold) {
    if (fold.id in folds) fold.open = folds[fold.id];
  });
}

// <div data-live="url" data-every="ms">: fetch the part again and swap it in when it changed.
function setUpLiveParts() {
  document.querySelectorAll("[data-live]").forEach(function (part) {
    var every = parseInt(part.dataset.every || "2000", 10);
    var failures = 0;
    var tick = function () {
      fetch(part.dataset.live, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (!response.ok || response.redirected) throw new Error(String(response.status));
          return response.text();
        })
        .then(function (html) {
          failures = 0;
          if (html.trim() !== part.innerHTML.trim()) swapKeepingFolds(part, html);
          setTimeout(tick, every);
        })
        .catch(function () {
          failures += 1;
          if (failures < 5) { setTimeout(tick, every * 2); return; }
          if (part.dataset.paused) part.insertAdjacentHTML("afterbegin",
            "<p class=\"problem\"></p>");
          var note = part.querySelector(".problem");
          if (note) note.textContent = part.dataset.paused;
        });
    };
    setTimeout(tick, every);
  });
}

// <form data-once>: a second tap while the first request runs sends nothing (on a slow network
// the first one does the job and a second would find the phone gone). The button greys out
// after the form's data is taken, and comes back when the page is shown again from history.
function setUpSubmitOnce() {
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "yes";
      setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (button) {
          button.disabled = true;
          button.setAttribute("aria-busy", "true");
        });
      }, 0);
    });
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      delete form.dataset.sent;
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = false;
        button.removeAttribute("aria-busy");
      });
    });
  });
}

window.technicians = { normalizeMac: normalizeMac, colonMac: colonMac };
document.addEventListener("DOMContentLoaded", function () {
  setUpFilters();
  setUpMacChecks();
  setUpLiveParts();
  setUpSubmitOnce();
});
