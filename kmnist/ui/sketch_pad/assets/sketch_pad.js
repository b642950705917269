// The Sketch pad in the page: draw, turn the drawing into the model's 28x28 input, classify it with
// onnxruntime-web, and show the answer and the first layers' feature maps, with no server round trip.
// Sizes, brush, thresholds and messages are kmnist.drawing's (pad_facts), the component's `drawing` argument.
import { connect, setValue } from "../kmnist.ui.component_protocol.assets/protocol.js";
import { preprocessing } from "./preprocess.js";

const canvas = document.getElementById("canvas");
const pen = canvas.getContext("2d", { willReadFrequently: true });
const $ = (id) => document.getElementById(id);

// What the page measured, for the browser tests and anyone curious (read it in the console).
const stats = window.kmnistSketch = {
  ready: false, engine: null, error: null, updates: [], releaseLatencies: [], lastImage: null,
  lastProbabilities: null, classify: null,
};

// -- The component's arguments (the Streamlit component protocol: ../kmnist.ui.component_protocol.assets) --
let args = null;
let facts = null;    // kmnist.drawing's facts, from the first render
let prepare = null;  // the preprocessing on them
let loading = null;  // the model (sha256) being loaded or loaded
connect((next) => {
  args = next;
  if (!facts) setUp(args.drawing);
  $("conv-maps").previousElementSibling.textContent = args.captions.conv;  // kmnist.ui.sketch_pad's words
  $("pool-maps").previousElementSibling.textContent = args.captions.pool;
  if (loading !== args.model.sha256) {
    loading = args.model.sha256;
    start(args).catch(fail);
  }
});

const nothingYet = (reason) => facts.NOTHING_YET.replace("{reason}", reason);

// The pad as kmnist.drawing describes it: canvas, brush, hint and warning (once: a later render keeps the
// drawing and the brush as they are).
function setUp(given) {
  facts = given;
  prepare = preprocessing(facts);
  canvas.width = canvas.height = facts.CANVAS_SIZE;
  document.documentElement.style.setProperty("--canvas", `${facts.CANVAS_SIZE}px`);
  Object.assign($("brush"), { min: facts.BRUSH_MIN, max: facts.BRUSH_MAX, value: facts.BRUSH_DEFAULT });
  $("brush-value").textContent = brush();
  $("unsure").textContent = facts.UNSURE;
  $("fill-hint").textContent = facts.FILL_HINT;
  $("hint").textContent = nothingYet(facts.MESSAGES.empty);
}

// -- Assets: fetched once, kept in the browser (IndexedDB) under their sha256 -------------------------
function openStore() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open("kmnist-studio", 1);
    request.onupgradeneeded = () => request.result.createObjectStore("files");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function stored(db, mode, action) {
  return new Promise((resolve, reject) => {
    const request = action(db.transaction("files", mode).objectStore("files"));
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function gunzip(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).arrayBuffer();
}

// A gzipped file the app serves (`url`, relative to this page), unpacked; from the cache when it has it.
async function cachedFile(url, sha256, sources) {
  let db = null;
  try {
    db = await openStore();
    const kept = await stored(db, "readonly", (files) => files.get(sha256));
    if (kept) {
      sources.push("cache");
      return gunzip(kept);
    }
  } catch (error) {
    db = null;  // no IndexedDB (a private window, say): fetch every time
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  const packed = await response.arrayBuffer();
  sources.push("network");
  if (db) await stored(db, "readwrite", (files) => files.put(packed, sha256)).catch(() => null);
  return gunzip(packed);
}

// -- The model ------------------------------------------------------------------------------------------
let ort = null;
let session = null;

async function loadRuntime(vendor, sources) {
  if (ort) return ort;
  if (typeof WebAssembly !== "object") throw new Error("this browser has no WebAssembly");
  const [code, wasm] = await Promise.all([
    cachedFile(vendor.runtime.url, vendor.runtime.sha256, sources),
    cachedFile(vendor.wasm.url, vendor.wasm.sha256, sources),
  ]);
  const module = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  ort = await import(module);
  ort.env.wasm.wasmBinary = wasm;  // handed over, so the runtime fetches nothing itself
  ort.env.wasm.numThreads = 1;     // threads need cross-origin isolation, which Streamlit does not set up
  ort.env.wasm.proxy = false;
  return ort;
}

async function start({ model, vendor }) {
  const began = performance.now();
  const sources = [];
  session = null;
  stats.ready = false;
  $("engine").classList.remove("failed");
  $("engine").textContent = `Loading ${model.name} into your browser…`;
  const [runtime, bytes] = await Promise.all([
    loadRuntime(vendor, sources), cachedFile(model.url, model.sha256, sources)]);
  session = await runtime.InferenceSession.create(new Uint8Array(bytes), { executionProviders: ["wasm"] });
  stats.classify = classify;
  stats.engine = `onnxruntime-web ${runtime.env.versions?.web ?? ""}`.trim();
  stats.loadMs = performance.now() - began;
  stats.loadedFrom = sources;
  stats.ready = true;
  $("engine").textContent = `Classified in your browser: ${stats.engine} (WebAssembly) runs ${model.name}; ` +
    `nothing is sent to the server while you draw. Loaded in ${stats.loadMs.toFixed(0)} ms ` +
    `(${sources.includes("network") ? "downloaded" : "from this browser's cache"}).`;
  update();
}

function fail(error) {
  stats.error = String(error?.message ?? error);
  $("engine").classList.add("failed");
  $("engine").textContent = `The model cannot run in this browser (${stats.error}); the server classifies instead.`;
  setValue({ event: "fallback", reason: stats.error });
}

// One 28x28 input -> the model's outputs by name (probabilities, then the first layers' maps).
async function classify(image) {
  const side = facts.IMAGE_SIDE;
  const input = new ort.Tensor("float32", Float32Array.from(image), [1, side, side, 1]);
  const outputs = await session.run({ [session.inputNames[0]]: input });
  return Object.fromEntries(args.model.outputs.map((name) => [name, outputs[name]]));
}

// -- Drawing: one finger (or a mouse, or a pen) draws, a second finger turns the gesture into a scroll ------
let drawing = false;
let last = null;
const brush = () => Number($("brush").value);
const touching = new Map();  // pointer id -> its last [x, y] on the screen, while it is down on the canvas
const history = [];          // the canvas before each change, for Undo (the latest last)
const UNDO_STEPS = 50;

function remember() {
  history.push(pen.getImageData(0, 0, canvas.width, canvas.height));
  if (history.length > UNDO_STEPS) history.shift();
  $("undo").disabled = false;
}

function undo() {
  if (!history.length) return;
  pen.putImageData(history.pop(), 0, 0);
  $("undo").disabled = !history.length;
}

// The element that scrolls the app's page around this frame (Streamlit scrolls a container, not the window).
function pageScroller() {
  try {
    for (let node = window.frameElement; node; node = node.parentElement) {
      const overflow = node.ownerDocument.defaultView.getComputedStyle(node).overflowY;
      if (/(auto|scroll)/.test(overflow) && node.scrollHeight > node.clientHeight) return node;
    }
    return window.parent.document.scrollingElement;
  } catch (error) {
    return null;  // a page of another origin: the gesture is only not drawn
  }
}

function point(event) {
  const box = canvas.getBoundingClientRect();
  return [(event.clientX - box.left) * (canvas.width / box.width),
          (event.clientY - box.top) * (canvas.height / box.height)];
}

function stroke(from, to) {
  pen.globalCompositeOperation = erasing() ? "destination-out" : "source-over";
  pen.lineWidth = brush();
  pen.lineCap = pen.lineJoin = "round";
  pen.strokeStyle = "#000";
  pen.beginPath();
  pen.moveTo(...from);
  pen.lineTo(...to);
  pen.stroke();
}

const erasing = () => $("erase").getAttribute("aria-pressed") === "true";

canvas.addEventListener("pointerdown", (event) => {
  touching.set(event.pointerId, [event.clientX, event.clientY]);
  canvas.setPointerCapture(event.pointerId);
  if (touching.size > 1) {  // a second finger: take back the first finger's start of a stroke, and scroll
    if (drawing) {
      drawing = false;
      undo();
      update();
    }
    return;
  }
  remember();
  drawing = true;
  last = point(event);
  stroke(last, last);
  schedule();
});
canvas.addEventListener("pointermove", (event) => {
  const before = touching.get(event.pointerId);
  if (before && touching.size > 1) {  // each finger moves the page by its share of the gesture
    touching.set(event.pointerId, [event.clientX, event.clientY]);
    pageScroller()?.scrollBy(0, (before[1] - event.clientY) / touching.size);
    return;
  }
  if (!drawing) return;
  const events = event.getCoalescedEvents?.() ?? [event];  // every sample, even between frames
  for (const sample of events.length ? events : [event]) {
    const next = point(sample);
    stroke(last, next);
    last = next;
  }
  schedule();
});
for (const type of ["pointerup", "pointercancel"]) {
  canvas.addEventListener(type, (event) => {
    touching.delete(event.pointerId);
    if (!drawing) return;
    drawing = false;
    update(event.timeStamp);  // at once, not at the next frame: the answer to a finished stroke
  });
}
$("brush").addEventListener("input", () => { $("brush-value").textContent = brush(); });
$("clear").addEventListener("click", () => {
  remember();  // Undo brings a cleared drawing back
  pen.clearRect(0, 0, canvas.width, canvas.height);
  update();
});
$("undo").addEventListener("click", () => {
  undo();
  update();
});
$("erase").addEventListener("click", () => {
  $("erase").setAttribute("aria-pressed", String(!erasing()));
});
$("look-inside").addEventListener("click", () => {
  if (stats.lastImage) setValue({ event: "look_inside", image: Array.from(stats.lastImage), at: Date.now() });
});

// -- Classifying as you draw: at most one update a frame, and always one after the last change ----------
let scheduled = false;
let running = false;
let pending = false;     // an update was asked for while one ran
let pendingRelease;      // ... and the mouse-up it answers, if any

stats.idle = () => !scheduled && !running && !pending;  // the page shows the answer to the drawing as it is

function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => { scheduled = false; update(); });
}

async function update(released) {
  if (!session) return;
  if (running) {
    pending = true;
    pendingRelease = released ?? pendingRelease;
    return;
  }
  running = true;
  try {
    const began = performance.now();
    const pixels = pen.getImageData(0, 0, canvas.width, canvas.height).data;
    const alpha = new Uint8Array(canvas.width * canvas.height);
    for (let i = 0; i < alpha.length; i++) alpha[i] = pixels[4 * i + 3];
    const prepared = prepare.toKmnist(alpha, canvas.width, canvas.height);
    if (prepared.error) {
      showBlank(prepared.error);
    } else {
      const outputs = await classify(prepared.image);
      show(prepared.image, outputs);
    }
    const done = performance.now();
    stats.updates.push({ at: done, ms: done - began, drawing,
                         shown: prepared.error ? null : $("prediction").textContent });
    if (released !== undefined) stats.releaseLatencies.push(done - released);
  } catch (error) {
    showBlank(`the drawing could not be classified (${error?.message ?? error})`);
  } finally {
    running = false;
  }
  if (pending) {
    const next = pendingRelease;
    pending = false;
    pendingRelease = undefined;
    update(next);
  }
}

// -- Showing --------------------------------------------------------------------------------------------
function showBlank(reason) {
  stats.lastImage = stats.lastProbabilities = null;
  $("hint").textContent = nothingYet(reason);
  $("hint").hidden = false;
  $("seen").hidden = $("maps").hidden = true;
  $("look-inside").disabled = true;
}

function show(image, outputs) {
  const [probabilitiesName, convName, poolName] = args.model.outputs;
  const probabilities = outputs[probabilitiesName].data;
  stats.lastImage = image;
  stats.lastProbabilities = Array.from(probabilities);
  const order = [...probabilities.keys()].sort((a, b) => probabilities[b] - probabilities[a]).slice(0, 3);
  const label = (index) => args.classes[index];
  const percent = (p) => `${Math.round(100 * p)}%`;
  $("prediction").textContent = `Prediction: ${label(order[0])} ${percent(probabilities[order[0]])}`;
  $("unsure").hidden = probabilities[order[0]] >= facts.CONFIDENT;
  $("bars").replaceChildren(...order.flatMap((index) => {
    const name = Object.assign(document.createElement("span"), { textContent: label(index) });
    const bar = Object.assign(document.createElement("div"), { className: "bar" });
    bar.style.width = `${(100 * probabilities[index]).toFixed(1)}%`;
    const track = document.createElement("div");
    track.append(bar);
    const share = Object.assign(document.createElement("span"),
                                { className: "share", textContent: `${(100 * probabilities[index]).toFixed(1)}%` });
    return [name, track, share];
  }));
  paint($("input"), image, facts.IMAGE_SIDE, facts.IMAGE_SIDE, 0, 1);
  showMaps($("conv-maps"), $("conv-shape"), outputs[convName]);
  showMaps($("pool-maps"), $("pool-shape"), outputs[poolName]);
  $("hint").hidden = true;
  $("seen").hidden = $("maps").hidden = false;
  $("look-inside").disabled = false;
}

// A (1, H, W, C) tensor -> C small pictures, all on one scale (black 0, white the layer's largest value).
function showMaps(grid, shape, tensor) {
  const [, height, width, channels] = tensor.dims;
  const values = tensor.data;
  let top = 0;
  for (const value of values) top = Math.max(top, value);
  shape.textContent = `${channels} maps of ${height}x${width}`;
  while (grid.children.length < channels) {
    const map = document.createElement("canvas");
    map.title = `map ${grid.children.length + 1}`;
    grid.append(map);
  }
  while (grid.children.length > channels) grid.lastChild.remove();
  for (let channel = 0; channel < channels; channel++) {
    const picture = new Float32Array(height * width);
    for (let i = 0; i < picture.length; i++) picture[i] = values[i * channels + channel];
    paint(grid.children[channel], picture, width, height, 0, top || 1);
  }
}

function paint(target, values, width, height, low, high) {
  target.width = width;
  target.height = height;
  const context = target.getContext("2d");
  const picture = context.createImageData(width, height);
  for (let i = 0; i < values.length; i++) {
    const level = Math.round(255 * Math.min(1, Math.max(0, (values[i] - low) / (high - low))));
    picture.data.set([level, level, level, 255], 4 * i);
  }
  context.putImageData(picture, 0, 0);
}
