#!/usr/bin/env node
// Installed entry point: registers the TypeScript loader, then runs the CLI.
require('tsx/cjs');
const { buildProgram } = require('./main.ts');
buildProgram()
  .parseAsync(process.argv)
  .catch((err) => {
    console.error(`error: ${err.message}`);
    process.exitCode = 1;
  });
