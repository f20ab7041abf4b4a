// Bloodbank dashboard: live events, causation and a schema-driven publish form.
// Plain ES2020, no dependencies. Every piece of data reaches the DOM as text (textContent, text
// nodes, attributes), never as markup. Paths are relative so the page also works behind a proxy
// that mounts the gateway under a prefix.
'use strict';

(() => {
  const KEY_STORAGE = 'bloodbank.dashboard.apiKey';
  const MAX_ROWS = 500;
  const CAUSATION_DEPTH = 10;
  const MAX_TREE_NODES = 2000;
  const HEALTH_EVERY_MS = 15000;

  const $ = (id) => document.getElementById(id);

  /**
   * Creates an element. attrs: class, text, dataset, on<event> handlers, boolean or string
   * attributes. children: nodes or values, the latter inserted as text.
   */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : String(c));
    }
    return e;
  }

  const show = (v) => (typeof v === 'string' ? v : JSON.stringify(v));

  // ---------------------------------------------------------------- API key and requests

  function storedKey() {
    try {
      return sessionStorage.getItem(KEY_STORAGE) || '';
    } catch (_) {
      return ''; // storage disabled: the key lives in the field only
    }
  }

  function storeKey(key) {
    try {
      if (key) sessionStorage.setItem(KEY_STORAGE, key);
      else sessionStorage.removeItem(KEY_STORAGE);
    } catch (_) {
      // storage disabled
    }
  }

  const apiKey = () => $('api-key').value.trim();

  function headers(extra) {
    const h = Object.assign({ Accept: 'application/json' }, extra);
    const key = apiKey();
    if (key) h.Authorization = 'Bearer ' + key;
    return h;
  }

  /** Calls the gateway; resolves to {ok, status, body (parsed JSON or null), text, requestId}. */
  async function api(method, path, body) {
    const init = {
      method,
      cache: 'no-store',
      headers: headers(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    };
    if (body !== undefined) init.body = body;
    let res;
    try {
      res = await fetch(path, init);
    } catch (err) {
      return { ok: false, status: 0, body: null, text: String((err && err.message) || err) };
    }
    const text = await res.text().catch(() => '');
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch (_) {
      json = null;
    }
    return {
      ok: res.ok,
      status: res.status,
      statusText: res.statusText,
      body: json,
      text,
      requestId: res.headers.get('X-Request-Id'),
    };
  }

  /** A failed call as an alert box: status, error code, message and each schema violation. */
  function errorBox(r, prefix) {
    const b = r.body && typeof r.body === 'object' && !Array.isArray(r.body) ? r.body : null;
    let head;
    if (r.status === 0) {
      head = 'network error: ' + r.text;
    } else {
      const code = b && b.error ? show(b.error) : r.statusText || 'error';
      const message = b && b.message ? show(b.message) : (r.text || '').slice(0, 300);
      head = r.status + ' ' + code + (message ? ': ' + message : '');
    }
    const box = el('div', { class: 'error', role: 'alert' },
      el('p', { class: 'error-message' }, (prefix ? prefix + ': ' : '') + head));
    if (b && Array.isArray(b.violations) && b.violations.length) {
      const list = el('ul', { class: 'violations' });
      for (const v of b.violations) {
        if (!v || typeof v !== 'object') continue;
        const pointer = v.pointer === undefined || v.pointer === null ? '' : show(v.pointer);
        list.append(el('li', { class: 'violation' },
          el('code', { class: 'pointer' }, pointer === '' ? '(whole body)' : pointer),
          v.keyword ? el('span', { class: 'keyword' }, show(v.keyword)) : null,
          el('span', { class: 'violation-message' }, v.message === undefined ? '' : show(v.message))));
      }
      box.append(list);
    }
    const requestId = (b && b.request_id) || r.requestId;
    if (requestId) box.append(el('p', { class: 'request-id muted small' }, 'request id ' + show(requestId)));
    return box;
  }

  // ---------------------------------------------------------------- health

  async function refreshHealth() {
    const h = $('health');
    const r = await api('GET', 'healthz');
    const b = r.body && typeof r.body === 'object' ? r.body : null;
    if (b && typeof b.ready === 'boolean') {
      const reasons = Array.isArray(b.reasons) ? b.reasons.map(show).join('; ') : '';
      h.dataset.state = b.ready ? 'ready' : 'not-ready';
      h.textContent = b.ready ? 'ready' : 'not ready' + (reasons ? ': ' + reasons : '');
    } else {
      h.dataset.state = 'unknown';
      h.textContent = r.status === 0 ? 'gateway unreachable' : 'health: HTTP ' + r.status;
    }
  }

  // ---------------------------------------------------------------- live events

  const rows = $('events');
  const rowEnvelope = new WeakMap(); // <tr> -> envelope; rows dropped from the list are collected
  let source = null;
  let streamGeneration = 0;
  let received = 0;

  function setStatus(state, text) {
    const s = $('stream-status');
    s.dataset.state = state;
    s.textContent = text;
  }

  function showNotice(...content) {
    const n = $('stream-notice');
    n.replaceChildren(...content.map((c) => (c instanceof Node ? c : String(c))));
    n.hidden = false;
  }

  function hideNotice() {
    const n = $('stream-notice');
    n.replaceChildren();
    n.hidden = true;
  }

  function disconnect() {
    streamGeneration++;
    if (source) source.close();
    source = null;
  }

  function connect() {
    disconnect();
    const generation = streamGeneration;
    const pattern = $('pattern').value.trim() || '#';
    const params = new URLSearchParams({ pattern });
    const key = apiKey();
    // EventSource cannot send headers; the gateway takes the key as a query parameter here.
    if (key) params.set('access_token', key);
    const es = new EventSource('events/stream?' + params.toString());
    source = es;
    hideNotice();
    setStatus('connecting', 'connecting to ' + pattern + ' …');
    $('connect').textContent = 'Reconnect';

    const current = () => generation === streamGeneration;
    es.addEventListener('open', () => {
      if (!current()) return;
      setStatus('connected', 'connected, pattern ' + pattern);
      hideNotice();
    });
    const onEvent = (e) => {
      if (current()) addEvent(e.data, e.lastEventId);
    };
    es.addEventListener('event', onEvent);
    es.addEventListener('message', onEvent); // a server that sends no event name
    es.addEventListener('dropped', (e) => {
      if (!current()) return;
      let reason = e.data;
      try {
        const d = JSON.parse(e.data);
        if (d && d.reason !== undefined) reason = show(d.reason);
      } catch (_) {
        // keep the raw text
      }
      // The server ends the stream after this; do not let EventSource reconnect silently.
      disconnect();
      setStatus('dropped', 'dropped');
      showNotice('The server dropped this stream: ' + (reason || 'no reason given') +
        '. Events were missed; press Reconnect.');
    });
    es.addEventListener('error', () => {
      if (!current()) return;
      if (es.readyState === EventSource.CLOSED) {
        source = null;
        setStatus('closed', 'disconnected');
        showNotice('The stream was refused or closed. Checking why …');
        diagnoseStream(pattern, generation);
      } else {
        setStatus('connecting', 'reconnecting …');
        showNotice('The stream was interrupted; the browser is reconnecting. ' +
          'Events published meanwhile are missed.');
      }
    });
  }

  /** EventSource hides the HTTP status of a refusal; ask again with fetch to show the error body. */
  async function diagnoseStream(pattern, generation) {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), 5000);
    let text;
    try {
      const res = await fetch('events/stream?' + new URLSearchParams({ pattern }).toString(), {
        headers: headers({ Accept: 'text/event-stream' }),
        cache: 'no-store',
        signal: ctrl.signal,
      });
      if (res.ok) {
        text = null;
      } else {
        const body = await res.text().catch(() => '');
        let json = null;
        try {
          json = JSON.parse(body);
        } catch (_) {
          json = null;
        }
        text = errorBox({
          ok: false, status: res.status, statusText: res.statusText, body: json, text: body,
          requestId: res.headers.get('X-Request-Id'),
        }, 'stream refused');
      }
    } catch (err) {
      text = ctrl.signal.aborted ? null : 'The gateway is unreachable: ' + ((err && err.message) || err);
    } finally {
      clearTimeout(timer);
      ctrl.abort();
    }
    if (generation !== streamGeneration) return;
    showNotice(text || 'The stream closed. Press Reconnect.');
  }

  function pad(n, width) {
    return String(n).padStart(width || 2, '0');
  }

  function formatTime(ts) {
    const d = typeof ts === 'string' ? new Date(ts) : null;
    if (!d || Number.isNaN(d.getTime())) return ts === undefined || ts === null ? '' : show(ts);
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + '.' +
      pad(d.getMilliseconds(), 3);
  }

  function addEvent(data, lastEventId) {
    let env;
    try {
      env = JSON.parse(data);
    } catch (err) {
      showNotice('An event could not be read as JSON: ' + err.message);
      return;
    }
    if (!env || typeof env !== 'object' || Array.isArray(env)) return;
    const id = env.event_id !== undefined && env.event_id !== null ? show(env.event_id) : lastEventId || '';
    const type = env.event_type === undefined ? '' : show(env.event_type);
    const tr = el('tr', { class: 'event-row', tabindex: '0', dataset: { eventId: id, eventType: type } },
      el('td', { class: 'time', title: env.timestamp === undefined ? null : show(env.timestamp) },
        formatTime(env.timestamp)),
      el('td', { class: 'type' }, type),
      el('td', { class: 'id' }, id));
    rowEnvelope.set(tr, env);
    rows.prepend(tr);
    while (rows.rows.length > MAX_ROWS) rows.lastElementChild.remove();
    received++;
    $('event-count').textContent = received + (received === 1 ? ' event' : ' events') +
      (received > MAX_ROWS ? ' (showing the newest ' + MAX_ROWS + ')' : '');
  }

  function rowFor(id) {
    for (const tr of rows.rows) if (tr.dataset.eventId === id) return tr;
    return null;
  }

  // ---------------------------------------------------------------- selected event, causation

  let selectedId = null;
  let causationRequest = 0;

  function selectRow(tr) {
    for (const r of rows.querySelectorAll('tr.selected')) {
      r.classList.remove('selected');
      r.removeAttribute('aria-selected');
    }
    tr.classList.add('selected');
    tr.setAttribute('aria-selected', 'true');
    const env = rowEnvelope.get(tr);
    $('event-json').textContent = JSON.stringify(env, null, 2);
    selectId(tr.dataset.eventId || '');
  }

  function selectId(id) {
    selectedId = id || null;
    $('selected-id').textContent = id ? 'event ' + id : 'This event has no event_id.';
    $('use-as-parent').disabled = !id;
    loadCausation(id);
  }

  async function loadCausation(id) {
    const box = $('causation');
    const request = ++causationRequest;
    if (!id) {
      box.dataset.state = 'idle';
      box.replaceChildren();
      return;
    }
    box.dataset.state = 'loading';
    box.replaceChildren(el('p', { class: 'muted' }, 'loading causation …'));
    const r = await api('GET', 'correlation/' + encodeURIComponent(id) + '?depth=' + CAUSATION_DEPTH);
    if (request !== causationRequest) return;
    if (!r.ok || !r.body || typeof r.body !== 'object') {
      box.dataset.state = 'error';
      box.replaceChildren(errorBox(r, 'causation'));
      return;
    }
    box.dataset.state = 'loaded';
    box.replaceChildren(
      direction('Ancestors (what caused it)', 'ancestors', id, r.body.ancestors, true),
      direction('Descendants (what it caused)', 'descendants', id, r.body.descendants, false));
  }

  /** A clickable event id: selects its row when it is in the list, else loads its causation. */
  function idButton(id) {
    return el('button', {
      type: 'button',
      class: 'link id-link',
      dataset: { eventId: id },
      onclick: () => {
        const tr = rowFor(id);
        if (tr) {
          selectRow(tr);
        } else {
          for (const r of rows.querySelectorAll('tr.selected')) r.classList.remove('selected');
          $('event-json').textContent = '(event ' + id + ' is not in the live list)';
          selectId(id);
        }
      },
    }, id);
  }

  function direction(title, name, rootId, dir, upward) {
    const section = el('section', { class: 'causation-dir', dataset: { direction: name } },
      el('h4', null, title));
    let levels = dir && Array.isArray(dir.levels) ? dir.levels : [];
    const edges = dir && Array.isArray(dir.edges) ? dir.edges : [];
    // Level 0 is the event itself; level n the events n links away.
    const rootFirst = levels.length > 0 && Array.isArray(levels[0]) && levels[0].length === 1 &&
      show(levels[0][0]) === rootId;
    if (rootFirst) levels = levels.slice(1);
    if (!levels.some((l) => Array.isArray(l) && l.length) && !edges.length) {
      section.append(el('p', { class: 'muted none' }, 'none'));
    } else {
      // The tree walks the edges away from the selected event: to parents for ancestors, to
      // children for descendants. A node reached twice is listed once, so a diamond cannot
      // multiply the tree.
      const next = new Map();
      for (const e of edges) {
        if (!e || typeof e !== 'object') continue;
        const from = show(upward ? e.child : e.parent);
        const to = show(upward ? e.parent : e.child);
        if (!next.has(from)) next.set(from, []);
        next.get(from).push(to);
      }
      const budget = { left: MAX_TREE_NODES };
      section.append(el('ul', { class: 'tree' }, treeNode(rootId, next, new Set(), budget)));
      const levelList = el('ul', { class: 'levels' });
      levels.forEach((level, i) => {
        const ids = Array.isArray(level) ? level.map(show) : [];
        levelList.append(el('li', null, (i + 1) + (i === 0 ? ' link' : ' links') + ' away ',
          el('ul', null, ...ids.map((id) => el('li', null, idButton(id))))));
      });
      const edgeList = el('ul', { class: 'edges' });
      for (const e of edges) {
        if (!e || typeof e !== 'object') continue;
        edgeList.append(el('li', null, idButton(show(e.parent)), ' → ', idButton(show(e.child))));
      }
      section.append(
        el('details', null, el('summary', null, levels.length + (levels.length === 1 ? ' level' : ' levels')), levelList),
        el('details', null, el('summary', null, edges.length + (edges.length === 1 ? ' edge' : ' edges') + ', parent → child'), edgeList));
    }
    if (dir && dir.limit_hit !== undefined && dir.limit_hit !== null) {
      section.append(el('p', { class: 'warning' }, 'Truncated: ' + show(dir.limit_hit)));
    }
    return section;
  }

  function treeNode(id, next, seen, budget) {
    const li = el('li', null, idButton(id));
    budget.left--;
    if (seen.has(id)) {
      li.append(el('span', { class: 'muted' }, ' (listed above)'));
      return li;
    }
    seen.add(id);
    const kids = next.get(id) || [];
    if (kids.length) {
      if (budget.left <= 0) {
        li.append(el('span', { class: 'muted' }, ' … (' + kids.length + ' more not shown)'));
      } else {
        li.append(el('ul', null, ...kids.map((k) => treeNode(k, next, seen, budget))));
      }
    }
    return li;
  }

  // ---------------------------------------------------------------- catalog and publish form

  let schemaRequest = 0;

  async function loadCatalog() {
    const select = $('publish-type');
    const status = $('catalog-status');
    status.replaceChildren('loading event types …');
    const r = await api('GET', 'events');
    if (!r.ok || !r.body || !Array.isArray(r.body.events)) {
      select.replaceChildren(el('option', { value: '' }, '(catalog unavailable)'));
      status.replaceChildren(errorBox(r, 'event types'));
      return;
    }
    const previous = select.value;
    const events = r.body.events
      .filter((e) => e && typeof e.event_type === 'string')
      .sort((a, b) => a.event_type.localeCompare(b.event_type));
    const byDomain = new Map();
    for (const e of events) {
      const domain = typeof e.domain === 'string' && e.domain ? e.domain : e.event_type.split('.')[0];
      if (!byDomain.has(domain)) byDomain.set(domain, []);
      byDomain.get(domain).push(e);
    }
    const options = [el('option', { value: '' }, '— choose an event type —')];
    for (const [domain, list] of byDomain) {
      options.push(el('optgroup', { label: domain }, ...list.map((e) =>
        el('option', { value: e.event_type },
          e.event_type + (e.title ? ' — ' + show(e.title) : '') + (e.command ? ' (command)' : '')))));
    }
    select.replaceChildren(...options);
    status.replaceChildren(events.length + (events.length === 1 ? ' event type' : ' event types'));
    if (previous && events.some((e) => e.event_type === previous)) {
      select.value = previous;
    } else if (previous) {
      onTypeChange();
    }
  }

  function resolveRef(schema, prop) {
    // Top-level properties may point into the document's own $defs.
    if (prop && typeof prop.$ref === 'string' && prop.$ref.startsWith('#/')) {
      let node = schema;
      for (const part of prop.$ref.slice(2).split('/')) {
        node = node && typeof node === 'object' ? node[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
      }
      if (node && typeof node === 'object') return Object.assign({}, node, prop);
    }
    return prop && typeof prop === 'object' ? prop : {};
  }

  function typesOf(p) {
    if (Array.isArray(p.type)) return p.type.map(String);
    return typeof p.type === 'string' ? [p.type] : [];
  }

  /** How a property is entered: enum, string, number, integer, boolean, or json (a textarea). */
  function kindOf(p) {
    if (Array.isArray(p.enum) && p.enum.length) return 'enum';
    if (Object.prototype.hasOwnProperty.call(p, 'const')) return 'enum';
    const types = typesOf(p).filter((t) => t !== 'null');
    if (types.length === 1 && ['string', 'number', 'integer', 'boolean'].includes(types[0])) return types[0];
    return 'json';
  }

  function fieldId(name, used) {
    const base = 'field-' + name.replace(/[^A-Za-z0-9_-]/g, '_');
    let id = base;
    for (let i = 2; used.has(id) || document.getElementById(id); i++) id = base + '-' + i;
    used.add(id);
    return id;
  }

  function renderFields(schema) {
    const props = schema && schema.properties && typeof schema.properties === 'object' ? schema.properties : {};
    const required = new Set(Array.isArray(schema.required) ? schema.required : []);
    const container = $('publish-fields');
    container.replaceChildren();
    const used = new Set();
    const fields = [];
    for (const name of Object.keys(props)) {
      const p = resolveRef(schema, props[name]);
      const kind = kindOf(p);
      const isRequired = required.has(name);
      const id = fieldId(name, used);
      const types = typesOf(p);
      const nullable = types.includes('null');
      let input;
      if (kind === 'enum') {
        const values = Array.isArray(p.enum) && p.enum.length ? p.enum : [p.const];
        input = el('select', null, el('option', { value: '' }, isRequired ? '— choose —' : '(absent)'),
          ...values.map((v, i) => el('option', { value: String(i) }, show(v))));
        input.enumValues = values;
      } else if (kind === 'boolean') {
        input = el('select', null, el('option', { value: '' }, isRequired ? '— choose —' : '(absent)'),
          el('option', { value: 'true' }, 'true'), el('option', { value: 'false' }, 'false'));
      } else if (kind === 'json') {
        input = el('textarea', { rows: '3', spellcheck: 'false', placeholder: 'JSON' });
      } else {
        input = el('input', {
          type: 'text',
          spellcheck: 'false',
          inputmode: kind === 'string' ? null : kind === 'integer' ? 'numeric' : 'decimal',
          placeholder: Array.isArray(p.examples) && p.examples.length ? show(p.examples[0]) : null,
        });
      }
      input.id = id;
      input.dataset.field = name;
      input.dataset.kind = kind;
      if (isRequired) input.setAttribute('aria-required', 'true');
      if (p.default !== undefined) {
        if (kind === 'json') input.value = JSON.stringify(p.default, null, 2);
        else if (kind === 'enum') input.value = String(input.enumValues.findIndex((v) => JSON.stringify(v) === JSON.stringify(p.default)));
        else if (p.default !== null) input.value = String(p.default);
      }
      const typeText = kind === 'enum' ? 'one of the listed values'
        : (types.length ? types.join(' | ') : 'any JSON') + (kind === 'json' ? ' (JSON)' : '');
      const limits = [];
      if (p.minimum !== undefined) limits.push('≥ ' + show(p.minimum));
      if (p.maximum !== undefined) limits.push('≤ ' + show(p.maximum));
      if (p.minLength !== undefined) limits.push('length ≥ ' + show(p.minLength));
      if (p.format !== undefined) limits.push('format ' + show(p.format));
      const hint = typeText + (limits.length ? ', ' + limits.join(', ') : '') +
        (nullable && !isRequired ? ', may be null' : '') +
        (typeof p.description === 'string' ? ' — ' + p.description : '');
      fields.push(el('div', { class: 'field' + (isRequired ? ' is-required' : ''), dataset: { field: name } },
        el('label', { for: id }, name,
          isRequired ? el('span', { class: 'required', title: 'required' }, ' *') : null),
        input,
        el('small', { class: 'hint' }, hint)));
    }
    if (!fields.length) {
      fields.push(el('p', { class: 'muted' }, 'This payload declares no properties; use raw JSON.'));
    }
    container.replaceChildren(...fields);
  }

  async function onTypeChange() {
    const type = $('publish-type').value;
    const request = ++schemaRequest;
    const fields = $('publish-fields');
    const info = $('schema-info');
    $('publish-result').replaceChildren();
    info.replaceChildren();
    if (!type) {
      fields.replaceChildren();
      fields.dataset.type = '';
      return;
    }
    fields.dataset.type = '';
    fields.replaceChildren(el('p', { class: 'muted' }, 'loading schema …'));
    const r = await api('GET', 'events/' + encodeURIComponent(type) + '/schema');
    if (request !== schemaRequest) return;
    if (!r.ok || !r.body || typeof r.body !== 'object' || Array.isArray(r.body)) {
      fields.replaceChildren(errorBox(r, 'schema of ' + type));
      return;
    }
    const schema = r.body;
    renderFields(schema);
    fields.dataset.type = type; // the test waits on this: the fields belong to this type
    const title = typeof schema.title === 'string' ? schema.title : '';
    const required = Array.isArray(schema.required) ? schema.required : [];
    info.replaceChildren(title + (title ? '. ' : '') +
      (required.length ? 'Required: ' + required.map(show).join(', ') + ' (marked *).' : 'Nothing required.'));
    if (rawMode()) $('publish-raw').value = JSON.stringify(collect().payload, null, 2);
  }

  function correlationIds() {
    return $('publish-correlation').value.split(/[\s,]+/).filter((s) => s.length);
  }

  /** The form's values as a payload, and what could not be read. Empty fields are left out. */
  function collect() {
    const payload = {};
    const errors = [];
    const inputs = $('publish-fields').querySelectorAll(
      'input[data-field], select[data-field], textarea[data-field]');
    for (const input of inputs) {
      const name = input.dataset.field;
      const kind = input.dataset.kind;
      const raw = input.value;
      if (raw === '') continue;
      if (kind === 'enum') {
        payload[name] = input.enumValues[Number(raw)];
      } else if (kind === 'boolean') {
        payload[name] = raw === 'true';
      } else if (kind === 'number' || kind === 'integer') {
        const n = Number(raw.trim());
        if (raw.trim() === '' || !Number.isFinite(n)) errors.push(name + ': "' + raw + '" is not a number');
        else payload[name] = n;
      } else if (kind === 'json') {
        try {
          payload[name] = JSON.parse(raw);
        } catch (err) {
          errors.push(name + ': not valid JSON (' + err.message + ')');
        }
      } else {
        payload[name] = raw;
      }
    }
    return { payload, errors };
  }

  function formBody() {
    const { payload, errors } = collect();
    const parents = correlationIds();
    return { body: parents.length ? { payload, correlation_ids: parents } : payload, errors };
  }

  const rawMode = () => $('publish-raw-toggle').checked;

  function setRawMode(on) {
    $('publish-form-fields').hidden = on;
    $('publish-raw-box').hidden = !on;
    if (on && $('publish-raw').value.trim() === '') fillRawFromForm();
  }

  function fillRawFromForm() {
    $('publish-raw').value = JSON.stringify(formBody().body, null, 2);
  }

  async function onPublish(ev) {
    ev.preventDefault();
    const out = $('publish-result');
    const type = $('publish-type').value;
    if (!type) {
      out.replaceChildren(el('p', { class: 'error' }, 'Choose an event type first.'));
      return;
    }
    let text;
    if (rawMode()) {
      text = $('publish-raw').value;
      try {
        JSON.parse(text);
      } catch (err) {
        out.replaceChildren(el('div', { class: 'error', role: 'alert' },
          el('p', { class: 'error-message' }, 'The raw JSON is not valid: ' + err.message)));
        return;
      }
    } else {
      const { body, errors } = formBody();
      if (errors.length) {
        out.replaceChildren(el('div', { class: 'error', role: 'alert' },
          el('p', { class: 'error-message' }, 'Fix these fields first:'),
          el('ul', null, ...errors.map((e) => el('li', null, e)))));
        return;
      }
      text = JSON.stringify(body);
    }
    const button = $('publish-submit');
    button.disabled = true;
    out.dataset.state = 'sending';
    out.replaceChildren(el('p', { class: 'muted' }, 'publishing ' + type + ' …'));
    try {
      const r = await api('POST', 'events/' + encodeURIComponent(type), text);
      if (r.ok && r.body && r.body.event_id !== undefined) {
        const parents = Array.isArray(r.body.correlation_ids) ? r.body.correlation_ids.map(show) : [];
        out.dataset.state = 'published';
        out.replaceChildren(el('p', { class: 'ok' },
          r.status + ' ' + show(r.body.status || 'published') + ' ' + show(r.body.event_type || type) + ': ',
          el('code', { id: 'publish-event-id' }, show(r.body.event_id)),
          parents.length ? ' caused by ' + parents.join(', ') : null));
      } else {
        out.dataset.state = 'error';
        out.replaceChildren(errorBox(r, 'publish ' + type));
      }
    } finally {
      button.disabled = false;
    }
  }

  // ---------------------------------------------------------------- wiring

  function applyKey() {
    storeKey(apiKey());
    $('key-status').textContent = apiKey() ? 'key set for this tab' : 'no key';
    loadCatalog();
    connect();
    if (selectedId) loadCausation(selectedId);
  }

  function init() {
    $('api-key').value = storedKey();
    $('key-status').textContent = apiKey() ? 'key set for this tab' : 'no key';
    $('key-form').addEventListener('submit', (e) => {
      e.preventDefault();
      applyKey();
    });
    $('stream-form').addEventListener('submit', (e) => {
      e.preventDefault();
      connect();
    });
    $('disconnect').addEventListener('click', () => {
      disconnect();
      setStatus('idle', 'not connected');
      $('connect').textContent = 'Connect';
    });
    $('clear').addEventListener('click', () => {
      rows.replaceChildren();
      received = 0;
      $('event-count').textContent = '0 events';
    });
    rows.addEventListener('click', (e) => {
      const tr = e.target instanceof Element ? e.target.closest('tr.event-row') : null;
      if (tr) selectRow(tr);
    });
    rows.addEventListener('keydown', (e) => {
      const tr = e.target instanceof Element ? e.target.closest('tr.event-row') : null;
      if (tr && (e.key === 'Enter' || e.key === ' ')) {
        e.preventDefault();
        selectRow(tr);
      }
    });
    $('use-as-parent').addEventListener('click', () => {
      if (!selectedId) return;
      const ids = correlationIds();
      if (!ids.includes(selectedId)) ids.push(selectedId);
      $('publish-correlation').value = ids.join(', ');
    });
    $('publish-type').addEventListener('change', onTypeChange);
    $('publish-raw-toggle').addEventListener('change', (e) => setRawMode(e.target.checked));
    $('publish-raw-fill').addEventListener('click', fillRawFromForm);
    $('publish-form').addEventListener('submit', onPublish);
    setRawMode(rawMode());

    refreshHealth();
    setInterval(refreshHealth, HEALTH_EVERY_MS);
    loadCatalog();
    connect();
  }

  init();
})();
