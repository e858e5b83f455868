// mention-monitor dashboard: keyboard shortcuts, live inbox updates, small conveniences.
// Plain JS served from the package (no CDN, works offline). Pages work without it.
(function () {
  "use strict";
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function flash(kind, text) {
    let box = document.getElementById("js-flash");
    if (!box) {
      box = document.createElement("div");
      box.id = "js-flash";
      const main = document.querySelector("main");
      main.insertBefore(box, main.firstChild);
    }
    box.className = "flash flash-" + kind;
    box.setAttribute("role", kind === "error" ? "alert" : "status");
    box.textContent = text;
  }

  async function act(id, action, version) {
    const body = new URLSearchParams({ csrf: csrf() });
    if (version) body.set("version", version);
    const resp = await fetch("/mentions/" + id + "/" + action, {
      method: "POST",
      headers: { Accept: "application/json", "X-CSRF-Token": csrf() },
      body: body,
      credentials: "same-origin",
    });
    let data = {};
    try { data = await resp.json(); } catch (e) { data = { message: "Unexpected answer (" + resp.status + ")" }; }
    if (resp.status === 401) { window.location = "/login?next=" + encodeURIComponent(location.pathname + location.search); return null; }
    flash(resp.ok ? "success" : "error", data.message || (resp.ok ? "Done." : "Refused."));
    return resp.ok ? data : null;
  }

  // ---------------------------------------------------------------- inbox
  const list = document.getElementById("inbox-list");
  let rows = () => Array.from(document.querySelectorAll("#inbox-list .mrow"));
  let current = -1;
  function select(i) {
    const all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(all.length - 1, i));
    all.forEach((r, n) => r.classList.toggle("selected", n === current));
    all[current].scrollIntoView({ block: "nearest" });
  }
  function selected() { const all = rows(); return current >= 0 ? all[current] : null; }

  function updateRow(row, data) {
    if (!row || !data) return;
    const pill = row.querySelector(".status-pill");
    if (pill && data.status) { pill.textContent = data.status; pill.className = "pill status-pill status-" + data.status; }
    if (data.version) row.dataset.version = data.version;
  }

  // Live updates: ask for mentions newer than the newest one shown, every few seconds.
  if (list && list.dataset.poll) {
    let busy = false;
    const bar = document.getElementById("newbar");
    const poll = async () => {
      if (busy || document.hidden) return;
      busy = true;
      try {
        const url = list.dataset.poll + (list.dataset.poll.includes("?") ? "&" : "?") + "after=" + (list.dataset.newest || 0);
        const resp = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (resp.ok) {
          const data = await resp.json();
          if (data.count > 0) {
            list.dataset.newest = data.newest;
            if (list.dataset.live === "1") {
              const tpl = document.createElement("template");
              tpl.innerHTML = data.html;
              const empty = list.querySelector(".empty");
              if (empty) empty.remove();
              list.insertBefore(tpl.content, list.firstChild);
              if (current >= 0) current += data.count;
            }
            if (bar) {
              const n = (parseInt(bar.dataset.n || "0", 10) + data.count);
              bar.dataset.n = n;
              bar.querySelector("span").textContent = n + (n === 1 ? " new mention" : " new mentions") + (list.dataset.live === "1" ? " arrived" : " — show them");
              bar.classList.add("show");
            }
          }
        }
      } catch (e) { /* offline for a moment: try again next round */ }
      busy = false;
    };
    setInterval(poll, parseInt(list.dataset.interval || "5000", 10));
  }

  // On a phone the filter panel starts folded unless a filter needs attention.
  const fbox = document.getElementById("filter-box");
  if (fbox && window.matchMedia("(max-width: 760px)").matches && fbox.dataset.keepOpen !== "1") fbox.open = false;

  // Select-all checkbox for bulk actions.
  const all = document.getElementById("pick-all");
  if (all) all.addEventListener("change", () => {
    document.querySelectorAll("input.pick").forEach((c) => { c.checked = all.checked; });
  });

  // Confirm before bulk changes.
  document.querySelectorAll("form[data-confirm]").forEach((f) => f.addEventListener("submit", (ev) => {
    if (!window.confirm(f.dataset.confirm)) ev.preventDefault();
  }));

  // ---------------------------------------------------------------- keyboard
  const page = document.body.dataset.page;
  document.addEventListener("keydown", async (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const t = ev.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) return;
    const key = ev.key;
    if (key === "?") { const k = document.getElementById("keys"); if (k) k.open = !k.open; return; }
    if (key === "/") { const s = document.querySelector('input[name="q"]'); if (s) { ev.preventDefault(); s.focus(); } return; }
    if (page === "inbox") {
      if (key === "j") { select(current + 1); ev.preventDefault(); }
      else if (key === "k") { select(current - 1); ev.preventDefault(); }
      else if (key === "Enter" || key === "o") { const r = selected(); if (r) location = r.dataset.href; }
      else if (key === "r") { const r = selected(); if (r) location = r.dataset.href + "#reply"; }
      else if (key === "a" || key === "e") {
        const r = selected(); if (!r) return;
        updateRow(r, await act(r.dataset.id, key === "a" ? "acknowledge" : "resolve", r.dataset.version));
      }
    } else if (page === "mention") {
      const id = document.body.dataset.mention;
      const version = document.body.dataset.version;
      if (key === "r") { const box = document.getElementById("reply-text"); if (box) { ev.preventDefault(); box.focus(); } }
      else if (key === "a" || key === "e") {
        const form = document.getElementById(key === "a" ? "form-acknowledge" : "form-resolve");
        if (form) form.requestSubmit();
      } else if (key === "c") { const form = document.getElementById("form-claim"); if (form) form.requestSubmit(); }
      else if (key === "u" || key === "Escape") { const back = document.getElementById("back"); if (back) location = back.href; }
      void id; void version;
    }
  });

  // Reply templates fill the reply box (the server renders them; editing stays possible).
  const tpl = document.getElementById("reply-template");
  if (tpl) tpl.addEventListener("change", () => {
    const opt = tpl.selectedOptions[0];
    const box = document.getElementById("reply-text");
    if (opt && opt.dataset.text && box && !box.value.trim()) box.value = opt.dataset.text;
  });

  // Counter for the reply box.
  const box = document.getElementById("reply-text");
  const count = document.getElementById("reply-count");
  if (box && count) {
    const upd = () => { count.textContent = box.value.length + (box.maxLength > 0 ? " / " + box.maxLength : ""); };
    box.addEventListener("input", upd); upd();
  }
})();
