// The call's stage: one tile per other participant, and one per shared
// screen, and what each tile plays.
//
// Who we see and hear (docs/protocol.md, "Who you see and hear"): the
// few loudest voices, and as many remote videos as the server has video
// slots for us, chosen from our `view`: the tiles on screen, the pinned
// one and the speaker (as the server says, speaker.js) first (grid.js).
// The server may move a voice or a video to another of our m-lines and
// say so with `streams`; a tile whose video has no m-line shows the
// person's initial and name.
//
// Owns: the tiles in #tiles (made, updated, removed), the pin, our view
// (sent to the server), putting the receivers' tracks on the tiles, the
// speaker's highlight, paused videos, and the status line's count of
// the others.
// Must never negotiate (media.js) or change anyone's role or the lobby
// (panel.js); it reads the peer connection only to find its receivers.
//
// stage(state, hooks) wires it; the hooks are room.js's:
//   send(msg)        to the server, if the WebSocket is open
//   inCall()         in the call with an open WebSocket
//   pc()             the peer connection, or null
//   renderList()     the participant list again (panel.js)

import * as i18n from './i18n.js';
import { watchGrid, watchView } from './grid.js';
import {
  makeTile, makeScreenTile, updateTile, showPaused, highlight,
} from './tiles.js';
import { say } from './words.js';

export function stage(state, hooks) {
  const tiles = document.getElementById('tiles');

  const relayout = watchGrid(tiles);

  // Our view: the tiles on screen, the pinned one and the speaker first,
  // for the server to choose whose video we get.  Only in the call: not
  // before welcome, not while waiting in the lobby (it would be ignored).
  const view = watchView(tiles, {
    first: () => [state.pinned, state.speaker],
    onView: (ids, sizes) => {
      if (!hooks.inCall() || state.waiting) return false;
      const raw = ids.map((id) =>
        (state.people[id] ? state.people[id].id : id));
      hooks.send({ type: 'view', ids: raw, sizes });
      state.view = raw;
      return true;
    },
  });

  // Pinning a tile puts it first on the grid and first in our view: the
  // way to choose whom to see when there are more people than video
  // slots.  Pressing the pin again (or pinning someone else) lets it go.
  function pin(id) {
    state.pinned = id === state.pinned ? null : id;
    for (const tile of tiles.querySelectorAll('[data-participant]')) {
      const on = tile.dataset.participant === state.pinned;
      tile.classList.toggle('pinned', on);
      tile.querySelector('button.pin').setAttribute('aria-pressed',
                                                    String(on));
    }
    // the pinned tile moved to the top, and is large now: show it
    if (state.pinned) tiles.scrollTop = 0;
    relayout();
    view.update();
  }

  tiles.addEventListener('click', (ev) => {
    const b = ev.target.closest('button.pin');
    const tile = b && b.closest('[data-participant]');
    if (tile) pin(tile.dataset.participant);
  });

  function tileOf(id) {
    return tiles.querySelector('[data-participant="' + CSS.escape(id) +
                               '"]');
  }

  function addParticipant(p) {
    const id = String(p.id);
    const person = state.people[id] = {
      id: p.id, name: p.name, role: p.role || 'guest',
      audio: p.audio, video: p.video,
    };
    state.participants[id] = p.name;
    let tile = tileOf(id);
    if (!tile) {
      tile = makeTile(person);
      i18n.translate(tile);
      tiles.append(tile);
    }
    updateTile(tile, person);
    countOthers();
    hooks.renderList();
    // the answer may have named this participant's streams already
    if (hooks.pc()) attachStreams();
  }

  function removeParticipant(id) {
    id = String(id);
    delete state.participants[id];
    delete state.people[id];
    const tile = tileOf(id);
    if (tile) tile.remove();
    if (state.speaker === id) state.speaker = null;
    if (state.pinned === id) state.pinned = null;
    countOthers();
    hooks.renderList();
  }

  function participantMedia(msg) {
    const p = state.people[String(msg.id)];
    if (!p) return;
    p.audio = msg.audio;
    p.video = msg.video;
    const tile = tileOf(String(msg.id));
    if (tile) updateTile(tile, p);
    hooks.renderList();
  }

  function countOthers() {
    if (!state.joined) return;
    const n = Object.keys(state.participants).length;
    if (n === 0) say('count.alone');
    else if (n === 1) say('count.one');
    else say('count.many', { n });
  }

  // Autoplay with sound needs a user gesture; pressing Join was one, so
  // this normally plays.  If a browser still refuses, play muted and turn
  // the sound on at the next click anywhere.
  function play(video) {
    video.play().catch(() => {
      video.muted = true;
      video.play().catch(() => {});
      say('click_to_hear');
      document.addEventListener('click', () => {
        for (const v of tiles.querySelectorAll('[data-participant] video')) {
          v.muted = false;
          v.play().catch(() => {});
        }
        countOthers();
      }, { once: true });
    });
  }

  // After each answer: give every participant's <video> exactly the
  // tracks the answer assigns to them.  One MediaStream per participant
  // holds its audio and video, so the element plays both (and Chromium
  // only counts audio samples of tracks attached to a media element).
  // A line the map marks `screen` is someone's shared screen: it gets a
  // tile of its own, first and large (grid.js), and their camera stays on
  // their tile, small beside it.
  function attachStreams() {
    const tracks = {};
    const screens = {};
    for (const tr of hooks.pc().getTransceivers()) {
      const s = tr.mid !== null && state.streams[tr.mid];
      if (!s || !tr.receiver.track) continue;
      const id = String(s.participant);
      if (s.screen && s.kind === 'video') {
        screens[id] = tr.receiver.track;
        continue;
      }
      (tracks[id] = tracks[id] || []).push(tr.receiver.track);
    }
    attachScreens(screens);
    for (const tile of tiles.querySelectorAll('[data-participant]')) {
      const video = tile.querySelector('video');
      const theirs = tracks[tile.dataset.participant] || [];
      // no video slot for them now: their initial and name, not a frozen
      // or black picture
      tile.classList.toggle('no-video',
        !theirs.some((tr) => tr.kind === 'video'));
      const have = video.srcObject ? video.srcObject.getTracks() : [];
      if (theirs.length === have.length &&
          theirs.every((tr) => have.includes(tr))) continue;
      video.srcObject = theirs.length ? new MediaStream(theirs) : null;
      if (theirs.length) play(video);
    }
  }

  // The screen tiles: one per screen the map carries, the others go.  A
  // host or co-host sees "Stop their share" on a sharer's row.
  function attachScreens(screens) {
    for (const tile of tiles.querySelectorAll('[data-screen]')) {
      if (!screens[tile.dataset.screen]) tile.remove();
    }
    let changed = false;
    for (const p of Object.values(state.people)) {
      const on = Boolean(screens[String(p.id)]);
      if (Boolean(p.sharing) !== on) changed = true;
      p.sharing = on;
    }
    for (const [id, track] of Object.entries(screens)) {
      let tile = tiles.querySelector('[data-screen="' + CSS.escape(id) +
                                     '"]');
      if (!tile) {
        const p = state.people[id];
        tile = makeScreenTile(id, p ? p.name : '');
        tiles.prepend(tile);
        // a screen is what everyone looks at: show it
        tiles.scrollTop = 0;
      }
      const video = tile.querySelector('video');
      const have = video.srcObject ? video.srcObject.getTracks() : [];
      if (have.length !== 1 || have[0] !== track) {
        video.srcObject = new MediaStream([track]);
        video.play().catch(() => {});
      }
    }
    if (changed) hooks.renderList();
    // the tiles moved and shrank: our view's sizes with them
    view.update();
  }

  return {
    relayout,
    view,
    tileOf,
    addParticipant,
    removeParticipant,
    participantMedia,
    countOthers,
    attachStreams,

    // the server says who speaks (speaker.js): highlighted, first in view
    speaker(id) {
      highlight(tiles, id, state.id);
      view.update();
    },

    // our link cannot carry these videos now: say so on their tiles
    paused(ids) {
      state.paused = (ids || []).map(String);
      for (const tile of tiles.querySelectorAll('[data-participant]')) {
        showPaused(tile, state.paused.includes(tile.dataset.participant));
      }
    },

    // the call ends on this side: every tile but our own goes
    clear() {
      for (const tile of tiles.querySelectorAll('[data-participant], ' +
                                                '[data-screen]')) {
        tile.remove();
      }
      highlight(tiles, null, null);
    },
  };
}
