// The room page.  A guest types a name and joins the call; opened through
// the host link (#host=<key>) the page also offers the host's controls.
// The key stays in the fragment, which browsers never send to the server
// or in Referer.
//
// The call speaks docs/protocol.md: one WebSocket for signaling and one
// RTCPeerConnection to the media worker (an SFU).  The browser is the only
// offerer: it sends its own camera and microphone on sendonly m-lines and
// receives everyone else on recvonly m-lines; each answer says whose media
// each recvonly m-line carries.

const main = document.getElementById('room');
let code = main.dataset.code;      // the host may rotate it
const hostKey = new URLSearchParams(location.hash.slice(1)).get('host');
const status = document.getElementById('status');
const error = document.getElementById('error');
const api = '../api/rooms/';

const joinForm = document.getElementById('join');
const callView = document.getElementById('call');
const tiles = document.getElementById('tiles');
const selfTile = document.getElementById('self');
const micButton = document.getElementById('mic');
const camButton = document.getElementById('cam');
const joinButton = joinForm.querySelector('button');

// What tests (and curious people in devtools) can read.  `participants`
// maps each other participant's id to its name; `streams` is the last
// answer's mid -> {participant, kind}.
const state = window.roomsState = {
  joined: false, id: null, participants: {}, streams: {},
};


/* ---- messages people read ------------------------------------------ */

function when(iso) {
  return new Date(iso).toLocaleString();
}

// One human sentence per error code of docs/protocol.md.
const ERRORS = {
  room_ended: () => 'This room has ended.',
  not_started: (m) => m.start_at
    ? 'This room opens on ' + when(m.start_at) + '. Join again then.'
    : 'This room has not opened yet.',
  locked: () => 'The host has locked this room: nobody new can join.',
  room_full: () => 'This room is full. Try again when someone leaves.',
  media_unavailable: () => 'Calls are not available right now: the media ' +
    'server is not running. Try again in a moment.',
  bad_offer: () => 'The server could not use the call setup of this ' +
    'browser. Reload the page, or try another browser.',
  bad_message: () => 'The server did not understand this page. Reload it ' +
    'and try again.',
};

function say(text) {
  status.textContent = text;
}

function fail(text) {
  error.textContent = text;
  error.hidden = !text;
}


/* ---- the room's state and the host's controls ------------------------ */

// what the status line says outside a call (the server wrote the first)
let roomStatus = status.textContent;

function show(room) {
  document.getElementById('title').textContent =
    room.title || room.activity_label.en;
  roomStatus = room.state === 'ended' ? 'This room has ended.'
    : room.state === 'scheduled'
      ? 'This room opens on ' + when(room.start_at) + '.'
      : (room.locked ? 'The host has locked this room.'
                     : 'This room is open.');
  // in a call the status line talks about the call, not the room
  if (!state.joined && !ws) say(roomStatus);
  const lock = document.getElementById('lock');
  lock.textContent = room.locked ? 'Unlock room' : 'Lock room';
  lock.dataset.locked = room.locked ? '1' : '';
  for (const b of document.querySelectorAll('#host-controls button')) {
    b.disabled = room.state === 'ended';
  }
}

async function call(method, path, body) {
  fail('');
  const res = await fetch(api + path, {
    method,
    headers: Object.assign({ 'Authorization': 'Bearer ' + hostKey },
      body ? { 'Content-Type': 'application/json' } : {}),
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json();
  if (!res.ok) {
    fail(data.error.message);
    return null;
  }
  return data;
}

if (hostKey) {
  document.getElementById('host-controls').hidden = false;
  document.getElementById('lock').addEventListener('click', async (ev) => {
    const room = await call('PATCH', code,
                            { locked: !ev.target.dataset.locked });
    if (room) show(room);
  });
  document.getElementById('rotate').addEventListener('click', async () => {
    const room = await call('POST', code + '/invite');
    if (room) {
      code = room.code;                // rejoins use the new link
      history.replaceState(null, '', room.host_url);
      document.getElementById('invite').value = room.invite_url;
      show(room);
    }
  });
  document.getElementById('end').addEventListener('click', async () => {
    if (!confirm('End the room for everyone?')) return;
    const room = await call('DELETE', code);
    if (room) show(room);
  });
}

fetch(api + code).then((r) => r.json()).then((room) => {
  if (room.code) {
    document.getElementById('invite').value = room.invite_url;
    show(room);
  }
}).catch(() => {});


/* ---- tiles: one per other participant -------------------------------- */

function tileOf(id) {
  return tiles.querySelector('[data-participant="' + CSS.escape(id) + '"]');
}

function badge(text, kind) {
  const b = document.createElement('span');
  b.className = 'badge';
  b.dataset.badge = kind;
  b.textContent = text;
  b.hidden = true;
  return b;
}

function setBadges(tile, audio, video) {
  tile.querySelector('[data-badge="audio"]').hidden = audio !== false;
  tile.querySelector('[data-badge="video"]').hidden = video !== false;
}

function addParticipant(p) {
  const id = String(p.id);
  state.participants[id] = p.name;
  let tile = tileOf(id);
  if (!tile) {
    tile = document.createElement('figure');
    tile.className = 'tile';
    tile.dataset.participant = id;
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.setAttribute('aria-label', p.name);
    const caption = document.createElement('figcaption');
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = p.name;           // text, never markup
    caption.append(name, badge('mic off', 'audio'),
                   badge('camera off', 'video'));
    tile.append(video, caption);
    tiles.append(tile);
  }
  setBadges(tile, p.audio, p.video);
  countOthers();
  // the answer may have named this participant's streams already
  if (pc) attachStreams();
}

function removeParticipant(id) {
  id = String(id);
  delete state.participants[id];
  const tile = tileOf(id);
  if (tile) tile.remove();
  countOthers();
}

function countOthers() {
  if (!state.joined) return;
  const n = Object.keys(state.participants).length;
  say(n === 0 ? 'You are in the room. Nobody else is here yet.'
    : n === 1 ? 'You are in the room with 1 other person.'
      : 'You are in the room with ' + n + ' other people.');
}

// Autoplay with sound needs a user gesture; pressing Join was one, so
// this normally plays.  If a browser still refuses, play muted and turn
// the sound on at the next click anywhere.
function play(video) {
  video.play().catch(() => {
    video.muted = true;
    video.play().catch(() => {});
    say('Click anywhere on the page to hear the others.');
    document.addEventListener('click', () => {
      for (const v of tiles.querySelectorAll('[data-participant] video')) {
        v.muted = false;
        v.play().catch(() => {});
      }
      countOthers();
    }, { once: true });
  });
}

// After each answer: give every participant's <video> exactly the tracks
// the answer assigns to them.  One MediaStream per participant holds its
// audio and video, so the element plays both (and Chromium only counts
// audio samples of tracks attached to a media element).
function attachStreams() {
  const tracks = {};
  for (const t of pc.getTransceivers()) {
    const s = t.mid !== null && state.streams[t.mid];
    if (!s || !t.receiver.track) continue;
    const id = String(s.participant);
    (tracks[id] = tracks[id] || []).push(t.receiver.track);
  }
  for (const tile of tiles.querySelectorAll('[data-participant]')) {
    const video = tile.querySelector('video');
    const theirs = tracks[tile.dataset.participant] || [];
    const have = video.srcObject ? video.srcObject.getTracks() : [];
    if (theirs.length === have.length &&
        theirs.every((t) => have.includes(t))) continue;
    video.srcObject = theirs.length ? new MediaStream(theirs) : null;
    if (theirs.length) play(video);
  }
}


/* ---- the call -------------------------------------------------------- */

let ws = null;           // the signaling WebSocket
let pc = null;           // the one RTCPeerConnection
let local = null;        // our camera and microphone (a MediaStream)
let want = { audio: 0, video: 0 };   // remote streams to receive, per kind
let negotiating = false; // an offer is out and its answer not yet in
let again = false;       // a renegotiate came while negotiating
let myName = '';
let retry = 0;           // reconnection attempts after a server restart
let refused = false;     // the server said why before closing

function send(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

// The camera and microphone; if one of them is missing or refused, join
// with what there is (or with nothing: others are still seen and heard).
async function openMedia() {
  for (const c of [{ audio: true, video: true }, { audio: true },
                   { video: true }]) {
    try {
      return await navigator.mediaDevices.getUserMedia(c);
    } catch (e) {
      if (e.name === 'NotAllowedError') break;
    }
  }
  fail('Your camera and microphone are not available; others can still ' +
       'see and hear each other, and you can see and hear them.');
  return new MediaStream();
}

function localTrack(kind) {
  return local ? local.getTracks().find((t) => t.kind === kind) : null;
}

function mediaState() {
  const a = localTrack('audio');
  const v = localTrack('video');
  return { audio: !!a && a.enabled, video: !!v && v.enabled };
}

function showToggles() {
  const m = mediaState();
  micButton.setAttribute('aria-pressed', String(m.audio));
  camButton.setAttribute('aria-pressed', String(m.video));
  micButton.disabled = !localTrack('audio');
  camButton.disabled = !localTrack('video');
  setBadges(selfTile, m.audio, m.video);
}

function toggle(kind) {
  const t = localTrack(kind);
  if (!t) return;
  // a disabled track keeps its m-line and sends silence or black frames:
  // no renegotiation, and turning it back on is instant
  t.enabled = !t.enabled;
  showToggles();
  send(Object.assign({ type: 'media' }, mediaState()));
}

micButton.addEventListener('click', () => toggle('audio'));
camButton.addEventListener('click', () => toggle('video'));

// Ask for one negotiation; they run one at a time (docs/protocol.md: the
// next offer only after the answer).
function negotiate() {
  if (negotiating) {
    again = true;
    return;
  }
  negotiating = true;
  again = false;
  offer().catch((e) => {
    negotiating = false;
    fail('The call could not be set up: ' + e.message);
  });
}

async function offer() {
  // receive slots are added as the server asks, and never removed: the
  // server keeps each remote stream on the same m-line while it exists,
  // and answers the unused ones inactive
  for (const kind of ['audio', 'video']) {
    const have = pc.getTransceivers().filter((t) =>
      t.receiver.track.kind === kind && t.direction === 'recvonly').length;
    for (let i = have; i < want[kind]; i++) {
      pc.addTransceiver(kind, { direction: 'recvonly' });
    }
  }
  await pc.setLocalDescription(await pc.createOffer());
  // No trickle: the server is ICE-lite, so it never needs our candidates
  // (it only answers our checks), and its answer carries its own one.
  send({ type: 'offer', sdp: pc.localDescription.sdp });
}

async function answered(msg) {
  if (!pc) return;
  await pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
  state.streams = msg.streams || {};
  attachStreams();
  negotiating = false;
  if (again) negotiate();
}

async function welcome(msg) {
  state.joined = true;
  state.id = String(msg.id);
  retry = 0;
  joinForm.hidden = true;
  callView.hidden = false;
  document.body.classList.add('in-call');
  for (const p of msg.participants || []) addParticipant(p);
  countOthers();

  if (!local) {
    local = await openMedia();
    document.getElementById('local').srcObject = local;
  }
  if (!state.joined) {
    // left while the camera was opening (and not about to join again)
    if (!ws) stopMedia();
    return;
  }
  showToggles();

  pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', iceServers: [] });
  pc.addEventListener('connectionstatechange', () => {
    if (pc && pc.connectionState === 'failed') {
      fail('The media connection to the server failed. Leave and join ' +
           'again to retry.');
    }
  });
  for (const track of local.getTracks()) {
    pc.addTransceiver(track, { direction: 'sendonly', streams: [local] });
  }
  negotiating = false;
  negotiate();
  // tell the others if we came in with the camera or microphone off
  const m = mediaState();
  if (!m.audio || !m.video) send(Object.assign({ type: 'media' }, m));
}

function onMessage(ev) {
  let msg;
  try {
    msg = JSON.parse(ev.data);
  } catch (e) {
    return;
  }
  switch (msg.type) {
  case 'welcome':
    welcome(msg).catch((e) => fail('Could not join: ' + e.message));
    break;
  case 'answer':
    answered(msg).catch((e) => {
      negotiating = false;
      fail('The call could not be set up: ' + e.message);
    });
    break;
  case 'renegotiate':
    want = { audio: msg.audio | 0, video: msg.video | 0 };
    if (pc) negotiate();
    break;
  case 'participant_joined':
    addParticipant(msg);
    break;
  case 'participant_left':
    removeParticipant(msg.id);
    break;
  case 'participant_media': {
    const tile = tileOf(String(msg.id));
    if (tile) setBadges(tile, msg.audio, msg.video);
    break;
  }
  case 'error': {
    const text = ERRORS[msg.code];
    fail(text ? text(msg) : msg.message || 'Error: ' + msg.code);
    // every error but bad_offer is followed by the server closing
    if (msg.code === 'bad_offer') negotiating = false;
    else refused = true;
    break;
  }
  }
}

function stopMedia() {
  if (!local) return;
  for (const t of local.getTracks()) t.stop();
  local = null;
  document.getElementById('local').srcObject = null;
}

// Ends the call on this side: the peer connection and the tiles go; the
// camera is kept only when we are about to join again.
function hangUp(keepMedia) {
  state.joined = false;
  state.id = null;
  state.participants = {};
  state.streams = {};
  negotiating = again = false;
  want = { audio: 0, video: 0 };
  if (pc) pc.close();
  pc = null;
  for (const tile of tiles.querySelectorAll('[data-participant]')) {
    tile.remove();
  }
  if (!keepMedia) stopMedia();
  callView.hidden = true;
  joinForm.hidden = false;
  joinButton.disabled = false;
  document.body.classList.remove('in-call');
}

function connect() {
  const url = new URL(api + encodeURIComponent(code) + '/ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const sock = ws = new WebSocket(url);
  refused = false;
  joinButton.disabled = true;

  sock.addEventListener('open', () => {
    sock.send(JSON.stringify({ type: 'join', name: myName }));
  });
  sock.addEventListener('message', (ev) => {
    if (sock === ws) onMessage(ev);
  });
  sock.addEventListener('close', (ev) => {
    if (sock !== ws) return;          // an old socket, already replaced
    ws = null;
    const wasIn = state.joined;
    // 1012: the media worker restarted; everyone joins again
    if (ev.code === 1012 && retry < 5) {
      hangUp(true);
      retry++;
      say('The call service restarted; joining again…');
      setTimeout(connect, 1000 * retry);
      return;
    }
    hangUp(false);
    say(roomStatus);
    if (refused) return;              // the error already says why
    fail(wasIn
      ? 'The connection to the room was lost. Press Join to try again.'
      : 'Could not reach the room. Check the link and your connection, ' +
        'then try again.');
  });
}

joinForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  myName = joinForm.elements.name.value.trim();
  if (!myName) return;
  try {
    localStorage.setItem('rooms.name', myName);
  } catch (e) { /* storage may be off; the name is only a convenience */ }
  fail('');
  say('Joining…');
  retry = 0;
  connect();
});

document.getElementById('leave').addEventListener('click', () => {
  send({ type: 'leave' });
  const sock = ws;
  ws = null;                       // its close event is ours, not an error
  if (sock) sock.close(1000);
  hangUp(false);
  fail('');
  say('You left the room.');
});

try {
  joinForm.elements.name.value = localStorage.getItem('rooms.name') || '';
} catch (e) { /* see above */ }
if (main.dataset.state === 'ended') joinForm.hidden = true;
