// Each tile the video layer its size asks for (simulcast): four headless
// Chromiums, each publishing its camera as layers q, h and f (320x180,
// 640x360, 1280x720; the welcome says the server takes simulcast).  Ada
// pins Ben: his tile is the spotlight, the two others sit small in the
// strip below it, and her view message carries each tile's size.
//
//   - Ada decodes Ben's video wider than Cai's and Dee's, at 640 or more
//     (1280 unless Chromium's CPU adaptation stopped his top layer on this
//     two-core machine; reported), and Cai's and Dee's at 320 or less;
//   - Ada pins Cai instead: the layers follow (Cai wide, Ben small), with
//     no new offer (the switch happens at a keyframe, on the same SSRC);
//   - her page threw no errors.
//
// Prints TAP; run through layers.t.

import {
  ok, diag, sleep, until, openPerson, joinAs, scenarioRun, launchChromium,
  startServers, screenshot, roomsState,
} from './lib.mjs';

const DEADLINE = 170000;
const NAMES = ['Ben', 'Cai', 'Dee'];

let browser = null;
const people = {};
const { dir, finish } = scenarioRun(DEADLINE, () => browser, people);

const open = (name, url) => openPerson(browser, people, name, url);

// In the page: per remote name, the decoded width of its video and the
// frames decoded (the inbound-rtp of the mid its streams map names).
async function widthsInPage() {
  const pc = (window.__pcs || []).at(-1);
  const st = window.roomsState;
  if (!pc || !st || !st.joined) return null;
  const out = {};
  (await pc.getStats()).forEach((s) => {
    if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
    const bound = st.streams[s.mid];
    const name = bound && st.participants[String(bound.participant)];
    if (name && s.framesDecoded) {
      out[name] = { width: s.frameWidth || 0, frames: s.framesDecoded };
    }
  });
  return out;
}

// The publishers' own view of their layers (for the report): each
// outbound-rtp's rid, width and why Chromium limits it.
async function sendingInPage() {
  const pc = (window.__pcs || []).at(-1);
  if (!pc) return null;
  const out = [];
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'outbound-rtp' && s.kind === 'video') {
      out.push([s.rid, s.frameWidth || 0, s.qualityLimitationReason]);
    }
  });
  return out;
}

// Ada's picture: `big` decoded wider than every other, at 640 or more,
// and the others at 320 or less; the widths, or false.
async function spotlight(page, big) {
  const w = await page.evaluate(widthsInPage);
  if (!w || NAMES.some((n) => !w[n])) return false;
  const rest = NAMES.filter((n) => n !== big);
  return w[big].width >= 640 && rest.every((n) => w[n].width <= 320 &&
    w[n].width < w[big].width) ? w : false;
}

async function scenario() {
  const servers = await startServers(dir);
  if (!servers) return;
  const { ngx } = servers;
  if (!ok(ngx, 'nginx starts with the module')) return;
  const res = await fetch(ngx.base + 'api/rooms', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'Spotlight', activity: 'friends' }),
  });
  const room = await res.json();
  if (!ok(res.status === 201, 'the API creates a room')) return;

  browser = await launchChromium();
  const ada = await open('Ada', room.invite_url);
  ok(await joinAs(ada, 'Ada') === true, 'Ada joins');
  for (const name of NAMES) {
    const page = await open(name, room.invite_url);
    ok(await joinAs(page, name) === true, name + ' joins');
  }

  {
    const sdp = await people.Ben.page.evaluate(() =>
      window.__pcs.at(-1).localDescription.sdp);
    ok(/a=simulcast:send q;h;f/.test(sdp),
       "Ben's browser publishes its camera as layers q, h and f");
  }

  // the room has formed: Ada decodes all three (the joins renegotiated)
  ok(await until(async () => {
    const w = await ada.evaluate(widthsInPage);
    return w && NAMES.every((n) => w[n] && w[n].frames > 10);
  }, { timeout: 45000, every: 1000 }), 'Ada decodes Ben, Cai and Dee',
     JSON.stringify(await ada.evaluate(widthsInPage)));
  await sleep(1000);

  for (const [big, small] of [['Ben', 'Cai'], ['Cai', 'Ben']]) {
    const offers = (await roomsState(ada)).offers;
    const pin = ada.getByRole('button', { name: 'Pin ' + big, exact: true });
    await pin.click();
    ok(await pin.getAttribute('aria-pressed') === 'true', 'Ada pins ' + big);
    const r = await until(() => spotlight(ada, big),
                          { timeout: 45000, every: 1000 });
    const sending = await people[big].page.evaluate(sendingInPage);
    ok(r, "Ada decodes " + big + "'s video at 640 wide or more, wider than " +
       'the small tiles, which get 320 or less',
       'widths: ' + JSON.stringify(await ada.evaluate(widthsInPage)) +
       '\n' + big + ' sends: ' + JSON.stringify(sending));
    diag('spotlight on ' + big + ': ' + JSON.stringify(r) + '; ' + big +
         ' sends ' + JSON.stringify(sending));
    ok((await roomsState(ada)).offers === offers,
       'no new offer was needed for it');
    if (big === 'Ben') await screenshot(ada, 'layers-ada-spotlight', 300);
    diag('then ' + small + ' is pinned');
  }

  for (const name of Object.keys(people)) {
    ok(people[name].errors.length === 0, name + "'s page threw no errors",
       people[name].errors.join('\n'));
  }
}

scenario().then(finish, (e) => {
  ok(false, 'the scenario ran to its end', e.stack);
  finish();
});
