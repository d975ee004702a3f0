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
