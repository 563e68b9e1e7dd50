// Facts about the machine that some defaults depend on (RocketMQ reads them the same way:
// user.home, the host name, a local address, the CPU count). Tests pass fixed ones.
import os from 'node:os';

export interface HostInfo {
  /** user home; RocketMQ's ~/store and ~/namesrv live under it */
  readonly homeDir: string;
  /** default brokerName, as in RocketMQ */
  readonly hostName: string;
  /** default brokerIP1/brokerIP2 */
  readonly localIPv4: string;
  readonly cpus: number;
}

/** The first non-internal IPv4 address of this host, else 127.0.0.1. */
export function firstExternalIPv4(): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal) return a.address;
    }
  }
  return '127.0.0.1';
}

export function detectHostInfo(): HostInfo {
  return {
    homeDir: os.homedir(),
    hostName: os.hostname(),
    localIPv4: firstExternalIPv4(),
    cpus: Math.max(1, os.availableParallelism()),
  };
}
