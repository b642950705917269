// Sketch pad preprocessing: kmnist/drawing.py's to_kmnist in JavaScript, bit-exact with Python + Pillow 13.
//
// Every float image in the Python code is to_float() of a uint8 image, so images here are uint8
// "levels" {w, h, px} (row-major), turned into float32 (toFloat) only where Python compares or
// divides them; Math.fround mirrors numpy's float32 arithmetic. The thresholds, sizes and messages are
// kmnist.drawing's own (pad_facts(), a component argument): preprocessing(facts) builds the functions
// on them. Parity with Python is checked by tests/browser/test_preprocess_parity.py.

const LANCZOS_SUPPORT = 3.0, PRECISION_BITS = 22;  // Pillow's Resample.c

// images.to_float on one level: uint8 -> float32 / 255 (a float32 division).
export const toFloat = (level) => Math.fround(level / 255);
// images.to_uint8 on one float32: (clip(x, 0, 1) * 255.0) in float32, fractions dropped.
export const toUint8 = (x) => Math.trunc(Math.fround(Math.min(Math.max(x, 0), 1) * 255));

const table = (f) => Uint8Array.from({ length: 256 }, (_, level) => f(level));
// to_uint8(to_float(level)): what a level becomes when Python hands float ink to Pillow.
const REQUANTISE = table((v) => toUint8(toFloat(v)));

const INVERT = table((v) => 255 - v);

const image = (w, h, px = new Uint8Array(w * h)) => ({ w, h, px });
// Each level through a 256-entry table (typed arrays' own map() is slow).
function lookUp(px, levels) {
  const out = new Uint8Array(px.length);
  for (let i = 0; i < px.length; i++) out[i] = levels[px[i]];
  return out;
}

// Python's round(): halves go to the even neighbour.
export function roundHalfEven(x) {
  const floor = Math.floor(x), rest = x - floor;
  return rest > 0.5 || (rest === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
}

// Pillow's Lanczos kernel (Resample.c lanczos_filter: sinc(x) * sinc(x / 3) on [-3, 3)).
const sinc = (x) => (x === 0.0 ? 1.0 : Math.sin(x * Math.PI) / (x * Math.PI));
const lanczos = (x) => (-3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0);

// Resample.c precompute_coeffs + normalize_coeffs_8bpc for the box (0, inSize): per output pixel its
// first input pixel, count, and coefficients in 22-bit fixed point (integers, kept as doubles).
// Cached: sizes repeat. (No coefficient lies within 4e-14 of a rounding step for sizes up to 1000,
// so a last-bit difference between the browser's Math.sin and C's sin cannot change one.)
const COEFFICIENTS = new Map();
function coefficients(inSize, outSize) {
  const key = inSize * 65536 + outSize;
  if (COEFFICIENTS.has(key)) return COEFFICIENTS.get(key);
  const scale = inSize / outSize, filterscale = Math.max(scale, 1.0);
  const support = LANCZOS_SUPPORT * filterscale, ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2), kk = new Float64Array(outSize * ksize);
  const k = new Float64Array(ksize), invFilterscale = 1.0 / filterscale, one = 1 << PRECISION_BITS;
  for (let xx = 0; xx < outSize; xx++) {
    const center = 0.0 + (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0.0;
    for (let x = 0; x < xmax; x++) ww += k[x] = lanczos((x + xmin - center + 0.5) * invFilterscale);
    for (let x = 0; x < xmax; x++) {
      const c = ww !== 0.0 ? k[x] / ww : k[x];
      kk[xx * ksize + x] = Math.trunc(c < 0 ? -0.5 + c * one : 0.5 + c * one);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  const result = { bounds, kk, ksize };
  COEFFICIENTS.set(key, result);
  return result;
}

// Resample.c clip8: drop the fixed-point fraction, clamp to 0..255.
const clip8 = (ss) => Math.min(255, Math.max(0, ss >> PRECISION_BITS));

// ImagingResampleHorizontal_8bpc: each row resampled to outW pixels, rounded to 8 bits.
function resampleHorizontal(img, outW) {
  const { w, h, px } = img, { bounds, kk, ksize } = coefficients(w, outW), out = image(outW, h);
  for (let y = 0; y < h; y++) {
    for (let o = 0; o < outW; o++) {
      const first = y * w + bounds[o * 2], count = bounds[o * 2 + 1], k = o * ksize;
      let ss = 1 << (PRECISION_BITS - 1);
      for (let j = 0; j < count; j++) ss += px[first + j] * kk[k + j];
      out.px[y * outW + o] = clip8(ss);
    }
  }
  return out;
}

// ImagingResampleVertical_8bpc: each column resampled to outH pixels (summed row by row).
function resampleVertical(img, outH) {
  const { w, h, px } = img, { bounds, kk, ksize } = coefficients(h, outH), out = image(w, outH);
  const ss = new Float64Array(w);
  for (let o = 0; o < outH; o++) {
    const first = bounds[o * 2], count = bounds[o * 2 + 1], k = o * ksize;
    ss.fill(1 << (PRECISION_BITS - 1));
    for (let j = 0; j < count; j++) {
      const row = (first + j) * w, c = kk[k + j];
      for (let x = 0; x < w; x++) ss[x] += px[row + x] * c;
    }
    for (let x = 0; x < w; x++) out.px[o * w + x] = clip8(ss[x]);
  }
  return out;
}

// Image.resize(size, LANCZOS) on an "L" image (ImagingResampleInner): same size is a copy; else a
// horizontal then a vertical pass, except that the vertical pass runs first when the height
// shrinks by more than twice as many pixels as the width.
export function resizeLanczos(img, outW, outH) {
  const horizontalFirst = !(img.h - outH > 0 && img.h - outH > (img.w - outW) * 2);
  const horizontal = (im) => (outW !== im.w ? resampleHorizontal(im, outW) : im);
  const vertical = (im) => (outH !== im.h ? resampleVertical(im, outH) : im);
  const out = horizontalFirst ? vertical(horizontal(img)) : horizontal(vertical(img));
  return out === img ? image(img.w, img.h, img.px.slice()) : out;
}

// drawing._fit: the longest side scaled to `side` (Lanczos, via to_uint8); with `centred`, pasted
// in a side x side square, as float32 stretched so that the brightest pixel is 1.
export function fit(img, side, centred = false) {
  const scale = side / Math.max(img.h, img.w);
  const gw = Math.max(1, roundHalfEven(img.w * scale)), gh = Math.max(1, roundHalfEven(img.h * scale));
  const glyph = resizeLanczos(image(img.w, img.h, lookUp(img.px, REQUANTISE)), gw, gh);
  if (!centred) return glyph;
  const canvas = image(side, side), left = (side - gw) >> 1, top = (side - gh) >> 1;
  for (let y = 0; y < gh; y++) {
    canvas.px.set(glyph.px.subarray(y * gw, (y + 1) * gw), (top + y) * side + left);
  }
  let brightest = 0;
  for (const v of canvas.px) if (v > brightest) brightest = v;
  const result = new Float32Array(side * side), max = toFloat(brightest);
  for (let i = 0; i < result.length; i++) {
    result[i] = brightest > 0 ? toFloat(canvas.px[i]) / max : toFloat(canvas.px[i]); // float32 division
  }
  return result;
}

// np.pad(img, margin): zeros around.
function pad(img, margin) {
  const out = image(img.w + 2 * margin, img.h + 2 * margin);
  for (let y = 0; y < img.h; y++) {
    out.px.set(img.px.subarray(y * img.w, (y + 1) * img.w), (y + margin) * out.w + margin);
  }
  return out;
}

// The minimum of each window of 2r + 1 pixels along every row (or column) of w x h levels, the
// line's end pixels repeated beyond it (van Herk / Gil-Werman: block prefix and suffix minima).
function minPass(src, w, h, r, horizontal) {
  const n = horizontal ? w : h, lines = horizontal ? h : w;
  const step = horizontal ? 1 : w, lineStep = horizontal ? w : 1, k = 2 * r + 1, m = n + 2 * r;
  const line = new Uint8Array(m), prefix = new Uint8Array(m), suffix = new Uint8Array(m);
  const out = new Uint8Array(w * h);
  for (let l = 0, base = 0; l < lines; l++, base += lineStep) {
    for (let j = 0; j < m; j++) line[j] = src[base + Math.min(n - 1, Math.max(0, j - r)) * step];
    for (let j = 0; j < m; j++) prefix[j] = j % k === 0 ? line[j] : Math.min(prefix[j - 1], line[j]);
    for (let j = m - 1; j >= 0; j--) {
      suffix[j] = j % k === k - 1 || j === m - 1 ? line[j] : Math.min(suffix[j + 1], line[j]);
    }
    for (let i = 0; i < n; i++) out[base + i * step] = Math.min(suffix[i], prefix[i + k - 1]);
  }
  return out;
}

// ImageFilter.MinFilter / MaxFilter(size) (RankFilter: ImagingExpand repeats the edge pixels, then
// the min / max of each size x size window): two 1-D passes; a max filter is a min filter of 255 - x.
export function rankFilter(img, size, takeMax) {
  const { w, h } = img, r = size >> 1, flip = (px) => (takeMax ? lookUp(px, INVERT) : px);
  return image(w, h, flip(minPass(minPass(flip(img.px), w, h, r, true), w, h, r, false)));
}

// The preprocessing on kmnist.drawing's `facts` (pad_facts(): its thresholds, sizes and messages):
// {toKmnist, inkMap, cropToInk, strokeWidth, restroke}.
export function preprocessing(facts) {
  const {
    INK_THRESHOLD, STROKE_LEVEL, ALPHA_SPREAD, ALL_INK, MIN_EXTENT, TARGET_STROKE, THIN_STROKE, THICK_STROKE,
    DOT_RATIO, WORK_SIZE, IMAGE_SIDE, MESSAGES,
  } = facts;
  // `ink > INK_THRESHOLD` and `ink > STROKE_LEVEL` on float32 ink (numpy 2 compares with the float32 of
  // the threshold), per level.
  const IS_INK = table((v) => toFloat(v) > Math.fround(INK_THRESHOLD));
  const IS_STROKE = table((v) => toFloat(v) > Math.fround(STROKE_LEVEL));

  // drawing.ink_map for a canvas (RGB 0, ink in alpha): the alpha levels, or none at all when alpha
  // spans <= ALPHA_SPREAD (ink_map then reads brightness * alpha, which is 0 everywhere on such a canvas).
  function inkMap(alpha, w, h) {
    if (Math.min(w, h) < 2) return { error: MESSAGES.shape.replace("{shape}", `(${h}, ${w}, 4)`) };
    let lo = 255, hi = 0;
    for (let i = 0; i < alpha.length; i++) {
      if (alpha[i] < lo) lo = alpha[i];
      if (alpha[i] > hi) hi = alpha[i];
    }
    const transparentBackground = Math.fround(toFloat(hi) - toFloat(lo)) > Math.fround(ALPHA_SPREAD);
    return { ink: transparentBackground ? image(w, h, alpha) : image(w, h) };
  }

  // drawing._crop_to_ink: the bounding box of the levels above INK_THRESHOLD.
  function cropToInk(img) {
    let top = img.h, bottom = -1, left = img.w, right = -1;
    for (let y = 0; y < img.h; y++) {
      for (let x = 0, row = y * img.w; x < img.w; x++) {
        if (!IS_INK[img.px[row + x]]) continue;
        if (y < top) top = y;
        bottom = y;
        if (x < left) left = x;
        if (x > right) right = x;
      }
    }
    if (bottom < 0) throw new Error("no ink to crop (Python raises IndexError here)");
    const out = image(right - left + 1, bottom - top + 1);
    for (let y = 0; y < out.h; y++) {
      const start = (top + y) * img.w + left;
      out.px.set(img.px.subarray(start, start + out.w), y * out.w);
    }
    return out;
  }

  // drawing.stroke_width: 2 * area / outline of the pixels above STROKE_LEVEL; a pixel is inside (not
  // outline) when MinFilter(3) over the zero-padded strokes keeps it: all 9 pixels around it are strokes.
  function strokeWidth(img) {
    const { w, h, px } = img;
    const across = new Uint8Array(w * h); // stroke with strokes left and right
    let area = 0, outline = 0;
    for (let i = 0; i < w * h; i++) {
      const x = i % w;
      area += IS_STROKE[px[i]];
      across[i] = x > 0 && x < w - 1 && IS_STROKE[px[i - 1]] && IS_STROKE[px[i]] && IS_STROKE[px[i + 1]];
    }
    if (area === 0) return 0.0;
    for (let i = 0; i < w * h; i++) {
      if (!IS_STROKE[px[i]]) continue;
      const inner = i >= w && i < w * (h - 1) && across[i - w] && across[i] && across[i + w];
      if (!inner) outline++;
    }
    return (2.0 * area) / Math.max(outline, 1);
  }

  // drawing._restroke: thicken (max filter) or thin (min filter) toward TARGET_STROKE on the work grid.
  function restroke(work, width) {
    const perPixel = WORK_SIZE / IMAGE_SIDE;
    const radius = Math.max(1, roundHalfEven((Math.abs(TARGET_STROKE - width) / 2) * perPixel));
    const padded = pad(work, radius + 1);
    const requantised = image(padded.w, padded.h, lookUp(padded.px, REQUANTISE));
    const changed = rankFilter(requantised, 2 * radius + 1, width < TARGET_STROKE);
    return changed.px.some((v) => IS_INK[v]) ? changed : padded;
  }

  // drawing.to_kmnist: canvas alpha levels (w * h) -> {image: Float32Array(784)} or {error: message}.
  function toKmnist(alpha, width, height) {
    if (alpha.length !== width * height) {
      throw new Error(`expected ${width * height} alpha values, got ${alpha.length}`);
    }
    const { ink, error } = inkMap(alpha, width, height);
    if (error) return { error };
    let strokes = 0;
    for (let i = 0; i < ink.px.length; i++) strokes += IS_INK[ink.px[i]];
    if (strokes === 0) return { error: MESSAGES.blank };
    if (strokes / ink.px.length > ALL_INK) return { error: MESSAGES.all_ink };
    const crop = cropToInk(ink);
    const extent = Math.max(crop.w, crop.h);
    if (extent < MIN_EXTENT * Math.max(height, width) || extent < DOT_RATIO * strokeWidth(crop)) {
      return { error: MESSAGES.dot };
    }
    const work = fit(crop, WORK_SIZE);
    const strokeAt28 = (strokeWidth(work) * IMAGE_SIDE) / WORK_SIZE;
    if (THIN_STROKE <= strokeAt28 && strokeAt28 <= THICK_STROKE) {
      return { image: fit(crop, IMAGE_SIDE, true) };
    }
    const restroked = restroke(work, strokeAt28);
    if (!restroked.px.some((v) => IS_INK[v])) return { error: MESSAGES.faint };
    return { image: fit(cropToInk(restroked), IMAGE_SIDE, true) };
  }

  return { toKmnist, inkMap, cropToInk, strokeWidth, restroke };
}
