// The inspector's decide buttons. The control endpoints take only JSON from
// the same origin (a page on another site cannot send that), so the buttons
// post JSON here instead of submitting their form.
document.addEventListener('submit', async (event) => {
  const form = event.target.closest('form[data-decide]');
  if (!form) return;
  event.preventDefault();
  const out = form.querySelector('output');
  const decision = event.submitter ? event.submitter.value : '';
  try {
    const resp = await fetch(form.action, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ decision }),
    });
    if (!resp.ok) throw new Error(await resp.text());
    location.reload();
  } catch (err) {
    if (out) out.textContent = 'Failed: ' + err.message;
  }
});
