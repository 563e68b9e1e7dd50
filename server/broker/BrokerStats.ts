// Counters the runtime-info answer and mqadmin clusterList/brokerStatus read: messages put
// and got, today and yesterday, and a put/get rate over the last minute.
import { TrafficCounters } from '../http/TrafficCounters.js';

export class BrokerStats {
  /** per-topic and per-group counts for /metrics (bounded label values) */
  readonly traffic = new TrafficCounters();
  putTotal = 0;
  getTotal = 0;
  putBytes = 0;
  getBytes = 0;
  private putYesterdayMorning = 0;
  private putTodayMorning = 0;
  private getYesterdayMorning = 0;
  private getTodayMorning = 0;
  private day = -1;
  /** [time, putTotal, getTotal] samples, one per second, the last 60 */
  private readonly samples: Array<[number, number, number]> = [];

  constructor(private readonly now: () => number = Date.now) {
    this.day = this.dayOf(now());
  }

  private dayOf(t: number): number {
    const d = new Date(t);
    return d.getFullYear() * 400 + d.getMonth() * 32 + d.getDate();
  }

  /** Called once a second. */
  sample(): void {
    const t = this.now();
    const day = this.dayOf(t);
    if (day !== this.day) {
      this.day = day;
      this.putYesterdayMorning = this.putTodayMorning;
      this.getYesterdayMorning = this.getTodayMorning;
      this.putTodayMorning = this.putTotal;
      this.getTodayMorning = this.getTotal;
    }
    this.samples.push([t, this.putTotal, this.getTotal]);
    if (this.samples.length > 61) this.samples.shift();
  }

  private rate(which: 1 | 2, seconds: number): number {
    const n = this.samples.length;
    if (n < 2) return 0;
    const last = this.samples[n - 1]!;
    const first = this.samples[Math.max(0, n - 1 - seconds)]!;
    const dt = (last[0] - first[0]) / 1000;
    return dt > 0 ? (last[which] - first[which]) / dt : 0;
  }

  /** Java's "tps10 tps60 tps600" text (we keep one minute, so the last figure repeats the minute's). */
  tpsText(which: 'put' | 'get'): string {
    const i = which === 'put' ? 1 : 2;
    const f = (v: number): string => v.toFixed(2);
    return `${f(this.rate(i, 10))} ${f(this.rate(i, 60))} ${f(this.rate(i, 60))}`;
  }

  dayTotals(): Record<string, string> {
    return {
      msgPutTotalYesterdayMorning: String(this.putYesterdayMorning),
      msgPutTotalTodayMorning: String(this.putTodayMorning),
      msgPutTotalTodayNow: String(this.putTotal),
      msgGetTotalYesterdayMorning: String(this.getYesterdayMorning),
      msgGetTotalTodayMorning: String(this.getTodayMorning),
      msgGetTotalTodayNow: String(this.getTotal),
    };
  }
}
