/* The pure parts of the cube's renderer (cube3d.js): plotly's base64 typed arrays, numbers as
plotly's d3 formats write them, hover templates, colour scales, 3-vectors and rich text lines.
No state, no drawing: window.CubeParts holds them all.
*/
(function (global) {
  "use strict";

  var TYPES = {f4: Float32Array, f8: Float64Array, u2: Uint16Array, u4: Uint32Array, i4: Int32Array, u1: Uint8Array};
  var MINUS = "\u2212";

  function decode(value) {
    if (value && typeof value === "object" && value.bdata !== undefined) {
      var text = atob(value.bdata);
      var bytes = new Uint8Array(text.length);
      for (var i = 0; i < text.length; i++) { bytes[i] = text.charCodeAt(i); }
      return new TYPES[value.dtype](bytes.buffer);
    }
    return (value || []).map(function (v) { return v === null ? NaN : Number(v); });
  }

  function columnsOf(value) {
    if (value && value.shape) { return Number(String(value.shape).split(",")[1]) || 1; }
    return Array.isArray(value) && Array.isArray(value[0]) ? value[0].length : 1;
  }

  function flatten(value) {
    if (Array.isArray(value) && Array.isArray(value[0])) { return decode([].concat.apply([], value)); }
    return decode(value);
  }

  // -- numbers as plotly's d3 formats write them -------------------------------------------------
  function formatNumber(value, format) {
    if (!isFinite(value)) { return String(value); }
    var text;
    if (!format) {
      text = Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(7)));
    } else if (format === ",") {
      text = Math.round(value).toLocaleString("en-US");
    } else {
      var match = /^\.(\d+)(~?)g$/.exec(format);
      if (!match) { return String(value); }
      text = value === 0 ? "0" : value.toPrecision(Number(match[1]));
      if (match[2]) {  // "~": drop trailing zeros of the digits (never of the exponent)
        var parts = text.split("e");
        if (parts[0].indexOf(".") >= 0) { parts[0] = parts[0].replace(/\.?0+$/, ""); }
        text = parts.join("e");
      }
    }
    return text.replace(/^-/, MINUS).replace("e-", "e" + MINUS);
  }

  function fillTemplate(template, row) {
    return String(template || "").replace(/<extra>.*?<\/extra>/g, "").replace(
      /%\{customdata\[(\d+)\](?::([^}]*))?\}/g,
      function (_, column, format) { return formatNumber(row ? Number(row[Number(column)]) : NaN, format); }
    );
  }

  // -- colours -------------------------------------------------------------------------------------
  function parseColor(color) {
    var text = String(color || "").trim();
    var hex = /^#([0-9a-f]{6})$/i.exec(text);
    if (hex) {
      var v = parseInt(hex[1], 16);
      return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
    }
    var rgb = /^rgba?\(([^)]*)\)$/i.exec(text);
    if (rgb) { return rgb[1].split(",").slice(0, 3).map(Number); }
    return [128, 128, 128];
  }

  function colorScale(stops) {
    var parsed = (stops || [[0, "#000000"], [1, "#ffffff"]]).map(function (s) { return [Number(s[0]), parseColor(s[1])]; });
    return function (t) {
      if (!(t > parsed[0][0])) { return parsed[0][1]; }
      for (var i = 1; i < parsed.length; i++) {
        if (t <= parsed[i][0]) {
          var a = parsed[i - 1], b = parsed[i];
          var share = b[0] > a[0] ? (t - a[0]) / (b[0] - a[0]) : 1;
          return a[1].map(function (c, k) { return c + (b[1][k] - c) * share; });
        }
      }
      return parsed[parsed.length - 1][1];
    };
  }

  function css(rgb, alpha) {
    var c = rgb.map(function (v) { return Math.max(0, Math.min(255, Math.round(v))); });
    return alpha === undefined || alpha >= 1 ? "rgb(" + c.join(",") + ")" : "rgba(" + c.join(",") + "," + alpha + ")";
  }

  // -- vectors -------------------------------------------------------------------------------------
  function sub(a, b) { return [a[0] - b[0], a[1] - b[1], a[2] - b[2]]; }
  function dot(a, b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
  function cross(a, b) { return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]; }
  function unit(a) { var n = Math.hypot(a[0], a[1], a[2]) || 1; return [a[0] / n, a[1] / n, a[2] / n]; }
  function vec(o) { return [Number(o.x) || 0, Number(o.y) || 0, Number(o.z) || 0]; }
  function obj(v) { return {x: v[0], y: v[1], z: v[2]}; }

  function richLines(text) {
    return String(text || "").split(/<br\s*\/?>/i).map(function (line) {
      var small = /<sup>/i.test(line);
      return {text: line.replace(/<[^>]+>/g, ""), small: small, bold: /<b>/i.test(line)};
    });
  }

  global.CubeParts = {
    decode: decode, columnsOf: columnsOf, flatten: flatten, formatNumber: formatNumber, fillTemplate: fillTemplate,
    parseColor: parseColor, colorScale: colorScale, css: css, sub: sub, dot: dot, cross: cross, unit: unit, vec: vec,
    obj: obj, richLines: richLines
  };
})(window);
