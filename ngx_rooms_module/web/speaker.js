// Who is speaking: the server says so (docs/protocol.md, "Who you see
// and hear": the `speaker` message).  It hears every voice of the room
// through the audio levels their packets carry (RFC 6464), takes the
// loudest over a short window, holds it a moment so the highlight does
// not flicker between two people talking over each other, and tells
// everyone: every screen highlights the same person, and puts them first
// in its view (so the server sends their video).  A browser could not
// tell by itself any more: it only receives the few loudest voices.

// A `speaker` message: state.speaker becomes its id (a string), or null
// when nobody speaks or it names nobody we know (yet); onChange(id) when
// that changed.  Our own id counts: we are highlighted when we speak.
export function heardSpeaker(state, msg, onChange) {
  let id = msg.id === null || msg.id === undefined ? null : String(msg.id);
  if (id !== null && id !== state.id && !state.people[id]) id = null;
  if (id === state.speaker) return;
  state.speaker = id;
  onChange(id);
}

// The voices we hear: each of our receiving audio m-lines plays in an
// <audio> of its own in holder (a hidden element), made once per m-line
// and kept while it exists.  The server moves voices between our few
// audio lines as people start and stop talking (`streams`); since the
// tiles show only video, such a move never touches a tile's picture.
// (Chromium counts the samples of an audio track only while a media
// element plays it.)  play(el) starts one, as the tiles' videos are.
export function attachVoices(holder, pc, play) {
  const live = new Set();
  for (const tr of pc ? pc.getTransceivers() : []) {
    const track = tr.receiver && tr.receiver.track;
    if (tr.direction !== 'recvonly' || tr.mid === null || !track ||
        track.kind !== 'audio') continue;
    live.add(tr.mid);
    let el = holder.querySelector('audio[data-mid="' + CSS.escape(tr.mid) +
                                  '"]');
    if (!el) {
      el = document.createElement('audio');
      el.dataset.mid = tr.mid;
      el.autoplay = true;
      holder.append(el);
    }
    const have = el.srcObject ? el.srcObject.getTracks() : [];
    if (have.length !== 1 || have[0] !== track) {
      el.srcObject = new MediaStream([track]);
      play(el);
    }
  }
  for (const el of holder.querySelectorAll('audio[data-mid]')) {
    if (!live.has(el.dataset.mid)) el.remove();
  }
}
