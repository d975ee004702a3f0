// The camera and microphone: opening them, listing the alternatives,
// and switching from one to another during a call.
//
// A switch replaces the track on the existing sender (replaceTrack): the
// m-line, its SSRC and the negotiated codec stay, so the media worker
// notices nothing and there is no renegotiation.  The choice is kept in
// localStorage and preferred the next time the camera opens.

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

// `ideal`, not `exact`: a device unplugged since is no reason to fail
function want(kind) {
  const id = preferred(kind);
  return id ? { deviceId: { ideal: id } } : true;
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
  const s = await navigator.mediaDevices.getUserMedia({
    [kind]: { deviceId: { exact: deviceId } },
  });
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
