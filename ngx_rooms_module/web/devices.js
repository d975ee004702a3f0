// The camera and microphone: opening them, listing the alternatives,
// and switching from one to another during a call.
//
// A switch replaces the track on the existing sender (replaceTrack): the
// m-line, its SSRC and the negotiated codec stay, so the media worker
// notices nothing and there is no renegotiation.  The choice is kept in
// localStorage and preferred the next time the camera opens.
//
// pruneRecv(): what we receive of the others.  An offer has one m-line
// per remote stream (docs/protocol.md, "Who you see and hear": 49 audio
// and 16 video at most), and a signaling message is at most 65536 bytes.
// A Chromium m-line lists every codec and header extension it knows; the
// server forwards only Opus and VP8 (with its RTX), and needs only the
// mid, the audio level and the transport-wide sequence number.  Pruning
// each recvonly m-line to those makes the offer about a third of its
// size.  Browsers without the APIs offer
// the full list; nothing breaks, the offer is only bigger.

const KEY = { audio: 'rooms.device.audio', video: 'rooms.device.video' };

function preferred(kind) {
  try {
    return localStorage.getItem(KEY[kind]);
  } catch (e) {
    return null;        // storage off: any device will do
  }
}

function remember(kind, id) {
  try {
    localStorage.setItem(KEY[kind], id);
  } catch (e) { /* see preferred() */ }
}

// `ideal`, not `exact`: a device unplugged since is no reason to fail.
// The camera at 1280x720 if it can: the top simulcast layer, and what a
// pinned or large tile shows; smaller layers are made from it.
const CAMERA = { width: { ideal: 1280 }, height: { ideal: 720 } };

function want(kind) {
  const id = preferred(kind);
  const c = id ? { deviceId: { ideal: id } } : {};
  if (kind === 'video') Object.assign(c, CAMERA);
  return Object.keys(c).length ? c : true;
}

// The camera and microphone; if one of them is missing or refused, what
// there is; null when there is nothing (or the person said no).
export async function openMedia() {
  for (const c of [{ audio: want('audio'), video: want('video') },
                   { audio: want('audio') }, { video: want('video') }]) {
    try {
      return await navigator.mediaDevices.getUserMedia(c);
    } catch (e) {
      if (e.name === 'NotAllowedError') break;
    }
  }
  return null;
}

// [{ deviceId, label }] of one kind ('audio' or 'video'); labels are only
// known once the person allowed the camera, which joining did.
export async function listDevices(kind) {
  const all = await navigator.mediaDevices.enumerateDevices();
  return all.filter((d) => d.kind === kind + 'input' && d.deviceId)
    .map((d, i) => ({ deviceId: d.deviceId,
                      label: d.label || kind + ' ' + (i + 1) }));
}

async function open(kind, deviceId) {
  const c = { deviceId: { exact: deviceId } };
  if (kind === 'video') Object.assign(c, CAMERA);
  const s = await navigator.mediaDevices.getUserMedia({ [kind]: c });
  return s.getTracks()[0];
}

// Switches `local` (our MediaStream) to another device of `kind`, on the
// sender of `pc` that carries the old track.  Returns the new track.
export async function switchDevice(kind, deviceId, local, pc) {
  const old = local.getTracks().find((t) => t.kind === kind);
  let track;
  try {
    track = await open(kind, deviceId);
  } catch (e) {
    // some phones cannot open a second camera while the first runs
    if (!old || e.name !== 'NotReadableError') throw e;
    old.stop();
    track = await open(kind, deviceId);
  }
  if (old) track.enabled = old.enabled;      // a muted mic stays muted
  const sender = pc && old &&
    pc.getSenders().find((s) => s.track === old);
  if (sender) await sender.replaceTrack(track);
  if (old) {
    local.removeTrack(old);
    old.stop();
  }
  local.addTrack(track);
  remember(kind, deviceId);
  return track;
}


/* ---- what we receive -------------------------------------------------- */

const KEEP_CODECS = {
  audio: (m) => m === 'audio/opus',
  video: (m) => m === 'video/vp8' || m === 'video/rtx',
};
const KEEP_EXTENSIONS = new Set([
  'urn:ietf:params:rtp-hdrext:sdes:mid',
  'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  // the server's transport-wide numbers on what it sends us: our
  // feedback on them is how it knows what our link carries
  'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
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
// call again on the same transceiver, and on any browser; a transceiver
// done once is skipped (each of these calls waits on the browser's
// WebRTC thread, and every offer goes over all the transceivers).
const pruned = new WeakSet();

export function pruneRecv(tr) {
  if (!tr || pruned.has(tr) || tr.direction !== 'recvonly' || tr.stopped) {
    return;
  }
  pruned.add(tr);
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
