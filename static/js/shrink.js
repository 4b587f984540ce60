// Photos shrunk on the phone before upload: long side at most 2048 px, JPEG, upright, under a
// byte budget; the GPS position read from the original's EXIF first (shrinking drops it).
// What the browser cannot decode (often HEIC) is sent as is: the server stays the authority.
(function () {
  "use strict";
  var MAX_SIDE = 2048;
  var BYTE_BUDGET = 600 * 1024;
  var QUALITIES = [0.85, 0.7, 0.55];
  var SMALLER = 0.8;  // when even the lowest quality is over budget (a very grainy photo)

  function decode(file) {
    if (!window.createImageBitmap) { return Promise.reject(new Error("no decoder")); }
    return createImageBitmap(file, { imageOrientation: "from-image" });
  }

  function encode(canvas, quality) {
    return new Promise(function (resolve, reject) {
      canvas.toBlob(function (blob) {
        if (blob) { resolve(blob); } else { reject(new Error("encoding failed")); }
      }, "image/jpeg", quality);
    });
  }

  function drawn(source, width, height) {
    var canvas = document.createElement("canvas");
    canvas.width = Math.round(width);
    canvas.height = Math.round(height);
    canvas.getContext("2d").drawImage(source, 0, 0, canvas.width, canvas.height);
    return canvas;
  }

  function underBudget(canvas, index) {
    return encode(canvas, QUALITIES[index]).then(function (blob) {
      if (blob.size <= BYTE_BUDGET || canvas.width < 400) { return blob; }
      if (index + 1 < QUALITIES.length) { return underBudget(canvas, index + 1); }
      return underBudget(drawn(canvas, canvas.width * SMALLER, canvas.height * SMALLER), 0);
    });
  }

  function shrink(file) {
    return decode(file).then(function (bitmap) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      if (scale === 1 && file.type === "image/jpeg" && file.size <= BYTE_BUDGET) {
        bitmap.close();
        return file;
      }
      var canvas = drawn(bitmap, bitmap.width * scale, bitmap.height * scale);
      bitmap.close();
      return underBudget(canvas, 0);
    }).catch(function () { return file; });
  }

  // EXIF: a TIFF structure in the JPEG's APP1 segment; GPS latitude/longitude are three
  // rationals (degrees, minutes, seconds) with an N/S or E/W reference.
  function tiffReader(view, start) {
    var little = view.getUint16(start) === 0x4949;
    return {
      u16: function (at) { return view.getUint16(start + at, little); },
      u32: function (at) { return view.getUint32(start + at, little); },
      byte: function (at) { return view.getUint8(start + at); }
    };
  }

  function entries(tiff, ifd) {
    var found = {};
    var count = tiff.u16(ifd);
    for (var i = 0; i < count; i++) {
      var at = ifd + 2 + i * 12;
      found[tiff.u16(at)] = at;
    }
    return found;
  }

  function degrees(tiff, entry) {
    var at = tiff.u32(entry + 8);
    var parts = [0, 1, 2].map(function (i) {
      var denominator = tiff.u32(at + i * 8 + 4);
      return denominator ? tiff.u32(at + i * 8) / denominator : 0;
    });
    return parts[0] + parts[1] / 60 + parts[2] / 3600;
  }

  function gpsOf(view, tiffStart) {
    var tiff = tiffReader(view, tiffStart);
    var ifd0 = entries(tiff, tiff.u32(4));
    if (!ifd0[0x8825]) { return null; }
    var gps = entries(tiff, tiff.u32(ifd0[0x8825] + 8));
    if (!gps[2] || !gps[4]) { return null; }
    var lat = degrees(tiff, gps[2]), lon = degrees(tiff, gps[4]);
    if (gps[1] && tiff.byte(gps[1] + 8) === 0x53) { lat = -lat; }  // "S"
    if (gps[3] && tiff.byte(gps[3] + 8) === 0x57) { lon = -lon; }  // "W"
    if (!isFinite(lat) || !isFinite(lon) || (lat === 0 && lon === 0)) { return null; }
    return { lon: lon, lat: lat };
  }

  function exifStart(view) {
    if (view.byteLength < 4 || view.getUint16(0) !== 0xFFD8) { return null; }
    var at = 2;
    while (at + 4 <= view.byteLength && view.getUint8(at) === 0xFF) {
      var marker = view.getUint8(at + 1), length = view.getUint16(at + 2);
      if (marker === 0xE1 && at + 10 <= view.byteLength &&
          view.getUint32(at + 4) === 0x45786966) {  // "Exif"
        return at + 10;
      }
      if (marker === 0xDA) { return null; }  // image data: no EXIF before it
      at += 2 + length;
    }
    return null;
  }

  function readGps(file) {
    return file.slice(0, 256 * 1024).arrayBuffer().then(function (buffer) {
      var view = new DataView(buffer);
      var start = exifStart(view);
      return start === null ? null : gpsOf(view, start);
    }).catch(function () { return null; });
  }

  window.photoShrink = { shrink: shrink, readGps: readGps, maxSide: MAX_SIDE };
}());
