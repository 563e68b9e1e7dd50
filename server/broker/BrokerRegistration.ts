// Registers this broker with every name server: at start, every registerNameServerPeriod,
// soon after a topic change, and unregisters on a clean stop. One registration runs at a
// time; a change during one schedules the next.
import type { RemotingClient } from '../../client/RemotingClient.js';
import { encodeRegisterBrokerBody } from '../../protocol/body/RegisterBrokerBody.js';
import type { TopicConfig } from '../../protocol/body/TopicConfig.js';
import type { DataVersion } from '../../protocol/body/DataVersion.js';
import { RegisterBrokerRequestHeader, UnRegisterBrokerRequestHeader } from '../../protocol/header/namesrv.js';
import { createRequest } from '../../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../../protocol/remoting/RequestCode.js';
import { ResponseCode } from '../../protocol/remoting/ResponseCode.js';
import type { Logger } from '../log.js';

export interface RegistrationIdentity {
  clusterName: string;
  brokerName: string;
  brokerAddr: string;
  haServerAddr: string;
  brokerId: number;
}

export interface BrokerRegistrationOptions {
  namesrvAddrs: readonly string[];
  client: RemotingClient;
  identity: () => RegistrationIdentity;
  topics: () => { dataVersion: DataVersion; table: Map<string, TopicConfig> };
  periodMs: number;
  timeoutMs: number;
  /** delay of a registration asked for by registerSoon() (coalesces bursts of topic changes) */
  soonDelayMs?: number;
  log: Logger;
}

export class BrokerRegistration {
  private timer: NodeJS.Timeout | undefined;
  private soonTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again: Promise<void> | undefined;
  private stopped = false;
  /** identity used by the last registration, so a role change can unregister the old id */
  private last: RegistrationIdentity | undefined;

  constructor(private readonly opts: BrokerRegistrationOptions) {}

  async start(): Promise<void> {
    await this.registerAll();
    this.timer = setInterval(() => void this.registerAll(), this.opts.periodMs);
    this.timer.unref();
  }

  registerSoon(): void {
    if (this.soonTimer || this.stopped) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      void this.registerAll();
    }, this.opts.soonDelayMs ?? 50);
    this.soonTimer.unref();
  }

  /**
   * Registers with every name server; failures are logged, the next period retries. While
   * one registration runs, callers wait for the one after it, which sees their change.
   */
  registerAll(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again ??= this.running.then(() => {
        this.again = undefined;
        return this.registerAll();
      });
      return this.again;
    }
    this.running = this.registerOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async registerOnce(): Promise<void> {
    const id = this.opts.identity();
    // a DLedger node without a role yet (-1) stays out of the routes
    if (id.brokerId < 0) return;
    const { dataVersion, table } = this.opts.topics();
    const body = encodeRegisterBrokerBody({ dataVersion, topicConfigTable: table, filterServerList: [] }, false);
    const ext = RegisterBrokerRequestHeader.encode({
      brokerName: id.brokerName,
      brokerAddr: id.brokerAddr,
      clusterName: id.clusterName,
      haServerAddr: id.haServerAddr,
      brokerId: id.brokerId,
      compressed: false,
    });
    this.last = id;
    await Promise.all(
      this.opts.namesrvAddrs.map(async (addr) => {
        try {
          const res = await this.opts.client.invoke(addr, createRequest({ code: RequestCode.REGISTER_BROKER, extFields: ext, body }), this.opts.timeoutMs);
          if (res.code !== ResponseCode.SUCCESS) this.opts.log(`register with name server ${addr} refused: code ${res.code} ${res.remark ?? ''}`);
        } catch (e) {
          this.opts.log(`register with name server ${addr} failed: ${(e as Error).message}`);
        }
      }),
    );
  }

  /** Removes one identity (the last one registered by default) from every name server. */
  async unregister(id: RegistrationIdentity | undefined = this.last): Promise<void> {
    if (!id) return;
    const ext = UnRegisterBrokerRequestHeader.encode({ brokerName: id.brokerName, brokerAddr: id.brokerAddr, clusterName: id.clusterName, brokerId: id.brokerId });
    await Promise.all(
      this.opts.namesrvAddrs.map(async (addr) => {
        try {
          await this.opts.client.invoke(addr, createRequest({ code: RequestCode.UNREGISTER_BROKER, extFields: ext }), this.opts.timeoutMs);
        } catch (e) {
          this.opts.log(`unregister from name server ${addr} failed: ${(e as Error).message}`);
        }
      }),
    );
  }

  async stop(unregister: boolean): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.soonTimer) clearTimeout(this.soonTimer);
    await this.running?.catch(() => undefined);
    if (unregister) await this.unregister();
  }
}
