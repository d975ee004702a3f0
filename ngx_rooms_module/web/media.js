// Our media in the call: the camera and microphone, the one
// RTCPeerConnection to the media worker (docs/protocol.md) and its
// renegotiation, simulcast, and sharing the screen.
//
// The browser is the only offerer: it sends its own camera and
// microphone on sendonly m-lines and receives everyone else on recvonly
// m-lines, as many as the server asks for (welcome, renegotiate); each
// answer, and each streams message, says whose media each recvonly
// m-line carries (state.streams), and stage.js puts those tracks on the
// tiles.
//
// Owns: our camera and microphone (opened early, while the WebSocket
// connects, or at welcome), the microphone and camera buttons, the peer
// connection, the offers (one at a time), the streams map's order
// (the newest wins), and the screen share's transceiver and button.
// Must never open the WebSocket or read what it says (room.js hands this
// file the messages that are its own), nor draw tiles (stage.js).
//
// callMedia(state, hooks) wires it; the hooks are room.js's:
//   send(msg)        to the server, if the WebSocket is open
//   inCall()         in the call with an open WebSocket
//   attach()         put the receivers' tracks on the tiles (stage.js)
//   viewChanged()    the tiles may have moved: our view again (grid.js)
//   shown(m)         our microphone and camera ({audio, video}) changed

import { setText } from './i18n.js';
import { openMedia, pruneRecv } from './devices.js';
import { fail, notice } from './words.js';

export function callMedia(state, hooks) {
  const $ = (id) => document.getElementById(id);
  const micButton = $('mic');
  const camButton = $('cam');
  const shareButton = $('share');

  let pc = null;           // the one RTCPeerConnection
  let local = null;        // our camera and microphone (a MediaStream)
  let want = { audio: 0, video: 0 };   // remote streams to receive, per kind
  let negotiating = false; // an offer is out and its answer not yet in
  let again = false;       // a renegotiate came while negotiating
  // The camera and microphone open while the WebSocket connects, when the
  // room lets us straight in (open, or our host link): the two waits
  // overlap.  A knock room's guest opens nothing before it is let in.
  let early = null;  // { media: a promise of openMedia(), dropped, open: it }

  function localTrack(kind) {
    return local ? local.getTracks().find((tr) => tr.kind === kind) : null;
  }

  function mediaState() {
    const a = localTrack('audio');
    const v = localTrack('video');
    return { audio: !!a && a.enabled, video: !!v && v.enabled };
  }

  function sendMedia() {
    hooks.send(Object.assign({ type: 'media' }, mediaState()));
  }

  function showToggles() {
    const m = mediaState();
    micButton.setAttribute('aria-pressed', String(m.audio));
    camButton.setAttribute('aria-pressed', String(m.video));
    micButton.disabled = !localTrack('audio');
    camButton.disabled = !localTrack('video');
    hooks.shown(m);
  }

  function toggle(kind) {
    const tr = localTrack(kind);
    if (!tr) return;
    // a disabled track keeps its m-line and sends silence or black
    // frames: no renegotiation, and turning it back on is instant
    tr.enabled = !tr.enabled;
    showToggles();
    sendMedia();
  }

  micButton.addEventListener('click', () => toggle('audio'));
  camButton.addEventListener('click', () => toggle('video'));

  // Sharing the screen: a second video of ours, on an m-line of its own
  // (no simulcast: one stream, its content hint "detail" so text stays
  // sharp), which the server gives everyone first.  Its transceiver is
  // kept when the share stops (inactive, no track) and used again by the
  // next share: the same m-line, the same mid.  A browser without
  // getDisplayMedia (a phone) shows no button.
  let shareTr = null;      // our screen's transceiver
  let shareTrack = null;   // the screen being shared, or null
  let shareTold = null;    // the mid the server was told in `share`
  const canShare = Boolean(navigator.mediaDevices &&
                           navigator.mediaDevices.getDisplayMedia);

  function showShare() {
    state.sharing = Boolean(shareTrack);
    shareButton.hidden = !canShare || !hooks.inCall() || state.waiting;
    shareButton.disabled = !pc;
    shareButton.setAttribute('aria-pressed', String(state.sharing));
    setText(shareButton.querySelector('.label'),
            state.sharing ? 'stop_sharing' : 'share');
  }

  async function startShare() {
    if (!pc || shareTrack) return;
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({
        video: { frameRate: { ideal: 15, max: 30 } }, audio: false,
      });
    } catch (e) {
      // pressing Cancel in the browser's picker is no failure to report
      if (e.name !== 'NotAllowedError' && e.name !== 'AbortError') {
        notice('notice.share_failed', { msg: e.message });
      }
      return;
    }
    const track = stream.getVideoTracks()[0];
    if (!track || !pc || shareTrack) {
      for (const tr of stream.getTracks()) tr.stop();
      return;
    }
    if ('contentHint' in track) track.contentHint = 'detail';
    // the browser's own "Stop sharing" bar ends the track
    track.addEventListener('ended', () => stopShare(true));
    shareTrack = track;
    if (shareTr) {
      await shareTr.sender.replaceTrack(track);
      shareTr.direction = 'sendonly';
    } else {
      shareTr = pc.addTransceiver(track, { direction: 'sendonly' });
    }
    showShare();
    negotiate();
  }

  // Ends our share; tell: the server does not know yet (we stopped it).
  function stopShare(tell) {
    if (!shareTrack) return;
    const track = shareTrack;
    shareTrack = null;
    track.stop();
    if (tell && shareTold !== null) hooks.send({ type: 'unshare' });
    shareTold = null;
    if (shareTr && pc) {
      shareTr.sender.replaceTrack(null).catch(() => {});
      shareTr.direction = 'inactive';
      negotiate();
    }
    showShare();
  }

  shareButton.addEventListener('click', () => {
    if (shareTrack) stopShare(true);
    else startShare();
  });

  // Ask for one negotiation; they run one at a time (docs/protocol.md:
  // the next offer only after the answer).
  function negotiate() {
    if (negotiating) {
      again = true;
      return;
    }
    negotiating = true;
    again = false;
    offer().catch((e) => {
      negotiating = false;
      fail('setup_failed', { msg: e.message });
    });
  }

  async function offer() {
    // receive slots are added as the server asks, and never removed: the
    // server keeps each remote stream on the same m-line while it exists,
    // and answers the unused ones inactive
    for (const kind of ['audio', 'video']) {
      const have = pc.getTransceivers().filter((tr) =>
        tr.receiver.track.kind === kind && tr.direction === 'recvonly').length;
      for (let i = have; i < want[kind]; i++) {
        pc.addTransceiver(kind, { direction: 'recvonly' });
      }
    }
    // only the codecs and header extensions the server forwards: 8 audio
    // and 16 video m-lines must fit one message (devices.js)
    for (const tr of pc.getTransceivers()) pruneRecv(tr);
    await pc.setLocalDescription(await pc.createOffer());
    // our screen's m-line has its mid now: the server hears which line is
    // the screen before the offer that carries it
    if (shareTrack && shareTr && shareTr.mid !== null &&
        shareTold !== shareTr.mid) {
      hooks.send({ type: 'share', mid: shareTr.mid });
      shareTold = shareTr.mid;
    }
    // No trickle: the server is ICE-lite, so it never needs our
    // candidates (it only answers our checks), and its answer carries its
    // own one.
    hooks.send({ type: 'offer', sdp: pc.localDescription.sdp });
    state.offers++;
  }

  async function answered(msg) {
    if (!pc) return;
    const seq = ++maps;
    await pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
    // a streams message that came meanwhile is newer than this map
    if (seq === maps) bindStreams(msg.streams);
    else hooks.attach();
    negotiating = false;
    if (again) negotiate();
    // new tiles may have come while the offer was out
    hooks.viewChanged();
  }

  // answer.streams and the streams message: the whole map of whose media
  // each of our receiving m-lines carries, replacing the last one.
  // `maps` counts the maps received, so that the newest wins.
  let maps = 0;
  function bindStreams(map) {
    state.streams = map && typeof map === 'object' ? map : {};
    if (pc) hooks.attach();
  }

  // Simulcast (the server says it takes it, in welcome): our camera as
  // layers q, h and f, a quarter, half and all of its size, so each of
  // the others gets the one that fits their tile and their link.  A
  // phone-sized screen sends two (its camera and its uplink rarely carry
  // 720p well).  The bitrates are the tops Chromium would pick for 180p,
  // 360p and 720p.
  function layers(track) {
    const all = [
      { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000 },
      { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000 },
      { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1500000 },
    ];
    const small = Math.min(screen.width, screen.height) < 600;
    if (!small) return all;
    // two layers: the top one is the camera's size halved
    return [{ rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000 },
            { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000 }];
  }

  // Our camera and microphone (`local`) into the call: the peer
  // connection, its first offer, and the speaker watch.
  function startMedia(msg) {
    showToggles();

    // the TURN servers the welcome names, with this join's own credential
    // (docs/protocol.md); none: the media worker's own candidates alone
    const iceServers = Array.isArray(msg.ice_servers) ? msg.ice_servers : [];
    pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', iceServers });
    const mine = pc;
    pc.addEventListener('connectionstatechange', () => {
      if (pc === mine && pc.connectionState === 'failed') fail('pc_failed');
    });
    for (const track of local.getTracks()) {
      const init = { direction: 'sendonly', streams: [local] };
      if (track.kind === 'video' && msg.simulcast) {
        init.sendEncodings = layers(track);
      }
      pc.addTransceiver(track, init);
    }
    negotiating = false;
    // the first offer already receives everyone there (welcome says how
    // many): no renegotiation before the first remote frame
    want = { audio: msg.audio | 0, video: msg.video | 0 };
    negotiate();
    showShare();
    // tell the others if we came in with the camera or microphone off
    const m = mediaState();
    if (!m.audio || !m.video) sendMedia();
  }

  function stopMedia() {
    if (early) early.dropped = true;
    early = null;
    if (!local) return;
    for (const tr of local.getTracks()) tr.stop();
    local = null;
    $('local').srcObject = null;
  }

  return {
    pc: () => pc,
    local: () => local,
    localTrack,
    mediaState,
    sendMedia,
    showToggles,
    toggle,
    showShare,
    stopShare,
    start: startMedia,
    stop: stopMedia,

    // Opens the camera and microphone while the WebSocket connects.
    openEarly() {
      if (local || early) return;
      const e = early = { media: openMedia(), dropped: false, open: null };
      e.media.then((m) => {
        if (e.dropped && m) for (const tr of m.getTracks()) tr.stop();
        else e.open = m;
      });
    },

    // At welcome: the camera and microphone opened while we connected
    // are ours now.  Returns whether we have them (then the peer
    // connection and its offer come first; the call view is drawn while
    // the browser makes the offer).
    ready() {
      if (!local && early && early.open) {
        local = early.open;
        early = null;
        $('local').srcObject = local;
      }
      return !!local;
    },

    // At welcome, when not ready(): waits for the camera and microphone
    // (an empty stream if there are none).
    async open() {
      if (local) return;
      const e = early;
      early = null;
      local = await (e ? e.media : openMedia());
      if (!local) {
        fail('no_media');
        local = new MediaStream();
      }
      $('local').srcObject = local;
    },

    // an answer to our offer
    answer(msg) {
      answered(msg).catch((e) => {
        negotiating = false;
        fail('setup_failed', { msg: e.message });
      });
    },

    // the server moved streams between our m-lines: no new offer
    streams(map) {
      maps++;
      bindStreams(map);
    },

    renegotiate(msg) {
      want = { audio: msg.audio | 0, video: msg.video | 0 };
      if (pc) negotiate();
    },

    // bad_offer: the offer that was out is done with
    offerRefused() {
      negotiating = false;
    },

    // resumed: an offer whose answer went with the old WebSocket, again
    offerAgain() {
      if (pc && pc.signalingState === 'have-local-offer') {
        hooks.send({ type: 'offer', sdp: pc.localDescription.sdp });
      }
    },

    // the call ends on this side: the peer connection and the share go
    // (the camera is room.js's to keep or stop)
    hangUp() {
      negotiating = again = false;
      want = { audio: 0, video: 0 };
      if (shareTrack) shareTrack.stop();
      shareTrack = shareTr = shareTold = null;
      if (pc) pc.close();
      pc = null;
      showShare();
    },
  };
}
