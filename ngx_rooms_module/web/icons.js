// Line icons drawn as inline SVG: no icon font, no image requests, and
// nothing the Content-Security-Policy forbids (SVG presentation markup is
// neither script nor a style attribute).  They are decoration: every
// control that shows one also has a text name (visible or visually
// hidden), so each icon is aria-hidden.

const NS = 'http://www.w3.org/2000/svg';

// 24x24 strokes; colour and width come from rooms.css (.icon)
const SHAPES = {
  mic: [['rect', { x: 9, y: 2, width: 6, height: 12, rx: 3 }],
        ['path', { d: 'M5 10v1a7 7 0 0 0 14 0v-1M12 18v4M8 22h8' }]],
  cam: [['rect', { x: 2, y: 6, width: 14, height: 12, rx: 2 }],
        ['path', { d: 'M16 10.5l6-3.5v10l-6-3.5z' }]],
  people: [['circle', { cx: 9, cy: 8, r: 4 }],
           ['path', { d: 'M2 21v-1a6 6 0 0 1 6-6h2a6 6 0 0 1 6 6v1' }],
           ['path', { d: 'M16 4a4 4 0 0 1 0 8M19 14.5a6 6 0 0 1 3 5.5v1' }]],
  settings: [['path', { d: 'M4 6h9M17 6h3M4 12h3M11 12h9M4 18h11M19 18h1' }],
             ['circle', { cx: 15, cy: 6, r: 2 }],
             ['circle', { cx: 9, cy: 12, r: 2 }],
             ['circle', { cx: 17, cy: 18, r: 2 }]],
  leave: [['path', { d: 'M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4' }],
          ['path', { d: 'M16 17l5-5-5-5M21 12H9' }]],
  copy: [['rect', { x: 9, y: 9, width: 12, height: 12, rx: 2 }],
         ['path', { d: 'M5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 ' +
                       '2 2v1' }]],
  lock: [['rect', { x: 4, y: 11, width: 16, height: 10, rx: 2 }],
         ['path', { d: 'M8 11V7a4 4 0 0 1 8 0v4' }]],
  // a door ajar: knocking, waiting to be let in
  door: [['path', { d: 'M3 21h18M6 21V4a1 1 0 0 1 1-1h10a1 1 0 0 1 1 1v17' }],
         ['path', { d: 'M14 11.5v1' }]],
  close: [['path', { d: 'M6 6l12 12M18 6L6 18' }]],
  // a monitor: sharing a screen
  screen: [['rect', { x: 2, y: 3, width: 20, height: 14, rx: 2 }],
           ['path', { d: 'M8 21h8M12 17v4' }]],
  pin: [['path', { d: 'M9 3h6l-1 6 4 4H6l4-4-1-6zM12 13v8' }]],
  slash: [['path', { d: 'M3 3l18 18' }]],
};

// 'mic-off' is the microphone struck through
export function icon(name) {
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const [base, off] = name.split('-');
  for (const [tag, attrs] of [...(SHAPES[base] || []),
                              ...(off ? SHAPES.slash : [])]) {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    svg.append(el);
  }
  return svg;
}

// Fills every <span data-icon="..."> under root with its icon.
export function drawIcons(root = document) {
  for (const el of root.querySelectorAll('[data-icon]:empty')) {
    el.append(icon(el.dataset.icon));
  }
}
