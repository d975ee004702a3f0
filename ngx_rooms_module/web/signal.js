// The signaling WebSocket of the room page (docs/protocol.md): opening
// it, the join or resume it starts with, sending, and what to do when it
// closes: resume after a reload, join again after a restart, a drain or
// lost messages, or give up and say why.
//
// Owns: the one WebSocket, the resume token (memory only), and the
// counters that bound every retry (resumes, moves, restarts).
// Must never touch the peer connection, the tiles or the room's
// controls: what a message means is room.js's (onMessage), and ending
// the call on this side is its hangUp().
//
// signaling(hooks) wires it; the hooks are room.js's:
//   url()            the WebSocket's address (the room's code may change)
//   credentials()    { name, host_key, guest_token, cohost_key } for a join
//   onMessage(ev)    each message of the current socket
//   connecting()     a socket is being opened (Join stays disabled)
//   joined()         in the call (welcome seen, not hung up)
//   inRoom()         in the call or waiting in the lobby
//   hasMedia()       the peer connection is up (something to resume)
//   hangUp(keep)     end the call on this side; keep: the camera, to join
//                    again
//   closed(wasIn)    gave up: the socket is gone and nothing retries

import { say, fail } from './words.js';

export function signaling(hooks) {
  let ws = null;           // the signaling WebSocket
  let retry = 0;           // reconnection attempts after a server restart
  // A reload of nginx closes our WebSocket (1001) but not the media
  // session: the server keeps us in the call while we open a new
  // WebSocket and resume with this token (docs/protocol.md, "Resuming
  // after a reload").  It is good for one resume; each welcome or resumed
  // brings the next.  Kept in memory only: a reloaded page has no session
  // to resume.
  let resumeToken = null;
  let moves = 0;           // joins again since the node said 4412 (moved)
  let resumes = 0;         // resume attempts since the WebSocket went
  let refused = false;     // the server said why before closing
  let sentCohostKey = false; // the last join carried a co-host key

  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  // Opens the signaling WebSocket: to join, or to resume the call we are
  // in (resuming: its first message is resume, with the join's
  // credentials).
  function connect(resuming) {
    const sock = ws = new WebSocket(hooks.url());
    sock.resuming = !!resuming;
    refused = false;
    hooks.connecting();

    sock.addEventListener('open', () => {
      const c = hooks.credentials();
      const join = resuming
        ? { type: 'resume', resume_token: resumeToken, name: c.name }
        : { type: 'join', name: c.name };
      if (c.host_key) join.host_key = c.host_key;
      if (c.guest_token) join.guest_token = c.guest_token;
      if (c.cohost_key) join.cohost_key = c.cohost_key;
      sentCohostKey = !!c.cohost_key;
      sock.send(JSON.stringify(join));
    });
    sock.addEventListener('message', (ev) => {
      if (sock === ws) hooks.onMessage(ev);
    });
    sock.addEventListener('close', (ev) => {
      if (sock !== ws) return;          // an old socket, already replaced
      ws = null;
      const wasIn = hooks.inRoom();
      // 1001: our nginx worker is closing (a reload); 1006: the connection
      // broke (that nginx worker died, say).  The call goes on in the
      // media server, and a new WebSocket resumes it (if the server let us
      // go meanwhile, the answer is 4410 and we join again).  While
      // resuming, a connection refused or not yet served is tried again,
      // for about the 10 s the server keeps us.
      if (hooks.joined() && hooks.hasMedia() && resumeToken && !refused &&
          resumes < 8 &&
          (ev.code === 1001 || ev.code === 1006 ||
           (resuming && ev.code === 1013))) {
        resumes++;
        setTimeout(() => connect(true), resumes === 1 ? 0 : 250 * resumes);
        return;
      }
      // nothing to resume (4410: too late), or no way back in time: join
      // again from scratch, keeping the camera
      if (hooks.joined() && resuming && !refused) {
        resumeToken = null;
        resumes = 0;
        hooks.hangUp(true);
        say('restarted');
        connect();
        return;
      }
      // 4412: this node is being drained (docs/protocol.md): join again
      // at once through the same address, which the front sends to
      // another node; again, a little later each time, while the node
      // still answers
      if (ev.code === 4412 && moves < 8) {
        hooks.hangUp(true);
        resumeToken = null;
        resumes = 0;
        moves++;
        say('moving');
        setTimeout(connect, moves === 1 ? 0 : 250 * moves);
        return;
      }
      // 1012: the media worker restarted; everyone joins again.  4409:
      // messages to this page were lost, so its picture of the room may be
      // wrong; joining again gives it the room as it is (docs/protocol.md)
      if ((ev.code === 1012 || ev.code === 4409) && retry < 5) {
        hooks.hangUp(true);
        retry++;
        say(ev.code === 1012 ? 'restarted' : 'resync');
        setTimeout(connect, 1000 * retry);
        return;
      }
      hooks.hangUp(false);
      // a refusal: the error already says why
      if (!refused) fail(wasIn ? 'lost' : 'unreachable');
      hooks.closed(refused);
    });
  }

  return {
    send,
    // a join the person asked for (Join, or the room opening)
    join() {
      retry = 0;
      connect();
    },
    // a socket is open or opening
    active: () => ws !== null,
    // messages can be sent
    open: () => !!ws && ws.readyState === WebSocket.OPEN,
    // the socket is a resume's
    resuming: () => !!ws && ws.resuming,
    // welcome: a new session; returns whether our join carried a
    // co-host key
    welcomed(msg) {
      resumeToken = msg.resume_token || null;
      resumes = 0;
      moves = 0;
      retry = 0;
      return sentCohostKey;
    },
    // waiting in the lobby: the server took our join
    waiting() {
      retry = 0;
    },
    // resumed: the next resume's token
    resumed(msg) {
      resumeToken = msg.resume_token || null;
      resumes = 0;
    },
    // an error that the server follows by closing: no retry
    refused() {
      refused = true;
    },
    // Leave: the close event of this socket is ours, not an error.
    close() {
      send({ type: 'leave' });
      const sock = ws;
      ws = null;
      if (sock) sock.close(1000);
    },
  };
}
