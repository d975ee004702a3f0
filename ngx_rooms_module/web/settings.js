// The settings dialog of the room page: which camera and which
// microphone.  devices.js lists them and switches the sender's track
// (no renegotiation); this file is the dialog's pickers.
//
// Owns: #settings and its two pickers (#mic-device, #cam-device): filled
// when the dialog opens and when devices come and go, disabled without a
// track of their kind.
// Must never open the camera or microphone itself, nor negotiate: a
// switch goes through devices.js on media.js's stream and sender.
//
// watchSettings(media) wires it to media.js's callMedia() object.

import { setText } from './i18n.js';
import { listDevices, switchDevice } from './devices.js';
import { fail } from './words.js';

export function watchSettings(media) {
  const $ = (id) => document.getElementById(id);
  const settings = $('settings');
  const pickers = { audio: $('mic-device'), video: $('cam-device') };

  async function fillPickers() {
    for (const [kind, select] of Object.entries(pickers)) {
      const track = media.localTrack(kind);
      const devices = await listDevices(kind).catch(() => []);
      const opts = devices.map((d) => new Option(d.label, d.deviceId));
      if (!opts.length) {
        const none = new Option('', '');
        setText(none, 'no_device');
        opts.push(none);
      }
      select.replaceChildren(...opts);
      const current = track && track.getSettings().deviceId;
      if (current) select.value = current;
      // without a track of this kind there is no sender to switch
      select.disabled = !track || !devices.length;
    }
  }

  for (const [kind, select] of Object.entries(pickers)) {
    select.addEventListener('change', async () => {
      if (!media.local()) return;
      try {
        await switchDevice(kind, select.value, media.local(), media.pc());
        if (kind === 'video') $('local').srcObject = media.local();
        media.showToggles();
      } catch (e) {
        fail('device_failed', { msg: e.message });
        fillPickers();
      }
    });
  }

  $('settings-open').addEventListener('click', async () => {
    await fillPickers();
    settings.showModal();
  });
  $('settings-close').addEventListener('click', () => settings.close());
  navigator.mediaDevices?.addEventListener?.('devicechange', () => {
    if (settings.open) fillPickers();
  });
}
