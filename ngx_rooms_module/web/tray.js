// Who this browser is, and the tray of rooms open to you (on `/`).
//
// "Remember me on this browser" keeps a display name and one guest
// token for every room (docs/api.md, "The tray"): the token is who the
// browser is to its people.  Without it each room gets its own token, as
// before, and nobody's tray learns of this browser.  The token goes to
// the server in the X-Rooms-Guest header (api/tray, api/people, a
// creation) and in the tray WebSocket's first message: never in a URL.
//
// The tray: one WebSocket per page (api/tray/ws), which sends the whole
// list at once and again whenever it changes, and this browser's
// reminders (schedule.js shows them: `/` opens no notice stream of its
// own); it reconnects with a backoff when it drops.  One click on a room opens it with #join=1, and
// the room page joins by itself with the remembered name.

import * as i18n from './i18n.js';
import { setText } from './i18n.js';

const ME = 'rooms.me';            // the browser's guest token
const NAME = 'rooms.name';
const REMEMBER = 'rooms.remember';

function get(key) {
  try {
    return localStorage.getItem(key);
  } catch (e) {
    return null;                   // storage off: nobody is remembered
  }
}

function put(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch (e) { /* see get() */ }
}

// Remembered unless the person said not to (the join form's checkbox).
export function remembered() {
  return get(REMEMBER) !== '0';
}

// The browser's guest token, when it is remembered.
export function myToken() {
  return remembered() ? get(ME) : null;
}

// A token the server gave at a join: the browser's, if it has none yet.
export function keepMyToken(tok) {
  if (remembered() && tok && !get(ME)) put(ME, tok);
}

export function myName() {
  return get(NAME) || '';
}

// on: keep the name (and, from the next welcome, the token); off: forget
// both, so that this browser is nobody's person from now on.
export function remember(on, name) {
  put(REMEMBER, on ? '1' : '0');
  put(NAME, on && name ? name : null);
  if (!on) put(ME, null);
}

// The header a request carries to say who this browser is.
export function meHeaders() {
  const tok = myToken();
  return tok ? { 'X-Rooms-Guest': tok } : {};
}


/* ---- the tray on `/` ------------------------------------------------- */

// Who shows the reminders that come on the tray's socket (schedule.js).
let reminderHandler = null;

export function onReminder(fn) {
  reminderHandler = fn;
}

// Whether this page has the tray's socket: it then brings the reminders.
export function hasTray() {
  return !!document.getElementById('tray');
}

const section = document.getElementById('tray');
if (section) mount(section);

function mount(root) {
  const heading = document.createElement('h2');
  heading.id = 'tray-h';
  setText(heading, 'tray.title');
  const list = document.createElement('ul');
  list.className = 'tray-list';
  const empty = document.createElement('p');
  empty.className = 'muted tray-empty';
  setText(empty, myToken() ? 'tray.empty' : 'tray.empty_new');
  const people = document.createElement('details');
  people.className = 'tray-people';
  const summary = document.createElement('summary');
  const plist = document.createElement('ul');
  people.append(summary, plist);
  root.setAttribute('aria-labelledby', heading.id);
  root.append(heading, list, empty, people);
  root.hidden = false;

  let rooms = [];
  const render = () => renderRooms(list, empty, rooms);
  i18n.onChange(render);

  connect((r) => {
    rooms = r;
    render();
  });
  people.addEventListener('toggle', () => {
    if (people.open) loadPeople(summary, plist);
  });
  loadPeople(summary, plist);
}

// One room of the tray: a link that drops in, with what to know first.
function item(room) {
  const li = document.createElement('li');
  li.className = 'tray-room';
  li.dataset.code = room.code;
  const a = document.createElement('a');
  a.href = 'r/' + encodeURIComponent(room.code) + '#join=1';
  const activity = document.createElement('span');
  activity.className = 'tray-activity';
  activity.textContent = (room.activity_label &&
    room.activity_label[i18n.lang]) || room.activity;
  const title = document.createElement('strong');
  title.className = 'tray-title';
  title.textContent = room.title || i18n.t('tray.untitled');
  const meta = document.createElement('span');
  meta.className = 'tray-meta';
  if (room.state === 'scheduled') {
    setText(meta, 'tray.opens', { when: room.start_at });
    li.classList.add('soon');
  } else {
    setText(meta, room.participants === 1 ? 'tray.one' : 'tray.many',
            { n: room.participants });
  }
  a.append(activity, title, meta);
  if (room.people && room.people.length) {
    const who = document.createElement('span');
    who.className = 'tray-who';
    who.textContent = room.people.join(', ');
    a.append(who);
  }
  if (room.admission === 'knock') {
    const k = document.createElement('span');
    k.className = 'tray-knock';
    setText(k, 'tray.knock');
    a.append(k);
  }
  const go = document.createElement('span');
  go.className = 'tray-go';
  setText(go, room.state === 'scheduled' ? 'tray.view' : 'tray.drop_in');
  a.append(go);
  li.append(a);
  return li;
}

function renderRooms(list, empty, rooms) {
  list.replaceChildren(...rooms.map(item));
  list.hidden = !rooms.length;
  empty.hidden = !!rooms.length;
}

// The live tray: hello with the token, then every list the server sends.
function connect(onRooms) {
  let delay = 1000;
  const open = () => {
    const url = new URL('api/tray/ws', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url);
    ws.addEventListener('open', () => {
      const hello = { type: 'hello' };
      const tok = myToken();
      if (tok) hello.guest_token = tok;
      ws.send(JSON.stringify(hello));
    });
    ws.addEventListener('message', (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (msg.type === 'tray' && Array.isArray(msg.rooms)) {
        delay = 1000;
        onRooms(msg.rooms);
      } else if (msg.type === 'reminder' && reminderHandler) {
        reminderHandler(msg);
      }
    });
    ws.addEventListener('close', () => {
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 30000);
    });
  };
  open();
}

// Your people, each with Forget, and Forget everyone.
async function loadPeople(summary, plist) {
  let people = [];
  if (myToken()) {
    try {
      const res = await fetch('api/people', { headers: meHeaders() });
      if (res.ok) people = (await res.json()).people || [];
    } catch (e) { /* shown as nobody */ }
  }
  setText(summary, 'tray.people', { n: people.length });
  summary.parentElement.hidden = !people.length;
  const rows = people.map((p) => {
    const li = document.createElement('li');
    const name = document.createElement('span');
    name.textContent = p.name;
    const forget = document.createElement('button');
    forget.type = 'button';
    forget.className = 'secondary';
    setText(forget, 'tray.forget');
    forget.addEventListener('click', async () => {
      await fetch('api/people/' + encodeURIComponent(p.id),
                  { method: 'DELETE', headers: meHeaders() });
      loadPeople(summary, plist);
    });
    li.append(name, forget);
    return li;
  });
  if (people.length > 1) {
    const li = document.createElement('li');
    const all = document.createElement('button');
    all.type = 'button';
    all.className = 'secondary';
    setText(all, 'tray.forget_all');
    all.addEventListener('click', async () => {
      if (!confirm(i18n.t('tray.confirm_forget_all'))) return;
      await fetch('api/people', { method: 'DELETE', headers: meHeaders() });
      loadPeople(summary, plist);
    });
    li.append(all);
    rows.push(li);
  }
  plist.replaceChildren(...rows);
}
