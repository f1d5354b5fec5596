// Postern's status page: reads the admin API and offers the queue actions. No build step.
// The token (when the server has admin_token_file) is kept in sessionStorage only; it can also be
// given in the URL fragment (#token=...), which never reaches the server. An action named in the
// query (?freeze=ID, ?thaw=ID, ...) is run once after loading, but only with a token from the
// fragment: a page that only knows the URL cannot make the browser act.
'use strict';

const ACTIONS = ['deliver', 'freeze', 'thaw', 'remove', 'giveup'];
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get('token')) {
  sessionStorage.setItem('postern-token', fragment.get('token'));
}

function token() {
  return sessionStorage.getItem('postern-token');
}

async function api(method, path) {
  const headers = {};
  if (token()) {
    headers.Authorization = 'Bearer ' + token();
  }
  const response = await fetch(path, { method, headers });
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) {
    say('This server needs its admin token.', true);
    document.getElementById('token').focus();
  }
  return { status: response.status, body };
}

function say(text, error) {
  const status = document.getElementById('status');
  status.textContent = text;
  status.className = error ? 'error' : '';
}

function age(seconds) {
  if (seconds < 5400) return Math.floor(seconds / 60) + 'm';
  const hours = Math.round(seconds / 3600);
  return hours > 72 ? Math.round(hours / 24) + 'd' : hours + 'h';
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function renderQueue(queue) {
  document.getElementById('queue-total').textContent = queue.total;
  document.getElementById('queue-frozen').textContent = queue.frozen;
  const body = document.querySelector('#queue tbody');
  body.replaceChildren();
  for (const m of queue.messages) {
    const row = body.insertRow();
    row.id = 'message-' + m.id;
    row.className = m.frozen ? 'frozen' : '';
    cell(row, age(m.age_seconds));
    cell(row, m.size);
    cell(row, m.id + (m.frozen ? ' *** frozen ***' : ''), 'id');
    cell(row, '<' + m.sender + '>');
    cell(row, m.recipients.map(r => (r.state === 'pending' ? '' : 'D ') + r.address).join(', '));
    const actions = cell(row, '');
    for (const action of ACTIONS) {
      const button = document.createElement('button');
      button.textContent = action;
      button.dataset.action = action;
      button.dataset.id = m.id;
      actions.append(button, ' ');
    }
  }
}

async function refresh() {
  const [config, queue, sessions, recent] = await Promise.all([
    api('GET', '/config'), api('GET', '/queue?limit=200'), api('GET', '/sessions'), api('GET', '/log/recent')]);
  if (config.status === 200) {
    document.getElementById('generation').textContent = config.body.generation;
    document.getElementById('loaded-at').textContent = config.body.loaded_at
      ? 'since ' + new Date(config.body.loaded_at).toISOString() : '';
    const refusal = config.body.last_refusal;
    document.getElementById('refusal').textContent = refusal ? 'Last refused: ' + refusal.error : '';
  }
  if (queue.status === 200) renderQueue(queue.body);
  if (sessions.status === 200) document.getElementById('session-count').textContent = sessions.body.count;
  if (recent.status === 200) document.getElementById('recent').textContent = recent.body.lines.join('\n');
  return [config, queue, sessions, recent].every(r => r.status === 200);
}

async function act(action, id) {
  const path = action === 'flush' ? '/queue/flush' : '/queue/' + encodeURIComponent(id) + '/' + action;
  const result = await api('POST', path);
  const text = result.body.message || result.body.error
    || (action === 'flush' || action === 'deliver' ? 'deliveries started: ' + result.body.started : action + ' done');
  say(text, result.status >= 400);
  document.body.dataset.lastAction = action + ' ' + (id || '') + ' ' + result.status;
  await refresh();
}

document.addEventListener('click', event => {
  const action = event.target.dataset && event.target.dataset.action;
  if (action) {
    act(action, event.target.dataset.id);
  }
});

document.getElementById('token-form').addEventListener('submit', event => {
  event.preventDefault();
  sessionStorage.setItem('postern-token', document.getElementById('token').value);
  refresh();
});

(async () => {
  const loaded = await refresh();
  const query = new URLSearchParams(location.search);
  const requested = ACTIONS.find(a => query.has(a));
  if (loaded && requested && fragment.get('token')) {
    await act(requested, query.get(requested));
  }
  document.body.dataset.ready = 'true';
})();
