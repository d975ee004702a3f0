// The participant list: everyone in the call (us first), with a role
// badge and their microphone and camera state.  A host also gets, for
// each other person, "Ask to mute" and "Remove", and "Make co-host" for a
// guest or "Remove co-host" for a co-host; a co-host gets "Ask to mute"
// for everyone and "Remove" for guests (docs/protocol.md, "Co-hosts");
// both get "Stop their share" for someone sharing a screen.
// panel.js handles their clicks (data-action, data-id) in one listener on
// the list.  Above it, for a host or co-host of a room with admission
// "knock", the people waiting to be let in, each with "Admit" and "Deny"
// (renderWaiting).
//
// Rows are updated in place, keyed by id, not redrawn: a keyboard user's
// focus stays on the button they were on when someone's state changes
// (the co-host button is one button that turns from "Make co-host" into
// "Remove co-host" and back).

import { icon } from './icons.js';
import { hue, initial } from './tiles.js';
import { setText } from './i18n.js';

function el(tag, cls) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  return e;
}

// An on/off state: the icon for the eye, the words for a screen reader.
function mediaState(span, kind, on) {
  const base = kind === 'audio' ? 'mic' : 'cam';
  const name = on ? base : base + '-off';
  if (span.dataset.icon !== name) {
    span.dataset.icon = name;
    span.replaceChildren(icon(name));
    const words = el('span', 'vh');
    setText(words, base + (on ? '_on' : '_off'));
    span.append(words);
  }
  span.classList.toggle('off', !on);
}

function newRow(id) {
  const li = el('li', 'person');
  li.dataset.person = id;
  const avatar = el('span', 'avatar-sm');
  avatar.setAttribute('aria-hidden', 'true');
  const who = el('span', 'who');
  const name = el('span', 'pname');
  name.id = 'pname-' + id;
  const you = el('span', 'you');
  const role = el('span', 'role');
  who.append(name, you, role);
  const media = el('span', 'media');
  media.append(el('span', 'audio'), el('span', 'video'));
  const actions = el('span', 'actions');
  li.append(avatar, who, media, actions);
  return li;
}

function button(action, id, key, cls, prefix = 'pname-') {
  const b = el('button', ('small ' + cls).trim());
  b.type = 'button';
  b.dataset.action = action;
  b.dataset.id = id;
  // the name "Remove" alone, described by whose row it is on:
  // a screen reader says "Remove, button, Ana"
  b.setAttribute('aria-describedby', prefix + id);
  setText(b, key);
  return b;
}

const ROLES = { host: 'role.host', cohost: 'role.cohost', guest: 'role.guest' };

// The buttons on someone's row, by what we are (myRole) and what they
// are: [slot, action, words, class] in the order they show.
function actionsFor(p, myRole) {
  const them = ROLES[p.role] ? p.role : 'guest';
  const out = [];
  if (myRole !== 'host' && myRole !== 'cohost') return out;
  out.push(['mute', 'mute', 'ask_mute', 'secondary']);
  // someone sharing a screen (the streams map says so): stop it
  if (p.sharing) out.push(['share', 'stop_share', 'stop_share', 'secondary']);
  if (myRole === 'host' && them !== 'host') {
    out.push(them === 'cohost'
      ? ['role', 'uncohost', 'remove_cohost', 'secondary']
      : ['role', 'cohost', 'make_cohost', 'secondary']);
  }
  // a co-host removes guests only
  if (myRole === 'host' || them === 'guest') {
    out.push(['remove', 'remove', 'remove', 'danger']);
  }
  return out;
}

function fill(li, p, { isMe, myRole }) {
  const id = li.dataset.person;
  li.querySelector('.avatar-sm').textContent = initial(p.name);
  li.querySelector('.avatar-sm').dataset.hue = hue(p.name);
  li.querySelector('.pname').textContent = p.name;       // text, not markup
  const you = li.querySelector('.you');
  if (isMe) setText(you, 'you_suffix');
  else setText(you, null);
  const role = li.querySelector('.role');
  const r = ROLES[p.role] ? p.role : 'guest';
  setText(role, ROLES[r]);
  role.dataset.role = r;
  mediaState(li.querySelector('.media .audio'), 'audio', p.audio !== false);
  mediaState(li.querySelector('.media .video'), 'video', p.video !== false);

  const actions = li.querySelector('.actions');
  const want = isMe ? [] : actionsFor(p, myRole);
  const have = {};
  for (const b of actions.children) have[b.dataset.slot] = b;
  let prev = null;
  for (const [slot, action, key, cls] of want) {
    let b = have[slot];
    delete have[slot];
    if (!b) {
      b = button(action, id, key, cls);
      b.dataset.slot = slot;
    } else if (b.dataset.action !== action) {
      // the same button, so a keyboard user's focus stays on it
      b.dataset.action = action;
      b.className = ('small ' + cls).trim();
      setText(b, key);
    }
    const at = prev ? prev.nextSibling : actions.firstChild;
    if (b !== at) actions.insertBefore(b, at);
    prev = b;
  }
  for (const b of Object.values(have)) b.remove();

  // nothing to ask of someone whose microphone is already off
  const mute = actions.querySelector('[data-action="mute"]');
  if (mute) mute.disabled = p.audio === false;
  // a role change asked for and not yet answered: more presses do nothing
  const roleButton = actions.querySelector('[data-slot="role"]');
  if (roleButton) {
    if (p.pending) roleButton.setAttribute('aria-disabled', 'true');
    else roleButton.removeAttribute('aria-disabled');
  }
}

// me: our own {id, name, role, audio, video}; others: the rest, in the
// order they came; myRole: 'host', 'cohost' or 'guest' (what we may do).
export function renderPeople(list, me, others, myRole) {
  const want = [me, ...others];
  const keep = new Set(want.map((p) => String(p.id)));
  for (const li of [...list.children]) {
    if (!keep.has(li.dataset.person)) li.remove();
  }
  let prev = null;
  for (const p of want) {
    const id = String(p.id);
    let li = list.querySelector('[data-person="' + CSS.escape(id) + '"]');
    if (!li) li = newRow(id);
    fill(li, p, { isMe: p === me, myRole });
    // in order: us, then the others as they came
    const at = prev ? prev.nextSibling : list.firstChild;
    if (li !== at) list.insertBefore(li, at);
    prev = li;
  }
}

// The people waiting in the lobby: waiting is [{id, name, pending}] in
// the order they knocked; pending: "Admit" or "Deny" was pressed and the
// server has not answered yet (the buttons say so, and panel.js ignores
// more presses).
export function renderWaiting(list, waiting) {
  const keep = new Set(waiting.map((p) => String(p.id)));
  for (const li of [...list.children]) {
    if (!keep.has(li.dataset.person)) li.remove();
  }
  let prev = null;
  for (const p of waiting) {
    const id = String(p.id);
    let li = list.querySelector('[data-person="' + CSS.escape(id) + '"]');
    if (!li) {
      li = el('li', 'person waiting');
      li.dataset.person = id;
      const avatar = el('span', 'avatar-sm');
      avatar.setAttribute('aria-hidden', 'true');
      avatar.textContent = initial(p.name);
      avatar.dataset.hue = hue(p.name);
      const who = el('span', 'who');
      const name = el('span', 'pname');
      name.id = 'lname-' + id;
      name.textContent = p.name;                        // text, not markup
      who.append(name);
      const actions = el('span', 'actions');
      actions.append(button('admit', id, 'admit', '', 'lname-'),
                     button('deny', id, 'deny', 'secondary', 'lname-'));
      li.append(avatar, who, actions);
    }
    for (const b of li.querySelectorAll('button')) {
      if (p.pending) b.setAttribute('aria-disabled', 'true');
      else b.removeAttribute('aria-disabled');
    }
    const at = prev ? prev.nextSibling : list.firstChild;
    if (li !== at) list.insertBefore(li, at);
    prev = li;
  }
}
