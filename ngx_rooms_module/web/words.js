// What the room page says: the status line (role=status), the alert
// (role=alert) and the passing notice, and the sentence for each refusal.
//
// Owns: the words in #status, #error and #notice, and the choice of
// sentence for every error code of docs/protocol.md and of the host
// actions in docs/api.md.
// Must never decide anything about the call: callers say what happened,
// this file only puts it into words (i18n.js's keys).

import * as i18n from './i18n.js';
import { setText } from './i18n.js';

const status = document.getElementById('status');
const error = document.getElementById('error');
const noticeEl = document.getElementById('notice');

export function say(key, args) {
  setText(status, key, args);
}

export function fail(key, args) {
  setText(error, key, args);
  error.hidden = !key;
}

// true when the alert shows the same words as the status line: after a
// refusal the alert says why, and the status line need not say it twice
export function saidTwice() {
  return !error.hidden && status.textContent === error.textContent;
}

// A passing message (a toast): the host's actions, refusals that keep
// the call going.
let noticeTimer = null;
export function notice(key, args) {
  setText(noticeEl, key, args);
  noticeEl.hidden = !key;
  clearTimeout(noticeTimer);
  if (key) noticeTimer = setTimeout(() => notice(null), 6000);
}

// A refusal's words: every error code of docs/protocol.md and of the
// host actions in docs/api.md has its sentence; anything else is shown
// with the server's own message.
export function refusal(err) {
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
