// `mkbundle size --html`: the report as one page that works offline from file://: the data,
// the styles and the script inline, nothing fetched. A squarified treemap (Bruls, Huizing and
// van Wijk) of the ISO's parts, each rectangle's area proportional to its bytes; a click on a
// part with something inside zooms into it (the URL's #fragment keeps the place, so a zoomed
// view can be linked and reloaded); a table beside it lists the same level. Names from the
// image are only ever set as text, never parsed as HTML.
import type { SizeNode, SizeReport } from "./size.js";

/** A node of the page's tree: the ISO, its parts, their directories and files. */
interface PageNode {
  name: string;
  /** Full path or description, shown on hover. */
  title: string;
  bytes: number;
  children?: PageNode[];
}

/**
 * Rectangles [x, y, width, height] for `sizes` (largest first) filling the box, each area in
 * proportion to its size: rows laid along the shorter side, a row grown while that makes its
 * worst aspect ratio better. Self-contained: the page embeds this function's own source.
 */
export function squarify(sizes: number[], x: number, y: number, w: number, h: number): number[][] {
  const out: number[][] = [];
  const total = sizes.reduce((a, b) => a + b, 0);
  if (!(total > 0) || !(w > 0) || !(h > 0)) return sizes.map(() => [x, y, 0, 0]);
  const areas = sizes.map((s) => (s * w * h) / total);
  const worst = (sum: number, min: number, max: number, side: number) =>
    Math.max((side * side * max) / (sum * sum), (sum * sum) / (side * side * min));
  let i = 0;
  while (i < areas.length) {
    const side = Math.min(w, h);
    let sum = areas[i]!;
    let j = i + 1;
    while (j < areas.length) {
      const grown = sum + areas[j]!;
      if (worst(grown, areas[j]!, areas[i]!, side) > worst(sum, areas[j - 1]!, areas[i]!, side)) break;
      sum = grown;
      j++;
    }
    const last = j === areas.length;
    // The last row takes what is left, so rounding never leaves a sliver.
    const thick = last ? (w >= h ? w : h) : sum / side;
    let at = w >= h ? y : x;
    for (let k = i; k < j; k++) {
      const along = (areas[k]! / sum) * side;
      out.push(w >= h ? [x, at, thick, along] : [at, y, along, thick]);
      at += along;
    }
    if (w >= h) {
      x += thick;
      w = Math.max(0, w - thick);
    } else {
      y += thick;
      h = Math.max(0, h - thick);
    }
    i = j;
  }
  return out;
}

const fromTree = (n: SizeNode): PageNode => ({
  name: n.path.split("/").pop() || n.path,
  title: n.path,
  bytes: n.bytes,
  ...(n.children?.length ? { children: n.children.map(fromTree) } : {}),
});

/** The ISO, its parts (each byte once) and the ISO's own structure; inside each part, its tree unpacked. */
function pageTree(r: SizeReport): PageNode {
  const parts = r.components.filter((c) => !c.path.includes(" > "));
  return {
    name: r.file.split("/").pop()!,
    title: `${r.file}: ${r.bytes} bytes on disk`,
    bytes: r.bytes,
    children: [
      ...parts.map((c) => ({
        name: c.path,
        title: `${c.kind === "other" ? "" : `${c.kind} `}${c.path}: ${c.bytes - c.shared} bytes on the ISO${c.shared ? ` (and ${c.shared} counted in another part)` : ""}, ${c.unpacked} unpacked, ${c.ram} in RAM${c.tree?.children?.length ? "; inside, its files unpacked" : ""}`,
        bytes: c.bytes - c.shared,
        ...(c.tree?.children?.length ? { children: c.tree.children.map(fromTree) } : {}),
      })),
      { name: "ISO structure", title: "descriptors, directories, padding", bytes: r.overhead },
    ],
  };
}

/** JSON safe inside a <script> element: nothing in it can close the element or start a comment. */
const scriptJson = (x: unknown) =>
  JSON.stringify(x)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

const STYLE = `
body { font: 14px system-ui, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; margin: 0 0 8px; }
#crumbs a { color: #0645ad; cursor: pointer; }
main { display: flex; gap: 16px; align-items: flex-start; }
#map { position: relative; width: 960px; height: 600px; background: #eee; flex: none; }
.cell { position: absolute; box-sizing: border-box; border: 1px solid #fff; overflow: hidden;
  font-size: 12px; padding: 2px 4px; color: #111; }
.cell.zoomable { cursor: zoom-in; }
.cell:hover { outline: 2px solid #000; z-index: 1; }
table { border-collapse: collapse; font-size: 13px; }
td, th { padding: 2px 8px; text-align: left; border-bottom: 1px solid #ddd; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
`;

/** What runs in the page: read the data, lay out the level the #fragment names, draw it and the table. */
const SCRIPT = `
window.onerror = (m) => { document.documentElement.dataset.errors = (document.documentElement.dataset.errors || "") + m + "\\n"; };
const data = JSON.parse(document.getElementById("data").textContent);
const W = 960, H = 600;
const COLORS = ["#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5", "#d9d9d9", "#bc80bd"];
const human = (n) => { const u = ["B", "KiB", "MiB", "GiB"]; let i = 0; while (n >= 1024 && i < 3) { n /= 1024; i++; } return (i ? n.toFixed(1) : String(n)) + " " + u[i]; };
function place() {
  const want = decodeURIComponent(location.hash.slice(1)).split(".").filter((s) => /^[0-9]+$/.test(s)).map(Number);
  const trail = [data];
  const path = [];
  for (const i of want) {
    const next = trail[trail.length - 1].children && trail[trail.length - 1].children[i];
    if (!next || !next.children) break;
    trail.push(next);
    path.push(i);
  }
  return { trail, path };
}
function render() {
  const { trail, path } = place();
  const node = trail[trail.length - 1];
  const crumbs = document.getElementById("crumbs");
  crumbs.replaceChildren(...trail.flatMap((n, k) => {
    const a = document.createElement("a");
    a.textContent = n.name;
    a.href = "#" + path.slice(0, k).join(".");
    return k ? [document.createTextNode(" \\u203a "), a] : [a];
  }));
  const kids = (node.children || []).map((c, i) => ({ c, i })).filter((k) => k.c.bytes > 0).sort((a, b) => b.c.bytes - a.c.bytes || a.i - b.i);
  const rects = squarify(kids.map((k) => k.c.bytes), 0, 0, W, H);
  const map = document.getElementById("map");
  map.dataset.level = path.join(".");
  map.replaceChildren(...kids.map((k, n) => {
    const [x, y, w, h] = rects[n];
    const d = document.createElement("div");
    d.className = "cell" + (k.c.children ? " zoomable" : "");
    d.dataset.name = k.c.name;
    d.dataset.bytes = String(k.c.bytes);
    d.dataset.zoom = path.concat(k.i).join(".");
    d.style.left = x.toFixed(4) + "px";
    d.style.top = y.toFixed(4) + "px";
    d.style.width = w.toFixed(4) + "px";
    d.style.height = h.toFixed(4) + "px";
    d.style.background = COLORS[n % COLORS.length];
    if (w < 3 || h < 3) d.style.border = "0"; // a border would make a sliver larger than its bytes
    d.title = k.c.title + "\\n" + k.c.bytes.toLocaleString("en-US") + " bytes (" + human(k.c.bytes) + ")";
    d.textContent = k.c.name + " " + human(k.c.bytes);
    if (k.c.children) d.addEventListener("click", () => { location.hash = d.dataset.zoom; });
    return d;
  }));
  const total = kids.reduce((s, k) => s + k.c.bytes, 0);
  const rows = kids.map((k) => {
    const tr = document.createElement("tr");
    for (const [text, cls] of [[k.c.name, ""], [human(k.c.bytes), "n"], [(100 * k.c.bytes / total).toFixed(1) + "%", "n"]]) {
      const td = document.createElement("td");
      td.textContent = text;
      if (cls) td.className = cls;
      tr.append(td);
    }
    tr.title = k.c.title;
    return tr;
  });
  const head = document.createElement("tr");
  for (const t of ["name", "bytes", "share"]) { const th = document.createElement("th"); th.textContent = t; head.append(th); }
  document.getElementById("table").replaceChildren(head, ...rows);
  document.documentElement.dataset.rendered = "yes";
}
window.addEventListener("hashchange", render);
render();
`;

/** The page: self-contained HTML (no network), the report's tree as its data. */
export function sizeHtml(r: SizeReport): string {
  const title = `mkbundle size: ${r.file}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>Each rectangle's area is its bytes: at the top, bytes on the ISO (each counted once); inside a part, its files unpacked. Click a part to look inside; the path above goes back.</p>
<nav id="crumbs"></nav>
<main>
<div id="map"></div>
<table id="table"></table>
</main>
<script id="data" type="application/json">${scriptJson(pageTree(r))}</script>
<script>
const squarify = ${squarify.toString()};
${SCRIPT}
</script>
</body>
</html>
`;
}
