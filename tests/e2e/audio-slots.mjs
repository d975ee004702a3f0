// Who you hear, and who is speaking (docs/protocol.md, "Who you see and
// hear"): a room served with `rooms_audio_slots 1;`, so each browser
// receives one remote voice at a time, the loudest other one.  Anna and
// Bruno are in one Chromium (its fake microphone: a short beep); Carla
// and Dario in another whose microphone plays a steady tone from a file
// (--use-file-for-fake-audio-capture), which is speech to the server's
// audio levels.  Everyone mutes after joining; then Carla unmutes, then
// Carla mutes and Dario unmutes.  Four headless Chromiums through the
// real nginx (2 workers) and the real media worker.  Prints TAP; run it
// through audio-slots.t (a network namespace with only `lo`, a hard
// deadline).
//
//   - everyone's offer asks for one audio m-line;
//   - when Carla speaks, Anna and Bruno's one audio line is bound to her
//     (the `streams` map names her), its totalSamplesReceived grows, the
//     `speaker` message names her and her tile is highlighted on their
//     screens; her own page highlights her own tile;
//   - when Carla stops and Dario speaks, the line moves to Dario without
//     a new offer, and the highlight follows;
//   - the largest offer of a 50-person room, built the client's way
//     (2 sending m-lines, 16 video and 3 or 8 audio recvonly ones,
//     pruned), against the 49 audio m-lines it had before.

import fs from 'node:fs';
import path from 'node:path';

import {
  ok, diag, sleep, until, openPerson, joinAs, roomsState,
  captureSignaling, scenarioRun, launchChromium, startServers,
} from './lib.mjs';

const DEADLINE = 150000;      // the whole run; only a failing run reaches it

let browser = null;
let toneBrowser = null;
const people = {};            // name -> { context, page, errors, console }
const { dir, finish } = scenarioRun(DEADLINE, () => ({
  close: async () => {
    for (const b of [browser, toneBrowser]) if (b) await b.close();
  },
}), people);

// A microphone that talks: 2 s of a 440 Hz tone at -10 dBFS (Chromium
// loops the file), 48 kHz mono 16-bit PCM.
function writeTone(file) {
  const rate = 48000;
  const n = rate * 2;
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + n * 2, 4);
  b.write('WAVE', 8);
  b.write('fmt ', 12);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);          // PCM
  b.writeUInt16LE(1, 22);          // mono
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) {
    b.writeInt16LE(Math.round(0.3 * 32767 *
                              Math.sin(2 * Math.PI * 440 * i / rate)),
                   44 + i * 2);
  }
  fs.writeFileSync(file, b);
}

const signals = (page) => page.evaluate(() => window.__signals);

// The names the page's audio m-lines carry (its last streams map).
const audioBound = (page) => page.evaluate(() => {
  const st = window.roomsState;
  return Object.values(st.streams).filter((s) => s.kind === 'audio')
    .map((s) => st.participants[String(s.participant)]);
});

// Per audio m-line of the page: { mid, name, samples }.
const audioLines = (page) => page.evaluate(async () => {
  const pc = (window.__pcs || []).at(-1);
  const st = window.roomsState;
  const out = [];
  if (!pc) return out;
  (await pc.getStats()).forEach((s) => {
    if (s.type !== 'inbound-rtp' || s.kind !== 'audio') return;
    const b = st.streams[s.mid];
    out.push({ mid: s.mid,
               name: b ? st.participants[String(b.participant)] : null,
               samples: s.totalSamplesReceived || 0 });
  });
  return out;
});

// Who the page highlights as speaking (a name, 'self', or null).
const highlighted = (page) => page.evaluate(() => {
  const t = document.querySelector('.tile.speaking');
  if (!t) return null;
  return t.id === 'self' ? 'self' : t.querySelector('.name').textContent;
});

// The page hears `name`: its one audio line is bound to them, samples
// grow on it (and only it), the last speaker message names them and
// their tile is the highlighted one.
async function hears(page, name) {
  const st = await roomsState(page);
  const bound = await audioBound(page);
  if (bound.length !== 1 || bound[0] !== name) return false;
  const speaker = st.speaker && st.people[st.speaker];
  if (!speaker || speaker.name !== name) return false;
  if (await highlighted(page) !== name) return false;
  const before = await audioLines(page);
  await sleep(1000);
  const after = await audioLines(page);
  const grew = after.filter((l) => {
    const b = before.find((x) => x.mid === l.mid);
    return b && l.samples > b.samples;
  });
  return grew.length === 1 && grew[0].name === name
    ? { before: before.map((l) => l.samples), after: after.map((l) => l.samples) }
    : false;
}

// Turns the microphone on or off with its button, once the page has its
// microphone (its own video shows it; the button does nothing before).
async function mic(page, on) {
  const b = page.locator('#mic');
  if (!await until(() => page.evaluate(() => {
    const s = document.getElementById('local').srcObject;
    return !!s && s.getAudioTracks().length > 0;
  }), { timeout: 20000 })) return false;
  if ((await b.getAttribute('aria-pressed')) !== String(on)) await b.click();
  return until(async () => (await b.getAttribute('aria-pressed')) ===
                           String(on), { timeout: 5000 });
}

/* ------------------------------------------------------------------------ */

async function scenario() {
  const servers = await startServers(dir,
    { directives: ['rooms_audio_slots 1;'] });
  if (!servers) return;
  const { ngx } = servers;
  if (!ok(ngx, 'nginx starts with the module and rooms_audio_slots 1')) {
    return;
  }
  const res = await fetch(ngx.base + 'api/rooms', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'Who you hear', activity: 'friends' }),
  });
  const room = await res.json();
  if (!ok(res.status === 201 && room.invite_url, 'the API creates a room',
          JSON.stringify(room))) {
    return;
  }

  const tone = path.join(dir, 'tone.wav');
  writeTone(tone);
  browser = await launchChromium();
  toneBrowser = await launchChromium(
    ['--use-file-for-fake-audio-capture=' + tone]);

  const pages = {};
  for (const [name, b] of [['Anna', browser], ['Bruno', browser],
                           ['Carla', toneBrowser], ['Dario', toneBrowser]]) {
    pages[name] = await openPerson(b, people, name, room.invite_url,
                                   { init: [captureSignaling] });
    ok(await joinAs(pages[name], name) === true, name + ' joins');
    ok(await mic(pages[name], false), name + ' turns the microphone off');
  }
  const { Anna: anna, Bruno: bruno, Carla: carla, Dario: dario } = pages;

  /* ---- one audio line each ---------------------------------------------- */

  {
    const r = await until(async () => {
      for (const p of Object.values(pages)) {
        const lines = await audioLines(p);
        if (lines.length !== 1) return false;
      }
      return true;
    }, { timeout: 40000 });
    ok(r, 'every page has exactly one audio m-line (rooms_audio_slots 1)',
       JSON.stringify(await Promise.all(Object.values(pages)
         .map((p) => audioLines(p)))));
    const asked = (await signals(anna)).filter((s) =>
      s.dir === 'in' && s.type === 'renegotiate').map((s) => s.msg.audio);
    ok(asked.length > 0 && asked.every((a) => a <= 1),
       'the server asks Anna for one audio line at most',
       JSON.stringify(asked));
  }

  /* ---- Carla speaks ------------------------------------------------------ */

  for (const [talker, quiet] of [['Carla', null], ['Dario', 'Carla']]) {
    const offers = (await roomsState(anna)).offers;
    const since = (await signals(anna)).length;
    const t0 = Date.now();
    if (quiet) ok(await mic(pages[quiet], false), quiet + ' stops talking');
    ok(await mic(pages[talker], true), talker + ' turns the microphone on');

    const moved = await until(async () => {
      const st = await roomsState(anna);
      return (await signals(anna)).slice(since).find((s) =>
        s.dir === 'in' && s.type === 'speaker' &&
        (st.people[String(s.msg.id)] || {}).name === talker);
    }, { timeout: 20000 });
    ok(moved, "Anna's page is told that " + talker + ' is speaking',
       JSON.stringify((await signals(anna)).slice(since)
         .filter((s) => s.dir === 'in' && s.type !== 'answer')));
    if (moved) diag('speaker message ' + (moved.at - t0) + ' ms after ' +
                    talker + "'s microphone went on");

    for (const [name, page] of [['Anna', anna], ['Bruno', bruno]]) {
      const r = await until(() => hears(page, talker), { timeout: 20000 });
      ok(r, name + ' hears ' + talker + ': the one audio line is bound ' +
         'to them, samples grow on it, and their tile is highlighted',
         'bound: ' + JSON.stringify(await audioBound(page)) +
         '\nlines: ' + JSON.stringify(await audioLines(page)) +
         '\nhighlighted: ' + await highlighted(page) +
         '\nspeaker: ' + (await roomsState(page)).speaker);
      if (r) {
        diag(name + ': samples ' + r.before.join(',') + ' -> ' +
             r.after.join(','));
      }
    }

    const other = talker === 'Carla' ? dario : carla;
    const r = await until(async () =>
      (await audioBound(other))[0] === talker, { timeout: 20000 });
    ok(r, (talker === 'Carla' ? 'Dario' : 'Carla') + ' hears ' + talker +
       ' too', JSON.stringify(await audioBound(other)));
    ok(await until(async () => await highlighted(pages[talker]) === 'self',
                   { timeout: 10000 }),
       talker + "'s own tile is highlighted on " + talker + "'s screen",
       'highlighted: ' + await highlighted(pages[talker]));
    ok((await roomsState(anna)).offers === offers,
       "Anna's line moved without a new offer");
  }

  /* ---- the largest offer of a 50-person room ------------------------------ */

  {
    const sizes = await anna.evaluate(async () => {
      const { pruneRecv } = await import(
        new URL('../assets/devices.js', location.href).href);
      const build = async (audio) => {
        const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
        pc.addTransceiver('audio', { direction: 'sendonly' });
        pc.addTransceiver('video', {
          direction: 'sendonly',
          sendEncodings: [{ rid: 'q', scaleResolutionDownBy: 4 },
                          { rid: 'h', scaleResolutionDownBy: 2 },
                          { rid: 'f' }],
        });
        for (let i = 0; i < audio; i++) {
          pc.addTransceiver('audio', { direction: 'recvonly' });
        }
        for (let i = 0; i < 16; i++) {
          pc.addTransceiver('video', { direction: 'recvonly' });
        }
        for (const tr of pc.getTransceivers()) pruneRecv(tr);
        const o = await pc.createOffer();
        pc.close();
        window.__pcs.splice(window.__pcs.indexOf(pc), 1);
        const msg = JSON.stringify({ type: 'offer', sdp: o.sdp });
        return new TextEncoder().encode(msg).length;
      };
      return { before: await build(49), slots3: await build(3),
               slots8: await build(8) };
    });
    diag('the largest offer of a 50-person room, pruned: ' + sizes.before +
         ' bytes with 49 audio m-lines (before), ' + sizes.slots3 +
         ' with 3 (the default), ' + sizes.slots8 + ' with 8 (the most)');
    ok(sizes.slots8 < sizes.before && sizes.slots3 < sizes.slots8,
       'offers shrink with the audio slots', JSON.stringify(sizes));
  }

  for (const name of Object.keys(pages)) {
    ok(people[name].errors.length === 0, name + "'s page threw no errors",
       people[name].errors.join('\n'));
  }
}

scenario().then(finish, (e) => {
  ok(false, 'the scenario ran to its end', e.stack);
  finish();
});
