#!/usr/bin/env node
// Installed entry point: registers the TypeScript loader, then runs the CLI (same error handling as cli/main.ts).
require('tsx/cjs');
const { runCli } = require('./main.ts');
void runCli(process.argv);
