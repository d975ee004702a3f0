// Scheduled rooms in the browser (README "Scheduled rooms").
//
// scheduleCard(): on the page of a room that has not opened yet, the
// start time and a countdown (on the server's clock, read from the Date
// header), "Remind me", "Add to calendar" (r/<code>/event.ics) and this
// browser's calendar feed (api/calendar); the host sees how many asked.
// At the start it calls onOpen(): room.js joins by itself when the
// person already pressed Join.
//
// watchNotices(): once this browser asked for a reminder (a flag in
// localStorage; the browser token itself is an HttpOnly cookie that
// scripts never see), a page without the tray opens one stream of
// server-sent events (api/notices); on `/` the tray's WebSocket brings
// them (tray.js), so that the page keeps one connection.  Each reminder
// shows once per page: a notice on the page and, when the person allowed
// it, a desktop notification.

import { t, setText } from './i18n.js';
import { meHeaders, onReminder, hasTray } from './tray.js';

const FLAG = 'rooms.reminders';

// What tests (and curious people in devtools) can read: the reminders
// this page was told of ({code, title, start_at, path}), in order.
const seen = window.roomsSchedule = { notices: [], reminded: null };

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k in e) e[k] = v;
    else e.setAttribute(k, v);
  }
  e.append(...kids);
  return e;
}

function flagged() {
  try {
    return !!localStorage.getItem(FLAG);
  } catch (e) {
    return false;
  }
}

function flag(on) {
  try {
    if (on) localStorage.setItem(FLAG, '1');
  } catch (e) { /* storage off: this page still has its stream */ }
}

/* ---- live notices ---------------------------------------------------- */

let source = null;
let banner = null;

// base: the URL of the location's root ('/', '/rooms/'), as a string
// ending in '/'.
export function watchNotices(base, force) {
  if (hasTray()) return;            // the tray's socket brings them
  if (source || !(force || flagged()) || !window.EventSource) return;
  source = new EventSource(base + 'api/notices');
  source.addEventListener('reminder', (ev) => {
    let n;
    try {
      n = JSON.parse(ev.data);
    } catch (e) {
      return;
    }
    notice(n);
  });
}

// A reminder from either: shown once on this page (a stream or socket
// that came back is told again).
function notice(n) {
  if (typeof n.code !== 'string' || typeof n.path !== 'string') return;
  if (seen.notices.some((o) => o.code === n.code &&
                        o.start_at === n.start_at)) return;
  seen.notices.push({ code: n.code, title: n.title,
                      start_at: n.start_at, path: n.path });
  showReminder(n);
}

onReminder(notice);

function showReminder(n) {
  const title = n.title || t('schedule.untitled');
  if (!banner) {
    banner = el('div', { class: 'reminder', role: 'status' });
    document.body.prepend(banner);
  }
  const text = el('p');
  setText(text, 'schedule.reminder', { title, when: n.start_at });
  const open = el('a', { href: n.path, class: 'button small' });
  setText(open, 'schedule.open');
  const close = el('button', { type: 'button', class: 'small secondary' });
  setText(close, 'dismiss');
  const item = el('div', { class: 'reminder-item' }, text, open, close);
  item.dataset.code = n.code;
  close.addEventListener('click', () => {
    item.remove();
    if (!banner.childElementCount) banner.hidden = true;
  });
  banner.hidden = false;
  banner.append(item);
  if (window.Notification && Notification.permission === 'granted') {
    try {
      // one per room, however many pages of this browser are open
      new Notification(t('schedule.notify_title'), {
        body: t('schedule.reminder', { title, when: n.start_at }),
        tag: 'rooms-' + n.code,
      });
    } catch (e) { /* some browsers allow them only from a worker */ }
  }
}

/* ---- the card of a room that has not opened yet ---------------------- */

function pad(n) {
  return String(n).padStart(2, '0');
}

// "1:02:03", "2:03"; whole days before it
function left(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor(s / 3600) % 24;
  const m = Math.floor(s / 60) % 60;
  const clock = (h || d ? h + ':' + pad(m) : m) + ':' + pad(s % 60);
  return d ? t('schedule.days', { n: d }) + ' ' + clock : clock;
}

// opts: { code() (the room's current code), startAt (ISO), api
// ('../api/'), base (the location's root), hostKey, before (the element
// the card goes before), onOpen() }
export function scheduleCard(opts) {
  const when = el('p', { class: 'opens' });
  const countdown = el('p', { class: 'countdown', role: 'timer' });
  const remind = el('button', { type: 'button', id: 'remind' });
  const calendar = el('a', { id: 'add-calendar', class: 'button secondary',
                             download: 'event.ics' });
  const subscribe = el('button', { type: 'button', id: 'subscribe',
                                   class: 'secondary' });
  const said = el('p', { class: 'muted', id: 'remind-said' });
  const count = el('p', { class: 'muted', id: 'remind-count', hidden: true });
  const feedLabel = el('label', { htmlFor: 'feed-url' });
  const feedUrl = el('input', { id: 'feed-url', readOnly: true });
  const feedCopy = el('button', { type: 'button', class: 'secondary' });
  const feed = el('div', { class: 'feed', hidden: true }, feedLabel,
                  el('div', { class: 'row' }, feedUrl, feedCopy));
  const card = el('section', { id: 'schedule', class: 'card schedule' },
                  when, countdown,
                  el('div', { class: 'row actions' }, remind, calendar,
                     subscribe),
                  said, count, feed);
  setText(feedLabel, 'schedule.feed_label');
  setText(feedCopy, 'copy');
  setText(calendar, 'schedule.add_calendar');
  setText(subscribe, 'schedule.subscribe');
  opts.before.before(card);

  let start = Date.parse(opts.startAt);
  let skew = 0;                   // the server's clock minus ours, in ms
  let reminded = false;
  let timer = null;

  const url = () => opts.api + 'rooms/' + encodeURIComponent(opts.code()) +
    '/reminders';
  const auth = () => opts.hostKey
    ? { 'Authorization': 'Bearer ' + opts.hostKey } : {};

  function render() {
    setText(when, 'schedule.opens', { when: new Date(start).toISOString() });
    setText(remind, reminded ? 'schedule.unremind' : 'schedule.remind');
    remind.setAttribute('aria-pressed', reminded ? 'true' : 'false');
    setText(said, reminded ? 'schedule.reminder_set' : null);
    calendar.href = encodeURIComponent(opts.code()) + '/event.ics';
    seen.reminded = reminded;
  }

  function show(data, res) {
    const date = res && Date.parse(res.headers.get('Date'));
    if (date) skew = date - Date.now();
    reminded = !!data.reminded;
    if (typeof data.count === 'number') {
      count.hidden = false;
      setText(count, 'schedule.count', { n: data.count });
    }
    render();
  }

  async function ask(method) {
    let res, data;
    try {
      res = await fetch(url(), { method, headers: auth() });
      data = await res.json();
    } catch (e) {
      return;
    }
    if (!res.ok) {
      setText(said, 'schedule.failed', {
        msg: (data.error && data.error.message) || res.status,
      });
      return;
    }
    show(data, res);
  }

  remind.addEventListener('click', async () => {
    if (reminded) {
      ask('DELETE');
      return;
    }
    // asked in the click itself: browsers want a gesture for it
    if (window.Notification && Notification.permission === 'default') {
      Notification.requestPermission().catch(() => {});
    }
    // the answer sets the browser token the notice stream then carries
    await ask('POST');
    if (reminded) {
      flag(true);
      watchNotices(opts.base, true);
    }
  });

  subscribe.addEventListener('click', async () => {
    let res, data;
    try {
      // with this browser's remembered guest token (tray.js), if any: the
      // feed then lists its people's scheduled rooms too
      res = await fetch(opts.api + 'calendar', {
        method: 'POST', headers: meHeaders(),
      });
      data = await res.json();
    } catch (e) {
      return;
    }
    if (res.ok && data.url) {
      feedUrl.value = data.url;
      feed.hidden = false;
      setText(subscribe, 'schedule.new_feed');
    }
  });

  feedCopy.addEventListener('click', async () => {
    feedUrl.select();
    try {
      await navigator.clipboard.writeText(feedUrl.value);
    } catch (e) {
      document.execCommand('copy');
    }
    setText(feedCopy, 'copied');
    setTimeout(() => setText(feedCopy, 'copy'), 2500);
  });

  function tick() {
    const ms = start - (Date.now() + skew);
    if (ms <= 0) {
      clearInterval(timer);
      timer = null;
      card.hidden = true;
      opts.onOpen();
      return;
    }
    setText(countdown, 'schedule.countdown', { left: left(ms) });
  }

  render();
  ask('GET');
  timer = setInterval(tick, 1000);
  tick();
  // the host's count follows who asks
  const poll = opts.hostKey ? setInterval(() => {
    if (timer) ask('GET');
    else clearInterval(poll);
  }, 15000) : null;

  return {
    // the host moved the start (or the room ended): follow it
    update(startAt, ended) {
      if (ended) {
        clearInterval(timer);
        card.hidden = true;
        return;
      }
      if (startAt && Date.parse(startAt) !== start) {
        start = Date.parse(startAt);
        render();
      }
    },
  };
}

