/**
 * The duration rule: what the API accepts wherever a field is a duration (poll period, TTLs,
 * timeouts), as Vault reads them, so `bao write … git_poll_period=5m` means what it means there.
 */

/** Seconds per Go duration unit (`time.ParseDuration`). */
const GO_UNITS: Readonly<Record<string, number>> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  μs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/**
 * Parse a duration as Vault does (`parseutil.ParseDurationSecond`): integer seconds (number or
 * digits) or a Go duration string (`90s`, `5m`, `1h30m`, `1.5h`), truncated to whole seconds.
 * Returns undefined for anything else, including negative durations.
 */
export function parseDurationSeconds(input: unknown): number | undefined {
  if (typeof input === 'number') {
    return Number.isSafeInteger(input) && input >= 0 ? input : undefined;
  }
  if (typeof input !== 'string') return undefined;
  const s = input.trim();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  if (
    s === '' ||
    !/^(\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))*$/.test(
      s,
    )
  ) {
    return undefined;
  }
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(m[1]) * (GO_UNITS[m[2] ?? ''] ?? Number.NaN);
  }
  // Tolerate float error (0.1h = 360 s) before truncating as Go's Duration/time.Second does.
  const secs = Math.floor(total + 1e-9);
  return Number.isSafeInteger(secs) ? secs : undefined;
}
