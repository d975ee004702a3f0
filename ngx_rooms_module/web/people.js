// The participant list: everyone in the call (us first), with a role
// badge and their microphone and camera state.  A host also gets, for
// each other person, "Ask to mute" and "Remove"; room.js handles their
// clicks (data-action, data-id) in one listener on the list.  Above it,
// for a host of a room with admission "knock", the people waiting to be
// let in, each with "Admit" and "Deny" (renderWaiting).
//
// Rows are updated in place, keyed by id, not redrawn: a keyboard user's
// focus stays on the button they were on when someone's state changes.

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

function fill(li, p, { isMe, canModerate }) {
  const id = li.dataset.person;
  li.querySelector('.avatar-sm').textContent = initial(p.name);
  li.querySelector('.avatar-sm').dataset.hue = hue(p.name);
  li.querySelector('.pname').textContent = p.name;       // text, not markup
  const you = li.querySelector('.you');
  if (isMe) setText(you, 'you_suffix');
  else setText(you, null);
  const role = li.querySelector('.role');
  setText(role, p.role === 'host' ? 'role.host' : 'role.guest');
  role.dataset.role = p.role === 'host' ? 'host' : 'guest';
  mediaState(li.querySelector('.media .audio'), 'audio', p.audio !== false);
  mediaState(li.querySelector('.media .video'), 'video', p.video !== false);

  const actions = li.querySelector('.actions');
  if (!canModerate || isMe) {
    actions.replaceChildren();
    return;
  }
  if (!actions.children.length) {
    actions.append(button('mute', id, 'ask_mute', 'secondary'),
                   button('remove', id, 'remove', 'danger'));
  }
  // nothing to ask of someone whose microphone is already off
  actions.querySelector('[data-action="mute"]').disabled = p.audio === false;
}

// me: our own {id, name, role, audio, video}; others: the rest, in the
// order they came; canModerate: we are the room's host.
export function renderPeople(list, me, others, canModerate) {
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
    fill(li, p, { isMe: p === me, canModerate });
    // in order: us, then the others as they came
    const at = prev ? prev.nextSibling : list.firstChild;
    if (li !== at) list.insertBefore(li, at);
    prev = li;
  }
}

// The people waiting in the lobby: waiting is [{id, name, pending}] in
// the order they knocked; pending: "Admit" or "Deny" was pressed and the
// server has not answered yet (the buttons say so, and room.js ignores
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
