#!/usr/bin/env node
// Thin shim: the CLI lives in dist/ (built by `npm install` through the prepare script).
import('../dist/src/cli/main.js').then((cli) => cli.main(process.argv.slice(2)));
