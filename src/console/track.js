// A device's track without internet tiles: positions projected (Web Mercator) onto an SVG fitted
// to the track's bounds. With a tile URL template set in the page (`{z}/{x}/{y}`, e.g. your own
// tile server), the tiles under the track are drawn beneath it; none is fetched otherwise.
const NS = 'http://www.w3.org/2000/svg';
const W = 600;
const HGT = 260;

function merc(lat, lon) {
  const s = Math.sin((Math.max(-85, Math.min(85, lat)) * Math.PI) / 180);
  return [(lon + 180) / 360, 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)];
}

function el(tag, attrs) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** `points`: [{lat, lon}], oldest first. Returns an <svg> with a title that says what it shows. */
export function trackSvg(points, tileUrl = '') {
  const svg = el('svg', { class: 'track', viewBox: `0 0 ${W} ${HGT}`, role: 'img', 'aria-label': points.length ? `track of ${points.length} positions` : 'no position yet' });
  if (points.length === 0) {
    const t = el('text', { x: 12, y: 22 });
    t.textContent = 'no position yet';
    svg.append(t);
    return svg;
  }
  const xy = points.map((p) => merc(p.lat, p.lon));
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of xy) [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
  // at least ~1 km across, with a margin, same scale on both axes
  const span = Math.max(x1 - x0, ((y1 - y0) * W) / HGT, 0.00003) * 1.2;
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const k = W / span;
  const px = ([x, y]) => [(x - cx) * k + W / 2, (y - cy) * k + HGT / 2];
  if (tileUrl) {
    const z = Math.max(0, Math.min(19, Math.floor(Math.log2(W / 256 / span))));
    const n = 2 ** z;
    const [tx0, ty0] = [Math.floor((cx - (W / 2) / k) * n), Math.floor((cy - (HGT / 2) / k) * n)];
    const [tx1, ty1] = [Math.floor((cx + (W / 2) / k) * n), Math.floor((cy + (HGT / 2) / k) * n)];
    for (let tx = tx0; tx <= tx1; tx++) {
      for (let ty = ty0; ty <= ty1; ty++) {
        const [ax, ay] = px([tx / n, ty / n]);
        svg.append(el('image', { href: tileUrl.replace('{z}', z).replace('{x}', ((tx % n) + n) % n).replace('{y}', ty), x: ax, y: ay, width: k / n, height: k / n }));
      }
    }
  }
  svg.append(el('polyline', { points: xy.map((p) => px(p).map((v) => v.toFixed(1)).join(',')).join(' ') }));
  const [lx, ly] = px(xy[xy.length - 1]);
  svg.append(el('circle', { cx: lx, cy: ly, r: 5 }));
  const last = points[points.length - 1];
  const t = el('text', { x: 8, y: HGT - 8 });
  t.textContent = `${last.lat.toFixed(5)}, ${last.lon.toFixed(5)} · ${points.length} point(s)`;
  svg.append(t);
  return svg;
}
