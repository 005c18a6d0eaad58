import type { Command } from 'commander';

/** Each area registers its subcommands here: one line per area. */
export type RegisterCommands = (program: Command) => void;

export const commandModules: Array<() => Promise<{ register: RegisterCommands }>> = [
  () => import('./stack'),
];
