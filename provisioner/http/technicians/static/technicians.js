// Progressive enhancement for the technicians' page: every form works without it.
"use strict";

// Searchable lists: <input data-filter="#list li"> hides items whose data-search lacks the text.
// Its data-empty (else the page's .empty) says when nothing is left; a data-none on that
// message is a sentence with {query}, the text searched for.
function setUpFilters() {
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var empty = document.querySelector(input.dataset.empty || ".empty");
    input.addEventListener("input", function () {
      var wanted = input.value.trim().toLowerCase();
      var shown = 0;
      document.querySelectorAll(input.dataset.filter).forEach(function (item) {
        var hit = (item.dataset.search || item.textContent).toLowerCase().indexOf(wanted) >= 0;
        item.hidden = !hit;
        if (hit) shown += 1;
      });
      if (!empty) return;
      empty.hidden = shown > 0;
      if (empty.dataset.none) {
        empty.textContent = fill(empty.dataset.none, "query", input.value.trim());
      }
    });
  });
}

// The sentence with {name} replaced by value, taken as it is (no "$&" patterns).
function fill(sentence, name, value) {
  return sentence.replace("{" + name + "}", function () { return value; });
}

// The model the typed or scanned MAC's phone announced in its own boot request (it may have
// booted after this page was loaded): chosen in the model list and said where it came from,
// unless the technician chose a model by hand. Another MAC undoes an automatic choice.
function setUpAnnouncedModel() {
  var said = document.getElementById("model-source");
  var select = document.getElementById("model");
  var input = document.querySelector("input[data-mac-check]");
  if (!said || !said.dataset.announced || !select || !input) return;
  // A model chosen already: by the server from the phone's request (with its sentence), or
  // by the technician in the form sent before (without).
  var byHand = select.value !== "" && !said.textContent.trim();
  var asked = select.value !== "" ? normalizeMac(input.value) : null;
  select.addEventListener("change", function () { byHand = true; said.textContent = ""; });
  var ask = function () {
    var mac = normalizeMac(input.value);
    if (mac === asked || byHand) return;
    asked = mac;
    select.value = "";
    said.textContent = "";
    if (!mac) return;
    fetch(said.dataset.announced + "?mac=" + mac, {
      credentials: "same-origin", headers: { "Accept": "application/json" },
    }).then(function (response) {
      if (!response.ok || response.redirected) throw new Error(String(response.status));
      return response.json();
    }).then(function (found) {
      if (found.mac !== asked || byHand || !found.model) return;  // typed on meanwhile
      select.value = found.model;
      said.textContent = fill(said.dataset.said, "model", found.label);
    }).catch(function () { asked = null; });  // asked again at the next change
  };
  input.addEventListener("input", ask);
  input.addEventListener("change", ask);
  ask();
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

// How long to wait after the failures-th failed poll in a row: twice as long each time, from
// the part's own interval up to most. It never gives up: a phone on site loses its network.
function retryDelay(every, failures, most) {
  return Math.min(every * Math.pow(2, failures), most);
}

// A poll that has not answered after this long has failed (a stalled connection would
// otherwise hold the updates for good).
var POLL_TIMEOUT = 15000;

// <div data-live="url" data-every="ms" data-most="ms">: fetch the part again and swap it in when
// it changed. After a failed poll a notice (data-offline, or data-ended when the sign-in ended)
// shows above the part, polls back off (retryDelay) and the notice goes at the next answer.
function setUpLiveParts() {
  document.querySelectorAll("[data-live]").forEach(function (part) {
    var failures = 0;
    var timer = null;
    var busy = false;
    var note = document.createElement("p");
    note.className = "offline";
    note.setAttribute("role", "status");
    note.hidden = true;
    part.parentNode.insertBefore(note, part);
    var setting = function (name, fallback) {
      return parseInt(part.dataset[name], 10) || fallback;
    };
    var later = function (delay) { clearTimeout(timer); timer = setTimeout(tick, delay); };
    var failed = function (signedOut) {
      failures += 1;
      part.dataset.failures = String(failures);
      note.textContent = signedOut ? part.dataset.ended : part.dataset.offline;
      note.hidden = false;
      later(retryDelay(setting("every", 2000), failures, setting("most", 30000)));
    };
    var tick = function () {
      if (busy) return;
      busy = true;
      var abort = new AbortController();
      var guard = setTimeout(function () { abort.abort(); }, POLL_TIMEOUT);
      fetch(part.dataset.live, {
        credentials: "same-origin", headers: { "Accept": "text/html" }, signal: abort.signal,
      }).then(function (response) {
        if (response.redirected) return { signedOut: true };  // to the sign-in page
        if (!response.ok) throw new Error(String(response.status));
        return response.text().then(function (html) { return { html: html }; });
      }).then(function (answer) {
        if (answer.signedOut) { failed(true); return; }
        failures = 0;
        part.dataset.failures = "0";
        note.hidden = true;
        if (answer.html.trim() !== part.innerHTML.trim()) swapKeepingFolds(part, answer.html);
        later(setting("every", 2000));
      }).catch(function () { failed(false); })
        .finally(function () { busy = false; clearTimeout(guard); });
    };
    // Back on the network: ask now rather than at the end of a long back-off.
    window.addEventListener("online", function () { later(0); });
    later(setting("every", 2000));
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
  setUpAnnouncedModel();
  setUpLiveParts();
  setUpSubmitOnce();
});
