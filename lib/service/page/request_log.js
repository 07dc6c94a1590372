// The demo page's request log: one row per request, its error summarised (the detail on a click), its trace
// id linked into Jaeger only when Jaeger's UI answered, and the row opening the request's waterfall.

const $ = (selector) => document.querySelector(selector);

/** A long message's first sentence (or line), and the rest; a short one whole. */
export function firstSentence(text) {
  if (text.length <= 140 && !text.includes("\n")) return [text, ""];
  const end = text.search(/\n|\.\s+(?=[A-Z])/);
  if (end < 0) return [text, ""];
  return [text.slice(0, text[end] === "\n" ? end : end + 1), text.slice(end + 1).trim()];
}

export function logRow(state, { label, status, outcome, ms, pool, traceId, traceUrl, error }) {
  const row = document.createElement("tr");
  row.className = `request ${status >= 503 ? "rejected" : status >= 400 ? "failed" : "ok"}`;
  row.dataset.traceId = traceId ?? "";
  const cells = [state.requests, label, status, outcome, ms.toFixed(0), pool.active, pool.available, pool.leaked];
  for (const value of cells) {
    const cell = document.createElement("td");
    cell.textContent = String(value);
    row.append(cell);
  }
  if (error) {
    // An exhaustion error runs to seven lines (the counts, every holder, what to do): its first sentence here,
    // the rest on a click, so a few 503s do not push the table off the screen.
    const [first, rest] = firstSentence(error);
    const detail = document.createElement(rest ? "details" : "div");
    detail.className = "error";
    if (rest) {
      const summary = document.createElement("summary");
      summary.textContent = first;
      const more = document.createElement("pre");
      more.textContent = rest;
      detail.append(summary, more);
      detail.addEventListener("click", (event) => event.stopPropagation()); // opens the detail, not the trace
    } else {
      detail.textContent = first;
    }
    row.children[3].append(detail);
  }
  const traceCell = document.createElement("td");
  if (traceId && state.info?.jaeger.linked) {
    const link = document.createElement("a");
    link.href = traceUrl;
    link.target = "_blank";
    link.textContent = traceId.slice(0, 12) + "…";
    link.title = "Open in Jaeger";
    link.addEventListener("click", (event) => event.stopPropagation());
    traceCell.append(link);
  } else if (traceId) {
    // No Jaeger, no link that opens nothing: the id, and the row opens the in-memory waterfall.
    const id = document.createElement("code");
    id.textContent = traceId.slice(0, 12) + "…";
    id.title = `${traceId}: not exported (no Jaeger was found when the service started); click the row for its trace`;
    traceCell.append(id);
  }
  row.append(traceCell);
  row.addEventListener("click", () => toggleWaterfall(row));
  $("#log tbody").prepend(row);
}

async function toggleWaterfall(row) {
  const next = row.nextElementSibling;
  if (next?.classList.contains("waterfall")) return next.remove();
  if (!row.dataset.traceId) return;
  const holder = document.createElement("tr");
  holder.className = "waterfall";
  const cell = document.createElement("td");
  cell.colSpan = 9;
  cell.textContent = "Loading trace…";
  holder.append(cell);
  row.after(holder);
  const response = await fetch(`/api/traces/${row.dataset.traceId}?format=html`);
  if (response.ok) {
    cell.innerHTML = await response.text(); // lib/telemetry/waterfall.ts escapes every name and attribute
  } else {
    cell.textContent = (await response.json().catch(() => ({}))).error ?? `HTTP ${response.status}`;
  }
}
