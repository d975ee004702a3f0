// The room page: shows the room's state; opened through the host link
// (#host=<key>) it also offers the host's controls.  The key stays in the
// fragment, which browsers never send to the server or in Referer.
const main = document.getElementById('room');
const code = main.dataset.code;
const hostKey = new URLSearchParams(location.hash.slice(1)).get('host');
const status = document.getElementById('status');
const error = document.getElementById('error');
const api = '../api/rooms/';

function show(room) {
  document.getElementById('title').textContent =
    room.title || room.activity_label.en;
  const when = new Date(room.start_at).toLocaleString();
  status.textContent = room.state === 'ended' ? 'This room has ended.'
    : room.state === 'scheduled' ? 'This room opens on ' + when + '.'
    : (room.locked ? 'The host has locked this room.' : 'This room is open.');
  const lock = document.getElementById('lock');
  lock.textContent = room.locked ? 'Unlock room' : 'Lock room';
  lock.dataset.locked = room.locked ? '1' : '';
  for (const b of document.querySelectorAll('#host-controls button')) {
    b.disabled = room.state === 'ended';
  }
}

async function call(method, path, body) {
  error.hidden = true;
  const res = await fetch(api + path, {
    method,
    headers: Object.assign({ 'Authorization': 'Bearer ' + hostKey },
      body ? { 'Content-Type': 'application/json' } : {}),
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json();
  if (!res.ok) {
    error.textContent = data.error.message;
    error.hidden = false;
    return null;
  }
  return data;
}

if (hostKey) {
  let current = code;
  document.getElementById('host-controls').hidden = false;
  document.getElementById('lock').addEventListener('click', async (ev) => {
    const room = await call('PATCH', current,
                            { locked: !ev.target.dataset.locked });
    if (room) show(room);
  });
  document.getElementById('rotate').addEventListener('click', async () => {
    const room = await call('POST', current + '/invite');
    if (room) {
      current = room.code;
      history.replaceState(null, '', room.host_url);
      document.getElementById('invite').value = room.invite_url;
      show(room);
    }
  });
  document.getElementById('end').addEventListener('click', async () => {
    if (!confirm('End the room for everyone?')) return;
    const room = await call('DELETE', current);
    if (room) show(room);
  });
}

fetch(api + code).then((r) => r.json()).then((room) => {
  if (room.code) {
    document.getElementById('invite').value = room.invite_url;
    show(room);
  }
});
