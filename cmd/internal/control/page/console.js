// tapwall operator console: reads the show's Status over the control server's WebSocket (/live)
// and sends the operator's actions to POST /api/input. No external resources, no frameworks.
'use strict';

const STALE_MS = 1200;    // no Status for this long: the data on screen is old, say so loudly
const FROZEN_MS = 500;    // no frame drawn for this long: the wall is frozen
const ARM_MS = 5000;      // a destructive button waits this long for its confirming second click
const RETRY_MS = 1000;    // reconnect delay
const TOKEN_KEY = 'tapwall_control_token';

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem(TOKEN_KEY) || '';
let ws = null;
let st = null;          // the last Status
let stAt = 0;           // when it arrived (performance.now())
let linkState = 'down'; // live | stale | down
let downWhy = 'connecting to the show';
let retryTimer = 0;
let armed = null;       // {button, label, timer}: a destructive button waiting for its second click
const sigs = {};        // last rendered signature per container: rebuild only on change

// el builds an element; text is always set as text, never parsed as HTML.
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v; else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}
function svg(tag, attrs, ...kids) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}
function text(id, v) { const e = $(id); const s = String(v); if (e.textContent !== s) e.textContent = s; }
function rebuild(id, sig, build) {
  if (sigs[id] === sig) return;
  sigs[id] = sig;
  $(id).replaceChildren(...build());
}
function ago(ms) {
  if (ms === undefined || ms === null || ms < 0) return 'never';
  if (ms < 1000) return ms + ' ms';
  if (ms < 120000) return (ms / 1000).toFixed(1) + ' s';
  return Math.round(ms / 60000) + ' min';
}
function clock(us) {
  const s = Math.floor(us / 1e6);
  const p = (n) => String(n).padStart(2, '0');
  return p(Math.floor(s / 3600)) + ':' + p(Math.floor(s / 60) % 60) + ':' + p(s % 60);
}
function laneLabel(i) {
  const l = st && st.lanes && st.lanes.find((x) => x.index === i);
  return 'lane ' + (i + 1) + (l && l.name && l.name.toLowerCase() !== 'lane ' + (i + 1) ? ' (' + l.name + ')' : '');
}

// ---- connection ----

function authHeaders() { return token ? { Authorization: 'Bearer ' + token } : {}; }

function setLink(state, why) {
  linkState = state;
  if (why) downWhy = why;
  paintLink();
}

function paintLink() {
  const c = $('conn');
  const age = st ? performance.now() - stAt : 0;
  let state = linkState;
  if (state === 'live' && age > STALE_MS) state = 'stale';
  c.className = 'badge conn-' + state;
  const b = $('banner');
  if (state === 'live') {
    text('conn', 'LIVE');
    b.classList.add('hidden');
  } else if (state === 'stale') {
    text('conn', 'STALE ' + ago(Math.round(age)));
    text('banner', 'DATA IS STALE: no update from the show for ' + ago(Math.round(age)) + ' — what you see may be old');
    b.classList.remove('hidden');
  } else {
    text('conn', 'DISCONNECTED');
    text('banner', 'NOT CONNECTED TO THE SHOW (' + downWhy + ')' + (st ? ' — last data ' + ago(Math.round(age)) + ' old' : '') + ' — reconnecting');
    b.classList.remove('hidden');
  }
  document.body.dataset.link = state;
}

function retry() {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(connect, RETRY_MS);
}

async function connect() {
  clearTimeout(retryTimer);
  if (ws) { ws.onclose = null; ws.close(); ws = null; }
  let r;
  try {
    r = await fetch('/status', { headers: authHeaders(), cache: 'no-store' });
  } catch (e) {
    setLink('down', 'the control server does not answer');
    retry();
    return;
  }
  if (r.status === 401) {
    setLink('down', 'token needed');
    askToken(token ? 'The token was refused. Enter the show\'s control token.' : 'This show needs its control token (--control-token).');
    return;
  }
  if (!r.ok) {
    setLink('down', 'status ' + r.status);
    retry();
    return;
  }
  receive(await r.json());
  // Browsers cannot set headers on a WebSocket: the token goes in a cookie for this server's port.
  const port = location.port || (location.protocol === 'https:' ? '443' : '80');
  document.cookie = 'tapwall_token_' + port + '=' + encodeURIComponent(token) + '; path=/; SameSite=Strict';
  const sock = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/live');
  ws = sock;
  sock.onopen = () => setLink('live');
  sock.onmessage = (e) => { if (ws === sock) { setLink('live'); receive(JSON.parse(e.data)); } };
  sock.onclose = () => {
    if (ws !== sock) return;
    ws = null;
    setLink('down', 'the live connection closed');
    retry();
  };
}

function askToken(why) {
  text('token-why', why);
  $('token-dialog').classList.remove('hidden');
  $('token-input').focus();
}

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('token-input').value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  $('token-input').value = '';
  $('token-dialog').classList.add('hidden');
  connect();
});

// ---- actions ----

function describe(line) {
  switch (line.action) {
    case 'takeover': return (line.on ? 'take over ' : 'give back ') + laneLabel(line.lane);
    case 'adjust': return 'score ' + (line.delta > 0 ? '+' : '') + line.delta + ' for ' + laneLabel(line.lane);
    case 'next_game': return 'next game';
    default: return line.action;
  }
}

function result(msg, ok) {
  const r = $('result');
  r.textContent = msg;
  r.className = 'result ' + (ok ? 'ok' : 'err');
}

async function post(path, line, what) {
  let r, body = {};
  try {
    r = await fetch(path, {
      method: 'POST', cache: 'no-store',
      headers: Object.assign({ 'Content-Type': 'application/json' }, authHeaders()),
      body: JSON.stringify(line),
    });
    body = await r.json().catch(() => ({}));
  } catch (e) {
    result(what + ': NOT SENT — the control server does not answer', false);
    return;
  }
  if (r.ok) {
    result(what + (body.tick !== undefined ? ': applied at tick ' + body.tick : ': done'), true);
    if (path === '/promote') receive(body);
  } else if (r.status === 401) {
    result(what + ': refused, token needed', false);
    askToken('The token was refused. Enter the show\'s control token.');
  } else {
    result(what + ': REFUSED (' + r.status + ') ' + (body.message || ''), false);
  }
}

function disarm() {
  if (!armed) return;
  clearTimeout(armed.timer);
  armed.button.classList.remove('armed');
  armed.button.textContent = armed.label;
  armed = null;
}

// act runs a button's action: a destructive one (data-confirm) arms on the first click and runs
// on a second click of the same button within ARM_MS; any other click disarms it.
function act(button, line, path) {
  const what = path === '/promote' ? 'promote' : describe(line);
  if (button.dataset.confirm) {
    if (!armed || armed.button !== button) {
      disarm();
      armed = { button, label: button.textContent };
      armed.timer = setTimeout(disarm, ARM_MS);
      button.classList.add('armed');
      button.textContent = 'CONFIRM ' + button.dataset.confirm + '?';
      result('Click "CONFIRM ' + button.dataset.confirm + '?" again within ' + ARM_MS / 1000 + ' s to ' + what + '; any other click cancels', false);
      return;
    }
    disarm();
    line = Object.assign({}, line, { confirm: true });
  }
  post(path || '/api/input', line, what);
}

document.addEventListener('click', (e) => {
  const b = e.target.closest('button');
  if (!b || b.id === 'token-go') { disarm(); return; }
  if (armed && armed.button !== b) disarm();
  if (b.dataset.promote) { act(b, {}, '/promote'); return; }
  let line;
  const lane = b.dataset.lane !== undefined ? Number(b.dataset.lane) : undefined;
  switch (b.dataset.action) {
    case 'start': case 'abort': case 'next_game': line = { action: b.dataset.action }; break;
    case 'pause': line = { action: st && st.phase === 'paused' ? 'resume' : 'pause' }; break;
    case 'takeover': line = { action: 'takeover', lane, on: b.dataset.on === 'true' }; break;
    case 'adjust': line = { action: 'adjust', lane, delta: Number(b.dataset.delta) }; break;
    default: return;
  }
  act(b, line);
});
document.addEventListener('keydown', (e) => { if (e.key === 'Escape') disarm(); });

// ---- rendering ----

function receive(s) {
  st = s;
  stAt = performance.now();
  render();
}

function render() {
  const s = st;
  text('wall', s.wall || '–');
  const role = $('role');
  role.className = 'badge role-' + s.role;
  text('role', s.role + (s.epoch > 1 ? ' · epoch ' + s.epoch : ''));
  text('round', s.round || '–');
  $('phase').className = 'badge phase phase-' + s.phase;
  text('phase', s.phase || '–');
  text('game', s.game || '–');
  text('next-game', s.next_game || '–');
  text('tick', s.tick);
  text('clock', clock(s.show_us || 0));
  $('attract').classList.toggle('hidden', !s.attract);
  text('btn-pause', s.phase === 'paused' ? 'RESUME' : 'PAUSE');
  $('btn-promote').classList.toggle('hidden', s.role !== 'standby');

  const frozen = $('frozen');
  if (s.last_frame_age_ms > FROZEN_MS) {
    text('frozen', 'WALL FROZEN: no frame drawn for ' + ago(s.last_frame_age_ms) + ' (loop lag ' + s.lag_ticks + ' ticks)');
    frozen.classList.remove('hidden');
  } else frozen.classList.add('hidden');

  renderAlarms(s);
  renderPrompt();
  renderLanes(s);
  renderMap(s);
  renderHUD(s);
  renderTables(s);
  paintLink();
}

function renderAlarms(s) {
  const alarms = s.alarms || [];
  const keys = {};
  (s.lanes || []).forEach((l) => { keys[l.index] = l.keyboard; });
  rebuild('alarms', JSON.stringify([alarms, keys]), () => alarms.map((a) => {
    const row = el('div', { class: 'alarm', 'data-code': a.code, 'data-lane': a.lane },
      el('span', { class: 'code' }, a.code),
      el('span', { class: 'msg' }, a.message),
      el('span', { class: 'since' }, 'since ' + clock(a.since_us || 0)));
    if (a.lane >= 0 && !keys[a.lane]) {
      row.append(el('button', { class: 'small on', 'data-action': 'takeover', 'data-lane': a.lane, 'data-on': 'true' },
        'TAKE OVER LANE ' + (a.lane + 1)));
    }
    return row;
  }));
}

function renderPrompt() {
  const p = st && st.prompt;
  const box = $('prompt');
  if (!p) { box.classList.add('hidden'); return; }
  const left = Math.max(0, p.left_ms - (performance.now() - stAt));
  text('prompt-text', p.text);
  text('prompt-left', (left / 1000).toFixed(1) + ' s left');
  box.dataset.action = p.action;
  box.classList.remove('hidden');
}

function renderLanes(s) {
  const lanes = s.lanes || [];
  const body = $('lanes');
  const alarmed = new Set((s.alarms || []).filter((a) => a.lane >= 0).map((a) => a.lane));
  // Rows (and their buttons) persist across updates so a click is never lost to a re-render.
  if (sigs.laneRows !== lanes.map((l) => l.index).join(',')) {
    sigs.laneRows = lanes.map((l) => l.index).join(',');
    body.replaceChildren(...lanes.map((l) => el('tr', { 'data-lane': l.index },
      el('td', { class: 'idx' }), el('td', { class: 'name' }), el('td', { class: 'num score' }), el('td', { class: 'rank' }),
      el('td', { class: 'mode' }), el('td', { class: 'num last' }), el('td', { class: 'num rate' }), el('td', { class: 'num lat' }),
      el('td', {}, el('button', { class: 'small takeover', 'data-action': 'takeover', 'data-lane': l.index })),
      el('td', {},
        el('button', { class: 'small plus danger', 'data-action': 'adjust', 'data-lane': l.index, 'data-confirm': '+', 'data-delta': 1 }, '+'),
        ' ',
        el('button', { class: 'small minus danger', 'data-action': 'adjust', 'data-lane': l.index, 'data-confirm': '−', 'data-delta': -1 }, '−')))));
  }
  const step = s.adjust_step || 1;
  lanes.forEach((l, i) => {
    const tr = body.children[i];
    const cell = (c) => tr.querySelector('.' + c);
    tr.classList.toggle('selected', l.index === s.selected);
    tr.classList.toggle('keyboard', !!l.keyboard);
    tr.classList.toggle('lane-alarm', alarmed.has(l.index));
    const set = (c, v) => { const e = cell(c); const t = String(v); if (e.textContent !== t) e.textContent = t; };
    set('idx', (l.index + 1) + (l.index === s.selected ? ' ◀' : ''));
    set('name', l.name);
    set('score', l.score);
    set('rank', l.rank || '');
    set('mode', l.keyboard ? 'KEYBOARD' : 'touch');
    cell('mode').className = 'mode' + (l.keyboard ? ' mode-kbd' : '');
    set('last', ago(l.last_ago_ms));
    set('rate', l.input_rate);
    const lt = l.latency || {};
    set('lat', lt.count ? lt.p50_ms.toFixed(1) + ' / ' + lt.p99_ms.toFixed(1) + ' / ' + lt.max_ms.toFixed(1) + ' ms' : '–');
    cell('lat').className = 'num lat' + (lt.p99_ms > 50 ? ' bad' : lt.p99_ms > 25 ? ' warn' : '');
    const tb = tr.querySelector('.takeover');
    tb.dataset.on = String(!l.keyboard);
    tb.classList.toggle('on', !!l.keyboard);
    if (tb !== (armed && armed.button)) {
      const t = l.keyboard ? 'GIVE BACK' : 'TAKE OVER';
      if (tb.textContent !== t) tb.textContent = t;
    }
    for (const [c, sign] of [['plus', 1], ['minus', -1]]) {
      const b = tr.querySelector('.' + c);
      b.dataset.delta = String(sign * step);
      b.dataset.confirm = (sign > 0 ? '+' : '−') + step + ' LANE ' + (l.index + 1);
      if (b !== (armed && armed.button)) b.textContent = (sign > 0 ? '+' : '−') + step;
    }
  });
  const kb = lanes.filter((l) => l.keyboard).map((l) => l.index + 1);
  text('selected-lane', 'selected: lane ' + (s.selected + 1) + ' · keyboard lanes: ' + (kb.length ? kb.join(', ') : 'none'));
}

function renderMap(s) {
  const [w, h] = s.wall_mm || [0, 0];
  text('wall-size', w && h ? (w / 1000) + ' × ' + (h / 1000) + ' m' : '');
  if (!w || !h) return;
  const alarmed = new Set((s.alarms || []).filter((a) => a.lane >= 0).map((a) => a.lane));
  const lanes = s.lanes || [];
  const sig = JSON.stringify([w, h, s.selected, [...alarmed], lanes.map((l) => [l.index, l.rect, l.keyboard, l.cursor, l.name, l.score])]);
  rebuild('map', sig, () => {
    const font = Math.max(60, Math.round(Math.min(w, h) / 14));
    const root = svg('svg', { viewBox: '0 0 ' + w + ' ' + h, preserveAspectRatio: 'xMidYMid meet', role: 'img', 'aria-label': 'map of the wall' });
    root.append(svg('rect', { x: 0, y: 0, width: w, height: h, fill: '#010409', stroke: '#30363d', 'stroke-width': font / 6 }));
    for (const l of lanes) {
      const [x, y, lw, lh] = l.rect || [0, 0, 0, 0];
      const cls = 'lane' + (l.keyboard ? ' keyboard' : '') + (alarmed.has(l.index) ? ' alarm' : '') + (l.index === s.selected ? ' selected' : '');
      const g = svg('g', { 'data-lane': l.index });
      g.append(svg('rect', { class: cls, x, y, width: lw, height: lh, 'stroke-width': l.index === s.selected ? font / 3 : font / 10 }));
      g.append(svg('text', { x: x + lw / 2, y: y + font * 1.3, 'font-size': font, 'text-anchor': 'middle' }, (l.index + 1) + ' ' + (l.name || '')));
      g.append(svg('text', { x: x + lw / 2, y: y + lh / 2, 'font-size': font * 1.6, 'text-anchor': 'middle', 'dominant-baseline': 'middle' }, l.score));
      if (l.keyboard) {
        g.append(svg('text', { x: x + lw / 2, y: y + lh - font * 0.6, 'font-size': font * 0.8, 'text-anchor': 'middle' }, 'KEYBOARD'));
        const [cx, cy] = l.cursor || [x + lw / 2, y + lh / 2];
        const r = font * 0.7;
        g.append(svg('circle', { class: 'cursor', cx, cy, r, fill: 'none', 'stroke-width': font / 8 }));
        g.append(svg('line', { class: 'cursor', x1: cx - r * 1.6, y1: cy, x2: cx + r * 1.6, y2: cy, 'stroke-width': font / 10 }));
        g.append(svg('line', { class: 'cursor', x1: cx, y1: cy - r * 1.6, x2: cx, y2: cy + r * 1.6, 'stroke-width': font / 10 }));
      }
      root.append(g);
    }
    return [root];
  });
}

function tile(k, v, cls) {
  return el('div', { class: 'tile' + (cls ? ' ' + cls : '') }, el('div', { class: 'k' }, k), el('div', { class: 'v' }, v));
}

function renderHUD(s) {
  const target = s.tick_rate || 60;
  const tiles = [
    tile('fps', (s.fps || 0).toFixed(1), s.fps < target * 0.9 ? 'bad' : ''),
    tile('tps', (s.tps || 0).toFixed(1), s.tps < target * 0.9 && s.phase === 'running' ? 'bad' : ''),
    tile('tick', s.tick),
    tile('loop lag', s.lag_ticks + ' t', s.lag_ticks > 2 ? 'bad' : s.lag_ticks > 0 ? 'warn' : ''),
    tile('last frame', ago(s.last_frame_age_ms), s.last_frame_age_ms > FROZEN_MS ? 'bad' : ''),
    tile('late inputs', s.late_inputs, s.late_inputs ? 'warn' : ''),
    tile('dropped', s.dropped_inputs, s.dropped_inputs ? 'bad' : ''),
    tile('queued', s.queued),
    tile('outbox', s.outbox, s.outbox > 100 ? 'warn' : ''),
    tile('render scale', s.render_scale ? s.render_scale.toFixed(2) : '–', s.render_scale && s.render_scale < 1 ? 'warn' : ''),
  ];
  $('hud').replaceChildren(...tiles);
}

function kv(pairs) {
  const out = [];
  for (const [k, v, cls] of pairs) {
    out.push(el('span', { class: 'k' }, k), el('span', { class: 'v' + (cls ? ' ' + cls : '') }, v));
  }
  return out;
}

function renderTables(s) {
  const rates = s.input_rates || {}, totals = s.inputs || {};
  const names = [...new Set([...Object.keys(totals), ...Object.keys(rates)])].sort();
  $('sources').replaceChildren(...(names.length ? names.map((n) => el('tr', { 'data-source': n },
    el('td', {}, n), el('td', { class: 'num' }, rates[n] || 0), el('td', { class: 'num' }, totals[n] || 0)))
    : [el('tr', {}, el('td', { colspan: 3, class: 'small' }, 'no input yet'))]));

  const frames = s.frames || [];
  $('frames').replaceChildren(...(frames.length ? frames.map((f) => el('tr', { 'data-frame': f.name },
    el('td', {}, f.name),
    el('td', { class: f.connected ? 'good' : 'bad' }, f.connected ? 'connected' : 'LOST' + (f.error ? ': ' + f.error : '')),
    el('td', { class: 'num' }, f.events), el('td', { class: 'num' }, f.rate || 0),
    el('td', { class: 'num' }, ago(f.last_ago_ms)), el('td', { class: 'small' }, f.path || '')))
    : [el('tr', {}, el('td', { colspan: 6, class: 'small' }, 'no touch frames configured'))]));

  const filters = s.filters || {};
  const fk = Object.keys(filters).sort();
  rebuild('filters', JSON.stringify(filters), () => fk.length ? kv(fk.map((k) => [k, filters[k]])) : [el('span', { class: 'small' }, 'none')]);

  const l = s.link;
  $('link').replaceChildren(...(l ? kv([
    ['link', l.state, l.state === 'up' ? 'good' : 'bad'], ['url', l.url],
    ['rtt', l.rtt_ms.toFixed(1) + ' ms'], ['clock offset', (l.offset_us / 1000).toFixed(1) + ' ms'],
    ['outbox', l.outbox + (l.outbox ? ' (oldest ' + ago(l.oldest_age_ms) + ')' : ''), l.outbox > 100 ? 'warn' : ''],
    ['reconnects', l.reconnects], ['last error', l.last_error || '–', l.last_error ? 'warn' : ''],
  ]) : kv([['link', s.backend || 'no backend']])));

  const kbs = s.keyboards || {};
  const kbNames = Object.keys(kbs).sort();
  const show = [
    ['role', s.role + (s.epoch ? ' (epoch ' + s.epoch + ')' : ''), s.role === 'primary' ? '' : s.role === 'standby' ? '' : 'bad'],
    ['journal', s.journal || 'none', s.journal && /error|fail|unwrit/i.test(s.journal) ? 'bad' : ''],
    ['evemu playback', s.playback || 'none'],
    ['desk keyboards', kbNames.length ? kbNames.map((n) => n + (kbs[n] ? ' ✓' : ' ✗ LOST')).join(', ') : 'none',
      kbNames.some((n) => !kbs[n]) ? 'bad' : ''],
    ['operator on wall', s.on_wall || 'none'],
    ['control', s.control || location.host],
    ['window pid', s.pid],
  ];
  if (s.following) show.splice(1, 0, ['following', s.following], ['follow lag', s.follow_lag_ticks + ' ticks', s.follow_lag_ticks > 10 ? 'warn' : '']);
  $('show').replaceChildren(...kv(show));

  const help = s.help || [];
  rebuild('help', JSON.stringify(help), () => help.map((h) => el('li', {}, h)));
}

// The connection badge, staleness and the prompt's countdown move between updates too.
setInterval(() => { if (st) renderPrompt(); paintLink(); }, 100);
connect();
