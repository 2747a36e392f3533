/* The tensor cube drawn on a 2D canvas: a small renderer for the figures normviz's build_cube makes.

It reads the same figure dict a plotly.js 3D scene would (mesh3d boxes of 8 corners each, a
scatter3d outline, the scene's axes, aspect ratio and camera, a colour bar) and draws it with a
perspective camera and the painter's algorithm: far boxes first, each box's back faces (seen through
when it is translucent) before its front faces. No WebGL: the first draw needs no shader compiled,
and a new figure costs a few milliseconds of canvas drawing.

    var view = CubeView(element, {onCamera: fn(camera)});   // after cube_parts.js
    view.draw(figure, camera);          // figure: {data, layout}; camera: {eye, center, up} or null
    view.camera();                      // the camera as drawn now (plotly's scene units)
    view.pick(x, y);                    // {curveNumber, pointNumber, customdata} under a point, or null

Scene units are plotly's: the axis ranges map onto a box of the layout's aspect ratio centred on
the origin, and the camera's eye, centre and up are in those units (fov 45°, perspective).
One closure holds one canvas's state (figure, camera, size, the faces as drawn for picking), which
every drawing step reads; the stateless parts live in cube_parts.js.
*/
(function (global) {
  "use strict";

  var FOV = Math.PI / 4;
  // The six faces of a box over its corners (bit 0: x high, bit 1: y high, bit 2: z high), each a
  // loop, with the axis and side of its outward normal.
  var FACES = [
    {corners: [0, 2, 6, 4], axis: 0, side: -1}, {corners: [1, 5, 7, 3], axis: 0, side: 1},
    {corners: [0, 4, 5, 1], axis: 1, side: -1}, {corners: [2, 3, 7, 6], axis: 1, side: 1},
    {corners: [0, 1, 3, 2], axis: 2, side: -1}, {corners: [4, 6, 7, 5], axis: 2, side: 1}
  ];
  var DRAG_THRESHOLD = 3;  // px a press moves before it turns the cube (and stops being a click)
  var COLOR_BAR_ROOM = 96;  // px on the right for the colour bar and its labels
  var LABEL_ROOM = [56, 30];  // px beside and above/below the framed box for its tick labels and titles

  var P = global.CubeParts;
  var decode = P.decode, columnsOf = P.columnsOf, flatten = P.flatten, formatNumber = P.formatNumber;
  var fillTemplate = P.fillTemplate, colorScale = P.colorScale, css = P.css, richLines = P.richLines;
  var sub = P.sub, dot = P.dot, cross = P.cross, unit = P.unit, vec = P.vec, obj = P.obj;

  function CubeView(element, options) {
    options = options || {};
    var canvas = document.createElement("canvas");
    canvas.setAttribute("aria-hidden", "true");
    canvas.style.display = "block";
    element.appendChild(canvas);
    // a canvas in memory, drawn by the CPU: nothing to compile on a GPU, however the browser renders
    var ctx = canvas.getContext("2d", {willReadFrequently: true});
    var scene = null, camera = null, defaultCamera = null;
    var size = {width: 0, height: 0, ratio: 1};
    var drawn = [];        // front faces as drawn, nearest last: {poly, mesh, box, corners}
    var font = "sans-serif";
    var frameRequested = false;

    // -- the scene: data → scene units ---------------------------------------------------------
    // The figure read into ``scene`` (its geometry in scene units, which point() maps with scene's ranges).
    function prepare(fig) {
      var layout = fig.layout || {};
      var sc = layout.scene || {};
      var axes = ["xaxis", "yaxis", "zaxis"].map(function (name) { return sc[name] || {}; });
      var aspect = sc.aspectratio ? vec(sc.aspectratio) : [1, 1, 1];
      var ranges = axes.map(function (a) { return a.range ? a.range.map(Number) : [0, 1]; });
      var meshes = [], lines = [];
      (fig.data || []).forEach(function (trace, number) {
        if (trace.type === "mesh3d") {
          var xs = decode(trace.x), ys = decode(trace.y), zs = decode(trace.z);
          var stops = trace.colorscale;
          meshes.push({
            number: number, trace: trace, count: Math.floor(xs.length / 8),
            x: xs, y: ys, z: zs, intensity: decode(trace.intensity),
            data: flatten(trace.customdata), columns: columnsOf(trace.customdata),
            color: colorScale(stops), cmin: Number(trace.cmin), cmax: Number(trace.cmax),
            opacity: trace.opacity === undefined ? 1 : Number(trace.opacity),
            light: trace.lighting || {}, lightAt: unit(trace.lightposition ? vec(trace.lightposition) : [1, 1, 1])
          });
        } else if (trace.type === "scatter3d") {
          lines.push({trace: trace, x: decode(trace.x), y: decode(trace.y), z: decode(trace.z)});
        }
      });
      scene = {layout: layout, sc: sc, axes: axes, aspect: aspect, ranges: ranges, meshes: meshes, lines: lines};
      // the geometry in scene units, once per figure (a drag only moves the camera)
      meshes.forEach(function (mesh) {
        mesh.boxes = [];
        for (var b = 0; b < mesh.count; b++) {
          var pts = [];
          for (var c = 0; c < 8; c++) { pts.push(point(mesh.x[b * 8 + c], mesh.y[b * 8 + c], mesh.z[b * 8 + c])); }
          mesh.boxes.push(bounds(pts));
        }
      });
      lines.forEach(function (line) {
        line.runs = [];
        var run = [];
        for (var i = 0; i <= line.x.length; i++) {
          if (i < line.x.length && isFinite(line.x[i])) {
            run.push(point(line.x[i], line.y[i], line.z[i]));
          } else {
            if (run.length >= 2) { line.runs.push(bounds(run)); }
            run = [];
          }
        }
      });
      return scene;
    }

    // points (scene units) with their bounding box: {pts, lo, hi}
    function bounds(pts) {
      var lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
      pts.forEach(function (p) {
        for (var k = 0; k < 3; k++) { lo[k] = Math.min(lo[k], p[k]); hi[k] = Math.max(hi[k], p[k]); }
      });
      return {pts: pts, lo: lo, hi: hi};
    }

    function toScene(axis, value) {
      var r = scene.ranges[axis];
      return ((value - (r[0] + r[1]) / 2) / ((r[1] - r[0]) || 1)) * scene.aspect[axis];
    }

    function point(x, y, z) { return [toScene(0, x), toScene(1, y), toScene(2, z)]; }

    // -- the camera -----------------------------------------------------------------------------
    // The camera's frame: its eye and axes, where the scene's centre lands, and the scale (px per
    // unit of x/depth). The scale frames the scene's box, as the figure's own camera sees it, in the
    // chart beside the colour bar with room for the labels; it stays put while the user turns or
    // zooms, and changes only with the chart's size or a new figure.
    function view(cam) {
      cam = cam || camera;
      var eye = vec(cam.eye), center = vec(cam.center || {}), up = unit(vec(cam.up || {z: 1}));
      var forward = unit(sub(center, eye));
      var right = cross(forward, up);
      if (Math.hypot(right[0], right[1], right[2]) < 1e-9) { right = cross(forward, [0, 1, 0]); }
      right = unit(right);
      var top = cross(right, forward);
      var area = chartArea();
      var bar = scene.meshes.some(function (m) { return m.trace.showscale; }) ? COLOR_BAR_ROOM : 0;
      var width = Math.max(80, area.width - bar), height = Math.max(80, area.height);
      var frame = {eye: eye, forward: forward, right: right, top: top, cx: area.left + width / 2, cy: area.top + height / 2,
                   scale: (height / 2) / Math.tan(FOV / 2)};
      if (cam === camera) {
        frame.scale = fitScale(width, height);
      }
      return frame;
    }

    // the chart inside the layout's margins, in px
    function chartArea() {
      var margin = scene.layout.margin || {};
      var left = Number(margin.l) || 0, top = Number(margin.t) || 0;
      return {left: left, top: top, width: size.width - left - (Number(margin.r) || 0),
              height: size.height - top - (Number(margin.b) || 0)};
    }

    function fitScale(width, height) {
      var key = [width, height, JSON.stringify(defaultCamera)].join();
      if (scene.fit && scene.fit.key === key) { return scene.fit.scale; }
      var v = view(defaultCamera);
      var reachX = 1e-9, reachY = 1e-9;
      for (var bits = 0; bits < 8; bits++) {
        var p = scene.aspect.map(function (a, k) { return (bits >> k) & 1 ? a / 2 : -a / 2; });
        var d = sub(p, v.eye), depth = Math.max(1e-6, dot(d, v.forward));
        reachX = Math.max(reachX, Math.abs(dot(d, v.right) / depth));
        reachY = Math.max(reachY, Math.abs(dot(d, v.top) / depth));
      }
      var scale = Math.min(Math.max(40, width / 2 - LABEL_ROOM[0]) / reachX, Math.max(40, height / 2 - LABEL_ROOM[1]) / reachY);
      scene.fit = {key: key, scale: scale};
      return scale;
    }

    function project(v, p) {
      var d = sub(p, v.eye);
      var depth = Math.max(1e-6, dot(d, v.forward));
      return [v.cx + (dot(d, v.right) / depth) * v.scale, v.cy - (dot(d, v.top) / depth) * v.scale, depth];
    }

    // -- drawing --------------------------------------------------------------------------------
    function resize() {
      var ratio = Math.max(1, global.devicePixelRatio || 1);
      var width = element.clientWidth || 600, height = element.clientHeight || 500;
      if (width !== size.width || height !== size.height || ratio !== size.ratio) {
        size = {width: width, height: height, ratio: ratio};
        canvas.width = Math.round(width * ratio);
        canvas.height = Math.round(height * ratio);
        canvas.style.width = width + "px";
        canvas.style.height = height + "px";
      }
    }

    function setFont(px, weight) { ctx.font = (weight || "") + " " + px + "px " + font; }

    function text(value, x, y, align, baseline, px, color, weight) {
      setFont(px, weight);
      ctx.fillStyle = color;
      ctx.textAlign = align || "center";
      ctx.textBaseline = baseline || "middle";
      ctx.fillText(value, x, y);
    }

    function paint() {
      frameRequested = false;
      if (!scene) { return; }
      resize();
      var layout = scene.layout;
      var textColor = (layout.font && layout.font.color) || "#333";
      font = (layout.font && layout.font.family) || font;
      ctx.setTransform(size.ratio, 0, 0, size.ratio, 0, 0);
      ctx.fillStyle = layout.paper_bgcolor || "white";
      ctx.fillRect(0, 0, size.width, size.height);
      var v = view();
      var lo = scene.aspect.map(function (a) { return -a / 2; }), hi = scene.aspect.map(function (a) { return a / 2; });
      var corner = function (bits) {
        return [bits & 1 ? hi[0] : lo[0], bits & 2 ? hi[1] : lo[1], bits & 4 ? hi[2] : lo[2]];
      };
      walls(v, lo, hi, corner);
      drawn = [];
      boxes(v);
      outlines(v);
      axisLabels(v, lo, hi, corner, textColor);
      annotations(v, textColor);
      title(textColor);
      colorBar(textColor);
    }

    // a closed path through points on screen, to fill
    function polygon(poly) {
      ctx.beginPath();
      poly.forEach(function (p, i) { if (i) { ctx.lineTo(p[0], p[1]); } else { ctx.moveTo(p[0], p[1]); } });
      ctx.closePath();
    }

    function far(v, axis, lo, hi) {
      return v.eye[axis] > (lo[axis] + hi[axis]) / 2 ? lo[axis] : hi[axis];
    }

    function walls(v, lo, hi, corner) {
      ctx.lineWidth = 1;
      for (var axis = 0; axis < 3; axis++) {
        var settings = scene.axes[axis];
        if (settings.showbackground === false) { continue; }
        var at = far(v, axis, lo, hi);
        var face = FACES.filter(function (f) { return f.axis === axis && (f.side < 0) === (at === lo[axis]); })[0];
        polygon(face.corners.map(function (c) { return project(v, corner(c)); }));
        ctx.fillStyle = settings.backgroundcolor || "rgb(246,247,250)";
        ctx.fill();
        // grid lines of the other two axes across this wall
        ctx.strokeStyle = settings.gridcolor || "rgb(222,226,233)";
        for (var other = 0; other < 3; other++) {
          if (other === axis) { continue; }
          var third = 3 - axis - other;
          (scene.axes[other].tickvals || []).forEach(function (value) {
            var s = toScene(other, Number(value));
            if (s < lo[other] || s > hi[other]) { return; }
            var a = [0, 0, 0], b = [0, 0, 0];
            a[axis] = b[axis] = at;
            a[other] = b[other] = s;
            a[third] = lo[third];
            b[third] = hi[third];
            var pa = project(v, a), pb = project(v, b);
            ctx.beginPath();
            ctx.moveTo(pa[0], pa[1]);
            ctx.lineTo(pb[0], pb[1]);
            ctx.stroke();
          });
        }
      }
    }

    function boxes(v) {
      var items = [];
      scene.meshes.forEach(function (mesh) {
        var selected = mesh.opacity >= 1 && mesh.trace.meta && mesh.trace.meta.role === "selected";
        mesh.boxes.forEach(function (box, b) {
          // distance from the eye to the nearest point of the box: far boxes are drawn first
          var nearest = v.eye.map(function (e, k) { return Math.max(box.lo[k], Math.min(box.hi[k], e)); });
          var d = sub(nearest, v.eye);
          items.push({mesh: mesh, box: b, pts: box.pts, depth: dot(d, d), lo: box.lo, hi: box.hi, selected: selected});
        });
      });
      items.sort(function (a, b) { return b.depth - a.depth || a.selected - b.selected; });
      items.forEach(function (item) { drawBox(v, item); });
    }

    function drawBox(v, item) {
      var mesh = item.mesh, light = mesh.light;
      var ambient = light.ambient === undefined ? 0.8 : Number(light.ambient);
      var diffuse = light.diffuse === undefined ? 0.8 : Number(light.diffuse);
      var span = mesh.cmax - mesh.cmin;
      var t = span > 0 ? (mesh.intensity[item.box * 8] - mesh.cmin) / span : 0.5;
      var base = mesh.color(t);
      var projected = item.pts.map(function (p) { return project(v, p); });
      var faces = FACES.map(function (face) {
        var plane = face.side > 0 ? item.hi[face.axis] : item.lo[face.axis];
        return {face: face, front: (v.eye[face.axis] - plane) * face.side > 0};
      });
      var order = faces.filter(function (f) { return !f.front && mesh.opacity < 1; }).concat(faces.filter(function (f) { return f.front; }));
      order.forEach(function (f) {
        // flat shading: the face's outward normal is ±1 along its axis
        var shade = Math.min(1, ambient + diffuse * Math.max(0, f.face.side * mesh.lightAt[f.face.axis]));
        var poly = f.face.corners.map(function (c) { return projected[c]; });
        polygon(poly);
        ctx.fillStyle = css(base.map(function (c) { return c * shade; }), mesh.opacity);
        ctx.fill();
        if (f.front) { drawn.push({poly: poly, mesh: mesh, box: item.box, corners: f.face.corners}); }
      });
    }

    // The outline (scatter3d): each run between breaks traces one box's edges; an edge shows when a
    // face beside it faces the eye (the box hides the others).
    function outlines(v) {
      scene.lines.forEach(function (line) {
        var style = line.trace.line || {};
        ctx.strokeStyle = style.color || "#222";
        ctx.lineWidth = Math.max(1, (Number(style.width) || 2) * 0.5);
        ctx.lineJoin = "round";
        ctx.lineCap = "round";
        line.runs.forEach(function (run) { outlineRun(v, run); });
      });
    }

    function outlineRun(v, run) {
      var pts = run.pts, lo = run.lo, hi = run.hi;
      var tol = 1e-6 * Math.max(1, hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]);
      ctx.beginPath();
      for (var j = 1; j < pts.length; j++) {
        var a = pts[j - 1], b = pts[j], visible = false;
        for (var axis = 0; axis < 3 && !visible; axis++) {
          var onLo = Math.abs(a[axis] - lo[axis]) < tol && Math.abs(b[axis] - lo[axis]) < tol;
          var onHi = Math.abs(a[axis] - hi[axis]) < tol && Math.abs(b[axis] - hi[axis]) < tol;
          if ((onLo && v.eye[axis] < lo[axis]) || (onHi && v.eye[axis] > hi[axis])) { visible = true; }
        }
        if (!visible) { continue; }
        var pa = project(v, a), pb = project(v, b);
        ctx.moveTo(pa[0], pa[1]);
        ctx.lineTo(pb[0], pb[1]);
      }
      ctx.stroke();
    }

    // Tick labels and titles along an outer edge of the scene's box for each axis: the lower edge
    // nearest the eye for the two horizontal axes, the leftmost vertical edge for the third.
    function axisLabels(v, lo, hi, corner, color) {
      var middle = project(v, [0, 0, 0]);
      for (var axis = 0; axis < 3; axis++) {
        var settings = scene.axes[axis];
        var best = null;
        for (var bits = 0; bits < 8; bits++) {
          if (bits & (1 << axis)) { continue; }
          var a = project(v, corner(bits)), b = project(v, corner(bits | (1 << axis)));
          var mx = (a[0] + b[0]) / 2, my = (a[1] + b[1]) / 2;
          var score = axis === 2 ? -mx : my;
          if (!best || score > best.score) { best = {score: score, bits: bits, mx: mx, my: my, a: a, b: b}; }
        }
        // away from the box, square to the edge on screen
        var along = unit([best.b[0] - best.a[0], best.b[1] - best.a[1], 0]);
        var out = [-along[1], along[0], 0];
        if (out[0] * (best.mx - middle[0]) + out[1] * (best.my - middle[1]) < 0) { out = [-out[0], -out[1], 0]; }
        var align = out[0] > 0.35 ? "left" : out[0] < -0.35 ? "right" : "center";
        var baseline = out[1] > 0.35 ? "top" : out[1] < -0.35 ? "bottom" : "middle";
        var tickColor = settings.color || color;
        var ticks = settings.showticklabels === false ? [] : (settings.tickvals || []);
        var fontSize = (settings.tickfont && settings.tickfont.size) || 10;
        var widest = 0;
        ticks.forEach(function (value, i) {
          var s = toScene(axis, Number(value));
          if (s < lo[axis] - 1e-9 || s > hi[axis] + 1e-9) { return; }
          var p = corner(best.bits).slice();
          p[axis] = s;
          var q = project(v, p);
          var label = String((settings.ticktext || [])[i] !== undefined ? settings.ticktext[i] : value);
          setFont(fontSize);
          widest = Math.max(widest, ctx.measureText(label).width);
          text(label, q[0] + out[0] * 8, q[1] + out[1] * 8, align, baseline, fontSize, tickColor);
        });
        var titleText = settings.title && (settings.title.text !== undefined ? settings.title.text : settings.title);
        if (!titleText) { continue; }
        titleText = String(titleText).replace(/<[^>]+>/g, "");
        var px = (settings.title.font && settings.title.font.size) || 13;
        var extent = ticks.length ? Math.abs(out[0]) * widest + Math.abs(out[1]) * fontSize + 8 : 0;
        if (axis === 2) {  // the vertical axis: its title turned to read upwards, beside the labels
          ctx.save();
          ctx.translate(best.mx + out[0] * (extent + 12) - (out[0] < 0 ? px / 2 : -px / 2), best.my);
          ctx.rotate(-Math.PI / 2);
          text(titleText, 0, 0, "center", "middle", px, tickColor);
          ctx.restore();
        } else {
          var reach = extent + 12;
          text(titleText, best.mx + out[0] * reach, best.my + out[1] * reach, align, baseline, px, tickColor);
        }
      }
    }

    function annotations(v, color) {
      (scene.sc.annotations || []).forEach(function (note) {
        var q = project(v, point(Number(note.x), Number(note.y), Number(note.z)));
        var px = (note.font && note.font.size) || 12;
        text(String(note.text || "").replace(/<[^>]+>/g, ""), q[0], q[1], "center", "middle", px,
             (note.font && note.font.color) || color);
      });
    }

    function title(color) {
      var t = scene.layout.title;
      if (!t) { return; }
      var px = (t.font && t.font.size) || 15;
      var x = (Number(t.x) || 0) * size.width + 2, y = 8;
      richLines(t.text !== undefined ? t.text : t).forEach(function (line) {
        var lineSize = line.small ? Math.round(px * 0.7) : px;
        text(line.text, x, y, "left", "top", lineSize, color);
        y += lineSize * 1.3;
      });
    }

    function colorBar(color) {
      var mesh = scene.meshes.filter(function (m) { return m.trace.showscale; }).pop();
      if (!mesh) { return; }
      var bar = mesh.trace.colorbar || {};
      var area = chartArea();
      var length = (Number(bar.len) || 0.7) * area.height;
      var thickness = Number(bar.thickness) || 14;
      var x = size.width - COLOR_BAR_ROOM + 8, top = area.top + (area.height - length) / 2;
      var gradient = ctx.createLinearGradient(0, top + length, 0, top);
      for (var i = 0; i <= 32; i++) { gradient.addColorStop(i / 32, css(mesh.color(i / 32))); }
      ctx.fillStyle = gradient;
      ctx.fillRect(x, top, thickness, length);
      ctx.strokeStyle = color;
      ctx.globalAlpha = 0.4;
      ctx.lineWidth = 1;
      ctx.strokeRect(x + 0.5, top + 0.5, thickness - 1, length - 1);
      ctx.globalAlpha = 1;
      var ticks = barTicks(mesh, bar);
      ticks.forEach(function (tick) {
        var y = top + length * (1 - (tick.value - mesh.cmin) / (mesh.cmax - mesh.cmin));
        ctx.strokeStyle = color;
        ctx.beginPath();
        ctx.moveTo(x + thickness, y);
        ctx.lineTo(x + thickness + 4, y);
        ctx.stroke();
        richLines(tick.text).forEach(function (line, k) {
          text(line.text, x + thickness + 7, y + k * 14, "left", "middle", 12, color);
        });
      });
      var heading = richLines(bar.title && bar.title.text);
      heading.forEach(function (line, k) {
        text(line.text, x, top - 8 - (heading.length - 1 - k) * 15, "left", "bottom", 13, color);
      });
    }

    function barTicks(mesh, bar) {
      if (bar.tickvals) {
        return bar.tickvals.map(function (value, i) {
          return {value: Number(value), text: bar.ticktext ? String(bar.ticktext[i]) : formatNumber(Number(value), bar.tickformat)};
        });
      }
      var span = mesh.cmax - mesh.cmin;
      if (!(span > 0)) { return []; }
      var raw = span / 7, power = Math.pow(10, Math.floor(Math.log10(raw)));
      var step = [1, 2, 5, 10].map(function (m) { return m * power; }).filter(function (s) { return s >= raw; })[0];
      var out = [], first = Math.ceil(mesh.cmin / step);
      for (var k = 0; k <= 50 && (first + k) * step <= mesh.cmax + step * 1e-9; k++) {
        var value = (first + k) * step;
        var clean = Math.abs(value) < step * 1e-9 ? 0 : Number(value.toPrecision(12));
        out.push({value: clean, text: formatNumber(clean, bar.tickformat || ".3~g")});
      }
      return out;
    }

    // -- picking -------------------------------------------------------------------------------
    function inside(poly, x, y) {
      var hit = false;
      for (var i = 0, j = poly.length - 1; i < poly.length; j = i++) {
        var a = poly[i], b = poly[j];
        if ((a[1] > y) !== (b[1] > y) && x < ((b[0] - a[0]) * (y - a[1])) / (b[1] - a[1]) + a[0]) { hit = !hit; }
      }
      return hit;
    }

    function pick(x, y) {
      for (var i = drawn.length - 1; i >= 0; i--) {
        var face = drawn[i];
        if (!inside(face.poly, x, y)) { continue; }
        var nearest = 0, best = Infinity;
        face.poly.forEach(function (p, k) {
          var d = Math.hypot(p[0] - x, p[1] - y);
          if (d < best) { best = d; nearest = k; }
        });
        var vertex = face.box * 8 + face.corners[nearest];
        var mesh = face.mesh;
        var row = Array.prototype.slice.call(mesh.data, vertex * mesh.columns, (vertex + 1) * mesh.columns);
        return {curveNumber: mesh.number, pointNumber: vertex, customdata: row,
                text: fillTemplate(mesh.trace.hovertemplate, row)};
      }
      return null;
    }

    // -- the user's camera: turntable drag and wheel zoom ----------------------------------------
    var drag = null;
    canvas.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) { return; }  // the primary button (or a touch) turns the cube
      drag = {x: event.clientX, y: event.clientY, moved: false};
      if (canvas.setPointerCapture) { canvas.setPointerCapture(event.pointerId); }
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drag || !scene) { return; }
      if (!(event.buttons & 1)) { drag = null; return; }  // released where the page did not see it
      var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      if (!drag.moved && Math.hypot(dx, dy) <= DRAG_THRESHOLD) { return; }
      drag.moved = true;
      drag.x = event.clientX;
      drag.y = event.clientY;
      var eye = vec(camera.eye), center = vec(camera.center || {});
      var rel = sub(eye, center), r = Math.hypot(rel[0], rel[1], rel[2]);
      var theta = Math.atan2(rel[1], rel[0]) - (Math.PI * dx) / Math.max(200, size.width);
      var phi = Math.asin(Math.max(-1, Math.min(1, rel[2] / r))) + (Math.PI * dy) / Math.max(200, size.height);
      phi = Math.max(-1.5, Math.min(1.5, phi));
      setCamera({eye: obj([center[0] + r * Math.cos(phi) * Math.cos(theta), center[1] + r * Math.cos(phi) * Math.sin(theta),
                           center[2] + r * Math.sin(phi)]), center: camera.center, up: camera.up});
    });
    canvas.addEventListener("pointerup", function () { drag = null; });
    canvas.addEventListener("pointercancel", function () { drag = null; });
    canvas.addEventListener("lostpointercapture", function () { drag = null; });
    canvas.addEventListener("wheel", function (event) {
      if (!scene) { return; }
      event.preventDefault();
      var factor = Math.exp(Math.max(-0.5, Math.min(0.5, event.deltaY * 0.0015)));
      var eye = vec(camera.eye), center = vec(camera.center || {});
      var rel = sub(eye, center), r = Math.hypot(rel[0], rel[1], rel[2]);
      // never closer than just outside the scene's box (the camera does not enter it)
      var nearest = 1.15 * Math.hypot(scene.aspect[0], scene.aspect[1], scene.aspect[2]) / 2 + Math.hypot(center[0], center[1], center[2]);
      var scale = Math.max(nearest, Math.min(12, r * factor)) / r;
      setCamera({eye: obj([center[0] + rel[0] * scale, center[1] + rel[1] * scale, center[2] + rel[2] * scale]),
                 center: camera.center, up: camera.up});
    }, {passive: false});

    function setCamera(next) {
      camera = JSON.parse(JSON.stringify(next || defaultCamera));
      if (options.onCamera) { options.onCamera(camera); }
      request();
    }

    function request() {
      if (frameRequested) { return; }
      frameRequested = true;
      global.requestAnimationFrame(paint);
    }

    return {
      canvas: canvas,
      draw: function (fig, cam) {
        prepare(fig);
        defaultCamera = (scene.sc && scene.sc.camera) || {eye: {x: 1.25, y: 1.25, z: 1.25}};
        camera = JSON.parse(JSON.stringify(cam || defaultCamera));
        frameRequested = true;
        paint();
      },
      camera: function () { return camera && JSON.parse(JSON.stringify(camera)); },
      setCamera: setCamera,
      resized: function () { if (scene) { paint(); } },
      pick: pick,
      dragging: function () { return !!(drag && drag.moved); }
    };
  }

  CubeView.DRAG_THRESHOLD = DRAG_THRESHOLD;
  CubeView.formatNumber = formatNumber;
  CubeView.fillTemplate = fillTemplate;
  global.CubeView = CubeView;
})(window);
