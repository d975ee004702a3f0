// The create-a-room page: posts the form to the JSON API and shows the
// invite link (to share) and the host link (to keep).
const form = document.getElementById('create');
const result = document.getElementById('result');
const error = document.getElementById('error');

function copyButton(button, input) {
  button.addEventListener('click', async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
    } catch (e) {
      document.execCommand('copy');
    }
    button.textContent = 'Copied';
  });
}

copyButton(document.getElementById('copy-invite'),
           document.getElementById('invite'));
copyButton(document.getElementById('copy-host'),
           document.getElementById('host'));

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  error.hidden = true;
  const body = {
    title: form.elements.title.value.trim(),
    activity: form.elements.activity.value,
    admission: form.elements.admission.value,
  };
  if (form.elements.start_at.value) {
    body.start_at = new Date(form.elements.start_at.value).toISOString();
  }
  let res, data;
  try {
    res = await fetch('api/rooms', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    data = await res.json();
  } catch (e) {
    error.textContent = 'The server could not be reached.';
    error.hidden = false;
    return;
  }
  if (!res.ok) {
    error.textContent = data.error ? data.error.message : 'Error ' + res.status;
    error.hidden = false;
    return;
  }
  document.getElementById('invite').value = data.invite_url;
  document.getElementById('host').value = data.host_url;
  document.getElementById('open-host').href = data.host_url;
  result.hidden = false;
});
