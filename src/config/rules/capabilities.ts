/**
 * Linux capability names a mount may give back to its command container (all are dropped by
 * default). Written as Docker takes them in CapAdd: without the `CAP_` prefix, upper case.
 * Kept as a closed list so a typo is a 400 at write time, not a run that fails to start.
 */
export const CAPABILITY_NAMES: readonly string[] = [
  'AUDIT_CONTROL',
  'AUDIT_READ',
  'AUDIT_WRITE',
  'BLOCK_SUSPEND',
  'BPF',
  'CHECKPOINT_RESTORE',
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'IPC_LOCK',
  'IPC_OWNER',
  'KILL',
  'LEASE',
  'LINUX_IMMUTABLE',
  'MAC_ADMIN',
  'MAC_OVERRIDE',
  'MKNOD',
  'NET_ADMIN',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_RAW',
  'PERFMON',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_CHROOT',
  'SYS_MODULE',
  'SYS_NICE',
  'SYS_PACCT',
  'SYS_PTRACE',
  'SYS_RAWIO',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'SYSLOG',
  'WAKE_ALARM',
];

/** The capability `s` names (`CAP_` prefix and case ignored), or undefined when none. */
export function capabilityName(s: string): string | undefined {
  const name = s.trim().toUpperCase().replace(/^CAP_/, '');
  return CAPABILITY_NAMES.includes(name) ? name : undefined;
}
