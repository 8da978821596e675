// DashboardAssets.swift: the dashboard's one script and one stylesheet (no build step, no npm).
enum DashboardAssets {
    /// Live feed: a single-use ticket from /ui/ticket (session cookie), then EventSource on /api/v1/stream.
    /// Rows are built with textContent only: event fields are attacker-controlled.
    static let script = #"""
    "use strict";
    (function () {
      var feed = document.getElementById("feed");
      if (!feed) return;
      var state = document.getElementById("feed-state");
      var seen = 0, retry = 1000;
      function cell(tr, text) { var td = document.createElement("td"); td.textContent = text == null ? "" : String(text); tr.appendChild(td); }
      function addRow(r) {
        var tr = document.createElement("tr");
        tr.className = "fresh";
        cell(tr, r.timestamp); cell(tr, r.decky); cell(tr, r.service); cell(tr, r.event_type); cell(tr, r.attacker_ip);
        feed.insertBefore(tr, feed.firstChild);
        while (feed.children.length > 200) feed.removeChild(feed.lastChild);
      }
      function setStats(s) {
        ["total_logs", "unique_attackers", "active_deckies", "deployed_deckies"].forEach(function (k) {
          var el = document.getElementById("stat-" + k);
          if (el && s[k] != null) el.textContent = String(s[k]);
        });
      }
      function connect() {
        var meta = document.querySelector('meta[name="csrf-token"]');
        fetch("/ui/ticket", { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": meta ? meta.content : "" } })
          .then(function (r) { if (!r.ok) throw new Error("ticket " + r.status); return r.json(); })
          .then(function (t) {
            var es = new EventSource("/api/v1/stream?ticket=" + encodeURIComponent(t.ticket));
            es.addEventListener("open", function () { state.textContent = "live"; retry = 1000; });
            es.addEventListener("message", function (ev) {
              var msg; try { msg = JSON.parse(ev.data); } catch (e) { return; }
              if (msg.type === "logs") { msg.data.forEach(addRow); seen += msg.data.length; state.textContent = "live · " + seen + " new"; }
              else if (msg.type === "stats") { setStats(msg.data); }
            });
            es.addEventListener("error", function () {
              es.close(); state.textContent = "reconnecting…";
              setTimeout(connect, retry); retry = Math.min(retry * 2, 30000);
            });
          })
          .catch(function () { state.textContent = "offline"; setTimeout(connect, retry); retry = Math.min(retry * 2, 30000); });
      }
      connect();
    })();
    """#

    static let style = """
    :root { --bg: #0f1419; --panel: #182029; --fg: #d8dee6; --muted: #8a96a3; --accent: #4fb3ff; --bad: #ff6b6b; --ok: #5fd38d; }
    * { box-sizing: border-box; }
    body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, sans-serif; }
    nav { display: flex; gap: 18px; align-items: center; padding: 10px 20px; background: var(--panel); border-bottom: 1px solid #26313d; }
    nav a { color: var(--fg); text-decoration: none; } nav a:hover { color: var(--accent); }
    nav .brand { font-weight: 700; color: var(--accent); margin-right: 12px; }
    nav form { margin-left: auto; }
    main { padding: 16px 24px; }
    h1 { font-size: 20px; margin: 4px 0 14px; } h2 { font-size: 16px; margin: 22px 0 8px; }
    table { border-collapse: collapse; width: 100%; background: var(--panel); }
    th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #26313d; vertical-align: top; }
    th { color: var(--muted); font-weight: 600; }
    table.facts { width: auto; } table.facts th { padding-right: 24px; }
    a { color: var(--accent); }
    .mono { font-family: ui-monospace, monospace; word-break: break-all; }
    .muted { color: var(--muted); font-size: 13px; font-weight: normal; }
    .counters { display: flex; gap: 16px; flex-wrap: wrap; }
    .counter { background: var(--panel); padding: 14px 18px; min-width: 170px; border-radius: 6px; }
    .counter .num { display: block; font-size: 28px; font-weight: 700; color: var(--accent); }
    .counter .label { color: var(--muted); }
    tr.fresh td { animation: fresh 2s ease-out; }
    @keyframes fresh { from { background: #24466a; } to { background: transparent; } }
    .state-running, .state-ok { color: var(--ok); } .state-failed, .state-stale { color: var(--bad); }
    form.login { max-width: 340px; margin: 80px auto; background: var(--panel); padding: 24px; border-radius: 8px; display: flex; flex-direction: column; gap: 12px; }
    form.login label { display: flex; flex-direction: column; gap: 4px; color: var(--muted); }
    input, button { font: inherit; padding: 6px 10px; border-radius: 4px; border: 1px solid #33414f; background: #0f1419; color: var(--fg); }
    button { background: var(--accent); color: #04111c; border: none; cursor: pointer; font-weight: 600; }
    form.search { margin-bottom: 8px; display: flex; gap: 8px; }
    .error { color: var(--bad); }
    .banner { border: 1px solid var(--bad); padding: 8px 12px; background: #2a1618; }
    tr.mutation td { color: #f5c26b; font-style: italic; }
    table.timeline { max-height: 480px; }
    """
}
