/**
 * Which process table this plugin process lives in: the kernel's boot id and the pid namespace.
 * Two lease holders with the same host id can judge each other's pids (a previous process that
 * no longer runs has certainly stopped its work); with different ids they cannot, and wait for
 * the lease to expire. Containers on one kernel have their own pid namespaces, hence both parts.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/** A short stable id of this boot and pid namespace (the hostname when /proc says nothing). */
export function hostId(): string {
  let parts: string;
  try {
    parts = `${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}/${readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    parts = `host/${hostname()}`;
  }
  return createHash('sha256').update(parts).digest('hex').slice(0, 16);
}
