// The Dataset explorer maps' hover thumbnails: listens to the Plotly maps' hover events in the page around
// this frame and draws the hovered image, cut from sprite sheets the app serves, with no server round trip.
import { connect } from "../kmnist.ui.component_protocol.assets/protocol.js";

const $ = (id) => document.getElementById(id);
const thumb = $("thumb");
const pen = thumb.getContext("2d");
const FLOAT_ID = "kmnist-map-hover-float";  // the small thumbnail beside the pointer, in the page around us
const floatSize = () => 3 * (args?.sheets.tile ?? 28);  // its CSS size: 3x the image's tile
const KEPT_PAGES = 12;  // decoded sheets kept (~3 MB each as an ImageBitmap): the least recently used go
const KEPT_ENTRIES = 200;  // the last entries kept in each of state's lists

// What the page did, for the browser tests and anyone curious (read it in the console).
// latencies: pointer event -> thumbnail drawn (ms, Plotly's own hover work included); drawing: our part.
// loaded: the sheets decoded. Each list keeps its last KEPT_ENTRIES entries.
const state = window.kmnistMapHover = {
  attached: [], shown: null, loaded: [], error: null, latencies: [], drawing: [],
};

function record(list, entry) {
  list.push(entry);
  if (list.length > KEPT_ENTRIES) list.splice(0, list.length - KEPT_ENTRIES);
}

// -- The component's arguments (the Streamlit component protocol: ../kmnist.ui.component_protocol.assets) --
let args = null;
connect((next) => {
  if (args && args.sheets.key !== next.sheets.key) {  // another split or copy of the data
    for (const bitmap of ready.values()) bitmap.close();
    ready.clear();
    loading.clear();
    hide();
  }
  args = next;
  attachAll();
});

// -- The maps: Plotly graph divs in the page around this frame ----------------------------------------
function host() {
  try {
    return window.parent.document;  // the component's frame is served by the app itself: same origin
  } catch (error) {
    return null;
  }
}

// The class Streamlit gives the container of the element with `key` (st.plotly_chart(key=...)). This, with
// Plotly's graph div (.js-plotly-plot, its .on() events, _ev and _fullData), is all this page assumes of
// the page around it; the browser test fails if either changes.
const keyClass = (key) => `.${CSS.escape(`st-key-${key.trim().replaceAll(/[^a-zA-Z0-9_-]/g, "-")}`)}`;

const listeners = new WeakMap();  // graph div -> our handlers and the Plotly event emitter they were put on

// Listen to every map named in args.charts; a map Streamlit drew anew (or Plotly purged) is found again.
function attachAll() {
  const doc = host();
  if (!doc) {
    fail("this browser keeps the page and this frame apart, so hovers cannot be shown here");
    return;
  }
  if (!args) return;
  const attached = [];
  for (const chart of args.charts) {
    const graph = doc.querySelector(`${keyClass(chart.key)} .js-plotly-plot`);
    if (!graph || typeof graph.on !== "function") continue;  // not drawn yet
    let own = listeners.get(graph);
    if (!own) {
      own = { hover: (data) => hovered(graph, data), unhover: () => hide(), emitter: undefined };
      graph.addEventListener("mousemove", (event) => moveFloat(event.clientX, event.clientY));
      graph.addEventListener("mouseleave", () => hide());
      listeners.set(graph, own);
    }
    if (!own.attached || own.emitter !== graph._ev) {  // Plotly.purge() + newPlot make a new emitter
      graph.on("plotly_hover", own.hover);
      graph.on("plotly_unhover", own.unhover);
      own.attached = true;
      own.emitter = graph._ev;
    }
    attached.push(chart.key);
  }
  state.attached = attached;
  if (state.shown && !doc.contains(state.shown.graph)) hide();  // its map is gone: so is the thumbnail
}
setInterval(attachAll, 500);

// The chart (of args.charts) a graph div belongs to, now: Streamlit may reuse a div for another key.
function chartOf(graph) {
  return args?.charts.find((chart) => graph.closest(keyClass(chart.key))) ?? null;
}

// -- Sprite sheets: a page is loaded on the first hover of one of its images, then kept while it is one
// of the KEPT_PAGES used last (a Map iterates in insertion order: the first entry is the least recent).
const ready = new Map();    // page -> ImageBitmap
const loading = new Map();  // page -> Promise<ImageBitmap>

// The decoded sheet of `page` if kept, now the most recently used; else undefined.
function kept(page) {
  const bitmap = ready.get(page);
  if (bitmap) {
    ready.delete(page);
    ready.set(page, bitmap);
  }
  return bitmap;
}

function keep(page, bitmap) {
  ready.delete(page);
  ready.set(page, bitmap);
  while (ready.size > KEPT_PAGES) {
    const [oldest, dropped] = ready.entries().next().value;
    ready.delete(oldest);
    loading.delete(oldest);  // fetched again if hovered again
    dropped.close();
  }
}

function sheet(page) {
  if (!loading.has(page)) {
    const url = args.sheets.url.replace("{page}", String(page));
    const key = args.sheets.key;
    const promise = fetch(url)
      .then((response) => {
        if (!response.ok) throw new Error(`${url} answered ${response.status}`);
        return response.blob();
      })
      // Grey values exactly as stored: no colour management, no premultiplying.
      .then((blob) => createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" }))
      .then((bitmap) => {
        if (args.sheets.key === key && loading.get(page) === promise) {
          keep(page, bitmap);
          record(state.loaded, page);
        } else {
          bitmap.close();  // another key's sheet: no hover of it is still answered (hide() ended them)
        }
        return bitmap;
      })
      .catch((error) => {
        if (loading.get(page) === promise) loading.delete(page);  // not a newer key's promise
        throw error;
      });
    loading.set(page, promise);
  }
  return loading.get(page);
}

function locate(position) {
  const { per_page: perPage, columns, tile } = args.sheets;
  const page = Math.floor(position / perPage);
  const index = position % perPage;
  return { page, x: (index % columns) * tile, y: Math.floor(index / columns) * tile };
}

// -- Hovering -------------------------------------------------------------------------------------------
let current = 0;  // the hover being answered: a later one wins over a sheet still loading

function hovered(graph, data) {
  const chart = chartOf(graph);
  const point = data?.points?.[0];
  if (!args || !chart || !point) return;
  const custom = point.customdata ?? graph._fullData?.[point.curveNumber]?.customdata?.[point.pointNumber];
  const position = Number(custom?.[0]);
  if (!Number.isInteger(position) || position < 0 || position >= args.sheets.count) return;
  const index = Number(custom[1]);  // the class index
  const name = args.classes[index] ?? `class ${custom[1]}`;
  const began = data.event?.timeStamp;  // in the page's clock, like window.parent.performance.now()
  const called = performance.now();
  const hover = ++current;
  const where = locate(position);
  const atHand = kept(where.page);  // the sheet, or undefined: fetched first (once a page)
  const shown = { position, map: chart.name, graph, label: index };
  const draw = (bitmap) => {
    if (hover !== current || !bitmap.width) return;  // a later hover, or a sheet closed since (dropped)
    pen.clearRect(0, 0, thumb.width, thumb.height);
    pen.drawImage(bitmap, where.x, where.y, args.sheets.tile, args.sheets.tile, 0, 0, thumb.width, thumb.height);
    thumb.hidden = false;
    $("hint").hidden = true;
    $("caption").classList.remove("failed");
    $("caption").textContent = `${args.split} image #${position} · ${name} · ${chart.name}`;
    state.shown = shown;
    showFloat(data.event);
    record(state.drawing, { ms: performance.now() - called, atHand: Boolean(atHand) });
    if (began !== undefined) {
      try {
        record(state.latencies, window.parent.performance.now() - began);
      } catch (error) { /* not measurable here */ }
    }
  };
  if (atHand) {
    draw(atHand);
    return;
  }
  $("caption").textContent = `${args.split} image #${position} · ${name} · loading…`;
  sheet(where.page).then(draw).catch((error) => {
    if (hover === current) fail(`the thumbnail could not be loaded (${error?.message ?? error})`);
  });
}

function hide() {
  current++;
  thumb.hidden = true;
  $("hint").hidden = false;
  if (!$("caption").classList.contains("failed")) $("caption").textContent = "";
  state.shown = null;
  removeFloat();
}

function fail(reason) {
  state.error = reason;
  $("caption").classList.add("failed");
  $("caption").textContent = `No thumbnail: ${reason}.`;
}

// -- The small thumbnail beside the pointer, in the page around this frame ------------------------------
function showFloat(event) {
  const doc = host();
  if (!doc || !event) return;
  let float = doc.getElementById(FLOAT_ID);
  if (!float) {
    float = doc.createElement("canvas");
    float.id = FLOAT_ID;
    float.width = float.height = thumb.width;
    float.setAttribute("aria-hidden", "true");
    Object.assign(float.style, {
      position: "fixed", zIndex: "1000", imageRendering: "pixelated", pointerEvents: "none", background: "#000", borderRadius: "4px",
      boxShadow: "0 1px 6px rgba(0, 0, 0, 0.35)",
    });
    doc.body.append(float);
  }
  float.style.width = float.style.height = `${floatSize()}px`;
  const context = float.getContext("2d");
  context.clearRect(0, 0, float.width, float.height);
  context.drawImage(thumb, 0, 0);
  moveFloat(event.clientX, event.clientY);
}

// Above and to the left of the pointer (Plotly's own label goes to its right), inside the window.
function moveFloat(x, y) {
  const float = host()?.getElementById(FLOAT_ID);
  if (!float || x === undefined) return;
  const gap = 14;
  const size = floatSize();
  const left = x - size - gap >= 0 ? x - size - gap : x + gap;
  const top = y - size - gap >= 0 ? y - size - gap : y + gap;
  float.style.left = `${left}px`;
  float.style.top = `${top}px`;
}

function removeFloat() {
  host()?.getElementById(FLOAT_ID)?.remove();
}

window.addEventListener("pagehide", removeFloat);  // this frame goes (another page opened): so does it
