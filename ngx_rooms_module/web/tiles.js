// One tile per person in the call: their video, their name, whether they
// are the host or a co-host, and badges when their microphone or camera is off.  With
// the camera off, a coloured circle with their initial stands in for the
// black picture, and also while we receive no video of theirs (the
// server gives us a few video slots, see stage.js).  Our own tile (#self) is in the page from the start and
// has no data-participant (tests count the others by it).

import { icon } from './icons.js';
import { setText, t } from './i18n.js';

// The same person gets the same colour on every screen.
export function hue(name) {
  let h = 0;
  for (const c of name) h = (h * 31 + c.codePointAt(0)) >>> 0;
  return String(h % 8);
}

export function initial(name) {
  const c = [...name.trim()][0] || '?';
  return c.toLocaleUpperCase();
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;   // text, never markup
  return e;
}

function badge(kind, iconName, key) {
  const b = el('span', 'badge');
  b.dataset.badge = kind;
  b.hidden = true;
  const label = el('span', 'vh');
  label.dataset.i18n = key;
  b.append(icon(iconName), label);
  return b;
}

// A new tile for participant p ({id, name, role, audio, video}); the
// caller translates it (the badges' words) and adds it to the grid.
export function makeTile(p) {
  const tile = el('figure', 'tile');
  tile.dataset.participant = String(p.id);
  // no video of theirs until an answer or streams message binds it
  tile.classList.add('no-video');
  const video = el('video');
  video.autoplay = true;
  video.playsInline = true;
  video.setAttribute('aria-label', p.name);
  const avatar = el('div', 'avatar');
  avatar.setAttribute('aria-hidden', 'true');
  avatar.append(el('span'));
  const caption = el('figcaption');
  const host = el('span', 'role-tag');
  host.dataset.i18n = 'role.host';
  host.hidden = true;
  // the server paused their video for our link (video_paused): why
  const paused = el('span', 'paused-note');
  paused.dataset.i18n = 'video_paused';
  paused.hidden = true;
  caption.append(el('span', 'name', p.name), host,
                 badge('audio', 'mic-off', 'mic_off'),
                 badge('video', 'cam-off', 'cam_off'), paused);
  // pin: first on the grid and first in our view (stage.js)
  const pin = el('button', 'pin');
  pin.type = 'button';
  pin.setAttribute('aria-pressed', 'false');
  pin.dataset.i18nLabel = 'pin';
  pin.dataset.i18nArgs = JSON.stringify({ name: p.name });
  pin.append(icon('pin'));
  tile.append(video, avatar, caption, pin);
  updateTile(tile, p);
  return tile;
}

// The tile of someone's shared screen (stage.js adds it when the streams
// map marks a line `screen`): first and large on the grid (grid.js), the
// whole picture shown.  It has data-screen, not data-participant: it is
// no person (tests and our view count people by data-participant).
export function makeScreenTile(id, name) {
  const tile = el('figure', 'tile screen');
  tile.dataset.screen = String(id);
  const video = el('video');
  video.autoplay = true;
  video.playsInline = true;
  video.muted = true;                // a screen has no sound here
  const caption = el('figcaption');
  const label = el('span', 'name');
  setText(label, 'screen_of', { name });
  caption.append(label);
  video.setAttribute('aria-label', label.textContent);
  tile.append(video, caption);
  return tile;
}

// Name, role and media state (either may be unknown: undefined is "on").
export function updateTile(tile, p) {
  if (p.name !== undefined) {
    const name = tile.querySelector('.name');
    // our own tile says "You", translated; the others say their name
    if (tile.id !== 'self') name.textContent = p.name;
    const pin = tile.querySelector('button.pin');
    if (pin) {
      pin.dataset.i18nArgs = JSON.stringify({ name: p.name });
      pin.setAttribute('aria-label', t('pin', { name: p.name }));
    }
    tile.dataset.hue = hue(p.name);
    tile.querySelector('.avatar span').textContent = initial(p.name);
  }
  if (p.role !== undefined) showRole(tile, p.role);
  tile.querySelector('[data-badge="audio"]').hidden = p.audio !== false;
  tile.querySelector('[data-badge="video"]').hidden = p.video !== false;
  tile.classList.toggle('video-off', p.video === false);
}

// Whether the server paused this tile's video for our link: the avatar
// shows instead of a frozen picture, and the caption says why.
export function showPaused(tile, on) {
  tile.classList.toggle('paused', on);
  tile.querySelector('.paused-note').hidden = !on;
}

// The role tag: "Host" or "Co-host"; a guest has none.
export function showRole(tile, role) {
  const tag = tile.querySelector('.role-tag');
  const shown = role === 'host' || role === 'cohost';
  tag.hidden = !shown;
  tag.dataset.role = shown ? role : 'guest';
  if (shown) setText(tag, 'role.' + role);
}

// The speaker's tile gets the highlight (id null: nobody's).
export function highlight(container, id, selfId) {
  for (const tile of container.children) {
    const who = tile.id === 'self' ? selfId : tile.dataset.participant;
    tile.classList.toggle('speaking', id !== null && who === id);
  }
}
