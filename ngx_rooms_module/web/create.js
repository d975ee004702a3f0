// The create-a-room page: posts the form to the JSON API and shows the
// invite link (to share) and the host link (to keep).

import * as i18n from './i18n.js';
import { setText } from './i18n.js';
import { drawIcons } from './icons.js';
// the reminders the tray's socket brings (tray.js) show as schedule.js's
import './schedule.js';
import { meHeaders } from './tray.js';

const form = document.getElementById('create');
const result = document.getElementById('result');
const error = document.getElementById('error');

// The markup of these is pinned exactly by t/007-pages.t, so the server
// cannot mark them; they are marked here, before the first translation.
document.querySelector('label[for="title"]').dataset.i18n =
  'create.label_title';
form.querySelector('button[type="submit"]').dataset.i18n = 'create.submit';

// What happens when the host leaves (host_absent, docs/api.md).  The
// server's markup has no field for it; it goes after "Who gets in".
const HOST_ABSENT = [['stay_open', 'create.stay_open'],
                            ['lock', 'create.lock'], ['end', 'create.end']];

function addHostAbsent() {
  const label = document.createElement('label');
  label.htmlFor = 'host_absent';
  setText(label, 'create.host_absent');
  const select = document.createElement('select');
  select.id = select.name = 'host_absent';
  for (const [value, key] of HOST_ABSENT) {
    const o = new Option('', value);
    setText(o, key);
    select.append(o);
  }
  const before = form.querySelector('label[for="start_at"]');
  form.insertBefore(label, before);
  form.insertBefore(select, before);
}

addHostAbsent();

// Who may find the room (audience, docs/api.md): the link only, the
// tray of the creator's people, or everyone's tray on this site.
const AUDIENCE = [['link', 'create.aud_link'], ['friends', 'create.aud_friends'],
                  ['public', 'create.aud_public']];

function addAudience() {
  const label = document.createElement('label');
  label.htmlFor = 'audience';
  setText(label, 'create.audience');
  const select = document.createElement('select');
  select.id = select.name = 'audience';
  for (const [value, key] of AUDIENCE) {
    const o = new Option('', value);
    setText(o, key);
    select.append(o);
  }
  const before = form.querySelector('label[for="admission"]');
  form.insertBefore(label, before);
  form.insertBefore(select, before);
}

addAudience();

// The activities in both languages, from the server's table (a <template>
// of data-en/data-it pairs next to the <select>).
function labelActivities() {
  const labels = document.getElementById('activity-labels');
  if (!labels) return;
  for (const o of labels.content.querySelectorAll('option')) {
    const opt = form.elements.activity.querySelector(
      'option[value="' + CSS.escape(o.value) + '"]');
    if (opt) opt.textContent = o.dataset[i18n.lang] || o.dataset.en;
  }
}

i18n.onChange(() => {
  document.title = i18n.t('create.title');
  labelActivities();
});

function copyButton(button, input, key) {
  button.addEventListener('click', async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
    } catch (e) {
      document.execCommand('copy');
    }
    setText(button, 'copied');
    setTimeout(() => setText(button, key), 2500);
  });
}

copyButton(document.getElementById('copy-invite'),
           document.getElementById('invite'), 'copy_invite');
copyButton(document.getElementById('copy-host'),
           document.getElementById('host'), 'create.copy_host');

function fail(key, args) {
  setText(error, key, args);
  error.hidden = false;
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  error.hidden = true;
  const body = {
    title: form.elements.title.value.trim(),
    activity: form.elements.activity.value,
    admission: form.elements.admission.value,
    host_absent: form.elements.host_absent.value,
    audience: form.elements.audience.value,
  };
  if (form.elements.start_at.value) {
    body.start_at = new Date(form.elements.start_at.value).toISOString();
  }
  let res, data;
  try {
    res = await fetch('api/rooms', {
      method: 'POST',
      // who creates it: its "friends" are this browser's people
      headers: { 'Content-Type': 'application/json', ...meHeaders() },
      body: JSON.stringify(body),
    });
    data = await res.json();
  } catch (e) {
    fail('create.unreachable');
    return;
  }
  if (!res.ok) {
    // the API explains in English; the sentence around it is translated
    const msg = data.error ? data.error.message : 'HTTP ' + res.status;
    fail(res.status === 422 ? 'create.invalid' : 'create.failed', { msg });
    return;
  }
  document.getElementById('invite').value = data.invite_url;
  document.getElementById('host').value = data.host_url;
  document.getElementById('open-host').href = data.host_url;
  // a scheduled room: its calendar file, next to the links
  const cal = document.getElementById('add-calendar');
  cal.hidden = data.state !== 'scheduled';
  cal.href = 'r/' + encodeURIComponent(data.code) + '/event.ics';
  result.hidden = false;
});

// the "Add to calendar" link of a scheduled room's result
function addCalendarLink() {
  const a = document.createElement('a');
  a.id = 'add-calendar';
  a.download = 'event.ics';
  a.hidden = true;
  setText(a, 'schedule.add_calendar');
  const p = document.createElement('p');
  p.append(a);
  result.append(p);
}

addCalendarLink();

drawIcons();
i18n.start();
