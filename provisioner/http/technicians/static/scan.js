// The camera scan of a box label: BarcodeDetector where the browser has it (Code 128 and QR),
// else the barcode-detector library we serve (ZXing in WebAssembly, from /t/static/vendor/).
"use strict";

// A label's code holds the MAC alone (805EC0112233, 80:5E:C0:11:22:33) or among other fields
// ("MAC:80:5E:C0:11:22:33", "SN:... MAC:805EC0112233"). The text is cut into words at anything
// but letters, digits, ":" and "-", and each word into parts at ":" and "-". A MAC is one part
// of twelve hex digits, or six parts of two whose neighbours are not two hex digits as well:
// "MAC" is a label, never the first octet, and seven octets in a row are no MAC at all.
var TWO_HEX = /^[0-9a-f]{2}$/i;
var TWELVE_HEX = /^[0-9a-f]{12}$/i;

function macInWord(word) {
  var parts = word.split(/[:\-]/);
  for (var index = 0; index < parts.length; index += 1) {
    if (TWELVE_HEX.test(parts[index])) return parts[index];
    var pairs = parts.slice(index, index + 6);
    var alone = !TWO_HEX.test(parts[index - 1] || "") && !TWO_HEX.test(parts[index + 6] || "");
    if (pairs.length === 6 && pairs.every(function (part) { return TWO_HEX.test(part); }) && alone) {
      return pairs.join("");
    }
  }
  return null;
}

function macFromText(text) {
  var words = String(text).split(/[^0-9a-z:\-]+/i);
  for (var index = 0; index < words.length; index += 1) {
    var mac = macInWord(words[index]);
    if (mac) return window.technicians.normalizeMac(mac);
  }
  return null;
}

function loadScript(url) {
  return new Promise(function (resolve, reject) {
    var script = document.createElement("script");
    script.src = url;
    script.onload = resolve;
    script.onerror = function () { reject(new Error("cannot load " + url)); };
    document.head.appendChild(script);
  });
}

function makeDetector(box) {
  var formats = ["code_128", "qr_code"];
  if ("BarcodeDetector" in window) {
    return window.BarcodeDetector.getSupportedFormats().then(function (supported) {
      if (formats.every(function (f) { return supported.indexOf(f) >= 0; })) {
        return new window.BarcodeDetector({ formats: formats });
      }
      return libraryDetector(box, formats);
    });
  }
  return libraryDetector(box, formats);
}

function libraryDetector(box, formats) {
  return loadScript(box.dataset.library).then(function () {
    var api = window.BarcodeDetectionAPI;
    api.prepareZXingModule({
      overrides: {
        locateFile: function (path, prefix) {
          return path.endsWith(".wasm") ? box.dataset.wasm + path : prefix + path;
        },
      },
    });
    return new api.BarcodeDetector({ formats: formats });
  });
}

function setUpScan(box) {
  var input = document.querySelector(box.dataset.scanInto);
  var start = box.querySelector(".scan-start");
  var stop = box.querySelector(".scan-stop");
  var video = box.querySelector(".scan-video");
  var status = box.querySelector(".scan-status");
  var stream = null;
  var scanning = false;

  var finish = function () {
    scanning = false;
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    video.hidden = true; stop.hidden = true; start.hidden = false;
  };
  var say = function (message) { status.hidden = false; status.textContent = message; };

  start.addEventListener("click", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      say(box.dataset.unavailable); return;
    }
    Promise.all([
      makeDetector(box),
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }),
    ]).then(function (parts) {
      var detector = parts[0];
      stream = parts[1];
      video.srcObject = stream;
      video.hidden = false; stop.hidden = false; start.hidden = true;
      status.hidden = false;
      scanning = true;
      return video.play().then(function () { look(detector); });
    }).catch(function () { finish(); say(box.dataset.unavailable); });
  });
  stop.addEventListener("click", finish);

  var look = function (detector) {
    if (!scanning) return;
    detector.detect(video).then(function (codes) {
      var macs = codes.map(function (code) { return macFromText(code.rawValue); })
        .filter(function (mac) { return mac; });
      if (macs.length) {
        input.value = window.technicians.colonMac(macs[0]);
        input.dispatchEvent(new Event("input"));
        finish();
        say(box.dataset.found.replace("{mac}", input.value));
        box.dataset.scanned = macs[0];
        return;
      }
      setTimeout(function () { look(detector); }, 150);
    }).catch(function () { setTimeout(function () { look(detector); }, 300); });
  };
}

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-scan-into]").forEach(setUpScan);
});
