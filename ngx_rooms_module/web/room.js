// The room page.  A guest types a name and joins the call; opened through
// the host link (#host=<key>) the page also offers the host's controls.
// The key stays in the fragment, which browsers never send to the server
// or in Referer; it goes to the server only in the WebSocket's join (and
// as the API's Bearer token), where nginx checks it.
//
// The call speaks docs/protocol.md: one WebSocket for signaling and one
// RTCPeerConnection to the media worker (an SFU).  The browser is the only
// offerer: it sends its own camera and microphone on sendonly m-lines and
// receives everyone else on recvonly m-lines; each answer says whose media
// each recvonly m-line carries.
//
// The parts: i18n.js (English and Italian), tiles.js and grid.js (the
// video tiles and their layout), people.js (the participant list),
// speaker.js (who is talking), devices.js (camera and microphone).
//
// In a room with admission "knock" a guest's join is answered "waiting":
// the page shows that it waits for the host, with no camera, microphone
// or peer connection (nobody who is not let in gets media), until the
// host admits (welcome) or denies (error "denied").  A host sees who
// waits, in the participant panel and in a banner, and admits or denies.
//
// Co-hosts (docs/protocol.md, "Co-hosts"): the host makes a guest co-host
// from the participant list.  The co-host's browser keeps the co-host key
// the server gives it (localStorage, per room, next to the guest token)
// and sends it with every join.  A co-host gets part of the host's
// controls: Remove (guests only), Ask to mute, Admit and Deny, Lock room;
// not End room, the invite link, the host-absent policy or co-hosts.
// The host chooses what happens when the last host or co-host leaves
// (host_absent: stay open, lock, end), on the create page and, over the
// JSON API, in the host controls.
//
// Who we see and hear (docs/protocol.md, "Who you see and hear"): the
// few loudest voices, and as many remote videos as the server has video
// slots for us, chosen from our `view`: the tiles on screen, the pinned
// one and the speaker (as the server says, speaker.js) first (grid.js).
// The server may move a voice or a video to another of our m-lines and
// say so with `streams`; a tile whose video has no m-line shows the
// person's initial and name.

import * as i18n from './i18n.js';
import { t, setText } from './i18n.js';
import { drawIcons } from './icons.js';
import { watchGrid, watchView } from './grid.js';
import {
  makeTile, makeScreenTile, updateTile, showRole, showPaused, highlight, hue,
  initial,
} from './tiles.js';
import { renderPeople, renderWaiting } from './people.js';
import { heardSpeaker } from './speaker.js';
import {
  openMedia, listDevices, switchDevice, pruneRecv,
} from './devices.js';
import { scheduleCard, watchNotices } from './schedule.js';
import {
  keepMyToken, myName as rememberedName, myToken, remember, remembered,
} from './tray.js';

const $ = (id) => document.getElementById(id);

const main = $('room');
let code = main.dataset.code;      // the host may rotate it
const hostKey = new URLSearchParams(location.hash.slice(1)).get('host');
const api = '../api/rooms/';

const status = $('status');
const error = $('error');
const noticeEl = $('notice');
const joinForm = $('join');
const joinButton = joinForm.querySelector('button');
const callView = $('call');
const tiles = $('tiles');
const selfTile = $('self');
const micButton = $('mic');
const camButton = $('cam');
const shareButton = $('share');
const panel = $('people');
const peopleButton = $('people-toggle');
const peopleList = $('people-list');
const inviteCard = $('invite-card');
const hostControls = $('host-controls');
const hostTitle = $('host-title');
const lockButton = $('lock');
const rotateButton = $('rotate');
const endButton = $('end');
const waitingCard = $('waiting');
const lobbySection = $('lobby');
const lobbyList = $('lobby-list');
const lobbyCount = $('lobby-count');
const knockBanner = $('knock');
const knockText = $('knock-text');

// What tests (and curious people in devtools) can read.  `participants`
// maps each other participant's id to its name; `people` has their whole
// record ({id, name, role, audio, video}); `streams` is the last
// mid -> {participant, kind, screen} (of an answer or a streams message;
// `screen`: that line carries their shared screen); `sharing` whether
// we share our screen;
// `speaker` the id highlighted as speaking; `offers` how many offers
// this page sent; `view` the ids of the last view message; `pinned` the
// id of the pinned tile, or null.  `waiting`: we are in the lobby;
// `lobby` (a host's or co-host's): who waits, id -> name.
// `role`: ours, 'host', 'cohost' or 'guest' (from welcome, then role).
const state = window.roomsState = {
  joined: false, id: null, role: null, locked: false,
  participants: {}, people: {}, streams: {}, speaker: null, offers: 0,
  waiting: false, lobby: {}, view: null, pinned: null, paused: [],
  sharing: false,
};


/* ---- words people read --------------------------------------------- */

function say(key, args) {
  setText(status, key, args);
}

function fail(key, args) {
  setText(error, key, args);
  error.hidden = !key;
}

// A passing message (a toast): the host's actions, refusals that keep
// the call going.
let noticeTimer = null;
function notice(key, args) {
  setText(noticeEl, key, args);
  noticeEl.hidden = !key;
  clearTimeout(noticeTimer);
  if (key) noticeTimer = setTimeout(() => notice(null), 6000);
}

// A refusal's words: every error code of docs/protocol.md and of the
// host actions in docs/api.md has its sentence; anything else is shown
// with the server's own message.
function refusal(err) {
  const c = err && err.code;
  if (c === 'room_ended' && err.reason === 'host_absent') {
    return ['error.room_ended_host_absent'];
  }
  if (c === 'not_started') {
    return err.start_at ? ['error.not_started', { when: err.start_at }]
      : ['error.not_started_soon'];
  }
  if (c && i18n.has('error.' + c)) return ['error.' + c];
  return ['error.other', { msg: (err && (err.message || err.code)) || '?' }];
}


/* ---- the room: title, state, invite link ------------------------------ */

// What the page knows about the room; the server wrote it into the page
// and the API refreshes it.
const activity = $('activity');
const info = {
  state: main.dataset.state,
  locked: status.dataset.locked === '1',
  start_at: status.dataset.startAt || null,
  title: activity.dataset.untitled === '1' ? '' : $('title').textContent,
  label: { en: activity.dataset.en, it: activity.dataset.it },
  admission: status.dataset.admission || 'open',
  host_absent: null,          // the host view's; null until read
};

function roomStatus() {
  if (info.state === 'ended') return ['room.ended'];
  if (info.state === 'scheduled') {
    // the schedule card says when; the status line, what Join will do
    if (pendingJoin) return ['schedule.waiting'];
    return sched ? [null] : ['room.opens', { when: info.start_at }];
  }
  if (info.locked) return ['room.locked'];
  if (info.admission === 'knock') {
    return [hostKey ? 'room.knock_host' : 'room.knock'];
  }
  return ['room.open'];
}

function renderRoom() {
  const label = info.label[i18n.lang] || info.label.en || '';
  $('title').textContent = info.title || label;
  document.title = info.title || label;
  activity.textContent = label;
  activity.hidden = !info.title;       // an untitled room's title is it
  // in a call the status line talks about the call, not the room
  if (!state.joined && !ws) {
    say(...roomStatus());
    // after a refusal the alert says why; no need to say it twice
    if (!error.hidden && status.textContent === error.textContent) say(null);
  }
  setText(lockButton, info.locked ? 'unlock' : 'lock');
  // a co-host, in the call, gets part of the controls: no End room, no
  // new invite link and no host-absent policy (those need the host key)
  const host = !!hostKey || isHost();
  const cohost = !host && inCall() && state.role === 'cohost';
  // an ended room takes no more changes: nothing left to control
  const hide = !(host || cohost) || info.state === 'ended';
  if (hide && !hostControls.hidden &&
      hostControls.contains(document.activeElement)) {
    // the controls go from under the keyboard: it goes on from the panel
    (state.joined ? peopleButton : joinForm.elements.name).focus();
  }
  hostControls.hidden = hide;
  // nobody can come into an ended room: its link is no use to share
  inviteCard.hidden = info.state === 'ended';
  setText(hostTitle, cohost ? 'cohost_controls' : 'host_controls');
  rotateButton.hidden = endButton.hidden = !host;
  absentField.hidden = !hostKey;
  if (info.host_absent) absentSelect.value = info.host_absent;
  state.locked = info.locked;
}

function show(room) {
  Object.assign(info, {
    state: room.state, locked: room.locked, start_at: room.start_at,
    title: room.title, label: room.activity_label || info.label,
    admission: room.admission || info.admission,
    host_absent: room.host_absent || info.host_absent,
  });
  if (room.invite_url) $('invite').value = room.invite_url;
  if (info.state === 'ended' && !state.joined) joinForm.hidden = true;
  if (sched) sched.update(info.start_at, info.state === 'ended');
  renderRoom();
}

// With the host key, the host view (it has host_absent); a key the room
// refuses still gets the public view.
async function getRoom() {
  const url = api + encodeURIComponent(code);
  if (hostKey) {
    const r = await fetch(url, {
      headers: { 'Authorization': 'Bearer ' + hostKey },
    });
    if (r.ok) return r.json();
  }
  return (await fetch(url)).json();
}

function refreshRoom() {
  return getRoom().then((room) => {
    if (room.code) show(room);
  }).catch(() => {});
}

// The host's room actions over the JSON API (for a host who has not
// joined; a host in the call uses the WebSocket, see asHost()).
async function call(method, path, body) {
  fail(null);
  let res, data;
  try {
    res = await fetch(api + path, {
      method,
      headers: Object.assign({ 'Authorization': 'Bearer ' + hostKey },
        body ? { 'Content-Type': 'application/json' } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    data = await res.json();
  } catch (e) {
    fail('unreachable');
    return null;
  }
  if (!res.ok) {
    fail(...refusal(data.error));
    return null;
  }
  return data;
}

function inCall() {
  return state.joined && ws && ws.readyState === WebSocket.OPEN;
}

function isHost() {
  return state.role === 'host';
}

// In the call as the host or a co-host (the server said so in welcome or
// role): room actions go over the WebSocket, and everyone hears of them.
function asHost() {
  return inCall() && isHost();
}

function asModerator() {
  return inCall() && (state.role === 'host' || state.role === 'cohost');
}

// the lock we asked for, to tell "You locked the room" from "The host
// locked the room" when the answer comes
let myLock = null;

lockButton.addEventListener('click', async () => {
  const locked = !info.locked;
  if (asModerator()) {
    myLock = { locked, at: Date.now() };
    send({ type: 'lock', locked });       // the answer is a "room" message
    return;
  }
  const room = await call('PATCH', code, { locked });
  if (room) show(room);
});

$('rotate').addEventListener('click', async () => {
  const old = code;
  const room = await call('POST', code + '/invite');
  if (!room) return;
  code = room.code;                        // rejoins use the new link
  // our guest token belongs to the room, whatever its code
  const tok = guestToken(old);
  if (tok) keepToken(tok);
  history.replaceState(null, '', room.host_url);
  show(room);
});

$('end').addEventListener('click', async () => {
  if (!confirm(t('confirm_end'))) return;
  if (asHost()) {
    send({ type: 'end' });   // everyone, us too, gets room_ended; it closes
    return;
  }
  const room = await call('DELETE', code);
  if (room) show(room);
});

// "When the host leaves" (host_absent, docs/api.md): the host's choice,
// read and changed over the JSON API with the host key.  The server's
// markup has no field for it; it goes at the end of the host controls.
const HOST_ABSENT = [['stay_open', 'create.stay_open'],
                     ['lock', 'create.lock'], ['end', 'create.end']];
const absentField = document.createElement('div');
absentField.className = 'field';
const absentSelect = document.createElement('select');
{
  const label = document.createElement('label');
  label.htmlFor = absentSelect.id = 'host-absent';
  setText(label, 'create.host_absent');
  for (const [value, key] of HOST_ABSENT) {
    const o = new Option('', value);
    setText(o, key);
    absentSelect.append(o);
  }
  absentField.append(label, absentSelect);
  absentField.hidden = !hostKey;
  hostControls.append(absentField);
}

absentSelect.addEventListener('change', async () => {
  const want = absentSelect.value;
  absentSelect.disabled = true;
  const room = await call('PATCH', code, { host_absent: want });
  absentSelect.disabled = false;
  if (room) show(room);
  // refused: back to what the room has
  else if (info.host_absent) absentSelect.value = info.host_absent;
});

function copyButton(button, input) {
  const label = button.querySelector('[data-i18n]');
  button.addEventListener('click', async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
    } catch (e) {
      document.execCommand('copy');
    }
    setText(label, 'copied');
    setTimeout(() => setText(label, 'copy_invite'), 2500);
  });
}

copyButton($('copy-invite'), $('invite'));

// The guest token (docs/protocol.md): who we are in this room, kept by
// this browser, sent with each join.  A removed guest's token stays
// banned, so pressing Join again gets "removed" again.
const tokenKey = (c) => 'rooms.guest.' + c;

// A browser that is remembered (tray.js) brings its own token to a room
// it has none for: the same person in every room, to its people.
function guestToken(c = code) {
  try {
    return localStorage.getItem(tokenKey(c)) || myToken();
  } catch (e) {
    return null;        // storage off: a new guest each time
  }
}

function keepToken(tok) {
  try {
    localStorage.setItem(tokenKey(code), tok);
  } catch (e) { /* see guestToken() */ }
  keepMyToken(tok);
}

// The co-host key (docs/protocol.md, "Co-hosts"): given in a role
// message, kept per room next to the guest token, sent with each join
// (it works only with the guest token it was given with), forgotten when
// the host takes it back.
const cohostKeyOf = (c) => 'rooms.cohost.' + c;

function cohostKey() {
  try {
    return localStorage.getItem(cohostKeyOf(code));
  } catch (e) {
    return null;
  }
}

function keepCohostKey(key) {
  try {
    if (key) localStorage.setItem(cohostKeyOf(code), key);
    else localStorage.removeItem(cohostKeyOf(code));
  } catch (e) { /* see guestToken() */ }
}


/* ---- the participant panel -------------------------------------------- */

let panelAuto = false;    // opened by us, not by the person
const wide = matchMedia('(min-width: 64rem)');

function setPanel(open, auto = false) {
  panel.hidden = !open;
  panelAuto = open && auto;
  peopleButton.setAttribute('aria-expanded', String(open));
  // the panel shows everyone waiting: no need for the banner too
  if (open) knockShown = null;
  renderKnock();
}

peopleButton.addEventListener('click', () => setPanel(panel.hidden));

// A panel we opened beside the tiles would cover them on a small screen
wide.addEventListener('change', () => {
  if (!wide.matches && panelAuto) setPanel(false);
});

function me() {
  const m = mediaState();
  return { id: state.id, name: myName, role: state.role || 'guest',
           audio: m.audio, video: m.video };
}

function renderList() {
  if (!state.joined) return;
  const others = Object.values(state.people);
  renderPeople(peopleList, me(), others, state.role || 'guest');
  $('people-count').textContent = String(others.length + 1);
}

peopleList.addEventListener('click', (ev) => {
  const b = ev.target.closest('button[data-action]');
  const p = b && state.people[b.dataset.id];
  if (!p) return;
  if (b.dataset.action === 'remove') {
    if (!confirm(t('confirm_remove', { name: p.name }))) return;
    send({ type: 'remove', id: p.id });
  } else if (b.dataset.action === 'mute') {
    send({ type: 'mute', id: p.id });
  } else if (b.dataset.action === 'stop_share') {
    send({ type: 'stop_share', id: p.id });
  } else if (b.dataset.action === 'cohost' ||
             b.dataset.action === 'uncohost') {
    // the answer is participant_role; meanwhile more presses do nothing
    if (p.pending) return;
    p.pending = true;
    send({ type: b.dataset.action, id: p.id });
    renderList();
  }
});

// Someone's role changed (participant_role): their tile and row.
function participantRole(msg) {
  const id = String(msg.id);
  const p = state.people[id];
  if (!p) return;
  p.role = msg.role;
  p.pending = false;
  const tile = tileOf(id);
  if (tile) showRole(tile, p.role);
  renderList();
}

// Our own role changed (role): the host made us co-host, or took it back.
function ownRole(msg) {
  if (msg.role === 'cohost') {
    if (msg.cohost_key) keepCohostKey(msg.cohost_key);
    state.role = 'cohost';
    notice('notice.cohost');
    // our controls are in the panel: show them where there is room
    if (wide.matches && panel.hidden) setPanel(true, true);
  } else if (msg.role === 'guest') {
    keepCohostKey(null);
    state.role = 'guest';
    // nobody waiting is ours to let in any more
    state.lobby = {};
    knockShown = null;
    renderLobby();
    notice('notice.not_cohost');
  } else {
    return;
  }
  showRole(selfTile, state.role);
  renderRoom();
  renderList();
}


/* ---- the lobby: who waits to be let in (a host's view) ---------------- */

// Everyone waiting is in the panel, under "Waiting"; the people button
// counts them.  Someone who knocks while the panel is closed also gets
// a banner over the call, with "Admit" and "Deny", until the host acts,
// opens the panel or dismisses it.
let knockShown = null;    // the id the banner is about, or null

function waitingPeople() {
  return Object.values(state.lobby);
}

function renderKnock() {
  const p = knockShown && state.lobby[knockShown];
  knockBanner.hidden = !p || !panel.hidden;
  if (!p) return;
  const n = waitingPeople().length;
  if (n <= 1) setText(knockText, 'knock.one', { name: p.name });
  else if (n === 2) setText(knockText, 'knock.two', { name: p.name });
  else setText(knockText, 'knock.many', { name: p.name, n: n - 1 });
  const avatar = knockBanner.querySelector('.avatar-sm');
  avatar.textContent = initial(p.name);
  avatar.dataset.hue = hue(p.name);
  for (const b of knockBanner.querySelectorAll('[data-action]')) {
    b.dataset.id = p.id;
    if (b.dataset.action === 'admit' || b.dataset.action === 'deny') {
      if (p.pending) b.setAttribute('aria-disabled', 'true');
      else b.removeAttribute('aria-disabled');
    }
  }
  knockBanner.querySelector('[data-action="all"]').hidden = n <= 1;
}

function renderLobby() {
  // a press of Admit or Deny takes its row (or the banner) away: the
  // keyboard's focus goes to the people button, not to the page's top
  const focus = document.activeElement;
  const hadFocus = focus && (lobbyList.contains(focus) ||
                             knockBanner.contains(focus));
  const waiting = waitingPeople();
  renderWaiting(lobbyList, waiting);
  lobbySection.hidden = !waiting.length;
  lobbyCount.hidden = !waiting.length;
  if (waiting.length) {
    const num = document.createElement('span');
    num.setAttribute('aria-hidden', 'true');
    num.textContent = String(waiting.length);
    const words = document.createElement('span');
    words.className = 'vh';
    setText(words, 'lobby.count', { n: waiting.length });
    lobbyCount.replaceChildren(num, words);
  }
  renderKnock();
  if (hadFocus && (!focus.isConnected ||
                   (knockBanner.contains(focus) && knockBanner.hidden))) {
    // the next person waiting, if any, else the people button
    const next = !panel.hidden && lobbyList.querySelector('button');
    (next || peopleButton).focus();
  }
}

// Someone knocks (or, in welcome, was already waiting).
function knocked(p) {
  const id = String(p.id);
  state.lobby[id] = { id, raw: p.id, name: String(p.name || ''),
                      pending: false };
  if (panel.hidden) knockShown = id;
  renderLobby();
}

// Let in, turned away, or gone by themselves: out of the lobby either way.
function lobbyLeft(id) {
  id = String(id);
  delete state.lobby[id];
  if (knockShown === id) {
    // the banner goes on with whoever came last, if anyone still waits
    const rest = Object.keys(state.lobby);
    knockShown = rest.length ? rest[rest.length - 1] : null;
  }
  renderLobby();
}

function admitOrDeny(b) {
  const action = b && b.dataset.action;
  const p = b && state.lobby[b.dataset.id];
  if (!p || p.pending || (action !== 'admit' && action !== 'deny')) return;
  // the answer is lobby_left; meanwhile more presses do nothing
  p.pending = true;
  send({ type: action, id: p.raw });
  renderLobby();
}

lobbyList.addEventListener('click', (ev) => {
  admitOrDeny(ev.target.closest('button[data-action]'));
});

knockBanner.addEventListener('click', (ev) => {
  const b = ev.target.closest('button[data-action]');
  if (!b) return;
  if (b.dataset.action === 'dismiss') {
    knockShown = null;
    renderKnock();
    peopleButton.focus();
  } else if (b.dataset.action === 'all') {
    setPanel(true);
    lobbyList.querySelector('button')?.focus();
  } else {
    admitOrDeny(b);
  }
});


/* ---- tiles: one per other participant -------------------------------- */

const relayout = watchGrid(tiles);

// Our view: the tiles on screen, the pinned one and the speaker first,
// for the server to choose whose video we get.  Only in the call: not
// before welcome, not while waiting in the lobby (it would be ignored).
const view = watchView(tiles, {
  first: () => [state.pinned, state.speaker],
  onView: (ids, sizes) => {
    if (!inCall() || state.waiting) return false;
    const raw = ids.map((id) => (state.people[id] ? state.people[id].id : id));
    send({ type: 'view', ids: raw, sizes });
    state.view = raw;
    return true;
  },
});

// Pinning a tile puts it first on the grid and first in our view: the
// way to choose whom to see when there are more people than video slots.
// Pressing the pin again (or pinning someone else) lets it go.
function pin(id) {
  state.pinned = id === state.pinned ? null : id;
  for (const tile of tiles.querySelectorAll('[data-participant]')) {
    const on = tile.dataset.participant === state.pinned;
    tile.classList.toggle('pinned', on);
    tile.querySelector('button.pin').setAttribute('aria-pressed', String(on));
  }
  // the pinned tile moved to the top, and is large now: show it
  if (state.pinned) tiles.scrollTop = 0;
  relayout();
  view.update();
}

tiles.addEventListener('click', (ev) => {
  const b = ev.target.closest('button.pin');
  const tile = b && b.closest('[data-participant]');
  if (tile) pin(tile.dataset.participant);
});

function tileOf(id) {
  return tiles.querySelector('[data-participant="' + CSS.escape(id) + '"]');
}

function addParticipant(p) {
  const id = String(p.id);
  const person = state.people[id] = {
    id: p.id, name: p.name, role: p.role || 'guest',
    audio: p.audio, video: p.video,
  };
  state.participants[id] = p.name;
  let tile = tileOf(id);
  if (!tile) {
    tile = makeTile(person);
    i18n.translate(tile);
    tiles.append(tile);
  }
  updateTile(tile, person);
  countOthers();
  renderList();
  // the answer may have named this participant's streams already
  if (pc) attachStreams();
}

function removeParticipant(id) {
  id = String(id);
  delete state.participants[id];
  delete state.people[id];
  const tile = tileOf(id);
  if (tile) tile.remove();
  if (state.speaker === id) state.speaker = null;
  if (state.pinned === id) state.pinned = null;
  countOthers();
  renderList();
}

function participantMedia(msg) {
  const p = state.people[String(msg.id)];
  if (!p) return;
  p.audio = msg.audio;
  p.video = msg.video;
  const tile = tileOf(String(msg.id));
  if (tile) updateTile(tile, p);
  renderList();
}

function countOthers() {
  if (!state.joined) return;
  const n = Object.keys(state.participants).length;
  if (n === 0) say('count.alone');
  else if (n === 1) say('count.one');
  else say('count.many', { n });
}

// Autoplay with sound needs a user gesture; pressing Join was one, so
// this normally plays.  If a browser still refuses, play muted and turn
// the sound on at the next click anywhere.
function play(video) {
  video.play().catch(() => {
    video.muted = true;
    video.play().catch(() => {});
    say('click_to_hear');
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
// A line the map marks `screen` is someone's shared screen: it gets a
// tile of its own, first and large (grid.js), and their camera stays on
// their tile, small beside it.
function attachStreams() {
  const tracks = {};
  const screens = {};
  for (const tr of pc.getTransceivers()) {
    const s = tr.mid !== null && state.streams[tr.mid];
    if (!s || !tr.receiver.track) continue;
    const id = String(s.participant);
    if (s.screen && s.kind === 'video') {
      screens[id] = tr.receiver.track;
      continue;
    }
    (tracks[id] = tracks[id] || []).push(tr.receiver.track);
  }
  attachScreens(screens);
  for (const tile of tiles.querySelectorAll('[data-participant]')) {
    const video = tile.querySelector('video');
    const theirs = tracks[tile.dataset.participant] || [];
    // no video slot for them now: their initial and name, not a frozen
    // or black picture
    tile.classList.toggle('no-video',
      !theirs.some((tr) => tr.kind === 'video'));
    const have = video.srcObject ? video.srcObject.getTracks() : [];
    if (theirs.length === have.length &&
        theirs.every((tr) => have.includes(tr))) continue;
    video.srcObject = theirs.length ? new MediaStream(theirs) : null;
    if (theirs.length) play(video);
  }
}


// The screen tiles: one per screen the map carries, the others go.  A
// host or co-host sees "Stop their share" on a sharer's row.
function attachScreens(screens) {
  for (const tile of tiles.querySelectorAll('[data-screen]')) {
    if (!screens[tile.dataset.screen]) tile.remove();
  }
  let changed = false;
  for (const p of Object.values(state.people)) {
    const on = Boolean(screens[String(p.id)]);
    if (Boolean(p.sharing) !== on) changed = true;
    p.sharing = on;
  }
  for (const [id, track] of Object.entries(screens)) {
    let tile = tiles.querySelector('[data-screen="' + CSS.escape(id) + '"]');
    if (!tile) {
      const p = state.people[id];
      tile = makeScreenTile(id, p ? p.name : '');
      tiles.prepend(tile);
      // a screen is what everyone looks at: show it
      tiles.scrollTop = 0;
    }
    const video = tile.querySelector('video');
    const have = video.srcObject ? video.srcObject.getTracks() : [];
    if (have.length !== 1 || have[0] !== track) {
      video.srcObject = new MediaStream([track]);
      video.play().catch(() => {});
    }
  }
  if (changed) renderList();
  // the tiles moved and shrank: our view's sizes with them
  view.update();
}


/* ---- the call -------------------------------------------------------- */

let ws = null;           // the signaling WebSocket
let pc = null;           // the one RTCPeerConnection
let local = null;        // our camera and microphone (a MediaStream)
let want = { audio: 0, video: 0 };   // remote streams to receive, per kind
let negotiating = false; // an offer is out and its answer not yet in
let again = false;       // a renegotiate came while negotiating
let myName = '';
let pendingJoin = false;  // Join was pressed before the start (schedule.js)
let retry = 0;           // reconnection attempts after a server restart
// A reload of nginx closes our WebSocket (1001) but not the media
// session: the server keeps us in the call while we open a new WebSocket
// and resume with this token (docs/protocol.md, "Resuming after a
// reload").  It is good for one resume; each welcome or resumed brings
// the next.  Kept in memory only: a reloaded page has no session to
// resume.
let resumeToken = null;
let moves = 0;           // joins again since the node said 4412 (moved)
let resumes = 0;         // resume attempts since the WebSocket went
let refused = false;     // the server said why before closing
let sentCohostKey = false; // the last join carried a co-host key

function send(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

function localTrack(kind) {
  return local ? local.getTracks().find((tr) => tr.kind === kind) : null;
}

function mediaState() {
  const a = localTrack('audio');
  const v = localTrack('video');
  return { audio: !!a && a.enabled, video: !!v && v.enabled };
}

function sendMedia() {
  send(Object.assign({ type: 'media' }, mediaState()));
}

function showToggles() {
  const m = mediaState();
  micButton.setAttribute('aria-pressed', String(m.audio));
  camButton.setAttribute('aria-pressed', String(m.video));
  micButton.disabled = !localTrack('audio');
  camButton.disabled = !localTrack('video');
  updateTile(selfTile, { name: myName, role: state.role || 'guest',
                         audio: m.audio, video: m.video });
  renderList();
}

function toggle(kind) {
  const tr = localTrack(kind);
  if (!tr) return;
  // a disabled track keeps its m-line and sends silence or black frames:
  // no renegotiation, and turning it back on is instant
  tr.enabled = !tr.enabled;
  showToggles();
  sendMedia();
}

micButton.addEventListener('click', () => toggle('audio'));
camButton.addEventListener('click', () => toggle('video'));

// Sharing the screen: a second video of ours, on an m-line of its own
// (no simulcast: one stream, its content hint "detail" so text stays
// sharp), which the server gives everyone first.  Its transceiver is
// kept when the share stops (inactive, no track) and used again by the
// next share: the same m-line, the same mid.  A browser without
// getDisplayMedia (a phone) shows no button.
let shareTr = null;      // our screen's transceiver
let shareTrack = null;   // the screen being shared, or null
let shareTold = null;    // the mid the server was told in `share`
const canShare = Boolean(navigator.mediaDevices &&
                         navigator.mediaDevices.getDisplayMedia);

function showShare() {
  state.sharing = Boolean(shareTrack);
  shareButton.hidden = !canShare || !inCall() || state.waiting;
  shareButton.disabled = !pc;
  shareButton.setAttribute('aria-pressed', String(state.sharing));
  setText(shareButton.querySelector('.label'),
          state.sharing ? 'stop_sharing' : 'share');
}

async function startShare() {
  if (!pc || shareTrack) return;
  let stream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({
      video: { frameRate: { ideal: 15, max: 30 } }, audio: false,
    });
  } catch (e) {
    // pressing Cancel in the browser's picker is no failure to report
    if (e.name !== 'NotAllowedError' && e.name !== 'AbortError') {
      notice('notice.share_failed', { msg: e.message });
    }
    return;
  }
  const track = stream.getVideoTracks()[0];
  if (!track || !pc || shareTrack) {
    for (const tr of stream.getTracks()) tr.stop();
    return;
  }
  if ('contentHint' in track) track.contentHint = 'detail';
  // the browser's own "Stop sharing" bar ends the track
  track.addEventListener('ended', () => stopShare(true));
  shareTrack = track;
  if (shareTr) {
    await shareTr.sender.replaceTrack(track);
    shareTr.direction = 'sendonly';
  } else {
    shareTr = pc.addTransceiver(track, { direction: 'sendonly' });
  }
  showShare();
  negotiate();
}

// Ends our share; tell: the server does not know yet (we stopped it).
function stopShare(tell) {
  if (!shareTrack) return;
  const track = shareTrack;
  shareTrack = null;
  track.stop();
  if (tell && shareTold !== null) send({ type: 'unshare' });
  shareTold = null;
  if (shareTr && pc) {
    shareTr.sender.replaceTrack(null).catch(() => {});
    shareTr.direction = 'inactive';
    negotiate();
  }
  showShare();
}

shareButton.addEventListener('click', () => {
  if (shareTrack) stopShare(true);
  else startShare();
});

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
    fail('setup_failed', { msg: e.message });
  });
}

async function offer() {
  // receive slots are added as the server asks, and never removed: the
  // server keeps each remote stream on the same m-line while it exists,
  // and answers the unused ones inactive
  for (const kind of ['audio', 'video']) {
    const have = pc.getTransceivers().filter((tr) =>
      tr.receiver.track.kind === kind && tr.direction === 'recvonly').length;
    for (let i = have; i < want[kind]; i++) {
      pc.addTransceiver(kind, { direction: 'recvonly' });
    }
  }
  // only the codecs and header extensions the server forwards: 8 audio
  // and 16 video m-lines must fit one message (devices.js)
  for (const tr of pc.getTransceivers()) pruneRecv(tr);
  await pc.setLocalDescription(await pc.createOffer());
  // our screen's m-line has its mid now: the server hears which line is
  // the screen before the offer that carries it
  if (shareTrack && shareTr && shareTr.mid !== null &&
      shareTold !== shareTr.mid) {
    send({ type: 'share', mid: shareTr.mid });
    shareTold = shareTr.mid;
  }
  // No trickle: the server is ICE-lite, so it never needs our candidates
  // (it only answers our checks), and its answer carries its own one.
  send({ type: 'offer', sdp: pc.localDescription.sdp });
  state.offers++;
}

async function answered(msg) {
  if (!pc) return;
  const seq = ++maps;
  await pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
  // a streams message that came meanwhile is newer than this map
  if (seq === maps) bindStreams(msg.streams);
  else attachStreams();
  negotiating = false;
  if (again) negotiate();
  // new tiles may have come while the offer was out
  view.update();
}

// answer.streams and the streams message: the whole map of whose media
// each of our receiving m-lines carries, replacing the last one.  `maps`
// counts the maps received, so that the newest wins.
let maps = 0;
function bindStreams(map) {
  state.streams = map && typeof map === 'object' ? map : {};
  if (pc) attachStreams();
}

// The call view replaces the join form; the invite link and the host's
// controls move into the participant panel, next to the people.
function enterCall() {
  joinForm.hidden = true;
  leaveLobby();
  callView.hidden = false;
  document.body.classList.add('in-call');
  panel.append(inviteCard, hostControls);
  showRole(selfTile, state.role);
  renderRoom();
  // a host sees the people they look after, where there is room for it
  if ((hostKey || state.role === 'host' || state.role === 'cohost') &&
      wide.matches && panel.hidden) {
    setPanel(true, true);
  }
  relayout();
}

// A guest of a knock room waits for the host: no camera, no microphone,
// no peer connection until welcome.  The status line (role=status) says
// so; the card under it has the way out.
function waitInLobby() {
  state.waiting = true;
  stopMedia();                     // opened early: not while waiting
  retry = 0;
  joinForm.hidden = true;
  waitingCard.hidden = false;
  document.body.classList.add('in-lobby');
  setText($('waiting-as'), 'waiting.as', { name: myName });
  fail(null);
  say('waiting');
  // the Join button is gone: the keyboard goes on from the way out
  if (!document.activeElement || document.activeElement === document.body ||
      document.activeElement.closest('#join')) {
    $('waiting-leave').focus();
  }
}

function leaveLobby() {
  state.waiting = false;
  waitingCard.hidden = true;
  document.body.classList.remove('in-lobby');
}

function exitCall() {
  leaveLobby();
  callView.hidden = true;
  joinForm.hidden = info.state === 'ended';
  joinButton.disabled = false;
  document.body.classList.remove('in-call');
  showShare();
  setPanel(false);
  notice(null);                    // what happened in the call is over
  joinForm.after(inviteCard, hostControls);
  renderRoom();                    // a co-host's controls are for the call
}

// Simulcast (the server says it takes it, in welcome): our camera as
// layers q, h and f, a quarter, half and all of its size, so each of the
// others gets the one that fits their tile and their link.  A phone-sized
// screen sends two (its camera and its uplink rarely carry 720p well).
// The bitrates are the tops Chromium would pick for 180p, 360p and 720p.
function layers(track) {
  const all = [
    { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000 },
    { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000 },
    { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1500000 },
  ];
  const small = Math.min(screen.width, screen.height) < 600;
  if (!small) return all;
  // two layers: the top one is the camera's size halved
  return [{ rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000 },
          { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000 }];
}

async function welcome(msg) {
  state.joined = true;
  state.id = String(msg.id);
  state.role = msg.role || null;
  if (msg.guest_token) keepToken(msg.guest_token);
  resumeToken = msg.resume_token || null;
  resumes = 0;
  moves = 0;
  // we came with a co-host key and are a guest: the host took it back
  if (sentCohostKey && state.role === 'guest') keepCohostKey(null);
  if (typeof msg.locked === 'boolean') info.locked = msg.locked;
  retry = 0;
  // the camera and microphone opened while we connected: the peer
  // connection and its offer first, the call view is drawn while the
  // browser makes the offer
  if (!local && early && early.open) {
    local = early.open;
    early = null;
    $('local').srcObject = local;
  }
  if (local) startMedia(msg);
  enterCall();
  for (const p of msg.participants || []) addParticipant(p);
  countOthers();
  renderList();
  // a host learns who is already waiting in the lobby
  state.lobby = {};
  knockShown = null;
  for (const p of msg.lobby || []) knocked(p);
  renderLobby();
  // a new session: the server knows nothing of our view yet
  view.reset();
  if (pc) return;

  if (!local) {
    const e = early;
    early = null;
    local = await (e ? e.media : openMedia());
    if (!local) {
      fail('no_media');
      local = new MediaStream();
    }
    $('local').srcObject = local;
  }
  if (!state.joined) {
    // left while the camera was opening (and not about to join again)
    if (!ws) stopMedia();
    return;
  }
  startMedia(msg);
}

// Our camera and microphone (`local`) into the call: the peer connection,
// its first offer, and the speaker watch.
function startMedia(msg) {
  showToggles();

  // the TURN servers the welcome names, with this join's own credential
  // (docs/protocol.md); none: the media worker's own candidates alone
  const iceServers = Array.isArray(msg.ice_servers) ? msg.ice_servers : [];
  pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', iceServers });
  const mine = pc;
  pc.addEventListener('connectionstatechange', () => {
    if (pc === mine && pc.connectionState === 'failed') fail('pc_failed');
  });
  for (const track of local.getTracks()) {
    const init = { direction: 'sendonly', streams: [local] };
    if (track.kind === 'video' && msg.simulcast) {
      init.sendEncodings = layers(track);
    }
    pc.addTransceiver(track, init);
  }
  negotiating = false;
  // the first offer already receives everyone there (welcome says how
  // many): no renegotiation before the first remote frame
  want = { audio: msg.audio | 0, video: msg.video | 0 };
  negotiate();
  showShare();
  // tell the others if we came in with the camera or microphone off
  const m = mediaState();
  if (!m.audio || !m.video) sendMedia();
}

// Back in the call on a new WebSocket after a reload: the peer connection
// never stopped.  What changed while we were away is put right: who is
// here, their microphones and cameras, the lock; and the server hears
// again what we said meanwhile (our media, our view, an offer whose
// answer went with the old connection).
function resumed(msg) {
  resumeToken = msg.resume_token || null;
  resumes = 0;
  if (msg.role) state.role = msg.role;
  if (typeof msg.locked === 'boolean' && msg.locked !== info.locked) {
    info.locked = msg.locked;
    renderRoom();
  }
  const here = new Set((msg.participants || []).map((p) => String(p.id)));
  for (const id of Object.keys(state.people)) {
    if (!here.has(id)) removeParticipant(id);
  }
  for (const p of msg.participants || []) {
    if (state.people[String(p.id)]) {
      participantMedia(p);
      participantRole(p);
    } else {
      addParticipant(p);
    }
  }
  if (msg.lobby) {
    state.lobby = {};
    knockShown = null;
    for (const p of msg.lobby) knocked(p);
    renderLobby();
  }
  countOthers();
  renderList();
  sendMedia();
  view.reset();                    // our view, told again
  if (pc && pc.signalingState === 'have-local-offer') {
    send({ type: 'offer', sdp: pc.localDescription.sdp });
  }
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
    welcome(msg).catch((e) => fail('join_failed', { msg: e.message }));
    break;
  case 'resumed':
    resumed(msg);
    break;
  case 'answer':
    answered(msg).catch((e) => {
      negotiating = false;
      fail('setup_failed', { msg: e.message });
    });
    break;
  case 'streams':
    // the server moved streams between our m-lines: no new offer
    maps++;
    bindStreams(msg.streams);
    break;
  case 'speaker':
    heardSpeaker(state, msg, (id) => {
      highlight(tiles, id, state.id);
      view.update();
    });
    break;
  case 'video_paused':
    // our link cannot carry these videos now: say so on their tiles
    state.paused = (msg.ids || []).map(String);
    for (const tile of tiles.querySelectorAll('[data-participant]')) {
      showPaused(tile, state.paused.includes(tile.dataset.participant));
    }
    break;
  case 'renegotiate':
    want = { audio: msg.audio | 0, video: msg.video | 0 };
    if (pc) negotiate();
    break;
  case 'waiting':
    waitInLobby();
    break;
  case 'knock':
    knocked(msg);
    break;
  case 'lobby_left':
    lobbyLeft(msg.id);
    break;
  case 'participant_joined':
    addParticipant(msg);
    break;
  case 'participant_left':
    removeParticipant(msg.id);
    break;
  case 'participant_media':
    participantMedia(msg);
    break;
  case 'participant_role':
    participantRole(msg);
    break;
  case 'role':
    ownRole(msg);
    break;
  case 'share_stopped':
    // a host or co-host stopped our share
    stopShare(false);
    notice('notice.share_stopped');
    break;
  case 'mute_request': {
    // the host asks; the microphone goes off here, and we say so
    const a = localTrack('audio');
    if (a && a.enabled) toggle('audio');
    notice('notice.muted');
    break;
  }
  case 'room': {
    const locked = !!msg.locked;
    const changed = locked !== info.locked;
    info.locked = locked;
    renderRoom();
    if (msg.reason === 'host_absent' && locked) {
      notice('notice.host_absent_locked');
    } else if (changed) {
      // (a room message may also follow other changes of the room)
      const mine = myLock && myLock.locked === locked &&
                   Date.now() - myLock.at < 10000;
      // a host or co-host cannot tell which of them it was
      const who = mine ? 'you_' : (state.role === 'host' ||
                                   state.role === 'cohost') ? 'was_' : '';
      notice('notice.' + who + (locked ? 'locked' : 'unlocked'));
    }
    myLock = null;
    break;
  }
  case 'error':
    // these leave the connection open; every other error is followed by
    // the server closing, and the page says why
    if (msg.code === 'resume_failed' ||
        (msg.code === 'media_unavailable' && ws && ws.resuming)) {
      // too late to resume (close 4410 follows): we join again; or the
      // new nginx worker is not linked to the media server yet: again
    } else if (msg.code === 'share_taken') {
      // someone else is sharing: ours goes
      stopShare(false);
      notice(...refusal(msg));
    } else if (msg.code === 'bad_offer') {
      negotiating = false;
      fail(...refusal(msg));
    } else if (msg.code === 'not_host' || msg.code === 'no_such_participant' ||
               msg.code === 'too_many_cohosts') {
      notice(...refusal(msg));
      // an admit, a deny or a role change that did nothing: the buttons
      // work again
      for (const p of waitingPeople()) p.pending = false;
      for (const p of Object.values(state.people)) p.pending = false;
      renderLobby();
      renderList();
    } else if (msg.code === 'not_started' && pendingJoin) {
      // our clock ran a little ahead of the server's: again in a moment
      refused = true;
      setTimeout(openNow, 1000);
    } else {
      refused = true;
      fail(...refusal(msg));
    }
    break;
  }
}

// The camera and microphone open while the WebSocket connects, when the
// room lets us straight in (open, or our host link): the two waits
// overlap.  A knock room's guest opens nothing before it is let in.
let early = null;  // { media: a promise of openMedia(), dropped, open: it }

function openEarly() {
  if (local || early || (info.admission === 'knock' && !hostKey)) return;
  const e = early = { media: openMedia(), dropped: false, open: null };
  e.media.then((m) => {
    if (e.dropped && m) for (const tr of m.getTracks()) tr.stop();
    else e.open = m;
  });
}

function stopMedia() {
  if (early) early.dropped = true;
  early = null;
  if (!local) return;
  for (const tr of local.getTracks()) tr.stop();
  local = null;
  $('local').srcObject = null;
}

// Ends the call on this side: the peer connection and the tiles go; the
// camera is kept only when we are about to join again.
function hangUp(keepMedia) {
  state.joined = false;
  state.id = null;
  state.participants = {};
  state.people = {};
  state.streams = {};
  state.speaker = null;
  state.lobby = {};
  state.view = null;
  state.pinned = null;
  knockShown = null;
  renderLobby();
  negotiating = again = false;
  want = { audio: 0, video: 0 };
  if (shareTrack) shareTrack.stop();
  shareTrack = shareTr = shareTold = null;
  if (pc) pc.close();
  pc = null;
  showShare();
  for (const tile of tiles.querySelectorAll('[data-participant], ' +
                                            '[data-screen]')) {
    tile.remove();
  }
  highlight(tiles, null, null);
  peopleList.replaceChildren();
  if (!keepMedia) stopMedia();
  exitCall();
}

// Opens the signaling WebSocket: to join, or to resume the call we are
// in (resuming: its first message is resume, with the join's credentials).
function connect(resuming) {
  const url = new URL(api + encodeURIComponent(code) + '/ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const sock = ws = new WebSocket(url);
  sock.resuming = !!resuming;
  refused = false;
  joinButton.disabled = true;

  sock.addEventListener('open', () => {
    const join = resuming
      ? { type: 'resume', resume_token: resumeToken, name: myName }
      : { type: 'join', name: myName };
    if (hostKey) join.host_key = hostKey;
    const tok = guestToken();
    if (tok) join.guest_token = tok;
    const key = tok && cohostKey();
    if (key) join.cohost_key = key;
    sentCohostKey = !!key;
    sock.send(JSON.stringify(join));
  });
  sock.addEventListener('message', (ev) => {
    if (sock === ws) onMessage(ev);
  });
  sock.addEventListener('close', (ev) => {
    if (sock !== ws) return;          // an old socket, already replaced
    ws = null;
    const wasIn = state.joined || state.waiting;
    // 1001: our nginx worker is closing (a reload); 1006: the connection
    // broke (that nginx worker died, say).  The call goes on in the media
    // server, and a new WebSocket resumes it (if the server let us go
    // meanwhile, the answer is 4410 and we join again).  While resuming,
    // a connection refused or not yet served is tried again, for about
    // the 10 s the server keeps us.
    if (state.joined && pc && resumeToken && !refused && resumes < 8 &&
        (ev.code === 1001 || ev.code === 1006 ||
         (resuming && ev.code === 1013))) {
      resumes++;
      setTimeout(() => connect(true), resumes === 1 ? 0 : 250 * resumes);
      return;
    }
    // nothing to resume (4410: too late), or no way back in time: join
    // again from scratch, keeping the camera
    if (state.joined && resuming && !refused) {
      resumeToken = null;
      resumes = 0;
      hangUp(true);
      say('restarted');
      connect();
      return;
    }
    // 4412: this node is being drained (docs/protocol.md): join again at
    // once through the same address, which the front sends to another
    // node; again, a little later each time, while the node still answers
    if (ev.code === 4412 && moves < 8) {
      hangUp(true);
      resumeToken = null;
      resumes = 0;
      moves++;
      say('moving');
      setTimeout(connect, moves === 1 ? 0 : 250 * moves);
      return;
    }
    // 1012: the media worker restarted; everyone joins again.  4409:
    // messages to this page were lost, so its picture of the room may be
    // wrong; joining again gives it the room as it is (docs/protocol.md)
    if ((ev.code === 1012 || ev.code === 4409) && retry < 5) {
      hangUp(true);
      retry++;
      say(ev.code === 1012 ? 'restarted' : 'resync');
      setTimeout(connect, 1000 * retry);
      return;
    }
    hangUp(false);
    if (refused) {
      renderRoom();
      refreshRoom();                  // locked, ended: the status line too
      return;                         // the error already says why
    }
    fail(wasIn ? 'lost' : 'unreachable');
    renderRoom();
  });
}

joinForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  myName = joinForm.elements.name.value.trim();
  if (!myName) return;
  remember(rememberBox.checked, myName);
  fail(null);
  if (info.state === 'scheduled') {
    // not open yet: the page joins by itself at the start (schedule.js)
    pendingJoin = true;
    joinButton.disabled = true;
    say('schedule.waiting');
    return;
  }
  say('joining');
  retry = 0;
  connect();
  openEarly();
});

// Leave: the call, or the lobby while waiting to be let in.
function leave() {
  send({ type: 'leave' });
  const sock = ws;
  ws = null;                       // its close event is ours, not an error
  if (sock) sock.close(1000);
  hangUp(false);
  fail(null);
  say('left');
}

$('leave').addEventListener('click', leave);

// "Remember me on this browser" (tray.js): under the name, checked
// unless the person once said no.  The server's markup has no field for
// it (t/007-pages.t pins that form), so it is added here.
const rememberBox = (() => {
  const label = document.createElement('label');
  label.className = 'check';
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.name = 'remember';
  box.checked = remembered();
  const text = document.createElement('span');
  setText(text, 'join.remember');
  label.append(box, text);
  joinForm.append(label);
  return box;
})();
$('waiting-leave').addEventListener('click', () => {
  leave();
  joinForm.elements.name.focus();
});


/* ---- settings: which camera and microphone --------------------------- */

const settings = $('settings');
const pickers = { audio: $('mic-device'), video: $('cam-device') };

async function fillPickers() {
  for (const [kind, select] of Object.entries(pickers)) {
    const track = localTrack(kind);
    const devices = await listDevices(kind).catch(() => []);
    const opts = devices.map((d) => new Option(d.label, d.deviceId));
    if (!opts.length) {
      const none = new Option('', '');
      setText(none, 'no_device');
      opts.push(none);
    }
    select.replaceChildren(...opts);
    const current = track && track.getSettings().deviceId;
    if (current) select.value = current;
    // without a track of this kind there is no sender to switch
    select.disabled = !track || !devices.length;
  }
}

for (const [kind, select] of Object.entries(pickers)) {
  select.addEventListener('change', async () => {
    if (!local) return;
    try {
      await switchDevice(kind, select.value, local, pc);
      if (kind === 'video') $('local').srcObject = local;
      showToggles();
    } catch (e) {
      fail('device_failed', { msg: e.message });
      fillPickers();
    }
  });
}

$('settings-open').addEventListener('click', async () => {
  await fillPickers();
  settings.showModal();
});
$('settings-close').addEventListener('click', () => settings.close());
navigator.mediaDevices?.addEventListener?.('devicechange', () => {
  if (settings.open) fillPickers();
});


/* ---- start ----------------------------------------------------------- */

/* ---- a room that has not opened yet (schedule.js) --------------------- */

// The start came: the room is open; a person who pressed Join is in.
function openNow() {
  info.state = 'open';
  renderRoom();
  refreshRoom();
  if (pendingJoin && !ws && !state.joined) {
    retry = 0;
    say('joining');
    connect();
    openEarly();
  }
}

const sched = info.state === 'scheduled' ? scheduleCard({
  code: () => code, startAt: info.start_at, api: '../api/',
  base: new URL('../', location.href).pathname, hostKey,
  before: joinForm, onOpen: openNow,
}) : null;
watchNotices(new URL('../', location.href).pathname);

drawIcons();
i18n.onChange(renderRoom);
i18n.start();
joinForm.elements.name.value = rememberedName();
if (info.state === 'ended') joinForm.hidden = true;
refreshRoom();
// from the tray (#join=1): one click drops in, with the remembered name
if (new URLSearchParams(location.hash.slice(1)).get('join') === '1'
    && joinForm.elements.name.value && info.state === 'open') {
  history.replaceState(null, '', location.pathname + location.search);
  joinForm.requestSubmit();
}
