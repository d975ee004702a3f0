// What this browser receives (docs/protocol.md, "Who you see and hear"):
// every remote audio, and up to rooms_video_slots remote videos chosen by
// the server from our view (the ids of the tiles on screen, most
// important first).
//
// pruneRecv(): an offer has one m-line per remote stream, 49 audio and 16
// video at most, and a signaling message is at most 65536 bytes.  A
// Chromium m-line lists every codec and header extension it knows; the
// server forwards only Opus and VP8 (with its RTX), and needs only the mid
// and the audio level.  Pruning each recvonly m-line to those makes the
// offer about a quarter of its size.  Browsers without the APIs offer the
// full list; nothing breaks, the offer is only bigger.
//
// watchView(): which participants' tiles are on screen, in screen order,
// the pinned one and the speaker first; reported when it changes, at most
// about three times a second.

const KEEP_CODECS = {
  audio: (m) => m === 'audio/opus',
  video: (m) => m === 'video/vp8' || m === 'video/rtx',
};
const KEEP_EXTENSIONS = new Set([
  'urn:ietf:params:rtp-hdrext:sdes:mid',
  'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
]);

const codecsOf = {};      // kind -> the codecs we keep (or null: all)

function keptCodecs(kind) {
  if (!(kind in codecsOf)) {
    let keep = null;
    try {
      const caps = RTCRtpReceiver.getCapabilities &&
                   RTCRtpReceiver.getCapabilities(kind);
      const want = KEEP_CODECS[kind];
      keep = caps && want ? caps.codecs.filter((c) =>
        want(c.mimeType.toLowerCase())) : null;
      // RTX alone would be no codec at all
      if (keep && !keep.some((c) => !/\/rtx$/i.test(c.mimeType))) keep = null;
    } catch (e) {
      keep = null;
    }
    codecsOf[kind] = keep;
  }
  return codecsOf[kind];
}

// Limits a recvonly transceiver to what the server forwards.  Safe to
// call again on the same transceiver, and on any browser.
export function pruneRecv(tr) {
  if (!tr || tr.direction !== 'recvonly' || tr.stopped) return;
  const kind = tr.receiver && tr.receiver.track && tr.receiver.track.kind;
  const codecs = kind && keptCodecs(kind);
  if (codecs && typeof tr.setCodecPreferences === 'function') {
    try {
      tr.setCodecPreferences(codecs);
    } catch (e) { /* the browser's own list then */ }
  }
  if (typeof tr.setHeaderExtensionsToNegotiate === 'function' &&
      typeof tr.getHeaderExtensionsToNegotiate === 'function') {
    try {
      const exts = tr.getHeaderExtensionsToNegotiate();
      if (exts.some((x) => !KEEP_EXTENSIONS.has(x.uri) &&
                           x.direction !== 'stopped')) {
        tr.setHeaderExtensionsToNegotiate(exts.map((x) =>
          KEEP_EXTENSIONS.has(x.uri) ? x
            : Object.assign({}, x, { direction: 'stopped' })));
      }
    } catch (e) { /* some are mandatory on this browser: keep them all */ }
  }
}

export const MAX_VIEW = 64;     // the protocol's limit on view.ids
const DELAY = 300;              // ms: changes this close count as one

// container: the tile grid (it scrolls); its participants' tiles have
// data-participant.  first() -> ids to put first when their tile is on
// screen (the pinned one, the speaker), in that order.  onView(ids) is
// called with the new list when it differs from the last one it got.
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
    const tiles = [...shown].filter((t) => t.isConnected).map((t) => {
      const r = t.getBoundingClientRect();
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
    return ids.slice(0, MAX_VIEW);
  }

  function report() {
    timer = null;
    const ids = compute();
    const json = JSON.stringify(ids);
    if (json === last) return;
    if (onView(ids) !== false) last = json;
  }

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
    },
  };
}
