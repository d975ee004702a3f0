// The participant panel: the people in the call (people.js draws the
// list) with a host's or co-host's actions on them, roles as they
// change, and the lobby of a room with admission "knock".
//
// In a room with admission "knock" a guest's join is answered "waiting"
// (room.js shows that it waits).  A host sees who waits, in this panel
// and in a banner, and admits or denies.
//
// Co-hosts (docs/protocol.md, "Co-hosts"): the host makes a guest co-host
// from the participant list.  The co-host's browser keeps the co-host key
// the server gives it (keys.js) and sends it with every join.  A co-host
// gets part of the host's controls: Remove (guests only), Ask to mute,
// Admit and Deny, Lock room; not End room, the invite link, the
// host-absent policy or co-hosts (host.js).
//
// Owns: the panel's opening and closing, the list's buttons (remove,
// mute, stop_share, cohost, uncohost) and their pending presses, our own
// role (state.role) as the role message changes it, the lobby
// (state.lobby) and the knock banner, and where the keyboard's focus
// goes when their buttons go.
// Must never open the WebSocket or touch media; a refused action is
// undone by room.js calling unpend().
//
// participantPanel(state, hooks) wires it; the hooks are room.js's:
//   send(msg)        to the server, if the WebSocket is open
//   me()             our own row: {id, name, role, audio, video}
//   tileOf(id)       a participant's tile, or null (stage.js)
//   keepCohostKey(k) keep (or, null, forget) our co-host key (keys.js)
//   renderRoom()     the room's controls again (host.js)

import { t, setText } from './i18n.js';
import { showRole, hue, initial } from './tiles.js';
import { renderPeople, renderWaiting } from './people.js';
import { notice } from './words.js';

export function participantPanel(state, hooks) {
  const $ = (id) => document.getElementById(id);
  const panel = $('people');
  const peopleButton = $('people-toggle');
  const peopleList = $('people-list');
  const selfTile = $('self');
  const lobbySection = $('lobby');
  const lobbyList = $('lobby-list');
  const lobbyCount = $('lobby-count');
  const knockBanner = $('knock');
  const knockText = $('knock-text');

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

  // opened by us, where there is room for it beside the tiles
  function openBeside() {
    if (wide.matches && panel.hidden) setPanel(true, true);
  }

  function renderList() {
    if (!state.joined) return;
    const others = Object.values(state.people);
    renderPeople(peopleList, hooks.me(), others, state.role || 'guest');
    $('people-count').textContent = String(others.length + 1);
  }

  peopleList.addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-action]');
    const p = b && state.people[b.dataset.id];
    if (!p) return;
    if (b.dataset.action === 'remove') {
      if (!confirm(t('confirm_remove', { name: p.name }))) return;
      hooks.send({ type: 'remove', id: p.id });
    } else if (b.dataset.action === 'mute') {
      hooks.send({ type: 'mute', id: p.id });
    } else if (b.dataset.action === 'stop_share') {
      hooks.send({ type: 'stop_share', id: p.id });
    } else if (b.dataset.action === 'cohost' ||
               b.dataset.action === 'uncohost') {
      // the answer is participant_role; meanwhile more presses do nothing
      if (p.pending) return;
      p.pending = true;
      hooks.send({ type: b.dataset.action, id: p.id });
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
    const tile = hooks.tileOf(id);
    if (tile) showRole(tile, p.role);
    renderList();
  }

  // Our own role changed (role): the host made us co-host, or took it
  // back.
  function ownRole(msg) {
    if (msg.role === 'cohost') {
      if (msg.cohost_key) hooks.keepCohostKey(msg.cohost_key);
      state.role = 'cohost';
      notice('notice.cohost');
      // our controls are in the panel: show them where there is room
      openBeside();
    } else if (msg.role === 'guest') {
      hooks.keepCohostKey(null);
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
    hooks.renderRoom();
    renderList();
  }


  /* ---- the lobby: who waits to be let in (a host's view) -------------- */

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

  // Let in, turned away, or gone by themselves: out of the lobby either
  // way.
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
    hooks.send({ type: action, id: p.raw });
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

  return {
    panel,
    setPanel,
    openBeside,
    renderList,
    participantRole,
    ownRole,
    knocked,
    lobbyLeft,

    // the whole lobby (welcome, resumed): who waits now
    setLobby(list) {
      state.lobby = {};
      knockShown = null;
      for (const p of list) knocked(p);
      renderLobby();
    },

    // an admit, a deny or a role change that did nothing: the buttons
    // work again
    unpend() {
      for (const p of waitingPeople()) p.pending = false;
      for (const p of Object.values(state.people)) p.pending = false;
      renderLobby();
      renderList();
    },

    // the call ends on this side (state.lobby is already empty)
    clear() {
      knockShown = null;
      renderLobby();
      peopleList.replaceChildren();
    },
  };
}
