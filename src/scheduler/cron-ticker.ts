/**
 * The node-cron adapter: the only file that imports node-cron. It turns a cron expression (with
 * seconds) into calls of `onTick`; the scheduler decides what a tick means.
 */
import { createTask, validate, type ScheduledTask } from 'node-cron';
import { AppError } from '../errors.js';

/** Something that calls back periodically until stopped. */
export interface Ticker {
  start(onTick: () => void): void;
  stop(): void;
}

/** The cron expression ticking every `seconds` seconds (a divisor of 60). */
export function everySeconds(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 60 || 60 % seconds !== 0) {
    throw new AppError('INVALID_INPUT', `tick period must divide 60 seconds, got ${seconds}`);
  }
  return seconds === 60 ? '0 * * * * *' : `*/${seconds} * * * * *`;
}

/** A ticker over node-cron; `expression` defaults to every 5 seconds. */
export function createCronTicker(expression: string = everySeconds(5)): Ticker {
  if (!validate(expression)) {
    throw new AppError('INVALID_INPUT', `invalid cron expression ${JSON.stringify(expression)}`);
  }
  let task: ScheduledTask | undefined;
  return {
    start(onTick) {
      if (task) return;
      task = createTask(expression, () => onTick(), { name: 'flant-gitops-tick', noOverlap: true });
      void task.start();
    },
    stop() {
      const t = task;
      task = undefined;
      if (t) void t.destroy();
    },
  };
}
