/**
 * The operator's page served at `/`. A small self-contained page (no build step)
 * that uses only the documented admin API; the full Preact app replaces it.
 * It must answer without a session (the desktop runtime polls `/`).
 */
export const ADMIN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Local Sync Hub</title>
<style>
body{font:16px/1.45 system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1d2733}
main{max-width:760px;margin:0 auto;padding:16px}
h1{font-size:22px;margin:0 0 12px}.card{background:#fff;border-radius:8px;padding:16px;margin:0 0 12px;box-shadow:0 1px 2px #0002}
label{display:block;margin:8px 0 4px}input{font:inherit;padding:8px;width:100%;box-sizing:border-box}
button{font:inherit;padding:8px 14px;margin:8px 8px 0 0;border-radius:6px;border:1px solid #345;background:#fff;cursor:pointer}
button.primary{background:#1f5f99;color:#fff;border-color:#1f5f99}.err{color:#a40000}.muted{color:#57606a}
table{border-collapse:collapse;width:100%}td{padding:2px 6px;border-bottom:1px solid #eee}#qr svg{width:280px;height:280px}
</style></head><body><main>
<h1>Local Sync Hub</h1>
<div id="app" class="card">Loading…</div>
</main>
<script>
const app = document.getElementById("app");
let csrf = null;
async function api(method, path, body) {
  const res = await fetch(path, { method, headers: { "content-type": "application/json", "x-csrf-token": csrf || "" },
    body: body ? JSON.stringify(body) : undefined });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || ("HTTP " + res.status));
  return data;
}
function esc(s) { return String(s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";"); }
function form(title, fields, action, note) {
  app.innerHTML = "<h2>" + title + "</h2>" + (note ? "<p class=muted>" + note + "</p>" : "") +
    fields.map((f) => "<label for=" + f + ">" + f + "</label><input type=password id=" + f + " autocomplete=off>").join("") +
    "<button class=primary id=go>" + title + "</button><p class=err id=msg></p>";
  document.getElementById(fields[0]).focus();
  const go = async () => {
    try { await action(...fields.map((f) => document.getElementById(f).value)); render(); }
    catch (e) { document.getElementById("msg").textContent = e.message; }
  };
  document.getElementById("go").onclick = go;
  app.onkeydown = (e) => { if (e.key === "Enter") go(); };
}
async function render() {
  let s;
  try { s = await api("GET", "/api/status"); } catch (e) {
    app.innerHTML = "<p class=err>" + esc(e.message) + "</p>"; return;
  }
  if (s.state === "new") return form("Set up", ["passphrase", "repeat"], async (p, r) => {
    if (p !== r) throw new Error("The two passphrases differ.");
    await api("POST", "/api/setup", { passphrase: p });
  }, "Choose a passphrase of at least 12 characters. It cannot be recovered: there is no backdoor.");
  if (s.state === "locked") return form("Unlock", ["passphrase"], (p) => api("POST", "/api/unlock", { passphrase: p }));
  const rows = Object.entries(s.counts || {}).filter(([, c]) => c.rows > 0)
    .map(([t, c]) => "<tr><td>" + esc(t) + "</td><td>" + c.rows + "</td></tr>").join("");
  app.innerHTML = "<p>Hub <b>" + esc(s.hub.name) + "</b> · key " + esc(s.hub.fingerprint) + "</p>" +
    "<p>Server: " + (s.server.running ? "running on " + s.server.urls.map(esc).join(", ") : "stopped") +
    (s.server.error ? " <span class=err>" + esc(s.server.error) + "</span>" : "") + "</p>" +
    "<p>Changes waiting for the cloud: " + (s.pendingCloud ? s.pendingCloud.count : 0) + "</p>" +
    "<button id=srv>" + (s.server.running ? "Stop server" : "Start server") + "</button><button id=lock>Lock</button>" +
    "<div id=qr></div><table>" + rows + "</table>";
  document.getElementById("lock").onclick = () => api("POST", "/api/lock").then(render);
  document.getElementById("srv").onclick = () =>
    api("POST", s.server.running ? "/api/server/stop" : "/api/server/start").then(render, (e) => alert(e.message));
  if (s.server.running) {
    const p = await api("GET", "/api/pairing").catch(() => null);
    if (p) document.getElementById("qr").innerHTML = "<p>Scan with the Hikma Health app to pair:</p>" + p.svg;
  }
}
api("GET", "/api/session").then((r) => { csrf = r.csrf; render(); },
  () => { app.innerHTML = "<p class=err>Open this page from the link the hub opened or printed.</p>"; });
</script></body></html>`;
