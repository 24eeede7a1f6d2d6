// SafeLabel work component, Label kind (st.components.v2, plain ES module, no build step).
//
// Streamlit evaluates this module once per page and calls the default export again on every
// rerun whose `data` changed, with the SAME parentElement and WITHOUT calling the previous
// cleanup (bench/spike_work_component/README.md). So per-instance state lives in a WeakMap
// keyed by parentElement and listeners are installed once per instance.
//
// Item text is data: it only ever reaches the page through textContent / input.value.
const instances = new WeakMap();
// The instance Streamlit called last: the one on the page. For a moment during a rerun an
// element about to be removed can still be connected; only the active one handles keys and
// sends, so a key never acts twice.
let active = null;
const IDLE_CAP_MS = 120000;          // core/active_time.IDLE_CAP
const RETRY_MS = 2000;
const ITEM_KINDS = new Set(["submit", "skip", "flag"]);
const OTHER_CONTROLS = "button, a[href], input, select, textarea, summary, [contenteditable], " +
  "[role=button], [role=checkbox], [role=switch], [role=tab], [role=option], [role=combobox], " +
  "[role=slider], [role=dialog], [role=listbox], [data-testid=stSidebar], iframe";

// The tab's hidden time, for active time (as components/visibility.py measures it).
const hiddenClock = { total: 0, since: document.hidden ? Date.now() : null };
document.addEventListener("visibilitychange", () => {
  if (document.hidden) hiddenClock.since = Date.now();
  else if (hiddenClock.since !== null) { hiddenClock.total += Date.now() - hiddenClock.since; hiddenClock.since = null; }
});
const hiddenNow = () => hiddenClock.total + (hiddenClock.since === null ? 0 : Date.now() - hiddenClock.since);

const isTextField = (el) => !!el && (el.isContentEditable ||
  (el.tagName === "INPUT" && !["button", "checkbox", "radio", "submit", "reset"].includes(el.type)) ||
  el.tagName === "TEXTAREA" || el.tagName === "SELECT");

function deepActive() {            // the focused element, through open shadow roots
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  return el;
}

function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();   // secure contexts only
  return Array.from(crypto.getRandomValues(new Uint8Array(16)),
    (x) => x.toString(16).padStart(2, "0")).join("");
}

function activeMs(moments, hiddenMs) {        // core/active_time.visible_active_ms
  const m = [...moments].sort((a, b) => a - b);
  if (!m.length) return 0;
  let total = 0;
  for (let i = 1; i < m.length; i++) total += Math.min(m[i] - m[i - 1], IDLE_CAP_MS);
  return Math.max(0, Math.min(total, m[m.length - 1] - m[0] - Math.max(0, hiddenMs)));
}

// ---- per-item state -------------------------------------------------------------------
function untouched(s) {
  return s.verdict === null && !s.cats.size && s.severity === null && !s.note && s.rewrite === null
    && !s.reason && !s.gateOpen && !s.unblurred && !s.revealed && s.harm === null
    && s.help === null && s.overall === null && s.safe.left === null && s.safe.right === null
    && !s.sideCats.left.size && !s.sideCats.right.size;
}

function itemState(st, item) {
  let s = st.states.get(item.id);
  if (!s) {
    s = { verdict: null, cats: new Set(), severity: null, note: "", rewrite: null, reason: "",
      shownAt: null, hiddenAtShow: 0, moments: [], gateOpen: false, unblurred: false,
      revealed: false, prefRecorded: false,
      // Compare: on-screen scores (negative = A, the left response, better), overall,
      // per-response safety and categories.
      harm: null, help: null, overall: null, safe: { left: null, right: null },
      sideCats: { left: new Set(), right: new Set() } };
    st.states.set(item.id, s);
  }
  return s;
}

function touch(s) { s.moments.push(Date.now()); }

function problems(st, item, s) {
  return st.kind === "compare" ? compareProblems(st, s) : labelProblems(st, item, s);
}

function rationaleRequired(rule, harm, help) {       // core/preference.rationale_required
  const scores = [harm, help].filter((x) => x !== null);
  const strong = scores.some((x) => Math.abs(x) === 3);
  const conflict = harm !== null && help !== null && harm * help < 0;
  return ({ always: true, never: false, strong, conflict })[rule] ?? (strong || conflict);
}

function compareProblems(st, s) {
  const r = st.rules, msg = r.messages || {}, out = [];
  if (s.harm === null) out.push(msg.no_harm);
  if (s.help === null) out.push(msg.no_help);
  if (s.overall === null) out.push(msg.no_overall);
  if (rationaleRequired(r.rationale_rule, s.harm, s.help) && !s.note.trim()) out.push(msg.rationale);
  if (r.ask_safety) {
    for (const [side, name] of [["left", "A"], ["right", "B"]]) {
      if (s.safe[side] === null) out.push(msg.no_safety.replace("{side}", name));
      else if (s.safe[side] === false && !s.sideCats[side].size) out.push(msg.unsafe_no_category.replace("{side}", name));
    }
  }
  if (s.note.length > r.max_rationale_chars) out.push(`the rationale is ${s.note.length} characters long; the limit is ${r.max_rationale_chars}`);
  return out.filter(Boolean);
}

function labelProblems(st, item, s) {
  const r = st.rules, msg = r.messages || {}, out = [];
  if (s.verdict === null) out.push(msg.no_verdict);
  if (s.severity === null) out.push(msg.no_severity);
  if (s.verdict === "unsafe") {
    if (!s.cats.size) out.push(msg.unsafe_no_category);
    if (s.severity === 0) out.push(msg.unsafe_zero);
  }
  if (s.verdict === "safe" && s.cats.size) out.push(msg.safe_with_category);
  if (s.note.length > r.max_note_chars) out.push(`the note is ${s.note.length} characters long; the limit is ${r.max_note_chars}`);
  if (s.rewrite !== null && s.rewrite.length > item.max_rewrite_chars) out.push(`the edited response is too long (limit ${item.max_rewrite_chars} characters)`);
  return out.filter(Boolean);
}

// ---- the queue on screen --------------------------------------------------------------
const pendingItemIds = (st) => new Set([...st.outbox.values()]
  .filter((e) => ITEM_KINDS.has(e.kind)).map((e) => e.item_id));

function available(st) {
  const pending = pendingItemIds(st);
  return st.items.filter((it) => !pending.has(it.id));
}

function current(st) {
  const list = available(st);
  return list.find((it) => it.id === st.currentId) || list[0] || null;
}

// ---- outbox ---------------------------------------------------------------------------
function persist(st) {
  try {
    if (st.outbox.size) sessionStorage.setItem(st.storageKey, JSON.stringify([...st.outbox.values()]));
    else sessionStorage.removeItem(st.storageKey);
  } catch (e) { /* storage full or blocked: the in-memory outbox still retries */ }
}

function send(st) {
  if (st !== active || !st.outbox.size || !st.setTriggerValue) return;
  st.lastSent = Date.now();
  const now = Date.now();
  const entries = [...st.outbox.values()].map((e) => ({ ...e, age_ms: now - e.at }));
  // `shown`: the item on screen now (the page's "Ask a lead" popover is about it).
  st.setTriggerValue("sync", { entries, shown: st.currentId });
}

function enqueue(st, entry) {
  entry.id = newId();
  entry.at = Date.now();
  st.outbox.set(entry.id, entry);
  persist(st);
}

// ---- drawing --------------------------------------------------------------------------
const q = (st, role) => st.root.querySelector(`[data-role="${role}"]`);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(text, key, onClick) {
  const b = el("button", "choice", text);
  b.type = "button";
  if (key) b.append(el("kbd", "", key.replace("Shift+", "⇧")));
  b.addEventListener("click", onClick);
  return b;
}

function buildCompareControls(st) {
  const rules = st.rules, box = q(st, "compare-controls");
  box.replaceChildren();
  st.cmp = { harm: new Map(), help: new Map(), overall: new Map(), safe: new Map(), cats: new Map() };
  st.keyMap = new Map();
  const row = (label, cls) => {
    const r = el("div", "row " + (cls || "")); r.append(el("span", "lbl", label));
    const g = el("span", "group"); r.append(g); box.append(r); return g;
  };
  for (const [name, title, keyField] of [["harm", "Harmlessness: which response is less harmful?", "harm_key"],
    ["help", "Helpfulness: which response helps more?", "help_key"]]) {
    const g = row(title, "scale");
    for (const p of rules.scale) {
      const fn = () => chooseScore(st, name, p.score);
      const b = button(p.label, p[keyField], () => act(st, fn));
      b.dataset[name] = String(p.score);
      g.append(b); st.cmp[name].set(p.score, b); st.keyMap.set(p[keyField], fn);
    }
  }
  const g = row("Overall, which response better follows the style guide?");
  for (const o of rules.overall) {
    const fn = () => chooseOverall(st, o.value);
    const b = button(o.label, o.key, () => act(st, fn));
    b.dataset.overall = o.value;
    g.append(b); st.cmp.overall.set(o.value, b); st.keyMap.set(o.key, fn);
  }
  if (rules.ask_safety) {
    for (const [side, name] of [["left", "A"], ["right", "B"]]) {
      const sg = row(`Response ${name}`);
      const [safeKey, unsafeKey] = rules.safety_keys[side];
      for (const [value, key] of [[true, safeKey], [false, unsafeKey]]) {
        const fn = () => chooseSafety(st, side, value);
        const b = button(`${name} ${value ? "safe" : "unsafe"}`, key, () => act(st, fn));
        b.dataset.safe = `${side}-${value}`;
        sg.append(b); st.cmp.safe.set(`${side}-${value}`, b); st.keyMap.set(key, fn);
      }
      for (const c of rules.categories) {            // clicked (no keys: they would clash)
        const b = button(`${c.code} ${c.name}`, null, () => act(st, () => toggleSideCategory(st, side, c.code)));
        b.title = c.description || ""; b.dataset.sideCat = `${side}-${c.code}`;
        sg.append(b); st.cmp.cats.set(`${side}-${c.code}`, b);
      }
    }
  }
  q(st, "controls").hidden = true;
  box.hidden = false;
  q(st, "note-label").textContent = "Rationale" + (rules.rationale_needed ? ` (${rules.rationale_needed})` : "");
}

function buildControls(st) {
  for (const k of st.root.querySelectorAll("kbd[data-key]")) k.textContent = (st.keys[k.dataset.key] || "");
  if (st.kind === "compare") { buildCompareControls(st); return; }
  const rules = st.rules;
  const cats = q(st, "cats"), sev = q(st, "sev");
  cats.replaceChildren(); sev.replaceChildren();
  st.catButtons = new Map(); st.sevButtons = new Map(); st.catByKey = new Map();
  for (const c of rules.categories || []) {
    const b = el("button", "choice", `${c.code} ${c.name}`);
    b.type = "button"; b.dataset.cat = c.code; b.title = c.description || "";
    if (c.key) { b.append(el("kbd", "", c.key)); st.catByKey.set(c.key.toUpperCase(), c.code); }
    b.addEventListener("click", () => act(st, () => toggleCategory(st, c.code)));
    cats.append(b); st.catButtons.set(c.code, b);
  }
  for (const s of rules.severity || []) {
    const b = el("button", "choice", `${s.level} ${s.name}`);
    b.type = "button"; b.dataset.sev = String(s.level); b.title = s.description || "";
    if (s.key) b.append(el("kbd", "", s.key.replace("Shift+", "⇧")));
    b.addEventListener("click", () => act(st, () => setSeverity(st, s.level)));
    sev.append(b); st.sevButtons.set(s.level, b);
  }
}

function drawItem(st, item, s) {
  const box = q(st, "item");
  const gated = item && item.gated && !s.gateOpen;
  const dimmed = item && item.dimmed && !s.unblurred && !s.gateOpen;
  const full = item && s.revealed && item.full_blocks.length;
  const key = item ? `${item.id}|${item.view}|${gated}|${dimmed}|${full}` : `none|${st.items.length}|${st.outbox.size > 0}`;
  if (key === st.drawnKey) return;
  st.drawnKey = key;
  box.replaceChildren();
  box.classList.toggle("dimmed", !!dimmed);
  box.dataset.itemId = item ? String(item.id) : "";
  q(st, "gate").hidden = !gated;
  const hint = q(st, "hint"), notice = q(st, "notice");
  hint.hidden = !(item && item.hint);
  hint.textContent = item && item.hint ? `Heads-up: ${item.hint}.` : "";
  notice.hidden = !(item && item.notice);
  notice.textContent = item ? item.notice : "";
  if (!item) {
    box.append(el("div", "empty", st.outbox.size ? "Loading the next item…"
      : "Nothing left for you in this project. Thank you!"));
    return;
  }
  if (gated) return;                     // the text stays off the page until V
  const blocks = full ? item.full_blocks : item.blocks;
  drawBlocks(box, blocks);
  if (item.sides) {
    const pair = el("div", "pair");
    for (const side of item.sides) {
      const col = el("div", "side");
      col.dataset.side = side.name;
      drawBlocks(col, full ? side.full_blocks : side.blocks);
      pair.append(col);
    }
    box.append(pair);
  }
}

function drawBlocks(box, blocks) {
  const turns = blocks.filter((b) => b.turn).length;
  for (const b of blocks) {
    const turn = el("section", "turn" + (b.reply ? " reply" : ""));
    const head = el("div", "head", b.turn ? `${b.role} · turn ${b.turn} of ${turns}` : b.role);
    if (b.reply) head.append(el("span", "last", "the reply to judge"));
    const body = el("div", "body");
    body.dir = "auto";
    if (b.empty && (b.reply || b.side)) body.append(el("span", "empty", "(empty response)"));
    for (const seg of b.segments) {
      if (seg.m !== undefined) body.append(el("span", "marker", seg.m));
      else body.append(document.createTextNode(seg.t));
    }
    turn.append(head, body);
    box.append(turn);
  }
}

function render(st) {
  const item = current(st);
  st.currentId = item ? item.id : null;
  const s = item ? itemState(st, item) : null;
  if (item && s.shownAt === null) {
    s.shownAt = Date.now(); s.hiddenAtShow = hiddenNow(); s.moments.push(s.shownAt);
    if (item.reveal_by_preference && !s.prefRecorded) {
      s.prefRecorded = true; s.revealed = true;
      enqueue(st, { kind: "reveal", item_id: item.id, what: "terms",
        terms: item.reveal_by_preference, by: "preference" });
      st.sendSoon = true;
    }
  }
  if (item && st.fieldsFor !== item.id) {        // the text fields show this item's drafts
    q(st, "note").value = s.note;
    q(st, "reason").value = s.reason;
    q(st, "rewrite").value = s.rewrite !== null ? s.rewrite : (item.response || "");
    q(st, "rewrite-box").open = s.rewrite !== null;
    st.fieldsFor = item.id;
  }
  drawItem(st, item, s || {});
  st.root.dataset.itemId = item ? String(item.id) : "";
  q(st, "item-id").textContent = item ? `Item ${item.external_id}` : "";
  if (st.kind === "compare") {
    for (const [score, b] of st.cmp.harm) b.classList.toggle("on", !!s && s.harm === score);
    for (const [score, b] of st.cmp.help) b.classList.toggle("on", !!s && s.help === score);
    for (const [value, b] of st.cmp.overall) b.classList.toggle("on", !!s && s.overall === value);
    for (const [key, b] of st.cmp.safe) {
      const [side, value] = key.split("-");
      b.classList.toggle("on", !!s && s.safe[side] === (value === "true"));
    }
    for (const [key, b] of st.cmp.cats) {
      const i = key.indexOf("-");
      b.classList.toggle("on", !!s && s.sideCats[key.slice(0, i)].has(key.slice(i + 1)));
    }
  }
  q(st, "safe").classList.toggle("on", !!s && s.verdict === "safe");
  q(st, "unsafe").classList.toggle("on", !!s && s.verdict === "unsafe");
  for (const [code, b] of st.catButtons) b.classList.toggle("on", !!s && s.cats.has(code));
  for (const [level, b] of st.sevButtons) b.classList.toggle("on", !!s && s.severity === level);
  // Reveal button: the one thing V does next for this item.
  const reveal = q(st, "reveal");
  const next = item ? revealStep(item, s) : null;
  reveal.hidden = !next || next.what === "text";
  if (next && next.what !== "text") {
    reveal.replaceChildren(next.what === "dim" ? "Unblur the text " :
      `Reveal ${item.masked_terms} masked word${item.masked_terms > 1 ? "s" : ""} `, el("kbd", "", st.keys.reveal));
  }
  const lockedWhy = item && ((item.gated && !s.gateOpen) ? "Show the text first (V): the editor holds the full text."
    : (item.dimmed && !s.unblurred && !s.gateOpen) ? "Unblur the text first (V): the editor holds the full text."
    : (item.masked_terms && !s.revealed) ? "Reveal the masked words first: the editor holds the full text." : "");
  q(st, "rewrite-box").hidden = !(item && item.has_response);
  q(st, "rewrite").hidden = !!lockedWhy;
  q(st, "rewrite-locked").hidden = !lockedWhy;
  q(st, "rewrite-locked").textContent = lockedWhy || "";
  for (const role of ["submit", "skip", "flag", "safe", "unsafe"]) q(st, role).disabled = !item;
  const n = [...st.outbox.values()].filter((e) => ITEM_KINDS.has(e.kind)).length;
  const status = q(st, "status");
  status.textContent = n ? `Saving ${n} answer${n > 1 ? "s" : ""}…` : (st.outbox.size ? "Saving…" : "All saved");
  status.classList.toggle("saving", st.outbox.size > 0);
  st.root.dataset.pending = String(st.outbox.size);
  q(st, "message").textContent = st.message || "";
}

function revealStep(item, s) {
  if (item.gated && !s.gateOpen) return { what: "text" };
  if (item.dimmed && !s.unblurred && !s.gateOpen) return { what: "dim" };
  if (item.masked_terms && !s.revealed) return { what: "terms", terms: item.masked_terms };
  return null;
}

// ---- actions --------------------------------------------------------------------------
function act(st, fn) { st.message = ""; fn(); render(st); if (st.sendSoon) { st.sendSoon = false; send(st); } }

function withItem(st, fn) {
  const item = current(st);
  if (!item) return;
  const s = itemState(st, item);
  fn(item, s);
}

function setVerdict(st, verdict) {
  withItem(st, (item, s) => {
    s.verdict = s.verdict === verdict ? null : verdict;
    if (s.verdict === "safe") { s.cats.clear(); if (s.severity === null) s.severity = 0; }
    touch(s);
  });
}

function toggleCategory(st, code) {
  withItem(st, (item, s) => {
    if (s.cats.has(code)) s.cats.delete(code);
    else { s.cats.add(code); if (s.verdict === null) s.verdict = "unsafe"; }
    touch(s);
  });
}

function chooseScore(st, name, score) {
  withItem(st, (item, s) => { s[name] = s[name] === score ? null : score; touch(s); });
}

function chooseOverall(st, value) {
  withItem(st, (item, s) => { s.overall = s.overall === value ? null : value; touch(s); });
}

function chooseSafety(st, side, value) {
  withItem(st, (item, s) => {
    s.safe[side] = s.safe[side] === value ? null : value;
    if (s.safe[side] === true) s.sideCats[side].clear();
    touch(s);
  });
}

function toggleSideCategory(st, side, code) {
  withItem(st, (item, s) => {
    const cats = s.sideCats[side];
    if (cats.has(code)) cats.delete(code);
    else { cats.add(code); if (s.safe[side] === null) s.safe[side] = false; }
    touch(s);
  });
}

function setSeverity(st, level) {
  withItem(st, (item, s) => { s.severity = s.severity === level ? null : level; touch(s); });
}

function readFields(st) {
  const item = current(st);
  if (!item || st.fieldsFor !== item.id) return;
  const s = itemState(st, item);
  s.note = q(st, "note").value;
  s.reason = q(st, "reason").value;
  const box = q(st, "rewrite-box");
  s.rewrite = box.open && !q(st, "rewrite").hidden ? q(st, "rewrite").value : null;
}

function timing(s) {
  const now = Date.now();
  return { shown_ms: s.shownAt === null ? null : now - s.shownAt,
    active_ms: activeMs([...s.moments, now], hiddenNow() - s.hiddenAtShow) };
}

function leave(st, item, entry) {
  enqueue(st, entry);
  st.fieldsFor = null;
  st.currentId = null;
  st.sendSoon = true;
  if (document.activeElement && isTextField(deepActive())) st.root.focus();
}

function submit(st) {
  readFields(st);
  withItem(st, (item, s) => {
    const found = problems(st, item, s);
    if (found.length) { st.message = found.join("; "); return; }
    const answer = st.kind === "compare"
      ? { harmlessness: s.harm, helpfulness: s.help, overall: s.overall, rationale: s.note,
          safety: Object.fromEntries(["left", "right"].filter((side) => s.safe[side] !== null)
            .map((side) => [side, { is_safe: s.safe[side], categories: [...s.sideCats[side]] }])) }
      : { verdict: s.verdict, categories: [...s.cats], severity: s.severity, note: s.note, rewrite: s.rewrite };
    leave(st, item, { kind: "submit", item_id: item.id, ...answer, ...timing(s) });
  });
}

function textSeen(item, s) {
  return !((item.gated && !s.gateOpen) || (item.dimmed && !s.unblurred && !s.gateOpen));
}

function skip(st) {
  readFields(st);
  withItem(st, (item, s) => leave(st, item, { kind: "skip", item_id: item.id, reason: s.reason,
    text_seen: textSeen(item, s), ...timing(s) }));
}

function flag(st) {
  readFields(st);
  withItem(st, (item, s) => {
    if (!s.reason.trim()) { st.message = st.rules.messages.flag_reason; q(st, "reason").focus(); return; }
    leave(st, item, { kind: "flag", item_id: item.id, reason: s.reason, text_seen: textSeen(item, s), ...timing(s) });
  });
}

function reveal(st) {
  withItem(st, (item, s) => {
    const next = revealStep(item, s);
    if (!next) return;
    if (next.what === "text") s.gateOpen = true;
    else if (next.what === "dim") s.unblurred = true;
    else s.revealed = true;
    touch(s);
    enqueue(st, { kind: "reveal", item_id: item.id, what: next.what, ...(next.terms ? { terms: next.terms } : {}) });
    st.sendSoon = true;
  });
}

function undo(st) {
  readFields(st);
  enqueue(st, { kind: "undo" });
  st.message = "Undoing…";
  st.sendSoon = true;
}

function focusField(st, role) {
  if (role === "rewrite") {
    const box = q(st, "rewrite-box");
    if (box.hidden) return;
    box.open = true;
    if (q(st, "rewrite").hidden) { q(st, "rewrite-locked").scrollIntoView({ block: "nearest" }); return; }
  }
  const f = q(st, role);
  f.focus();
  f.scrollIntoView({ block: "nearest" });
}

// ---- keys -----------------------------------------------------------------------------
function keyName(e) {
  const d = /^Digit([0-9])$/.exec(e.code);
  if (d) return (e.shiftKey ? "Shift+" : "") + d[1];
  const k = /^Key([A-Z])$/.exec(e.code);
  if (k) return e.shiftKey ? null : k[1];
  return null;
}

function onKey(st, e) {
  if (st !== active || !st.root.isConnected || e.defaultPrevented || e.isComposing) return;
  const path = e.composedPath();
  const target = path[0];
  const inside = path.includes(st.parentElement);
  const focused = deepActive();
  const inField = isTextField(target) || isTextField(focused);
  if (inField) {
    if (!inside) return;                            // someone else's text field
    if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); readFields(st); target.blur(); st.root.focus(); return; }
    const role = target.dataset && target.dataset.role;
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && (role === "note" || role === "rewrite")) {
      e.preventDefault(); e.stopPropagation(); act(st, () => submit(st));
    }
    return;                                         // typing: no shortcut fires
  }
  // A held key repeats: one press is one action (holding S skipped every prefetched item).
  if (e.repeat) return;
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  // The page body: anything but a control, the sidebar or a dialog (Streamlit focuses its
  // <main> when the page is clicked). A control elsewhere (a check-in or break button, the
  // sidebar) keeps every key to itself.
  const onPage = !inside && !(target.closest && target.closest(OTHER_CONTROLS));
  if (!inside && !onPage) return;
  const onControl = inside && target.closest && target.closest("button, summary, a, [role=button]");
  if (e.key === "Enter" || e.key === " ") {
    // Enter acts on the focused control (the browser clicks it); it submits only from the
    // page body or the component's own surface.
    if (onControl) return;
    if (e.key === " ") return;
    e.preventDefault(); e.stopPropagation();
    act(st, () => submit(st));
    return;
  }
  const name = keyName(e);
  if (!name) return;
  const k = st.keys;
  let fn = null;
  if (name === k.safe) fn = () => setVerdict(st, "safe");
  else if (name === k.unsafe) fn = () => setVerdict(st, "unsafe");
  else if (name === k.skip) fn = () => skip(st);
  else if (name === k.flag) fn = () => flag(st);
  else if (name === k.reveal) fn = () => reveal(st);
  else if (name === k.undo) fn = () => undo(st);
  else if (name === k.note) fn = () => focusField(st, "note");
  else if (name === k.rewrite) fn = () => focusField(st, "rewrite");
  else if (name === k.reason) fn = () => focusField(st, "reason");
  else if (st.kind === "compare") fn = st.keyMap.get(name) || null;
  else if (st.catByKey.has(name)) { const code = st.catByKey.get(name); fn = () => toggleCategory(st, code); }
  else if (name.startsWith("Shift+")) {
    const level = Number(name.slice(6));
    if (st.sevButtons.has(level)) fn = () => setSeverity(st, level);
  }
  if (!fn) return;
  e.preventDefault(); e.stopPropagation();
  act(st, fn);
}

// ---- data from the server -------------------------------------------------------------
function update(st, data) {
  st.kind = data.kind || "label";
  st.keys = data.keys || st.keys;
  const rulesText = JSON.stringify(data.rules || {});
  if (rulesText !== st.rulesText) { st.rules = data.rules || {}; st.rulesText = rulesText; buildControls(st); }
  const storageKey = `safelabel.outbox.${data.user}.${data.project}.${data.kind}`;
  if (storageKey !== st.storageKey) {
    st.storageKey = storageKey;
    try {
      for (const e of JSON.parse(sessionStorage.getItem(storageKey) || "[]")) if (e && e.id) st.outbox.set(e.id, e);
    } catch (err) { /* unreadable: start empty */ }
    if (st.outbox.size) st.sendSoon = true;       // a reload: send what was never acknowledged
  }
  for (const id of data.acked || []) {
    const e = st.outbox.get(id);
    if (!e) continue;
    st.outbox.delete(id);
    if (ITEM_KINDS.has(e.kind)) st.states.delete(e.item_id);
    if (e.kind === "undo" && st.message === "Undoing…") st.message = "";
  }
  for (const r of data.rejected || []) {
    const e = st.outbox.get(r.id);
    if (!e) continue;
    st.outbox.delete(r.id);
    st.message = e.kind === "undo" ? r.message : `Not saved: ${r.message}`;
    if (ITEM_KINDS.has(e.kind)) { st.currentId = e.item_id; st.fieldsFor = null; }
  }
  persist(st);
  st.items = data.items || [];
  // The server routes (after a run of severe items a light one comes first; a cap drops
  // severe ones): when its first item is not the one on screen and nothing has been done on
  // that one yet, follow the server.
  const first = available(st)[0];
  const onScreen = st.currentId === null ? null : st.states.get(st.currentId);
  if (first && onScreen && first.id !== st.currentId && untouched(onScreen)) {
    st.currentId = first.id; st.fieldsFor = null;
  }
  if (data.show_first && data.seq !== st.seq) { st.currentId = data.show_first; st.fieldsFor = null; }
  st.seq = data.seq;
  const known = new Set(st.items.map((it) => it.id));
  for (const id of [...st.states.keys()]) if (!known.has(id) && !pendingItemIds(st).has(id)) st.states.delete(id);
  if (st.currentId !== null && !known.has(st.currentId)) st.fieldsFor = null;
  render(st);
  if (st.sendSoon) { st.sendSoon = false; send(st); }
}

export default function (component) {
  const { parentElement, data, setTriggerValue } = component;
  let st = instances.get(parentElement);
  if (!st) {
    const root = parentElement.querySelector(".work");
    st = { root, parentElement, items: [], states: new Map(), outbox: new Map(), keys: {},
      rules: {}, currentId: null, message: "", catButtons: new Map(), sevButtons: new Map(),
      catByKey: new Map(), drawnKey: null, fieldsFor: null, seq: null };
    instances.set(parentElement, st);
    st.keyHandler = (e) => onKey(st, e);
    // Capture phase on window: before Streamlit's own shortcut handlers (Mousetrap).
    window.addEventListener("keydown", st.keyHandler, true);
    const click = (role, fn) => q(st, role).addEventListener("click", () => act(st, fn));
    click("submit", () => submit(st));
    click("skip", () => skip(st));
    click("flag", () => flag(st));
    click("undo", () => undo(st));
    click("safe", () => setVerdict(st, "safe"));
    click("unsafe", () => setVerdict(st, "unsafe"));
    click("show", () => reveal(st));
    click("reveal", () => reveal(st));
    for (const role of ["note", "reason", "rewrite"]) q(st, role).addEventListener("input", () => readFields(st));
    q(st, "rewrite-box").addEventListener("toggle", () => readFields(st));
    // Re-send what is not acknowledged (a dropped rerun, a server restart).
    st.retry = setInterval(() => {
      if (st.outbox.size && Date.now() - (st.lastSent || 0) > RETRY_MS) send(st);
    }, 1000);
    st.unload = (e) => { if (st.outbox.size) { e.preventDefault(); e.returnValue = ""; } };
    window.addEventListener("beforeunload", st.unload);
  }
  st.setTriggerValue = setTriggerValue;     // the newest closure on every call
  active = st;
  update(st, data || {});
  return () => {                            // Streamlit calls this only on unmount
    window.removeEventListener("keydown", st.keyHandler, true);
    window.removeEventListener("beforeunload", st.unload);
    clearInterval(st.retry);
    instances.delete(parentElement);
    if (active === st) active = null;
  };
}
