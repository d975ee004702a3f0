// The room as the page shows it (its title, state and invite link), and
// the host's controls: lock, a new invite link, end, and what happens
// when the host leaves.
//
// Opened through the host link (#host=<key>) the page offers the host's
// controls.  The key stays in the fragment, which browsers never send to
// the server or in Referer; it goes to the server only as the API's
// Bearer token (here) and in the WebSocket's join (signal.js), where
// nginx checks it.  A host or co-host in the call acts over the
// WebSocket instead, and everyone hears of it.  A co-host, in the call,
// gets part of the controls (docs/protocol.md, "Co-hosts").  The host
// chooses what happens when the last host or co-host leaves
// (host_absent: stay open, lock, end), on the create page and, over the
// JSON API, here.
//
// Owns: what the page knows of the room (info: refreshed over the JSON
// API), the room's code (a rotation changes it), the status line outside
// a call, the host controls and who sees which of them, the host's JSON
// API calls, and the `room` message's notices.
// Must never open the WebSocket or touch media, tiles or the lobby.
//
// roomControls(state, opts, hooks) wires it.  opts: { code, hostKey }.
// The hooks are room.js's:
//   send(msg)        to the server, if the WebSocket is open
//   inCall()         in the call with an open WebSocket
//   active()         a WebSocket is open or opening
//   pendingJoin()    Join was pressed before the start (schedule.js)
//   sched()          the schedule card, or null (schedule.js)

import * as i18n from './i18n.js';
import { t, setText } from './i18n.js';
import { say, fail, notice, refusal, saidTwice } from './words.js';
import { guestToken, keepToken } from './keys.js';

export function roomControls(state, opts, hooks) {
  const $ = (id) => document.getElementById(id);
  const api = '../api/rooms/';
  const hostKey = opts.hostKey;
  let code = opts.code;            // the host may rotate it

  const main = $('room');
  const status = $('status');
  const joinForm = $('join');
  const peopleButton = $('people-toggle');
  const inviteCard = $('invite-card');
  const hostControls = $('host-controls');
  const hostTitle = $('host-title');
  const lockButton = $('lock');
  const rotateButton = $('rotate');
  const endButton = $('end');

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
      if (hooks.pendingJoin()) return ['schedule.waiting'];
      return hooks.sched() ? [null] : ['room.opens', { when: info.start_at }];
    }
    if (info.locked) return ['room.locked'];
    if (info.admission === 'knock') {
      return [hostKey ? 'room.knock_host' : 'room.knock'];
    }
    return ['room.open'];
  }

  function isHost() {
    return state.role === 'host';
  }

  // In the call as the host or a co-host (the server said so in welcome
  // or role): room actions go over the WebSocket, and everyone hears of
  // them.
  function asHost() {
    return hooks.inCall() && isHost();
  }

  function asModerator() {
    return hooks.inCall() &&
           (state.role === 'host' || state.role === 'cohost');
  }

  function renderRoom() {
    const label = info.label[i18n.lang] || info.label.en || '';
    $('title').textContent = info.title || label;
    document.title = info.title || label;
    activity.textContent = label;
    activity.hidden = !info.title;       // an untitled room's title is it
    // in a call the status line talks about the call, not the room
    if (!state.joined && !hooks.active()) {
      say(...roomStatus());
      // after a refusal the alert says why; no need to say it twice
      if (saidTwice()) say(null);
    }
    setText(lockButton, info.locked ? 'unlock' : 'lock');
    // a co-host, in the call, gets part of the controls: no End room, no
    // new invite link and no host-absent policy (those need the host key)
    const host = !!hostKey || isHost();
    const cohost = !host && hooks.inCall() && state.role === 'cohost';
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
    const sched = hooks.sched();
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

  // the lock we asked for, to tell "You locked the room" from "The host
  // locked the room" when the answer comes
  let myLock = null;

  lockButton.addEventListener('click', async () => {
    const locked = !info.locked;
    if (asModerator()) {
      myLock = { locked, at: Date.now() };
      hooks.send({ type: 'lock', locked });  // the answer is a "room" message
      return;
    }
    const room = await call('PATCH', code, { locked });
    if (room) show(room);
  });

  rotateButton.addEventListener('click', async () => {
    const old = code;
    const room = await call('POST', code + '/invite');
    if (!room) return;
    code = room.code;                        // rejoins use the new link
    // our guest token belongs to the room, whatever its code
    const tok = guestToken(old);
    if (tok) keepToken(code, tok);
    history.replaceState(null, '', room.host_url);
    show(room);
  });

  endButton.addEventListener('click', async () => {
    if (!confirm(t('confirm_end'))) return;
    if (asHost()) {
      hooks.send({ type: 'end' });   // everyone, us too, gets room_ended
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

  // A `room` message: the lock changed (or the host-absent policy locked
  // the room); everyone hears who did it.
  function roomMessage(msg) {
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
  }

  return {
    info,
    code: () => code,
    renderRoom,
    show,
    refreshRoom,
    roomMessage,
  };
}
