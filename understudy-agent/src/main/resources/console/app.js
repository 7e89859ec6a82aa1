// Understudy console: plain JavaScript over the agent's REST API and its event stream.
'use strict';
const $ = (s) => document.querySelector(s);
let status = null;
let selected = null;

function token() { return sessionStorage.getItem('understudyToken') || ''; }
function esc(s) { return String(s ?? '').replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c])); }
function badge(v) { return `<span class="badge ${esc(v)}">${esc(v)}</span>`; }
function time(ms) { return new Date(ms).toLocaleTimeString([], {hour12: false}) + '.' + String(ms % 1000).padStart(3, '0'); }
function say(msg) { $('#message').textContent = msg || ''; }

async function api(method, path, body) {
  const headers = {'Accept': 'application/json'};
  if (token()) headers['Authorization'] = 'Bearer ' + token();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  const text = await r.text();
  const data = text ? JSON.parse(text) : null;
  if (!r.ok) throw new Error((data && data.error) || r.statusText);
  return data;
}

async function refresh() {
  try {
    status = await api('GET', '/api/v1/status');
    render();
  } catch (e) { say('cannot read status: ' + e.message + (token() ? '' : ' (enter the API token above)')); }
}

function renderView() {
  const v = status.view || {current: true};
  $('#viewBanner').hidden = v.current;
  if (v.current) return;
  const fenced = (v.fenced || []).map(f => `${esc(f.tag)} (epoch ${esc(f.epoch)})`).join(', ');
  $('#viewBanner').innerHTML = `<b>${v.since ? 'View frozen since ' + esc(time(v.since)) : 'View not current'}</b>: ${esc(v.reason)}`
    + (fenced ? `<br>${esc(status.self)}'s fence stopped: ${fenced}` : '');
}

function render() {
  $('#agent').textContent = `agent ${status.self} · leader ${status.leader || 'none'}`;
  renderView();
  $('#servers tbody').innerHTML = status.servers.map(s => `<tr data-server="${esc(s.id)}">
    <td data-label="Server"><b>${esc(s.id)}</b> <span class="muted">${esc(s.address)}</span></td>
    <td data-label="Verdict">${badge(s.verdict || '?')}${s.restarting ? ' ' + badge('RESTARTING') : ''}</td>
    <td data-label="LAN">${esc(s.self ? 'this agent' : s.lan)}</td>
    <td data-label="Disk">${esc(s.self ? '' : s.disk)}</td>
    <td data-label="Lease">${esc(s.self ? (s.leaseRemainingMs + ' ms left') : s.lease)}</td>
    <td data-label="Uplink">${esc(s.uplink || '')}</td>
    <td data-label="Role">${esc(s.leader ? 'leader' : s.role === 'witness' ? 'witness' : s.voter ? 'voter' : 'listener')}</td></tr>`).join('');
  const ids = status.servers.map(s => s.id);
  $('#apps tbody').innerHTML = status.apps.map(a => `<tr class="clickable" data-app="${esc(a.tag)}">
    <td data-label="App"><b>${esc(a.tag)}</b> <span class="muted">${esc(a.type)}</span></td>
    <td data-label="State">${badge(a.state)} <span class="muted">${esc(a.stateReason || '')}</span></td>
    <td data-label="Host" class="host">${esc(a.host || '-')}${a.host === status.self && a.state === 'RUNNING' && a.onThisServer === 'NOT_RUNNING' ? ' <span class="badge DOWN">not running here</span>' : ''}</td>
    <td data-label="Primary">${esc(a.primary)}</td>
    <td data-label="Backups">${esc(a.backups.join(', '))}${a.qualifiedBackups && a.qualifiedBackups.length === 0 && a.host ? ' <span class="badge DOWN">no qualified backup</span>' : ''}</td>
    <td data-label="Epoch">${esc(a.epoch)}</td>
    <td data-label="Would go next">${esc(a.nextHost || 'nowhere')}</td>
    <td data-label="Actions">${actions(a, ids)}</td></tr>`).join('');
  const pending = status.apps.filter(a => a.state === 'FAILBACK_PENDING');
  $('#pendingSection').hidden = pending.length === 0;
  $('#pending').innerHTML = pending.map(a => `<li>${esc(a.tag)} runs on ${esc(a.host)}; its primary ${esc(a.primary)} is back.
    <button class="approve" data-app="${esc(a.tag)}">Approve failback to ${esc(a.primary)}</button></li>`).join('');
  if (selected) details(selected);
}

function actions(a, ids) {
  const b = [];
  if (a.state === 'FAILBACK_PENDING') b.push(`<button class="approve" data-app="${esc(a.tag)}">Approve</button>`);
  if (a.host) {
    b.push(`<button class="unload" data-app="${esc(a.tag)}">Unload</button>`);
    const targets = [a.primary].concat(a.backups).filter(s => s !== a.host);
    b.push(`<select class="move" data-app="${esc(a.tag)}" aria-label="move ${esc(a.tag)}"><option value="">Move to…</option>${targets.map(s => `<option>${esc(s)}</option>`).join('')}</select>`);
  } else {
    b.push(`<button class="load" data-app="${esc(a.tag)}">Load</button>`);
  }
  return b.join(' ');
}

function seconds(ms) { return ms < 10000 ? (ms / 1000).toFixed(1) + ' s' : Math.round(ms / 1000) + ' s'; }

// One color per server, the same on every render.
function color(server) {
  const i = status ? status.servers.findIndex(s => s.id === server) : -1;
  if (i >= 0) return `hsl(${(210 + i * 137.5) % 360}, 55%, 40%)`; // golden angle: neighbours differ most
  let h = 0;
  for (const c of String(server)) h = (h * 31 + c.charCodeAt(0)) % 360;
  return `hsl(${h}, 55%, 42%)`;
}

// Where the app ran over time (one bar per run, labelled server@epoch) and its outages, marked with their length.
function timeline(t) {
  const starts = t.hosted.map(h => h.fromMillis).concat(t.outages.map(o => o.fromMillis));
  if (starts.length === 0) return '<p class="muted">No runs in the events the cluster keeps.</p>';
  const from = Math.min(...starts), to = Math.max(t.nowMillis, from + 1);
  const pos = (a, b) => `left:${(100 * (a - from) / (to - from)).toFixed(2)}%;width:${Math.max(0.4, 100 * ((b ?? to) - a) / (to - from)).toFixed(2)}%`;
  const bars = t.hosted.map(h => `<span class="seg" style="${pos(h.fromMillis, h.toMillis)};background:${color(h.server)}"
      title="${esc(h.server)} at epoch ${esc(h.epoch ?? '?')}: ${esc(time(h.fromMillis))} to ${h.toMillis ? esc(time(h.toMillis)) : 'now'}">${esc(h.server)}@${esc(h.epoch ?? '?')}</span>`)
    .concat(t.outages.map(o => `<span class="gap" style="${pos(o.fromMillis, o.toMillis)}"
      title="down ${o.millis == null ? 'since ' + esc(time(o.fromMillis)) : esc(seconds(o.millis))}: ${esc(o.cause)}"></span>`)).join('');
  const rows = t.outages.map(o => `<li class="outage">${esc(time(o.fromMillis))}: down ${o.millis == null ? 'since then' : 'for ' + esc(seconds(o.millis))}
      (${esc(o.cause)})</li>`).join('');
  return `<div class="lane">${bars}</div><div class="axis"><span>${esc(time(from))}</span><span>now</span></div>
    <ol class="outages">${rows || '<li class="muted">no outage</li>'}</ol>`;
}

async function details(tag) {
  selected = tag;
  try {
    const [a, why, logs, t] = await Promise.all([api('GET', `/api/v1/apps/${tag}`), api('GET', `/api/v1/apps/${tag}/why`),
      api('GET', `/api/v1/apps/${tag}/logs`).catch(() => ({lines: []})), api('GET', `/api/v1/apps/${tag}/timeline`)]);
    $('#detailsSection').hidden = false;
    $('#detailsTag').textContent = tag;
    $('#details').innerHTML = `
      <div id="timeline" class="timeline">${timeline(t)}</div>
      <p>${why.explanation.map(esc).join('<br>')}</p>
      <p><b>Attributes</b>: ${esc(JSON.stringify(a.attributes || {}))} · <b>Resources</b>: ${esc((a.resources || []).join(', ') || 'none')}
      · <b>Marker</b>: ${a.markerBytes === undefined ? 'none' : esc(a.markerBytes + ' bytes at epoch ' + a.markerEpoch)}</p>
      <p><b>Log tail</b> (${esc(logs.server || '')})</p><pre>${esc((logs.lines || []).join('\n'))}</pre>`;
  } catch (e) { say(e.message); }
}

async function act(path, body) {
  if (!token()) { say('enter the API token first (it is kept for this browser session only)'); return; }
  try { await api('POST', path, body); say(''); refresh(); } catch (e) { say(e.message); }
}

document.addEventListener('click', (ev) => {
  const t = ev.target;
  if (t.classList.contains('approve')) act(`/api/v1/apps/${t.dataset.app}/approve-failback`);
  else if (t.classList.contains('unload')) act(`/api/v1/apps/${t.dataset.app}/unload`);
  else if (t.classList.contains('load')) act(`/api/v1/apps/${t.dataset.app}/load`);
  else if (t.tagName !== 'SELECT' && t.tagName !== 'OPTION' && t.closest('tr[data-app]')) details(t.closest('tr[data-app]').dataset.app);
});
document.addEventListener('change', (ev) => {
  const t = ev.target;
  if (t.classList.contains('move') && t.value) act(`/api/v1/apps/${t.dataset.app}/move`, {to: t.value});
});
$('#tokenForm').addEventListener('submit', (ev) => {
  ev.preventDefault();
  sessionStorage.setItem('understudyToken', $('#token').value.trim());
  $('#token').value = '';
  say(token() ? 'token kept for this session' : '');
  connect(); // the stream and the event list may have been refused without the token
});

function addEvent(e) {
  const li = document.createElement('li');
  li.innerHTML = `<span class="muted">${time(e.timeMillis)}</span> ${badge(e.kind)} ${esc(e.message)}`;
  $('#events').prepend(li);
  while ($('#events').children.length > 200) $('#events').lastChild.remove();
}

// The id the event stream gives an event: resuming after it replays nothing twice.
function streamId(e) { return String(e.timeMillis).padStart(15, '0') + '-' + e.id; }

let stream = null;
async function connect() {
  if (stream) stream.close();
  await refresh();
  let after = '';
  try {
    const recent = await api('GET', '/api/v1/events?limit=50');
    $('#events').innerHTML = '';
    recent.forEach(addEvent);
    if (recent.length) after = streamId(recent[recent.length - 1]);
  } catch (e) { say(e.message); }
  const q = [token() ? 'token=' + encodeURIComponent(token()) : '', after ? 'after=' + encodeURIComponent(after) : ''].filter(Boolean);
  stream = new EventSource('/api/v1/events/stream' + (q.length ? '?' + q.join('&') : ''));
  stream.addEventListener('event', (m) => { addEvent(JSON.parse(m.data)); refresh(); });
  stream.addEventListener('change', () => refresh());
  stream.onopen = () => { $('#live').textContent = 'live'; $('#live').className = 'badge live'; };
  stream.onerror = () => { $('#live').textContent = 'reconnecting'; $('#live').className = 'badge DOWN'; };
}

connect();
setInterval(refresh, 2000); // verdicts change without database writes
