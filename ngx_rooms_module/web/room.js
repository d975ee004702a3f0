// The room page.  A guest types a name and joins the call; opened through
// the host link (#host=<key>) the page also offers the host's controls.
//
// The call speaks docs/protocol.md: one WebSocket for signaling and one
// RTCPeerConnection to the media worker (an SFU).
//
// In a room with admission "knock" a guest's join is answered "waiting":
// the page shows that it waits for the host, with no camera, microphone
// or peer connection (nobody who is not let in gets media), until the
// host admits (welcome) or denies (error "denied").
//
// Owns: the page's state (window.roomsState), the meaning of each
// message the server sends (onMessage: each goes to the part it
// concerns), joining (the join form, welcome, resumed), waiting in the
// lobby, leaving and hanging up, and the page's start.
// Must never hold what a part owns: the WebSocket and its retries are
// signal.js's, the peer connection and our camera media.js's, the tiles
// stage.js's, the panel and the lobby panel.js's, the room and its
// controls host.js's.  Dependencies run one way: this file imports the
// parts and hands each the hooks it needs; no part imports another of
// them (only the shared leaves: i18n.js, words.js, keys.js, tiles.js...).
//
// The parts: signal.js (the WebSocket, resume and rejoin rules),
// media.js (camera and microphone, the peer connection and its
// renegotiation, simulcast, screen share), stage.js (the tiles, the pin,
// our view, whose tracks play where), panel.js (the participant list,
// roles, the lobby), host.js (the room's title, state and invite link,
// the host's controls), settings.js (which camera and microphone),
// words.js (the status line, alerts, notices), keys.js (guest token,
// co-host key); and the older leaves: i18n.js (English and Italian),
// tiles.js and grid.js (the video tiles and their layout), people.js
// (the participant list's rows), speaker.js (who is talking), devices.js
// (camera and microphone), schedule.js (a room not open yet), tray.js
// (who this browser is).

import * as i18n from './i18n.js';
import { setText } from './i18n.js';
import { drawIcons } from './icons.js';
import { updateTile, showRole } from './tiles.js';
import { heardSpeaker } from './speaker.js';
import { scheduleCard, watchNotices } from './schedule.js';
import { myName as rememberedName, remember, remembered } from './tray.js';
import { say, fail, notice, refusal } from './words.js';
import { guestToken, keepToken, cohostKey, keepCohostKey } from './keys.js';
import { signaling } from './signal.js';
import { callMedia } from './media.js';
import { stage } from './stage.js';
import { participantPanel } from './panel.js';
import { roomControls } from './host.js';
import { watchSettings } from './settings.js';

const $ = (id) => document.getElementById(id);

const main = $('room');
const hostKey = new URLSearchParams(location.hash.slice(1)).get('host');
const api = '../api/rooms/';

const joinForm = $('join');
const joinButton = joinForm.querySelector('button');
const callView = $('call');
const selfTile = $('self');
const waitingCard = $('waiting');

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

let myName = '';
let pendingJoin = false;  // Join was pressed before the start (schedule.js)
let sched = null;         // the schedule card of a room not open yet

function inCall() {
  return state.joined && sig.open();
}


/* ---- the parts, wired ------------------------------------------------- */

const sig = signaling({
  url: () => {
    const url = new URL(api + encodeURIComponent(room.code()) + '/ws',
                        location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return url;
  },
  credentials: () => {
    const tok = guestToken(room.code());
    return { name: myName, host_key: hostKey, guest_token: tok,
             cohost_key: tok && cohostKey(room.code()) };
  },
  onMessage,
  connecting: () => { joinButton.disabled = true; },
  joined: () => state.joined,
  inRoom: () => state.joined || state.waiting,
  hasMedia: () => !!media.pc(),
  hangUp,
  closed: (refused) => {
    room.renderRoom();
    if (refused) room.refreshRoom();  // locked, ended: the status line too
  },
});

const room = roomControls(state, { code: main.dataset.code, hostKey }, {
  send: sig.send,
  inCall,
  active: sig.active,
  pendingJoin: () => pendingJoin,
  sched: () => sched,
});

const media = callMedia(state, {
  send: sig.send,
  inCall,
  attach: () => tiles.attachStreams(),
  viewChanged: () => tiles.view.update(),
  shown: (m) => {
    updateTile(selfTile, { name: myName, role: state.role || 'guest',
                           audio: m.audio, video: m.video });
    people.renderList();
  },
});

const tiles = stage(state, {
  send: sig.send,
  inCall,
  pc: media.pc,
  renderList: () => people.renderList(),
});

const people = participantPanel(state, {
  send: sig.send,
  me: () => {
    const m = media.mediaState();
    return { id: state.id, name: myName, role: state.role || 'guest',
             audio: m.audio, video: m.video };
  },
  tileOf: tiles.tileOf,
  keepCohostKey: (key) => keepCohostKey(room.code(), key),
  renderRoom: room.renderRoom,
});

watchSettings(media);


/* ---- the call -------------------------------------------------------- */

// The call view replaces the join form; the invite link and the host's
// controls move into the participant panel, next to the people.
function enterCall() {
  joinForm.hidden = true;
  leaveLobby();
  callView.hidden = false;
  document.body.classList.add('in-call');
  people.panel.append($('invite-card'), $('host-controls'));
  showRole(selfTile, state.role);
  room.renderRoom();
  // a host sees the people they look after, where there is room for it
  if (hostKey || state.role === 'host' || state.role === 'cohost') {
    people.openBeside();
  }
  tiles.relayout();
}

// A guest of a knock room waits for the host: no camera, no microphone,
// no peer connection until welcome.  The status line (role=status) says
// so; the card under it has the way out.
function waitInLobby() {
  state.waiting = true;
  media.stop();                    // opened early: not while waiting
  sig.waiting();
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
  joinForm.hidden = room.info.state === 'ended';
  joinButton.disabled = false;
  document.body.classList.remove('in-call');
  media.showShare();
  people.setPanel(false);
  notice(null);                    // what happened in the call is over
  joinForm.after($('invite-card'), $('host-controls'));
  room.renderRoom();               // a co-host's controls are for the call
}

async function welcome(msg) {
  state.joined = true;
  state.id = String(msg.id);
  state.role = msg.role || null;
  if (msg.guest_token) keepToken(room.code(), msg.guest_token);
  const sentCohostKey = sig.welcomed(msg);
  // we came with a co-host key and are a guest: the host took it back
  if (sentCohostKey && state.role === 'guest') {
    keepCohostKey(room.code(), null);
  }
  if (typeof msg.locked === 'boolean') room.info.locked = msg.locked;
  // the camera and microphone opened while we connected: the peer
  // connection and its offer first, the call view is drawn while the
  // browser makes the offer
  if (media.ready()) media.start(msg);
  enterCall();
  for (const p of msg.participants || []) tiles.addParticipant(p);
  tiles.countOthers();
  people.renderList();
  // a host learns who is already waiting in the lobby
  people.setLobby(msg.lobby || []);
  // a new session: the server knows nothing of our view yet
  tiles.view.reset();
  if (media.pc()) return;

  await media.open();
  if (!state.joined) {
    // left while the camera was opening (and not about to join again)
    if (!sig.active()) media.stop();
    return;
  }
  media.start(msg);
}

// Back in the call on a new WebSocket after a reload: the peer connection
// never stopped.  What changed while we were away is put right: who is
// here, their microphones and cameras, the lock; and the server hears
// again what we said meanwhile (our media, our view, an offer whose
// answer went with the old connection).
function resumed(msg) {
  sig.resumed(msg);
  if (msg.role) state.role = msg.role;
  if (typeof msg.locked === 'boolean' && msg.locked !== room.info.locked) {
    room.info.locked = msg.locked;
    room.renderRoom();
  }
  const here = new Set((msg.participants || []).map((p) => String(p.id)));
  for (const id of Object.keys(state.people)) {
    if (!here.has(id)) tiles.removeParticipant(id);
  }
  for (const p of msg.participants || []) {
    if (state.people[String(p.id)]) {
      tiles.participantMedia(p);
      people.participantRole(p);
    } else {
      tiles.addParticipant(p);
    }
  }
  if (msg.lobby) people.setLobby(msg.lobby);
  tiles.countOthers();
  people.renderList();
  media.sendMedia();
  tiles.view.reset();              // our view, told again
  media.offerAgain();
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
    media.answer(msg);
    break;
  case 'streams':
    media.streams(msg.streams);
    break;
  case 'speaker':
    heardSpeaker(state, msg, tiles.speaker);
    break;
  case 'video_paused':
    tiles.paused(msg.ids);
    break;
  case 'renegotiate':
    media.renegotiate(msg);
    break;
  case 'waiting':
    waitInLobby();
    break;
  case 'knock':
    people.knocked(msg);
    break;
  case 'lobby_left':
    people.lobbyLeft(msg.id);
    break;
  case 'participant_joined':
    tiles.addParticipant(msg);
    break;
  case 'participant_left':
    tiles.removeParticipant(msg.id);
    break;
  case 'participant_media':
    tiles.participantMedia(msg);
    break;
  case 'participant_role':
    people.participantRole(msg);
    break;
  case 'role':
    people.ownRole(msg);
    break;
  case 'share_stopped':
    // a host or co-host stopped our share
    media.stopShare(false);
    notice('notice.share_stopped');
    break;
  case 'mute_request': {
    // the host asks; the microphone goes off here, and we say so
    const a = media.localTrack('audio');
    if (a && a.enabled) media.toggle('audio');
    notice('notice.muted');
    break;
  }
  case 'room':
    room.roomMessage(msg);
    break;
  case 'error':
    // these leave the connection open; every other error is followed by
    // the server closing, and the page says why
    if (msg.code === 'resume_failed' ||
        (msg.code === 'media_unavailable' && sig.resuming())) {
      // too late to resume (close 4410 follows): we join again; or the
      // new nginx worker is not linked to the media server yet: again
    } else if (msg.code === 'share_taken') {
      // someone else is sharing: ours goes
      media.stopShare(false);
      notice(...refusal(msg));
    } else if (msg.code === 'bad_offer') {
      media.offerRefused();
      fail(...refusal(msg));
    } else if (msg.code === 'not_host' || msg.code === 'no_such_participant' ||
               msg.code === 'too_many_cohosts') {
      notice(...refusal(msg));
      people.unpend();
    } else if (msg.code === 'not_started' && pendingJoin) {
      // our clock ran a little ahead of the server's: again in a moment
      sig.refused();
      setTimeout(openNow, 1000);
    } else {
      sig.refused();
      fail(...refusal(msg));
    }
    break;
  }
}

// The camera and microphone open while the WebSocket connects, when the
// room lets us straight in (open, or our host link): the two waits
// overlap.  A knock room's guest opens nothing before it is let in.
function openEarly() {
  if (room.info.admission === 'knock' && !hostKey) return;
  media.openEarly();
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
  people.clear();
  media.hangUp();
  tiles.clear();
  if (!keepMedia) media.stop();
  exitCall();
}

joinForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  myName = joinForm.elements.name.value.trim();
  if (!myName) return;
  remember(rememberBox.checked, myName);
  fail(null);
  if (room.info.state === 'scheduled') {
    // not open yet: the page joins by itself at the start (schedule.js)
    pendingJoin = true;
    joinButton.disabled = true;
    say('schedule.waiting');
    return;
  }
  say('joining');
  sig.join();
  openEarly();
});

// Leave: the call, or the lobby while waiting to be let in.
function leave() {
  sig.close();
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


/* ---- a room that has not opened yet (schedule.js) --------------------- */

// The start came: the room is open; a person who pressed Join is in.
function openNow() {
  room.info.state = 'open';
  room.renderRoom();
  room.refreshRoom();
  if (pendingJoin && !sig.active() && !state.joined) {
    say('joining');
    sig.join();
    openEarly();
  }
}


/* ---- start ----------------------------------------------------------- */

sched = room.info.state === 'scheduled' ? scheduleCard({
  code: room.code, startAt: room.info.start_at, api: '../api/',
  base: new URL('../', location.href).pathname, hostKey,
  before: joinForm, onOpen: openNow,
}) : null;
watchNotices(new URL('../', location.href).pathname);

drawIcons();
i18n.onChange(room.renderRoom);
i18n.start();
joinForm.elements.name.value = rememberedName();
if (room.info.state === 'ended') joinForm.hidden = true;
room.refreshRoom();
// from the tray (#join=1): one click drops in, with the remembered name
if (new URLSearchParams(location.hash.slice(1)).get('join') === '1'
    && joinForm.elements.name.value && room.info.state === 'open') {
  history.replaceState(null, '', location.pathname + location.search);
  joinForm.requestSubmit();
}
