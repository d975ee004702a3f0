// The tile grid, from 1 to 50 people: each tile as large as the stage
// allows.  One person fills the stage; two sit side by side on a desktop
// and one above the other on a phone; fifty fit a 1280x800 screen.  On a
// phone, faces get too small past a few people, so there are at most two
// columns and the stage scrolls.
//
// CSS cannot pick a column count from both the tile count and the
// stage's height, so this computes it and hands rooms.css the tile size
// as custom properties (set through the CSSOM, which the page's
// Content-Security-Policy allows, unlike style attributes).
//
// watchView(): which participants' tiles are on screen, in screen order,
// the pinned one and the speaker first; stage.js sends it to the server
// as our `view`, which chooses whose video we receive from it
// (docs/protocol.md, "Who you see and hear").

const PHONE = 600;    // px: a stage narrower than this is a phone's
const MIN_W = 112;    // px: below this a desktop tile is unreadable: scroll

// The best tile size for n tiles in a W x H stage with `gap` between
// them: for each column count, the tile fills its cell, within the
// aspect ratios a camera picture survives being cropped to; the largest
// tile wins.  Returns { cols, w, h, scroll }.
export function fit(n, W, H, gap) {
  const phone = W < PHONE;
  // a landscape stage gets square to 16:9 tiles; a portrait one (a
  // phone held upright) 3:4 to 4:3
  const [lo, hi] = W >= H ? [1, 16 / 9] : [3 / 4, 4 / 3];
  const maxCols = phone ? Math.min(n, 2) : n;
  let best = null;
  for (let cols = 1; cols <= maxCols; cols++) {
    const rows = Math.ceil(n / cols);
    let w = (W - gap * (cols - 1)) / cols;
    let h = (H - gap * (rows - 1)) / rows;
    if (w / h > hi) w = h * hi;
    if (w / h < lo) h = w / lo;
    if (!best || w * h > best.w * best.h) best = { cols, w, h, scroll: false };
  }
  const minW = phone ? (W - gap) / 2 - 1 : MIN_W;
  if (n > 1 && best.w < minW) {
    // too many to fit: fixed-size tiles, as many columns as make sense,
    // and the stage scrolls (square tiles show more people a screen)
    const cols = phone ? 2
      : Math.max(1, Math.floor((W + gap) / (MIN_W + gap)));
    const w = (W - gap * (cols - 1)) / cols;
    best = { cols, w, h: phone ? w : w * 3 / 4, scroll: true };
  }
  // whole pixels, rounded down, so `cols` tiles always fit on a row
  best.w = Math.max(1, Math.floor(best.w));
  best.h = Math.max(1, Math.floor(best.h));
  return best;
}

function layout(el) {
  const tiles = el.children;
  const cs = getComputedStyle(el);
  const gap = parseFloat(cs.columnGap) || 0;
  const W = el.clientWidth - parseFloat(cs.paddingLeft) -
            parseFloat(cs.paddingRight);
  const H = el.clientHeight - parseFloat(cs.paddingTop) -
            parseFloat(cs.paddingBottom);
  if (W <= 0 || H <= 0 || !tiles.length) return;
  // A shared screen, or else a pinned tile, is the spotlight: it takes
  // the stage but a strip along the bottom, where the others sit small
  // (the server sends each the video layer its size asks for; the
  // sharer's camera is one of them).  Alone, it is just a tile.
  const pinned = el.querySelector(':scope > .tile.screen') ||
                 el.querySelector(':scope > .tile.pinned');
  for (const t of el.querySelectorAll(':scope > .tile.spot')) {
    if (t !== pinned) t.classList.remove('spot');
  }
  if (pinned) pinned.classList.add('spot');
  let f;
  if (pinned && tiles.length > 1) {
    const strip = Math.floor(H * STRIP);
    const p = fit(1, W, H - strip - gap, gap);
    el.style.setProperty('--pin-w', p.w + 'px');
    el.style.setProperty('--pin-h', p.h + 'px');
    f = fit(tiles.length - 1, W, strip, gap);
  } else {
    el.style.removeProperty('--pin-w');
    el.style.removeProperty('--pin-h');
    f = fit(tiles.length, W, H, gap);
  }
  el.style.setProperty('--tile-w', f.w + 'px');
  el.style.setProperty('--tile-h', f.h + 'px');
  el.classList.toggle('scroll', f.scroll);
  el.classList.toggle('spotlight', Boolean(pinned && tiles.length > 1));
  el.dataset.cols = f.cols;          // for tests and devtools
}

const STRIP = 0.22;   // of the stage's height: the strip under a spotlight

// Lays out el's tiles now and whenever the stage resizes or a tile comes
// or goes.  At most once a frame: resizing the tiles may show or hide a
// scrollbar, which resizes the stage once more.
export function watchGrid(el) {
  let queued = false;
  const run = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      layout(el);
    });
  };
  new ResizeObserver(run).observe(el);
  new MutationObserver(run).observe(el, { childList: true });
  run();
  return run;
}

export const MAX_VIEW = 64;     // the protocol's limit on view.ids
const DELAY = 300;              // ms: changes this close count as one

const STEP = 32;                // device px: sizes are reported in steps

// container: the tile grid (it scrolls); its participants' tiles have
// data-participant.  first() -> ids to put first when their tile is on
// screen (the pinned one, the speaker), in that order.  onView(ids,
// sizes) is called with the new list when it differs from the last one it
// got; sizes[i] is [width, height] of ids[i]'s tile in device pixels,
// rounded down to STEP (the server picks each video's layer from it), so
// a resize that changes no step sends nothing.
// Returns { update() (something first() depends on changed), reset()
// (forget the last list: a new session must be told again), stop() }.
export function watchView(container, { first, onView }) {
  const shown = new Set();        // tiles at least partly on screen
  let last = null;                // JSON of the last list reported
  let timer = null;

  const io = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (e.isIntersecting) shown.add(e.target);
      else shown.delete(e.target);
    }
    update();
  }, { root: container });

  const watch = (tile) => {
    if (tile.nodeType === 1 && tile.dataset.participant !== undefined) {
      io.observe(tile);
    }
  };
  const mo = new MutationObserver((records) => {
    for (const r of records) {
      for (const n of r.addedNodes) watch(n);
      for (const n of r.removedNodes) {
        if (n.nodeType === 1) {
          io.unobserve(n);
          shown.delete(n);
        }
      }
    }
    update();
  });
  mo.observe(container, { childList: true });
  for (const tile of container.children) watch(tile);

  function compute() {
    // screen order: top to bottom, then left to right (a pinned tile is
    // moved by CSS, so the document's order is not the screen's)
    const dpr = window.devicePixelRatio || 1;
    const step = (v) => Math.max(STEP, Math.floor(v * dpr / STEP) * STEP);
    const size = {};
    const tiles = [...shown].filter((t) => t.isConnected).map((t) => {
      const r = t.getBoundingClientRect();
      size[t.dataset.participant] = [step(r.width), step(r.height)];
      return { id: t.dataset.participant, top: Math.round(r.top),
               left: r.left };
    });
    tiles.sort((a, b) => a.top - b.top || a.left - b.left);
    const visible = tiles.map((t) => t.id);
    const ids = [];
    for (const id of first()) {
      if (id !== null && id !== undefined && visible.includes(String(id)) &&
          !ids.includes(String(id))) ids.push(String(id));
    }
    for (const id of visible) if (!ids.includes(id)) ids.push(id);
    const list = ids.slice(0, MAX_VIEW);
    return { ids: list, sizes: list.map((id) => size[id]) };
  }

  function report() {
    timer = null;
    const { ids, sizes } = compute();
    const json = JSON.stringify([ids, sizes]);
    if (json === last) return;
    if (onView(ids, sizes) !== false) last = json;
  }

  // a tile that grows or shrinks may need another layer of its video
  const ro = new ResizeObserver(() => update());
  ro.observe(container);

  function update() {
    if (timer === null) timer = setTimeout(report, DELAY);
  }

  return {
    update,
    reset() {
      last = null;
      update();
    },
    stop() {
      clearTimeout(timer);
      io.disconnect();
      mo.disconnect();
      ro.disconnect();
    },
  };
}
