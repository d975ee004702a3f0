// What this browser keeps to be the same person in a room: the guest
// token and, for a co-host, the co-host key (docs/protocol.md), in
// localStorage per room.
//
// Owns: the storage keys (rooms.guest.<code>, rooms.cohost.<code>) and
// what happens when storage is off (a new guest each time, no co-host
// key kept).
// Must never send a token or key anywhere: signal.js puts them in a
// join, and only there (never in a URL).

import { keepMyToken, myToken } from './tray.js';

// The guest token (docs/protocol.md): who we are in this room, kept by
// this browser, sent with each join.  A removed guest's token stays
// banned, so pressing Join again gets "removed" again.
const tokenKey = (c) => 'rooms.guest.' + c;

// A browser that is remembered (tray.js) brings its own token to a room
// it has none for: the same person in every room, to its people.
export function guestToken(c) {
  try {
    return localStorage.getItem(tokenKey(c)) || myToken();
  } catch (e) {
    return null;        // storage off: a new guest each time
  }
}

export function keepToken(c, tok) {
  try {
    localStorage.setItem(tokenKey(c), tok);
  } catch (e) { /* see guestToken() */ }
  keepMyToken(tok);
}

// The co-host key (docs/protocol.md, "Co-hosts"): given in a role
// message, kept per room next to the guest token, sent with each join
// (it works only with the guest token it was given with), forgotten when
// the host takes it back.
const cohostKeyOf = (c) => 'rooms.cohost.' + c;

export function cohostKey(c) {
  try {
    return localStorage.getItem(cohostKeyOf(c));
  } catch (e) {
    return null;
  }
}

export function keepCohostKey(c, key) {
  try {
    if (key) localStorage.setItem(cohostKeyOf(c), key);
    else localStorage.removeItem(cohostKeyOf(c));
  } catch (e) { /* see guestToken() */ }
}
