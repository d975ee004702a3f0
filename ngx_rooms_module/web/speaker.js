// Who is speaking: twice a second, the peer connection's statistics give
// the audio level of each stream we receive (inbound-rtp, mapped to a
// person through the answer's mids) and of our own microphone (the
// media-source of our audio sender).  The loudest person above a
// threshold is the speaker, highlighted on the tiles.
//
// The level is the mean over the last half second, from the energy
// counters (sum of level² × duration), not the instantaneous audioLevel
// a poll would sample at a random moment: a word between two polls still
// counts.  A speaker stays highlighted through short pauses, and someone
// louder takes over only when clearly louder, so the highlight does not
// flicker between two people talking over each other.

const EVERY = 500;        // ms between polls
const THRESHOLD = 0.02;   // RMS 0..1, about -34 dBFS: a voice, not a room
const PAUSE = 1500;       // ms of quiet before the highlight goes

function meanLevel(s, before) {
  const d = s.totalSamplesDuration - (before ? before.d : 0);
  if (before && d > 0 && s.totalAudioEnergy >= before.e) {
    return Math.sqrt((s.totalAudioEnergy - before.e) / d);
  }
  return s.audioLevel || 0;    // the first poll, or no energy counters
}

// pc: the RTCPeerConnection; owner(mid) -> the participant id an m-line
// carries (or null); self() -> our id while our microphone is on, else
// null; onChange(id or null, levels) after each poll.  Returns stop().
export function watchSpeakers({ pc, owner, self, onChange }) {
  let before = new Map();     // stats id -> { e, d } of the last poll
  let speaker = null;
  let loudAt = 0;             // when the speaker was last above threshold
  let timer = null;
  let stopped = false;

  async function poll() {
    let stats;
    try {
      stats = await pc.getStats();
    } catch (e) {
      return;                 // closed under us: stop() follows
    }
    if (stopped) return;
    const levels = {};
    const now = new Map();
    stats.forEach((s) => {
      if (s.kind !== 'audio' || s.totalAudioEnergy === undefined &&
          s.audioLevel === undefined) return;
      let id = null;
      if (s.type === 'inbound-rtp') id = owner(s.mid);
      else if (s.type === 'media-source') id = self();
      if (id === null || id === undefined) return;
      now.set(s.id, { e: s.totalAudioEnergy || 0,
                      d: s.totalSamplesDuration || 0 });
      const l = meanLevel(s, before.get(s.id));
      levels[id] = Math.max(levels[id] || 0, l);
    });
    before = now;

    const t = Date.now();
    let top = null;
    for (const id of Object.keys(levels)) {
      if (top === null || levels[id] > levels[top]) top = id;
    }
    const mine = speaker !== null ? levels[speaker] || 0 : 0;
    if (speaker !== null && mine >= THRESHOLD) loudAt = t;
    if (top !== null && levels[top] >= THRESHOLD && top !== speaker &&
        (speaker === null || t - loudAt > EVERY || levels[top] > 2 * mine)) {
      speaker = top;
      loudAt = t;
    } else if (speaker !== null && t - loudAt > PAUSE) {
      speaker = null;
    }
    onChange(speaker, levels);
  }

  async function loop() {
    await poll();
    if (!stopped) timer = setTimeout(loop, EVERY);
  }
  timer = setTimeout(loop, EVERY);

  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
