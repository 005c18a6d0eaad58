import type { Command } from 'commander';
import * as audit from './audit';
import * as dashboard from './dashboard';
import * as demo from './demo';
import * as learning from './learning';
import * as models from './models';
import * as session from './session';
import * as simulator from './simulator';
import * as stream from './stream';
import * as stack from './stack';
import * as backtest from './backtest';
import * as features from './features';
import * as data from './data';

/** Each area registers its subcommands: add one import above and one entry below per area. */
export type RegisterCommands = (program: Command) => void;

export const commandModules: Array<{ register: RegisterCommands }> = [
  stack,
  demo,
  audit,
  dashboard,
  backtest,
  features,
  models,
  learning,
  data,
  session,
  simulator,
  stream,
];
