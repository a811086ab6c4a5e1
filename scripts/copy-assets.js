// Copies what the editor needs beside each compiled node: its .html file, locales and icons.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const from = path.join(root, 'nodes');
const to = path.join(root, 'dist', 'nodes');

for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
  if (!entry.isDirectory()) continue;
  const src = path.join(from, entry.name);
  const dst = path.join(to, entry.name);
  fs.mkdirSync(dst, { recursive: true });
  for (const file of fs.readdirSync(src)) {
    if (file.endsWith('.html')) fs.copyFileSync(path.join(src, file), path.join(dst, file));
  }
  // Node-RED looks for a node's icons in an icons folder beside its .js file.
  fs.cpSync(path.join(root, 'icons'), path.join(dst, 'icons'), { recursive: true });
  const locales = path.join(src, 'locales');
  if (fs.existsSync(locales)) fs.cpSync(locales, path.join(dst, 'locales'), { recursive: true });
}
