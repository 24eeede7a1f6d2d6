// Spike work component (st.components.v2, plain ES module, no build step).
// Streamlit imports this module once per content hash (a blob: URL it caches), and calls the
// default export again on every rerun whose `data` changed, with the SAME parentElement and
// WITHOUT calling the previous call's cleanup. So: keep per-instance state in a WeakMap keyed
// by parentElement and install listeners only once.
const instances = new WeakMap();

const TEXT_FIELD = (el) => el && (el.isContentEditable ||
  ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));

function deepActive() {            // the focused element, through open shadow roots
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  return el;
}

function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function validate(sel, rules) {
  if (sel.verdict === "safe") return sel.cats.size === 0 && (sel.severity ?? 0) === 0 ? null
    : "Safe takes no category and severity 0";
  if (sel.verdict === "unsafe") {
    if (sel.cats.size === 0) return "Unsafe needs a category (1-3)";
    if (!(sel.severity >= rules.unsafe_min_severity)) return "Unsafe needs a severity (Shift+1..3)";
    return null;
  }
  return "Choose a verdict (G or U)";
}

function render(st) {
  const q = (r) => st.root.querySelector(`[data-role="${r}"]`);
  const item = st.queue[0];
  q("text").textContent = item ? item.text : "Loading the next item…";   // textContent only
  st.root.dataset.itemId = item ? item.id : "";
  q("verdict-safe").classList.toggle("on", st.sel.verdict === "safe");
  q("verdict-unsafe").classList.toggle("on", st.sel.verdict === "unsafe");
  (st.rules.categories || []).forEach((name, i) => {
    q(`cat-${i}-name`).textContent = name;
    q(`cat-${i}`).classList.toggle("on", st.sel.cats.has(name));
  });
  for (let s = 0; s <= 3; s++) q(`sev-${s}`).classList.toggle("on", st.sel.severity === s);
  q("submit").disabled = !item || validate(st.sel, st.rules) !== null;
  q("status").textContent = st.outbox.size ? `saving ${st.outbox.size}…` : "all saved";
  q("message").textContent = st.message || "";
}

function send(st) {
  if (!st.outbox.size) return;
  st.lastSent = performance.now();
  st.setTriggerValue("submit", { answers: [...st.outbox.values()] });
}

function submit(st) {
  const item = st.queue[0];
  if (!item) return;
  const error = validate(st.sel, st.rules);
  if (error) { st.message = error; render(st); return; }
  const answer = { id: newId(), item_id: item.id, verdict: st.sel.verdict,
    categories: [...st.sel.cats], severity: st.sel.severity ?? 0 };
  st.answered.add(item.id);
  st.outbox.set(answer.id, answer);
  st.queue.shift();
  st.sel = { verdict: null, cats: new Set(), severity: null };
  st.message = "";
  render(st);          // the next item is on screen before anything is sent
  send(st);
}

function onKey(st, e) {
  if (e.defaultPrevented || e.isComposing || e.ctrlKey || e.metaKey || e.altKey) return;
  const target = e.composedPath()[0];
  if (TEXT_FIELD(target) || TEXT_FIELD(deepActive())) return;   // never while typing
  const inside = st.root.contains(target) || target === document.body ||
    target === document.documentElement;
  if (e.key === "Enter") {
    // Enter submits only from the page body or from inside the component; Enter on any other
    // control (another button, the sidebar) keeps its own meaning.
    if (!inside) return;
    e.preventDefault();
    submit(st);
    return;
  }
  if (!inside && target.closest && target.closest("button, a, [role=button]")) return;
  const digit = /^Digit([0-9])$/.exec(e.code);
  let handled = true;
  if (e.code === "KeyG" && !e.shiftKey) st.sel.verdict = "safe", st.sel.severity = 0, st.sel.cats.clear();
  else if (e.code === "KeyU" && !e.shiftKey) st.sel.verdict = "unsafe";
  else if (digit && e.shiftKey && +digit[1] <= 3) st.sel.severity = +digit[1];        // set, not toggle
  else if (digit && !e.shiftKey && +digit[1] >= 1 && +digit[1] <= 3) {
    const name = st.rules.categories[+digit[1] - 1];
    st.sel.cats.has(name) ? st.sel.cats.delete(name) : st.sel.cats.add(name);
  } else handled = false;
  if (handled) { e.preventDefault(); e.stopPropagation(); st.message = ""; render(st); }
}

function update(st, data) {
  st.rules = data.rules || st.rules;
  for (const id of data.acked || []) st.outbox.delete(id);
  for (const r of data.rejected || []) {
    if (st.outbox.delete(r.answer_id)) st.message = `Not saved: ${r.message}`;
  }
  const current = st.queue[0] && st.queue[0].id;
  for (const item of data.items || []) {
    if (!st.answered.has(item.id) && !st.queue.some((x) => x.id === item.id)) st.queue.push(item);
  }
  if ((st.queue[0] && st.queue[0].id) !== current) st.sel = { verdict: null, cats: new Set(), severity: null };
  st.calls += 1;
  st.root.dataset.calls = String(st.calls);
  st.root.dataset.acked = String((data.acked || []).length);
  render(st);
}

export default function (component) {
  const { parentElement, data, setTriggerValue } = component;
  let st = instances.get(parentElement);
  if (!st) {
    const root = parentElement.querySelector(".work");
    st = { root, queue: [], answered: new Set(), outbox: new Map(), rules: {},
      sel: { verdict: null, cats: new Set(), severity: null }, calls: 0, message: "" };
    instances.set(parentElement, st);
    window.__spikeMounts = (window.__spikeMounts || 0) + 1;          // for verify.py
    st.keyHandler = (e) => onKey(st, e);
    // capture phase on window: runs before Streamlit's own shortcut handlers
    window.addEventListener("keydown", st.keyHandler, true);
    root.querySelector('[data-role="submit"]').addEventListener("click", () => submit(st));
    root.querySelector('[data-role="note"]').addEventListener("keydown", (e) => {
      if (e.key === "Escape") { e.target.blur(); st.root.focus(); }
    });
    // re-send unacknowledged answers (dropped rerun, server restart) every 2 s
    st.retry = setInterval(() => {
      if (st.outbox.size && performance.now() - (st.lastSent || 0) > 2000) send(st);
    }, 1000);
    window.addEventListener("beforeunload", st.unload = (e) => {
      if (st.outbox.size) { e.preventDefault(); e.returnValue = ""; }
    });
  }
  st.setTriggerValue = setTriggerValue;   // take the newest closure on every call
  window.__spikeCalls = (window.__spikeCalls || 0) + 1;
  window.__spikeParents = (window.__spikeParents || new Set()).add(parentElement);
  if (data && data.debug) window.__spikeSend = (event, value) => setTriggerValue(event, value);
  update(st, data || {});
  return () => {          // called by Streamlit only on unmount (see README)
    window.__spikeCleanups = (window.__spikeCleanups || 0) + 1;
    window.removeEventListener("keydown", st.keyHandler, true);
    window.removeEventListener("beforeunload", st.unload);
    clearInterval(st.retry);
    instances.delete(parentElement);
  };
}
